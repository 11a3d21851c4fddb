/// Batch normalization (Ioffe & Szegedy, 2015) over axis 1 of `x` ([N, C] or [N, C, H, W], any rank from 2):
/// y = scale[c]·(x − mean[c])/√(variance[c] + epsilon) + offset[c].
///
/// Without `mean` and `variance` (training), each channel's statistics are the batch's own, over every axis but 1,
/// the variance biased (divided by the count), and the gradient flows through them; with them (inference), the
/// running statistics are used as given. TensorFlow's `FusedBatchNorm`, ONNX's `BatchNormalization`.
public func batchNorm(
    _ x: Tensor, scale: Tensor, offset: Tensor, mean: Tensor? = nil, variance: Tensor? = nil, epsilon: Float = 1e-5
) throws -> Tensor {
    guard (mean == nil) == (variance == nil) else {
        throw ConfluxError.invalidArgument(op: "FusedBatchNorm", reason: "give both mean and variance, or neither")
    }
    let statistics = [mean, variance].compactMap { $0 }
    return try x.graph.addNode(
        .batchNorm, [x, scale, offset] + statistics, attributes: Attributes(["epsilon": .float(epsilon)]))
}

/// Moves `runningMean` and `runningVariance` [C] towards the statistics of the batch `x` in place:
/// r = (1 − momentum)·r + momentum·batch, with the batch variance unbiased (as PyTorch's `BatchNorm2d`, whose
/// momentum this is). Its output is empty: run it as a target of each training step.
public func updateBatchNormStatistics(
    runningMean: Tensor, runningVariance: Tensor, batch x: Tensor, momentum: Float = 0.1
) throws -> Tensor {
    try x.graph.addNode(
        .batchNormStatisticsUpdate, [runningMean, runningVariance, x],
        attributes: Attributes(["momentum": .float(momentum)]))
}

/// Local response normalization across channels (Krizhevsky et al., 2012; ONNX's LRN) of `x` [N, C, …]:
/// y = x / (bias + alpha/size · Σ x²)^beta, the sum over the `size` channels around each one (from
/// c − ⌊(size − 1)/2⌋ to c + ⌈(size − 1)/2⌉, clipped to the channels).
///
/// - Throws: `invalidArgument` unless size is positive.
public func localResponseNormalization(
    _ x: Tensor, size: Int, alpha: Float = 1e-4, beta: Float = 0.75, bias: Float = 1
) throws -> Tensor {
    guard size > 0 else { throw ConfluxError.invalidArgument(op: "LRN", reason: "size \(size) must be positive") }
    return try x.graph.addNode(
        .lrn, [x],
        attributes: Attributes(["size": .int(size), "alpha": .float(alpha), "beta": .float(beta), "bias": .float(bias)])
    )
}

/// The gradient of `FusedBatchNorm` y: dx (through the batch statistics when y used them), dscale = Σ dy·x̂,
/// doffset = Σ dy; none for given statistics, which are state, not parameters.
private func batchNormGradient(_ y: Tensor, _ dy: Tensor) throws -> [Tensor?] {
    let inputs = y.inputs
    let statistics = Array(inputs.dropFirst(3))
    let attributes = y.node.attributes
    let dx = try y.graph.addNode(.batchNormGrad, [inputs[0], inputs[1], dy] + statistics, attributes: attributes)
    let dscale = try y.graph.addNode(.batchNormScaleGrad, [inputs[0], dy] + statistics, attributes: attributes)
    return [dx, dscale, try biasAddGrad(dy)] + statistics.map { _ in nil }
}

/// Checks that input 0 is [N, C, …], every input Float32 and each input in `perChannel` [C]; returns C.
private func checkChannels(_ c: ShapeContext, perChannel: [Int]) throws -> Int {
    guard c.shapes[0].rank >= 2 else { throw c.mismatch("input must be [N, C, …]") }
    for i in 0..<c.shapes.count { try c.requireType(i, .float32, "input \(i)") }
    let channels = c.shapes[0][1]
    for i in perChannel {
        guard c.shapes[i].rank == 1, Shape.compatible(c.shapes[i][0], channels) else {
            throw c.mismatch("input \(i) must be [\(channels)], one value per channel")
        }
    }
    return channels
}

