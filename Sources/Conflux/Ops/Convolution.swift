/// 2-D convolution (cross-correlation, as in every framework) of `x` [N, C, H, W] with `filter`
/// [O, C / groups, KH, KW]: [N, O, OH, OW], where OH = (H + padTop + padBottom − ((KH − 1)·dilation + 1)) / strideH
/// + 1 and likewise for OW. With `groups`, the channels split into that many groups and each output channel
/// reads only its group's (O / groups outputs per group); `groups` = C is a depthwise convolution.
///
/// - Throws: `shapeMismatch` if the channels do not fit the filter and groups or the window does not fit;
///   `invalidArgument` for a non-positive stride, dilation or group count, or an unknown spatial size.
public func conv2d(
    _ x: Tensor, _ filter: Tensor, stride: Int = 1, padding: Padding = .valid, dilation: Int = 1, groups: Int = 1
) throws -> Tensor {
    try conv2d(
        x, filter, strides: (stride, stride), padding: padding, dilations: (dilation, dilation), groups: groups)
}

/// 2-D convolution with separate vertical and horizontal strides and dilations.
public func conv2d(
    _ x: Tensor, _ filter: Tensor, strides: (Int, Int), padding: Padding, dilations: (Int, Int) = (1, 1),
    groups: Int = 1
) throws -> Tensor {
    guard x.shape.rank == 4, filter.shape.rank == 4 else {
        throw ConfluxError.shapeMismatch(
            op: "Conv2D", node: "Conv2D", shapes: [x.shape, filter.shape],
            reason: "input must be [N, C, H, W] and filter [O, C / groups, KH, KW]")
    }
    guard groups > 0 else { throw ConfluxError.invalidArgument(op: "Conv2D", reason: "groups must be positive") }
    var attributes = try WindowGeometry.attributes(
        op: "Conv2D", height: x.shape[2], width: x.shape[3], kernel: (filter.shape[2], filter.shape[3]),
        stride: strides, padding: padding, dilation: dilations)
    attributes["dilations"] = .ints([dilations.0, dilations.1])
    attributes["groups"] = .int(groups)
    return try x.graph.addNode(.conv2D, [x, filter], attributes: attributes)
}

/// The gradient of a convolution with respect to its input: `filter` [O, C, KH, KW] and `dy` [N, O, OH, OW]
/// in, [N, C, H, W] out, where `inputShape` gives C, H and W.
public func conv2DBackpropInput(_ filter: Tensor, _ dy: Tensor, inputShape: Shape, like forward: Node) throws -> Tensor
{
    var attributes = forward.attributes
    attributes["inputShape"] = .shape(inputShape)
    return try dy.graph.addNode(.conv2DBackpropInput, [filter, dy], attributes: attributes)
}

/// The gradient of a convolution with respect to its filter: `x` [N, C, H, W] and `dy` [N, O, OH, OW] in,
/// [O, C, KH, KW] out.
public func conv2DBackpropFilter(_ x: Tensor, _ dy: Tensor, filterShape: Shape, like forward: Node) throws -> Tensor {
    var attributes = forward.attributes
    attributes["filterShape"] = .shape(filterShape)
    return try dy.graph.addNode(.conv2DBackpropFilter, [x, dy], attributes: attributes)
}

/// Checks that `dy` is the output gradient of a window op over `input`, then returns the geometry.
func checkedGradient(_ c: ShapeContext, input: Shape, dy: Shape, outChannels: Int) throws -> WindowGeometry {
    let geometry = WindowGeometry(input: input, attributes: c.attributes)
    guard dy.rank == 4, Shape.compatible(dy[1], outChannels), dy[2] == geometry.outHeight, dy[3] == geometry.outWidth
    else {
        throw c.mismatch("gradient must be [N, \(outChannels), \(geometry.outHeight), \(geometry.outWidth)]")
    }
    return geometry
}

let convolutionOps: [OpDefinition] = [
    OpDefinition(
        .conv2D, OpSignature(["input", "filter"], attributes: OpSignature.convolution), rowwiseInputs: { _ in [0] },
        inferShape: { c in
            try c.requireRank(0, 4, "input")
            try c.requireRank(1, 4, "filter")
            try c.requireType(0, .float32, "input")
            let (x, w) = (c.shapes[0], c.shapes[1])
            let groups = c.attributes.int("groups")
            guard groups > 0, w[0] % groups == 0 else {
                throw c.mismatch("the filter's \(w[0]) output channels do not split into \(groups) groups")
            }
            guard Shape.compatible(x[1], w[1] * groups) else {
                let each = groups == 1 ? "" : " in each of \(groups) groups"
                throw c.mismatch("input has \(x[1]) channels but the filter expects \(w[1])\(each)")
            }
            let geometry = WindowGeometry(input: x, attributes: c.attributes)
            try geometry.validate(c)
            return ([x[0], w[0], geometry.outHeight, geometry.outWidth], .float32)
        }
    )
    .withGradient { y, dy in
        let (x, w) = (y.inputs[0], y.inputs[1])
        return [
            try conv2DBackpropInput(w, dy, inputShape: x.shape, like: y.node),
            try conv2DBackpropFilter(x, dy, filterShape: w.shape, like: y.node),
        ]
    }
    .withCost { c in (2 * Double(c.output.count) * Double(c.inputs[1].dims.dropFirst().reduce(1, *)), c.bytes) },
    OpDefinition(
        .conv2DBackpropInput,
        OpSignature(
            ["filter", "gradient"], attributes: OpSignature.convolution.merging(["inputShape": .shape]) { $1 }),
        rowwiseInputs: { _ in [1] },
        inferShape: { c in
            let (w, dy) = (c.shapes[0], c.shapes[1])
            let input = c.attributes.shape("inputShape").withBatch(dy.rank == 4 ? dy[0] : Shape.unknown)
            _ = try checkedGradient(c, input: input, dy: dy, outChannels: w[0])
            return (input, .float32)
        }
    )
    // The multiply-adds of the forward convolution it differentiates: one patch per output gradient element.
    .withCost { c in (2 * Double(c.inputs[1].count) * Double(c.inputs[0].dims.dropFirst().reduce(1, *)), c.bytes) },
    OpDefinition(
        .conv2DBackpropFilter,
        OpSignature(["input", "gradient"], attributes: OpSignature.convolution.merging(["filterShape": .shape]) { $1 })
    ) { c in
        let (x, dy) = (c.shapes[0], c.shapes[1])
        let filter = c.attributes.shape("filterShape")
        _ = try checkedGradient(c, input: x, dy: dy, outChannels: filter[0])
        return (filter, .float32)
    }
    .withCost { c in (2 * Double(c.inputs[1].count) * Double(c.output.dims.dropFirst().reduce(1, *)), c.bytes) },
]
