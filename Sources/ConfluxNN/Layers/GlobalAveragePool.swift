import Conflux

/// The mean of each channel over its whole plane: [N, C, H, W] to [N, C] (global average pooling, then flattened).
public struct GlobalAveragePool: Layer {
    public let name: String

    public init(_ name: String = "pool") { self.name = name }

    /// - Throws: `shapeMismatch` unless the input is [N, C, H, W].
    public func apply(_ x: Tensor, in context: LayerContext) throws -> Tensor {
        guard x.shape.rank == 4 else {
            throw ConfluxError.shapeMismatch(
                op: "GlobalAveragePool", node: name, shapes: [x.shape], reason: "input must be [N, C, H, W]")
        }
        return try reshape(globalAvgPool2d(x), [Shape.unknown, x.shape[1]])
    }
}
