import Conflux

/// Builds the in-graph update of each parameter from its gradient; running the returned ops is one step.
public protocol Optimizer {
    /// Adds the gradients of `loss` and one update op per parameter, creating any state variables.
    func minimize(_ loss: Tensor, parameters: [Tensor]) throws -> [Tensor]
}

/// Stochastic gradient descent with momentum (TensorFlow's `MomentumOptimizer`, PyTorch's `SGD`).
public struct SGD: Optimizer {
    public let learningRate: Float
    public let momentum: Float

    public init(learningRate: Float, momentum: Float = 0) {
        self.learningRate = learningRate
        self.momentum = momentum
    }

    public func minimize(_ loss: Tensor, parameters: [Tensor]) throws -> [Tensor] {
        let graph = loss.graph
        let grads = try gradients(of: loss, wrt: parameters)
        return try graph.nameScope("SGD") {
            try zip(parameters, grads).map { parameter, grad in
                let accumulator = try graph.variable(parameter.shape, name: "\(parameter.name)/momentum")
                return try applyMomentum(
                    parameter, accumulator: accumulator, gradient: grad, learningRate: learningRate, momentum: momentum)
            }
        }
    }
}

/// Adam (Kingma & Ba, 2015), with PyTorch's defaults.
public struct Adam: Optimizer {
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

    public func minimize(_ loss: Tensor, parameters: [Tensor]) throws -> [Tensor] {
        let graph = loss.graph
        let grads = try gradients(of: loss, wrt: parameters)
        return try graph.nameScope("Adam") {
            try zip(parameters, grads).map { parameter, grad in
                let m = try graph.variable(parameter.shape, name: "\(parameter.name)/m")
                let v = try graph.variable(parameter.shape, name: "\(parameter.name)/v")
                let step = try graph.variable(.scalar, name: "\(parameter.name)/step")
                return try applyAdam(
                    parameter, m: m, v: v, step: step, gradient: grad, learningRate: learningRate, beta1: beta1,
                    beta2: beta2, epsilon: epsilon)
            }
        }
    }
}
