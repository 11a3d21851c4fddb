/// The ops of `Fusion`. _FusedConv2D and _FusedMatMul: a producer (Conv2D or MatMul) with its attributes, then
/// `bias` [C] as the third input when the `bias` attribute is true, and the ReLU applied when `relu` is.
/// _FusedConv2D also adds `residual` (the next input, of the output's shape) before the activation when the
/// `residual` attribute is true, and limits the result to `min`...`max` when `clip` is.
/// _FusedMaxPoolGrad: MaxPoolGrad's inputs and attributes, its gradient passed only where the pooled input (a
/// ReLU's output) is positive.
let fusedOps: [OpDefinition] = [
    OpDefinition(
        .fusedConv2D,
        OpSignature(
            ["input", "filter", "bias", "residual"], optional: 2,
            attributes: OpSignature.convolution.merging([
                "bias": .bool, "relu": .bool, "residual": .bool, "clip": .bool, "min": .float, "max": .float,
            ]) { $1 }),
        // The residual has the output's rows.
        rowwiseInputs: { $0["residual"] == .bool(true) ? [0, $0.bool("bias") ? 3 : 2] : [0] },
        inferShape: { try fusedShape($0, producer: .conv2D) }),
    OpDefinition(
        .fusedMatMul,
        OpSignature(
            ["a", "b", "bias"], optional: 1,
            attributes: ["transposeA": .bool, "transposeB": .bool, "bias": .bool, "relu": .bool]),
        rowwiseInputs: { $0.bool("transposeA") ? [] : [0] },
        inferShape: { try fusedShape($0, producer: .matMul) }),
    OpDefinition(
        .fusedMaxPoolGrad,
        OpSignature(["input", "gradient"], attributes: OpSignature.maxWindow.merging(["relu": .bool]) { $1 }),
        rowwiseInputs: { _ in [0, 1] },
        inferShape: { try OpDefinition.all[.maxPoolGrad]!.inferShape($0) }),
]

/// The producer's output, after checking that the bias has one value per output channel.
private func fusedShape(_ c: ShapeContext, producer: OpType) throws -> (Shape, DType) {
    // A residual only a fused convolution has.
    let (hasBias, hasResidual) = (c.attributes.bool("bias"), c.attributes["residual"] == .bool(true))
    let count = 2 + (hasBias ? 1 : 0) + (hasResidual ? 1 : 0)
    guard c.shapes.count == count else { throw c.mismatch("expects \(count) inputs, got \(c.shapes.count)") }
    let (shape, dtype) = try OpDefinition.all[producer]!.inferShape(
        ShapeContext(
            op: c.op, nodeName: c.nodeName, shapes: Array(c.shapes[0..<2]), dtypes: Array(c.dtypes[0..<2]),
            attributes: c.attributes))
    if hasBias {
        guard c.shapes[2].rank == 1, Shape.compatible(c.shapes[2][0], shape[1]) else {
            throw c.mismatch("bias must be [\(shape[1])]")
        }
    }
    let residual = c.shapes[count - 1]
    if hasResidual,
        residual.rank != shape.rank || !zip(residual.dims, shape.dims).allSatisfy({ Shape.compatible($0, $1) })
    {
        throw c.mismatch("residual must be \(shape), not \(residual)")
    }
    return (shape, dtype)
}
