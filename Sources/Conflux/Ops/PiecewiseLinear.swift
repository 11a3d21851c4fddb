/// x where x ≥ 0, `alpha`·x below (ONNX's and PyTorch's LeakyRelu).
public func leakyRelu(_ x: Tensor, alpha: Float = 0.01) throws -> Tensor {
    try x.graph.addNode(.leakyRelu, [x], attributes: Attributes(["alpha": .float(alpha)]))
}

/// x limited to `min`...`max` (ONNX's Clip; `clip(x, min: 0, max: 6)` is ReLU6).
public func clip(_ x: Tensor, min: Float, max: Float) throws -> Tensor {
    guard min <= max else { throw ConfluxError.invalidArgument(op: "Clip", reason: "min \(min) is above max \(max)") }
    return try x.graph.addNode(.clip, [x], attributes: Attributes(["min": .float(min), "max": .float(max)]))
}

/// x · min(max(x + 3, 0), 6) / 6 (ONNX's and PyTorch's HardSwish, MobileNetV3's activation).
public func hardSwish(_ x: Tensor) throws -> Tensor { try x.graph.addNode(.hardSwish, [x]) }

/// The gradient op of a piecewise-linear activation: it reads the activation's input, where the pieces meet.
private func inputGradient(_ op: OpType, _ y: Tensor, _ dy: Tensor) throws -> [Tensor?] {
    [try y.graph.addNode(op, [y.inputs[0], dy], attributes: y.node.attributes)]
}

private func sameShape(_ c: ShapeContext) throws -> (Shape, DType) {
    try c.requireType(0, .float32, "input")
    return (c.shapes[0], .float32)
}

private func sameShapeGradient(_ c: ShapeContext) throws -> (Shape, DType) {
    guard unify(c.shapes[0], c.shapes[1]) != nil else { throw c.mismatch("gradient must have the input's shape") }
    return (c.shapes[0], .float32)
}

let piecewiseLinearOps: [OpDefinition] = [
    OpDefinition(
        .leakyRelu, OpSignature(["input"], attributes: ["alpha": .float]), rowwiseInputs: { _ in [0] },
        inferShape: sameShape
    )
    .withGradient { y, dy in try inputGradient(.leakyReluGrad, y, dy) },
    OpDefinition(
        .leakyReluGrad, OpSignature(["input", "gradient"], attributes: ["alpha": .float]),
        rowwiseInputs: { _ in [0, 1] }, inferShape: sameShapeGradient),
    OpDefinition(
        .clip, OpSignature(["input"], attributes: ["min": .float, "max": .float]), rowwiseInputs: { _ in [0] },
        inferShape: sameShape
    )
    .withGradient { y, dy in try inputGradient(.clipGrad, y, dy) },
    OpDefinition(
        .clipGrad, OpSignature(["input", "gradient"], attributes: ["min": .float, "max": .float]),
        rowwiseInputs: { _ in [0, 1] }, inferShape: sameShapeGradient),
    OpDefinition(.hardSwish, OpSignature(["input"]), rowwiseInputs: { _ in [0] }, inferShape: sameShape)
        .withGradient { y, dy in try inputGradient(.hardSwishGrad, y, dy) },
    OpDefinition(
        .hardSwishGrad, OpSignature(["input", "gradient"]), rowwiseInputs: { _ in [0, 1] },
        inferShape: sameShapeGradient),
]
