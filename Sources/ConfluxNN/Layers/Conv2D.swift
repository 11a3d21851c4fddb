import Conflux

/// A 2-D convolution with an optional bias and activation: weights [filters, C / groups, k, k] (Glorot-uniform),
/// bias [filters] (zeros); input [N, C, H, W]. With `groups` the channels split into groups each filter reads one
/// of (`groups` = C: depthwise, as in MobileNet); `dilation` spaces the taps. A convolution followed by batch
/// norm needs no bias: the norm's offset takes its place.
public struct Conv2D: Layer {
    public let name: String
    public let filters: Int
    public let kernelSize: Int
    public let stride: Int
    public let padding: Padding
    public let activation: Activation?
    public let hasBias: Bool
    public let dilation: Int
    public let groups: Int

    public init(
        _ name: String, filters: Int, kernelSize: Int, stride: Int = 1, padding: Padding = .valid,
        dilation: Int = 1, groups: Int = 1, activation: Activation? = nil, bias: Bool = true
    ) {
        self.name = name
        self.filters = filters
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        self.activation = activation
        hasBias = bias
        self.dilation = dilation
        self.groups = groups
    }

    /// - Throws: `shapeMismatch` unless the input is [N, C, H, W] with the window fitting H×W and C and `filters`
    ///   dividing into the groups.
    public func apply(_ x: Tensor, in context: LayerContext) throws -> Tensor {
        guard x.shape.rank == 4 else {
            throw ConfluxError.shapeMismatch(
                op: "Conv2D", node: name, shapes: [x.shape], reason: "input must be [N, C, H, W]")
        }
        guard groups > 0, x.shape[1] % groups == 0, filters % groups == 0 else {
            throw ConfluxError.shapeMismatch(
                op: "Conv2D", node: name, shapes: [x.shape],
                reason: "\(x.shape[1]) input and \(filters) output channels must both divide into \(groups) groups")
        }
        let channels = x.shape[1] / groups
        let area = kernelSize * kernelSize
        let weights = try context.variable(
            [filters, channels, kernelSize, kernelSize],
            initializer: .glorotUniform(fanIn: channels * area, fanOut: filters / groups * area), name: "weights")
        var y = try conv2d(x, weights, stride: stride, padding: padding, dilation: dilation, groups: groups)
        if hasBias { y = try biasAdd(y, context.variable([filters], name: "bias")) }
        return try activation?.apply(y) ?? y
    }
}
