/// The cross-entropy of softmax(`logits`) [N, C] against integer `labels` [N] in 0..<C, per example: [N].
///
/// Fused so that it is stable for large logits. A label outside 0..<C is an error when the op runs.
public func softmaxCrossEntropy(logits: Tensor, labels: Tensor) throws -> Tensor {
    try logits.graph.addNode(.softmaxCrossEntropy, [logits, labels])
}

/// The gradient of `softmaxCrossEntropy` with respect to the logits: (softmax(logits) - onehot(labels)) · dy.
func softmaxCrossEntropyGrad(logits: Tensor, labels: Tensor, dy: Tensor) throws -> Tensor {
    try logits.graph.addNode(.softmaxCrossEntropyGrad, [logits, labels, dy])
}

/// Checks logits [N, C] against labels [N] of Int32.
private func checkLogitsAndLabels(_ c: ShapeContext) throws {
    try c.requireRank(0, 2, "logits")
    try c.requireRank(1, 1, "labels")
    try c.requireType(1, .int32, "labels")
    guard Shape.compatible(c.shapes[0][0], c.shapes[1][0]) else {
        throw c.mismatch("logits have \(c.shapes[0][0]) rows but there are \(c.shapes[1][0]) labels")
    }
}

let lossOps: [OpDefinition] = [
    OpDefinition(.softmaxCrossEntropy, OpSignature(["logits", "labels"])) { c in
        try checkLogitsAndLabels(c)
        return ([c.shapes[0][0]], .float32)
    }
    .withGradient { y, dy in
        let (logits, labels) = (y.inputs[0], y.inputs[1])
        return [try softmaxCrossEntropyGrad(logits: logits, labels: labels, dy: dy), nil]
    }
    .withCost(softmaxCost),
    OpDefinition(.softmaxCrossEntropyGrad, OpSignature(["logits", "labels", "gradient"])) { c in
        try checkLogitsAndLabels(c)
        return (c.shapes[0], .float32)
    }
    .withCost(softmaxCost),
]
