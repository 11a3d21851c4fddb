/// Updates `variable` in place by SGD with momentum: accum = momentum·accum + grad; variable -= lr·accum
/// (the update of TensorFlow's `ApplyMomentum` and PyTorch's `SGD`). `learningRate` is a scalar tensor, so a
/// schedule can feed a new rate each step. Its output is empty: run it as a target.
public func applyMomentum(
    _ variable: Tensor, accumulator: Tensor, gradient: Tensor, learningRate: Tensor, momentum: Float
) throws -> Tensor {
    try variable.graph.addNode(
        .applyMomentum, [variable, accumulator, gradient, learningRate],
        attributes: Attributes(["momentum": .float(momentum)]), name: "ApplyMomentum")
}

/// Updates `variable` in place by Adam (Kingma & Ba, 2015) with bias correction; `step` is a scalar variable
/// counting this variable's updates and `learningRate` a scalar tensor. Its output is empty: run it as a target.
public func applyAdam(
    _ variable: Tensor, m: Tensor, v: Tensor, step: Tensor, gradient: Tensor, learningRate: Tensor,
    beta1: Float, beta2: Float, epsilon: Float
) throws -> Tensor {
    try variable.graph.addNode(
        .applyAdam, [variable, m, v, step, gradient, learningRate],
        attributes: Attributes(["beta1": .float(beta1), "beta2": .float(beta2), "epsilon": .float(epsilon)]),
        name: "ApplyAdam")
}

/// Adds `value` to `variable` in place (TensorFlow's AssignAdd), such as a counter of training steps. Its output
/// is empty: run it as a target.
public func assignAdd(_ variable: Tensor, _ value: Tensor) throws -> Tensor {
    try variable.graph.addNode(.assignAdd, [variable, value], name: "AssignAdd")
}

/// Every state input must have the variable's shape, as must the gradient; the learning rate is a scalar.
private func checkUpdate(_ c: ShapeContext, states: Range<Int>, gradient: Int) throws -> (Shape, DType) {
    for i in states where c.shapes[i] != c.shapes[0] {
        throw c.mismatch("optimizer state \(i) must have the variable's shape")
    }
    guard c.shapes[gradient] == c.shapes[0] else { throw c.mismatch("gradient must have the variable's shape") }
    guard c.shapes[gradient + 1].count == 1 else { throw c.mismatch("the learning rate must be a scalar") }
    return ([0], .float32)
}

let optimizerOps: [OpDefinition] = [
    OpDefinition(.assignAdd, OpSignature(["variable", "value"]), role: .update) { c in
        guard c.shapes[1] == c.shapes[0] else { throw c.mismatch("the value must have the variable's shape") }
        return ([0], .float32)
    },
    OpDefinition(
        .applyMomentum,
        OpSignature(["variable", "accumulator", "gradient", "learningRate"], attributes: ["momentum": .float]),
        role: .update
    ) { c in try checkUpdate(c, states: 1..<2, gradient: 2) }
    // Reads the variable, accumulator and gradient, writes the first two.
    .withCost { c in (3 * Double(c.inputs[0].count), Double(c.inputs[0].count * 4 * 5)) },
    OpDefinition(
        .applyAdam,
        OpSignature(
            ["variable", "m", "v", "step", "gradient", "learningRate"],
            attributes: ["beta1": .float, "beta2": .float, "epsilon": .float]),
        role: .update
    ) { c in
        guard c.shapes[3].count == 1 else { throw c.mismatch("step must be a scalar") }
        return try checkUpdate(c, states: 1..<3, gradient: 4)
    }
    // Reads the variable, both moments and the gradient, writes the first three; a dozen operations each.
    .withCost { c in (12 * Double(c.inputs[0].count), Double(c.inputs[0].count * 4 * 8)) },
]
