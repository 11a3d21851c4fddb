import Conflux

/// Builds the in-graph update of each parameter from its gradient; running the updates is one training step.
public protocol Optimizer {
    /// The name scope of the optimizer's ops and state (`SGD`, `Adam`).
    var name: String { get }
    /// The learning rate a schedule starts from.
    var learningRate: Float { get }
    /// Adds the op that updates `parameter` from `gradient` at the scalar `learningRate`, creating any state
    /// variables it needs.
    func update(_ parameter: Tensor, gradient: Tensor, learningRate: Tensor) throws -> Tensor
}

extension Optimizer {
    /// Adds the gradients of `loss`, passed through `reduce` (data-parallel training sums them across processes),
    /// and one update op per parameter; returns the updates.
    public func minimize(
        _ loss: Tensor, parameters: [Tensor], learningRate: Tensor, reduce: ([Tensor]) throws -> [Tensor] = { $0 }
    ) throws -> [Tensor] {
        let grads = try reduce(gradients(of: loss, wrt: parameters))
        return try loss.graph.nameScope(name) {
            try zip(parameters, grads).map { try update($0, gradient: $1, learningRate: learningRate) }
        }
    }
}

/// Stochastic gradient descent with momentum (TensorFlow's `MomentumOptimizer`, PyTorch's `SGD`).
public struct SGD: Optimizer {
    public let name = "SGD"
    public let learningRate: Float
    public let momentum: Float

    public init(learningRate: Float, momentum: Float = 0) {
        self.learningRate = learningRate
        self.momentum = momentum
    }

    public func update(_ parameter: Tensor, gradient: Tensor, learningRate: Tensor) throws -> Tensor {
        let accumulator = try parameter.graph.variable(parameter.shape, name: "\(parameter.name)/momentum")
        return try applyMomentum(
            parameter, accumulator: accumulator, gradient: gradient, learningRate: learningRate, momentum: momentum)
    }
}

/// Adam (Kingma & Ba, 2015), with PyTorch's defaults.
public struct Adam: Optimizer {
    public let name = "Adam"
    public let learningRate: Float
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float

    public init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
    }

    public func update(_ parameter: Tensor, gradient: Tensor, learningRate: Tensor) throws -> Tensor {
        let graph = parameter.graph
        let m = try graph.variable(parameter.shape, name: "\(parameter.name)/m")
        let v = try graph.variable(parameter.shape, name: "\(parameter.name)/v")
        let step = try graph.variable(.scalar, name: "\(parameter.name)/step")
        return try applyAdam(
            parameter, m: m, v: v, step: step, gradient: gradient, learningRate: learningRate, beta1: beta1,
            beta2: beta2, epsilon: epsilon)
    }
}
