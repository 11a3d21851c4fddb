import Conflux

/// Batch normalization over the channels (axis 1) of [N, C] or [N, C, H, W]: in training, each batch is
/// normalized with its own statistics, which move the running ones by `momentum`; in inference, the running
/// statistics are used. Variables as PyTorch's `BatchNorm2d` names them: `weight` (ones) and `bias` (zeros), the
/// parameters; `running_mean` (zeros) and `running_var` (ones), the state.
public struct BatchNorm: Layer {
    public let name: String
    public let momentum: Float
    public let epsilon: Float
    public let activation: Activation?

    public init(_ name: String, momentum: Float = 0.1, epsilon: Float = 1e-5, activation: Activation? = nil) {
        self.name = name
        self.momentum = momentum
        self.epsilon = epsilon
        self.activation = activation
    }

    public var dependsOnMode: Bool { true }

    /// - Throws: `shapeMismatch` unless the input has a known channel count on axis 1.
    public func apply(_ x: Tensor, in context: LayerContext) throws -> Tensor {
        guard x.shape.rank >= 2, x.shape[1] > 0 else {
            throw ConfluxError.shapeMismatch(
                op: "BatchNorm", node: name, shapes: [x.shape], reason: "input must be [N, C, …] with C known")
        }
        let channels: Shape = [x.shape[1]]
        let scale = try context.variable(channels, initializer: .constant(1), name: "weight")
        let offset = try context.variable(channels, name: "bias")
        let mean = try context.variable(channels, name: "running_mean", trainable: false)
        let variance = try context.variable(channels, initializer: .constant(1), name: "running_var", trainable: false)
        let y: Tensor
        switch context.mode {
        case .training:
            y = try batchNorm(x, scale: scale, offset: offset, epsilon: epsilon)
            context.addUpdate(
                try updateBatchNormStatistics(
                    runningMean: mean, runningVariance: variance, batch: x, momentum: momentum))
        case .inference:
            y = try batchNorm(x, scale: scale, offset: offset, mean: mean, variance: variance, epsilon: epsilon)
        }
        return try activation?.apply(y) ?? y
    }
}
