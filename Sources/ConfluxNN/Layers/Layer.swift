import Conflux

/// A building block of a model: builds its ops into the input's graph and creates its variables.
public protocol Layer {
    /// The name scope of its ops (`conv1`), so that the graph reads `conv1/Conv2D`.
    var name: String { get }
    /// Builds the layer's ops on `x`, appending the variables it creates to `parameters`.
    func apply(_ x: Tensor, parameters: inout [Tensor]) throws -> Tensor
}

/// An element-wise nonlinearity.
public enum Activation: String, Sendable, CaseIterable {
    case relu, tanh, sigmoid

    public func apply(_ x: Tensor) throws -> Tensor {
        switch self {
        case .relu: try Conflux.relu(x)
        case .tanh: try Conflux.tanh(x)
        case .sigmoid: try Conflux.sigmoid(x)
        }
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

/// Layers applied in order.
public struct Sequential {
    public let layers: [any Layer]
    /// The name each layer's parameters have in a checkpoint, where it differs from the layer's name: LeNet-5's
    /// `dense1` is PyTorch's `fc1`.
    public let checkpointNames: [String: String]

    public init(_ layers: [any Layer], checkpointNames: [String: String] = [:]) {
        self.layers = layers
        self.checkpointNames = checkpointNames
    }

    /// Builds every layer on `input`; returns the last output and every variable created, in layer order.
    public func apply(_ input: Tensor) throws -> (output: Tensor, parameters: [Tensor]) {
        var parameters: [Tensor] = []
        var x = input
        for layer in layers {
            x = try input.graph.nameScope(layer.name) { try layer.apply(x, parameters: &parameters) }
        }
        return (x, parameters)
    }
}
