/// Max-pooling of `x` [N, C, H, W] over `size`×`size` windows: [N, C, OH, OW], sizes as for `conv2d`; with
/// `ceilMode`, OH and OW round up (ONNX's and PyTorch's ceil_mode), so that a last, partial window covers the
/// rows and columns a floor would leave out.
///
/// Padded positions never win the max.
public func maxPool2d(
    _ x: Tensor, size: Int, stride: Int? = nil, padding: Padding = .valid, ceilMode: Bool = false
) throws -> Tensor {
    try maxPool2d(
        x, kernel: (size, size), strides: (stride ?? size, stride ?? size), padding: padding, ceilMode: ceilMode)
}

/// Max-pooling over `kernel` (rows, columns) windows moving by `strides`, their taps `dilations` apart.
public func maxPool2d(
    _ x: Tensor, kernel: (Int, Int), strides: (Int, Int), padding: Padding = .valid, dilations: (Int, Int) = (1, 1),
    ceilMode: Bool = false
) throws -> Tensor {
    try pool(.maxPool, x, kernel: kernel, strides: strides, padding: padding, dilations: dilations, ceilMode: ceilMode)
}

/// Average-pooling of `x` [N, C, H, W]; each window is averaged over the input positions it covers, padding
/// excluded as in TensorFlow, or, with `countIncludePad`, over the padding too (ONNX's count_include_pad; the
/// part of a window past the padding, in `ceilMode`, never counts, as in PyTorch).
public func avgPool2d(
    _ x: Tensor, size: Int, stride: Int? = nil, padding: Padding = .valid, countIncludePad: Bool = false,
    ceilMode: Bool = false
) throws -> Tensor {
    try avgPool2d(
        x, kernel: (size, size), strides: (stride ?? size, stride ?? size), padding: padding,
        countIncludePad: countIncludePad, ceilMode: ceilMode)
}

/// Average-pooling over `kernel` (rows, columns) windows moving by `strides`.
public func avgPool2d(
    _ x: Tensor, kernel: (Int, Int), strides: (Int, Int), padding: Padding = .valid, countIncludePad: Bool = false,
    ceilMode: Bool = false
) throws -> Tensor {
    try pool(
        .avgPool, x, kernel: kernel, strides: strides, padding: padding, ceilMode: ceilMode,
        countIncludePad: countIncludePad)
}

/// The mean of each plane of `x` [N, C, H, W]: [N, C, 1, 1] (ONNX's GlobalAveragePool), an average-pool whose
/// window is the whole plane.
public func globalAvgPool2d(_ x: Tensor) throws -> Tensor {
    let plane = x.shape.rank == 4 ? (x.shape[2], x.shape[3]) : (1, 1)
    return try pool(.avgPool, x, kernel: plane, strides: (1, 1), padding: .valid)
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

/// The window attributes of a pooling: with `ceilMode`, padding added after each spatial axis so that the
/// output size rounds up, the last window still starting inside the input or its leading padding (PyTorch's rule);
/// for an average, `countedPads`: the padding its divisor counts.
private func pool(
    _ op: OpType, _ x: Tensor, kernel: (Int, Int), strides: (Int, Int), padding: Padding,
    dilations: (Int, Int) = (1, 1), ceilMode: Bool = false, countIncludePad: Bool = false
) throws -> Tensor {
    guard x.shape.rank == 4 else {
        throw ConfluxError.shapeMismatch(
            op: op.rawValue, node: op.rawValue, shapes: [x.shape], reason: "input must be [N, C, H, W]")
    }
    var attributes = try WindowGeometry.attributes(
        op: op.rawValue, height: x.shape[2], width: x.shape[3], kernel: kernel, stride: strides, padding: padding,
        dilation: dilations)
    let pads = attributes.ints("pads")
    if op == .avgPool { attributes["countedPads"] = .ints(countIncludePad ? pads : [0, 0, 0, 0]) }
    if op == .maxPool { attributes["dilations"] = .ints([dilations.0, dilations.1]) }
    let extent = ((kernel.0 - 1) * dilations.0 + 1, (kernel.1 - 1) * dilations.1 + 1)
    if ceilMode {
        func extra(_ size: Int, _ before: Int, _ after: Int, _ kernel: Int, _ stride: Int) -> Int {
            let span = size + before + after - kernel
            var out = (span + stride - 1) / stride + 1
            if (out - 1) * stride >= size + before { out -= 1 }
            return max(0, (out - 1) * stride + kernel - (size + before + after))
        }
        attributes["pads"] = .ints([
            pads[0], pads[1] + extra(x.shape[2], pads[0], pads[1], extent.0, strides.0),
            pads[2], pads[3] + extra(x.shape[3], pads[2], pads[3], extent.1, strides.1),
        ])
    }
    return try x.graph.addNode(op, [x], attributes: attributes)
}

private func poolShape(_ c: ShapeContext) throws -> (Shape, DType) {
    try c.requireRank(0, 4, "input")
    let x = c.shapes[0]
    let geometry = WindowGeometry(input: x, attributes: c.attributes)
    try geometry.validate(c)
    let g = geometry
    guard g.padTop < g.extentHeight, g.padLeft < g.extentWidth,
        (g.outHeight - 1) * g.strideHeight - g.padTop < g.height, (g.outWidth - 1) * g.strideWidth - g.padLeft < g.width
    else { throw c.mismatch("padding must be smaller than the window, or a window would cover only padding") }
    return ([x[0], x[1], geometry.outHeight, geometry.outWidth], .float32)
}

let poolingOps: [OpDefinition] = [
    OpDefinition(
        .maxPool, OpSignature(["input"], attributes: OpSignature.maxWindow), rowwiseInputs: { _ in [0] },
        inferShape: poolShape
    )
    .withGradient { y, dy in [try maxPoolGrad(y.inputs[0], dy, like: y.node)] }
    .withCost(windowCost),
    OpDefinition(
        .avgPool, OpSignature(["input"], attributes: OpSignature.averageWindow), rowwiseInputs: { _ in [0] },
        inferShape: poolShape
    )
    .withGradient { y, dy in [try avgPoolGrad(dy, inputShape: y.inputs[0].shape, like: y.node)] }
    .withCost(windowCost),
    OpDefinition(
        .maxPoolGrad, OpSignature(["input", "gradient"], attributes: OpSignature.maxWindow),
        rowwiseInputs: { _ in [0, 1] },
        inferShape: { c in
            _ = try checkedGradient(c, input: c.shapes[0], dy: c.shapes[1], outChannels: c.shapes[0][1])
            return (c.shapes[0], .float32)
        }
    )
    .withCost(windowCost),
    OpDefinition(
        .avgPoolGrad,
        OpSignature(["gradient"], attributes: OpSignature.averageWindow.merging(["inputShape": .shape]) { $1 }),
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
