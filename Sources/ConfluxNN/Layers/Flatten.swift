import Conflux

/// Reshapes [N, C, H, W] (or any rank) to [N, C·H·W].
public struct Flatten: Layer {
    public let name: String

    public init(_ name: String = "flatten") { self.name = name }

    public func apply(_ x: Tensor, in context: LayerContext) throws -> Tensor {
        let features = x.shape.dims.dropFirst().reduce(1, *)
        return try reshape(x, [Shape.unknown, features])
    }
}
