import Conflux

/// Max-pooling over `size`×`size` windows moving by `stride` (default `size`); input [N, C, H, W].
public struct MaxPool2D: Layer {
    public let name: String
    public let size: Int
    public let stride: Int

    public init(_ name: String, size: Int, stride: Int? = nil) {
        self.name = name
        self.size = size
        self.stride = stride ?? size
    }

    public func apply(_ x: Tensor, parameters: inout [Tensor]) throws -> Tensor {
        try maxPool2d(x, size: size, stride: stride)
    }
}

/// Average-pooling over `size`×`size` windows moving by `stride` (default `size`); input [N, C, H, W].
public struct AvgPool2D: Layer {
    public let name: String
    public let size: Int
    public let stride: Int

    public init(_ name: String, size: Int, stride: Int? = nil) {
        self.name = name
        self.size = size
        self.stride = stride ?? size
    }

    public func apply(_ x: Tensor, parameters: inout [Tensor]) throws -> Tensor {
        try avgPool2d(x, size: size, stride: stride)
    }
}

/// Reshapes [N, C, H, W] (or any rank) to [N, C·H·W].
public struct Flatten: Layer {
    public let name: String

    public init(_ name: String = "flatten") { self.name = name }

    public func apply(_ x: Tensor, parameters: inout [Tensor]) throws -> Tensor {
        let features = x.shape.dims.dropFirst().reduce(1, *)
        return try reshape(x, [Shape.unknown, features])
    }
}

/// An activation on its own, for models that keep it apart from the layer before.
public struct ActivationLayer: Layer {
    public let name: String
    public let activation: Activation

    public init(_ name: String, _ activation: Activation) {
        self.name = name
        self.activation = activation
    }

    public func apply(_ x: Tensor, parameters: inout [Tensor]) throws -> Tensor { try activation.apply(x) }
}
