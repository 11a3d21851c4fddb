/// The sum of every element of `x`: a scalar.
public func sum(_ x: Tensor) throws -> Tensor { try x.graph.addNode(.sum, [x]) }

/// The mean of every element of `x`: a scalar.
public func mean(_ x: Tensor) throws -> Tensor { try x.graph.addNode(.mean, [x]) }

/// The gradient of `sum` or `mean`: the scalar `dy` spread over the shape of `x`, divided by its count for a mean.
func reduceGrad(_ dy: Tensor, like x: Tensor, mean: Bool) throws -> Tensor {
    try x.graph.addNode(.reduceGrad, [dy, x], attributes: Attributes(["mean": .bool(mean)]))
}

/// The index of the largest element of each row of `x` [N, C]: Int32 [N]; ties go to the first.
public func argmax(_ x: Tensor) throws -> Tensor { try x.graph.addNode(.argMax, [x]) }

/// The fraction of rows of `logits` [N, C] whose largest element is at the row's label in `labels` [N]: a scalar.
public func accuracy(logits: Tensor, labels: Tensor) throws -> Tensor {
    try logits.graph.addNode(.accuracy, [logits, labels])
}

private func toScalar(_ c: ShapeContext) throws -> (Shape, DType) {
    try c.requireType(0, .float32, "input")
    return (.scalar, .float32)
}

let reductionOps: [OpDefinition] = [
    OpDefinition(.sum, OpSignature(["input"]), inferShape: toScalar)
        .withGradient { y, dy in [try reduceGrad(dy, like: y.inputs[0], mean: false)] },
    OpDefinition(.mean, OpSignature(["input"]), inferShape: toScalar)
        .withGradient { y, dy in [try reduceGrad(dy, like: y.inputs[0], mean: true)] },
    OpDefinition(.reduceGrad, OpSignature(["gradient", "input"], attributes: ["mean": .bool])) { c in
        guard c.shapes[0].count == 1 else { throw c.mismatch("gradient of a full reduction must be a scalar") }
        return (c.shapes[1], .float32)
    },
    OpDefinition(.argMax, OpSignature(["input"])) { c in
        try c.requireRank(0, 2, "input")
        return ([c.shapes[0][0]], .int32)
    },
    OpDefinition(.accuracy, OpSignature(["logits", "labels"])) { c in
        try c.requireRank(0, 2, "logits")
        try c.requireRank(1, 1, "labels")
        try c.requireType(1, .int32, "labels")
        guard Shape.compatible(c.shapes[0][0], c.shapes[1][0]) else {
            throw c.mismatch("logits have \(c.shapes[0][0]) rows but there are \(c.shapes[1][0]) labels")
        }
        return (.scalar, .float32)
    },
]
