/// max(x, 0), element-wise.
public func relu(_ x: Tensor) throws -> Tensor { try x.graph.addNode(.relu, [x]) }

/// The hyperbolic tangent, element-wise.
public func tanh(_ x: Tensor) throws -> Tensor { try x.graph.addNode(.tanh, [x]) }

/// 1 / (1 + e^-x), element-wise.
public func sigmoid(_ x: Tensor) throws -> Tensor { try x.graph.addNode(.sigmoid, [x]) }

/// The softmax of each row of `x` [N, C].
public func softmax(_ x: Tensor) throws -> Tensor { try x.graph.addNode(.softmax, [x]) }

/// log(softmax(x)) of each row of `x` [N, C], computed as x − log Σ exp(x), exact where the softmax underflows.
public func logSoftmax(_ x: Tensor) throws -> Tensor { try x.graph.addNode(.logSoftmax, [x]) }

/// The softmax of `x` along `axis` (negative counts from the end), any rank: ONNX's Softmax (opset 13).
public func softmax(_ x: Tensor, axis: Int) throws -> Tensor { try alongAxis(x, axis, softmax) }

/// log(softmax(x)) along `axis`, any rank: ONNX's LogSoftmax (opset 13).
public func logSoftmax(_ x: Tensor, axis: Int) throws -> Tensor { try alongAxis(x, axis, logSoftmax) }

/// Applies a row-wise op along `axis`: the axis moved last, the rest flattened into rows, then back.
private func alongAxis(_ x: Tensor, _ axis: Int, _ rowwise: (Tensor) throws -> Tensor) throws -> Tensor {
    let rank = x.shape.rank
    guard (-rank..<rank).contains(axis) else {
        throw ConfluxError.invalidArgument(op: "Softmax", reason: "axis \(axis) is outside a tensor of rank \(rank)")
    }
    let axis = axis < 0 ? axis + rank : axis
    if rank == 2 && axis == 1 { return try rowwise(x) }
    var permutation = Array(0..<rank)
    permutation.remove(at: axis)
    permutation.append(axis)
    let moved = axis == rank - 1 ? x : try transpose(x, permutation)
    let y = try reshape(rowwise(reshape(moved, [Shape.unknown, x.shape[axis]])), moved.shape)
    guard axis != rank - 1 else { return y }
    var inverse = permutation
    for (d, source) in permutation.enumerated() { inverse[source] = d }
    return try transpose(y, inverse)
}

/// The gradient of an element-wise activation from its output `y` and the output gradient `dy`.
func activationGrad(_ op: OpType, y: Tensor, dy: Tensor) throws -> Tensor { try y.graph.addNode(op, [y, dy]) }

private func elementwise(_ c: ShapeContext) throws -> (Shape, DType) {
    try c.requireType(0, .float32, "input")
    return (c.shapes[0], .float32)
}

/// Softmax and log-softmax: rows of logits [N, C] in, the same shape out.
private func logitRows(_ c: ShapeContext) throws -> (Shape, DType) {
    try c.requireRank(0, 2, "logits")
    return try elementwise(c)
}

/// (y, dy) → dx for an element-wise activation: both inputs share one shape.
private func elementwiseGrad(_ c: ShapeContext) throws -> (Shape, DType) {
    guard let shape = unify(c.shapes[0], c.shapes[1]) else { throw c.mismatch("output and gradient shapes differ") }
    return (shape, .float32)
}

let activationOps: [OpDefinition] = [
    OpDefinition(.relu, OpSignature(["input"]), rowwiseInputs: { _ in [0] }, inferShape: elementwise)
        .withGradient { y, dy in [try activationGrad(.reluGrad, y: y, dy: dy)] },
    OpDefinition(.tanh, OpSignature(["input"]), rowwiseInputs: { _ in [0] }, inferShape: elementwise)
        .withGradient { y, dy in [try activationGrad(.tanhGrad, y: y, dy: dy)] },
    OpDefinition(.sigmoid, OpSignature(["input"]), rowwiseInputs: { _ in [0] }, inferShape: elementwise)
        .withGradient { y, dy in [try activationGrad(.sigmoidGrad, y: y, dy: dy)] },
    OpDefinition(
        .softmax, OpSignature(["logits"]), rowwiseInputs: { _ in [0] },
        inferShape: logitRows
    )
    .withGradient { y, dy in [try activationGrad(.softmaxGrad, y: y, dy: dy)] }
    .withCost(softmaxCost),
    OpDefinition(
        .logSoftmax, OpSignature(["logits"]), rowwiseInputs: { _ in [0] },
        inferShape: logitRows
    )
    .withGradient { y, dy in [try activationGrad(.logSoftmaxGrad, y: y, dy: dy)] }
    .withCost(softmaxCost),
    OpDefinition(
        .logSoftmaxGrad, OpSignature(["output", "gradient"]), rowwiseInputs: { _ in [0, 1] },
        inferShape: elementwiseGrad
    )
    .withCost(softmaxCost),
    OpDefinition(
        .reluGrad, OpSignature(["output", "gradient"]), rowwiseInputs: { _ in [0, 1] }, inferShape: elementwiseGrad),
    OpDefinition(
        .tanhGrad, OpSignature(["output", "gradient"]), rowwiseInputs: { _ in [0, 1] }, inferShape: elementwiseGrad),
    OpDefinition(
        .sigmoidGrad, OpSignature(["output", "gradient"]), rowwiseInputs: { _ in [0, 1] }, inferShape: elementwiseGrad),
    OpDefinition(
        .softmaxGrad, OpSignature(["output", "gradient"]), rowwiseInputs: { _ in [0, 1] }, inferShape: elementwiseGrad
    )
    .withCost(softmaxCost),
]

/// Exponentials, sums and divisions: about eight operations per logit.
func softmaxCost(_ c: WorkContext) -> (flops: Double, bytes: Double) { (8 * Double(c.inputs[0].count), c.bytes) }