/// A few operations per element for each pass over x (statistics, then normalization).
private func normalizationCost(passes: Double) -> CostFunction {
    { c in (4 * passes * Double(c.inputs[0].count), c.bytes) }
}

/// The attributes of LRN and its gradient.
private let lrnAttributes: [String: AttributeKind] = ["size": .int, "alpha": .float, "beta": .float, "bias": .float]

let normalizationOps: [OpDefinition] = [
    OpDefinition(.lrn, OpSignature(["input"], attributes: lrnAttributes), rowwiseInputs: { _ in [0] }) { c in
        guard c.shapes[0].rank >= 2 else { throw c.mismatch("input must be [N, C, …]") }
        try c.requireType(0, .float32, "input")
        return (c.shapes[0], .float32)
    }
    .withGradient { y, dy in [try y.graph.addNode(.lrnGrad, [y.inputs[0], dy], attributes: y.node.attributes)] }
    .withCost { c in (Double(4 * c.node.attributes.int("size") + 8) * Double(c.output.count), c.bytes) },
    OpDefinition(
        .lrnGrad, OpSignature(["input", "gradient"], attributes: lrnAttributes), rowwiseInputs: { _ in [0, 1] }
    ) {
        c in
        guard unify(c.shapes[0], c.shapes[1]) != nil else { throw c.mismatch("gradient must have the input's shape") }
        return (c.shapes[0], .float32)
    }
    .withCost { c in (Double(8 * c.node.attributes.int("size") + 8) * Double(c.output.count), c.bytes) },
    OpDefinition(
        .batchNorm,
        OpSignature(
            ["input", "scale", "offset", "mean", "variance"], optional: 2,
            attributes: ["epsilon": .float]),
        // With given statistics every row is normalized alone; with the batch's, rows are mixed.
        rowwiseInputs: { _ in [] },
        inferShape: { c in
            guard c.shapes.count != 4 else { throw c.mismatch("give both mean and variance, or neither") }
            _ = try checkChannels(c, perChannel: Array(1..<c.shapes.count))
            return (c.shapes[0], .float32)
        }
    )
    .withGradient(batchNormGradient)
    .withCost(normalizationCost(passes: 3)),
    OpDefinition(
        .batchNormGrad,
        OpSignature(["input", "scale", "gradient", "mean", "variance"], optional: 2, attributes: ["epsilon": .float])
    ) { c in
        _ = try checkChannels(c, perChannel: [1] + Array(3..<c.shapes.count))
        guard unify(c.shapes[0], c.shapes[2]) != nil else { throw c.mismatch("gradient must have the input's shape") }
        return (c.shapes[0], .float32)
    }
    .withCost(normalizationCost(passes: 4)),
    OpDefinition(
        .batchNormScaleGrad,
        OpSignature(["input", "gradient", "mean", "variance"], optional: 2, attributes: ["epsilon": .float])
    ) { c in
        let channels = try checkChannels(c, perChannel: Array(2..<c.shapes.count))
        guard unify(c.shapes[0], c.shapes[1]) != nil else { throw c.mismatch("gradient must have the input's shape") }
        return ([channels], .float32)
    }
    .withCost(normalizationCost(passes: 3)),
    OpDefinition(
        .batchNormStatisticsUpdate,
        OpSignature(["runningMean", "runningVariance", "input"], attributes: ["momentum": .float]), role: .update
    ) { c in
        guard c.shapes[2].rank >= 2 else { throw c.mismatch("input must be [N, C, …]") }
        for i in 0..<2 where c.shapes[i] != [c.shapes[2][1]] {
            throw c.mismatch("running statistics must be [\(c.shapes[2][1])], one value per channel")
        }
        return ([0], .float32)
    }
    .withCost(normalizationCost(passes: 2)),
]
