import Conflux

/// A building block of a model: builds its ops into the input's graph, taking its variables from `context`.
public protocol Layer {
    /// The name scope of its ops and variables (`conv1`), so that the graph reads `conv1/Conv2D`.
    var name: String { get }
    /// Whether it computes differently in training and in inference (batch statistics, dropout). A model without
    /// such a layer is built once for both.
    var dependsOnMode: Bool { get }
    /// Builds the layer's ops on `x`.
    func apply(_ x: Tensor, in context: LayerContext) throws -> Tensor
}

extension Layer {
    public var dependsOnMode: Bool { false }
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

    public func apply(_ x: Tensor, in context: LayerContext) throws -> Tensor { try activation.apply(x) }
}

/// Layers applied in order, each in its own name scope.
public struct Sequential: Layer {
    public let name: String
    public let layers: [any Layer]
    /// The name each layer's parameters have in a checkpoint, where it differs from the layer's name: LeNet-5's
    /// `dense1` is PyTorch's `fc1`.
    public let checkpointNames: [String: String]

    public init(_ layers: [any Layer], name: String = "sequential", checkpointNames: [String: String] = [:]) {
        self.name = name
        self.layers = layers
        self.checkpointNames = checkpointNames
    }

    public var dependsOnMode: Bool { layers.contains { $0.dependsOnMode } }

    public func apply(_ x: Tensor, in context: LayerContext) throws -> Tensor {
        try layers.reduce(x) { x, layer in try context.scope(layer.name) { try layer.apply(x, in: context) } }
    }

    /// Builds every layer on `input` for `mode`, creating the variables, or taking them from `earlier`, a build of
    /// the same model on the same graph.
    public func build(_ input: Tensor, mode: LayerContext.Mode, reusing earlier: BuiltModel? = nil) throws
        -> BuiltModel
    {
        let context = LayerContext(graph: input.graph, mode: mode, reusing: earlier?.variablesByPath ?? [:])
        let output = try apply(input, in: context)
        return BuiltModel(
            output: output, parameters: context.parameters, state: context.state, updates: context.updates,
            variablesByPath: context.variablesByPath)
    }
}

/// A model built into a graph.
public struct BuiltModel {
    public let output: Tensor
    /// The trainable variables, in the order the layers created them.
    public let parameters: [Tensor]
    /// The variables the model keeps that training does not differentiate (batch norm's running statistics).
    public let state: [Tensor]
    /// The ops a training step runs besides the optimizer's (the running statistics' updates); none in inference.
    public let updates: [Tensor]

    /// Every variable, by its name within the model (`conv1/weights`).
    let variablesByPath: [String: Tensor]
}

/// What layers build with: whether the model is built for training or inference, the variables they create (or
/// find, when the model is built a second time on the same graph) and the updates a training step must run.
public final class LayerContext {
    public enum Mode: Sendable {
        case training, inference
    }

    public let graph: Graph
    public let mode: Mode
    public private(set) var parameters: [Tensor] = []
    public private(set) var state: [Tensor] = []
    public private(set) var updates: [Tensor] = []
    /// Every variable of this build, by its name within the model (`conv1/weights`): the earlier build's at first.
    private(set) var variablesByPath: [String: Tensor]
    /// The layer names around the current layer.
    private var path: [String] = []
    /// The variables this build has asked for, which no other layer may ask for again.
    private var taken: Set<String> = []

    init(graph: Graph, mode: Mode, reusing variables: [String: Tensor]) {
        self.graph = graph
        self.mode = mode
        variablesByPath = variables
    }

    /// Runs `body` with ops and variables named inside `name` (`conv1/…`).
    public func scope<R>(_ name: String, _ body: () throws -> R) rethrows -> R {
        path.append(name)
        defer { path.removeLast() }
        return try graph.nameScope(name, body)
    }

    /// The variable `name` of the current layer: created with `initializer`, or the earlier build's. A
    /// `trainable` one is a parameter, the others are state.
    ///
    /// - Throws: `invalidArgument` if two layers of the model share a name and a variable, or if the earlier
    ///   build's variable has another shape.
    public func variable(_ shape: Shape, initializer: Initializer = .zeros, name: String, trainable: Bool = true)
        throws -> Tensor
    {
        let fullName = (path + [name]).joined(separator: "/")
        guard taken.insert(fullName).inserted else {
            throw ConfluxError.invalidArgument(
                op: "Variable", reason: "two layers create '\(fullName)': give every layer its own name")
        }
        let variable: Tensor
        if let found = variablesByPath[fullName] {
            guard found.shape == shape else {
                throw ConfluxError.invalidArgument(
                    op: "Variable", reason: "'\(fullName)' was built as \(found.shape), now asked for as \(shape)")
            }
            variable = found
        } else {
            variable = try graph.variable(shape, initializer: initializer, name: name)
            variablesByPath[fullName] = variable
        }
        if trainable { parameters.append(variable) } else { state.append(variable) }
        return variable
    }

    /// Adds an op that a training step runs as a target.
    public func addUpdate(_ update: Tensor) { updates.append(update) }
}
