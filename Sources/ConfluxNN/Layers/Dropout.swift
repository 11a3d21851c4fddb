import Conflux

/// Dropout (Srivastava et al., 2014) in training, with rate `rate`; the identity in inference. Its mask is
/// drawn afresh each training step from `seed` and a step counter the layer keeps (saved with the optimizer's
/// state, so that a resumed run continues the sequence of masks).
public struct Dropout: Layer {
    public let name: String
    public let rate: Float
    public let seed: Int

    public init(_ name: String, rate: Float, seed: Int = 0) {
        self.name = name
        self.rate = rate
        self.seed = seed
    }

    public var dependsOnMode: Bool { true }

    public func apply(_ x: Tensor, in context: LayerContext) throws -> Tensor {
        guard context.mode == .training else { return x }
        // Created only by the training build, outside the model's parameters and state: a checkpoint keeps it
        // with the optimizer's state, and PyTorch's state_dict, which has no such counter, still loads.
        let step = try context.graph.variable(.scalar, name: "step")
        context.addUpdate(try assignAdd(step, context.graph.constant(1)))
        return try dropout(x, rate: rate, step: step, seed: seed)
    }
}
