import Conflux

/// A 2-D convolution with an optional bias and activation: weights [filters, C, k, k] (Glorot-uniform),
/// bias [filters] (zeros); input [N, C, H, W]. A convolution followed by batch norm needs no bias: the norm's
/// offset takes its place.
public struct Conv2D: Layer {
    public let name: String
    public let filters: Int
    public let kernelSize: Int
    public let stride: Int
    public let padding: Padding
    public let activation: Activation?
    public let hasBias: Bool

    public init(
        _ name: String, filters: Int, kernelSize: Int, stride: Int = 1, padding: Padding = .valid,
        activation: Activation? = nil, bias: Bool = true
    ) {
        self.name = name
        self.filters = filters
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        self.activation = activation
        hasBias = bias
    }

    /// - Throws: `shapeMismatch` unless the input is [N, C, H, W] with the window fitting H×W.
    public func apply(_ x: Tensor, in context: LayerContext) throws -> Tensor {
        guard x.shape.rank == 4 else {
            throw ConfluxError.shapeMismatch(
                op: "Conv2D", node: name, shapes: [x.shape], reason: "input must be [N, C, H, W]")
        }
        let channels = x.shape[1]
        let area = kernelSize * kernelSize
        let weights = try context.variable(
            [filters, channels, kernelSize, kernelSize],
            initializer: .glorotUniform(fanIn: channels * area, fanOut: filters * area), name: "weights")
        var y = try conv2d(x, weights, stride: stride, padding: padding)
        if hasBias { y = try biasAdd(y, context.variable([filters], name: "bias")) }
        return try activation?.apply(y) ?? y
    }
}
