/// Max-pooling of `x` [N, C, H, W] over `size`×`size` windows: [N, C, OH, OW], sizes as for `conv2d`.
///
/// Padded positions never win the max.
public func maxPool2d(_ x: Tensor, size: Int, stride: Int? = nil, padding: Padding = .valid) throws -> Tensor {
    try pool(.maxPool, x, kernel: (size, size), stride: stride ?? size, padding: padding)
}

/// Average-pooling of `x` [N, C, H, W]; each window is averaged over the input positions it covers (padding
/// excluded, as in TensorFlow).
public func avgPool2d(_ x: Tensor, size: Int, stride: Int? = nil, padding: Padding = .valid) throws -> Tensor {
    try pool(.avgPool, x, kernel: (size, size), stride: stride ?? size, padding: padding)
}

/// The mean of each plane of `x` [N, C, H, W]: [N, C, 1, 1] (ONNX's GlobalAveragePool), an average-pool whose
/// window is the whole plane.
public func globalAvgPool2d(_ x: Tensor) throws -> Tensor {
    let plane = x.shape.rank == 4 ? (x.shape[2], x.shape[3]) : (1, 1)
    return try pool(.avgPool, x, kernel: plane, stride: 1, padding: .valid)
}

/// The gradient of max-pooling: `x` the forward input, `dy` [N, C, OH, OW]; ties go to the first maximum.
public func maxPoolGrad(_ x: Tensor, _ dy: Tensor, like forward: Node) throws -> Tensor {
    try dy.graph.addNode(.maxPoolGrad, [x, dy], attributes: forward.attributes)
}

/// The gradient of average-pooling: `dy` [N, C, OH, OW] in, [N, C, H, W] out, with C, H, W from `inputShape`.
public func avgPoolGrad(_ dy: Tensor, inputShape: Shape, like forward: Node) throws -> Tensor {
    var attributes = forward.attributes
    attributes["inputShape"] = .shape(inputShape)
    return try dy.graph.addNode(.avgPoolGrad, [dy], attributes: attributes)
}

private func pool(_ op: OpType, _ x: Tensor, kernel: (Int, Int), stride: Int, padding: Padding) throws -> Tensor {
    guard x.shape.rank == 4 else {
        throw ConfluxError.shapeMismatch(
            op: op.rawValue, node: op.rawValue, shapes: [x.shape], reason: "input must be [N, C, H, W]")
    }
    let attributes = try WindowGeometry.attributes(
        op: op.rawValue, height: x.shape[2], width: x.shape[3], kernel: kernel, stride: (stride, stride),
        padding: padding)
    return try x.graph.addNode(op, [x], attributes: attributes)
}

private func poolShape(_ c: ShapeContext) throws -> (Shape, DType) {
    try c.requireRank(0, 4, "input")
    let x = c.shapes[0]
    let geometry = WindowGeometry(input: x, attributes: c.attributes)
    try geometry.validate(c)
    guard geometry.padTop < geometry.kernelHeight, geometry.padBottom < geometry.kernelHeight,
        geometry.padLeft < geometry.kernelWidth, geometry.padRight < geometry.kernelWidth
    else { throw c.mismatch("padding must be smaller than the window, or a window would cover only padding") }
    return ([x[0], x[1], geometry.outHeight, geometry.outWidth], .float32)
}

let poolingOps: [OpDefinition] = [
    OpDefinition(
        .maxPool, OpSignature(["input"], attributes: OpSignature.window), rowwiseInputs: { _ in [0] },
        inferShape: poolShape
    )
    .withGradient { y, dy in [try maxPoolGrad(y.inputs[0], dy, like: y.node)] }
    .withCost(windowCost),
    OpDefinition(
        .avgPool, OpSignature(["input"], attributes: OpSignature.window), rowwiseInputs: { _ in [0] },
        inferShape: poolShape
    )
    .withGradient { y, dy in [try avgPoolGrad(dy, inputShape: y.inputs[0].shape, like: y.node)] }
    .withCost(windowCost),
    OpDefinition(
        .maxPoolGrad, OpSignature(["input", "gradient"], attributes: OpSignature.window),
        rowwiseInputs: { _ in [0, 1] },
        inferShape: { c in
            _ = try checkedGradient(c, input: c.shapes[0], dy: c.shapes[1], outChannels: c.shapes[0][1])
            return (c.shapes[0], .float32)
        }
    )
    .withCost(windowCost),
    OpDefinition(
        .avgPoolGrad,
        OpSignature(["gradient"], attributes: OpSignature.window.merging(["inputShape": .shape]) { $1 }),
        rowwiseInputs: { _ in [0] },
        inferShape: { c in
            let dy = c.shapes[0]
            let input = c.attributes.shape("inputShape").withBatch(dy.rank == 4 ? dy[0] : Shape.unknown)
            _ = try checkedGradient(c, input: input, dy: dy, outChannels: input[1])
            return (input, .float32)
        }
    )
    .withCost(windowCost),
]

/// One operation per window element, over the larger of the input and the output.
private func windowCost(_ c: WorkContext) -> (flops: Double, bytes: Double) {
    let window = c.node.attributes.ints("kernel").reduce(1, *)
    return (Double(max(c.output.count, c.inputs[0].count) * window), c.bytes)
}
