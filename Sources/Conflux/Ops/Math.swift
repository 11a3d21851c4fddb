/// The matrix product of `a` [M, K] and `b` [K, N], either transposed first: [M, N].
///
/// - Throws: `shapeMismatch` if the inner dimensions differ or an input is not a matrix.
public func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) throws -> Tensor {
    try a.graph.addNode(
        .matMul, [a, b], attributes: Attributes(["transposeA": .bool(transposeA), "transposeB": .bool(transposeB)]))
}

/// Adds `bias` [C] along axis 1 of `x` ([N, C] or [N, C, H, W]).
public func biasAdd(_ x: Tensor, _ bias: Tensor) throws -> Tensor { try x.graph.addNode(.biasAdd, [x, bias]) }

/// The gradient of a bias: `dy` summed over every axis but 1: [C].
public func biasAddGrad(_ dy: Tensor) throws -> Tensor { try dy.graph.addNode(.biasAddGrad, [dy]) }

/// The same elements in a new shape; one dimension may be `Shape.unknown` and is then inferred.
///
/// - Throws: `shapeMismatch` if the element counts differ.
public func reshape(_ x: Tensor, _ shape: Shape) throws -> Tensor {
    try x.graph.addNode(.reshape, [x], attributes: Attributes(["shape": .shape(shape)]))
}

/// `x` itself, as a node of its own (TensorFlow's and ONNX's Identity): a name to fetch, or a copy to place on
/// another device.
public func identity(_ x: Tensor) throws -> Tensor { try x.graph.addNode(.identity, [x]) }

/// Merges two shapes that must agree, taking each dimension from whichever knows it.
func unify(_ a: Shape, _ b: Shape) -> Shape? {
    guard a.rank == b.rank else { return nil }
    var dims = a.dims
    for i in 0..<a.rank {
        guard Shape.compatible(a[i], b[i]) else { return nil }
        if dims[i] == Shape.unknown { dims[i] = b[i] }
    }
    return Shape(dims)
}

let mathOps: [OpDefinition] = [
    OpDefinition(
        .matMul, OpSignature(["a", "b"], attributes: ["transposeA": .bool, "transposeB": .bool]),
        rowwiseInputs: { $0.bool("transposeA") ? [] : [0] },
        inferShape: { c in
            try c.requireRank(0, 2, "a")
            try c.requireRank(1, 2, "b")
            try c.requireType(0, .float32, "a")
            try c.requireType(1, .float32, "b")
            let (a, b) = (c.shapes[0], c.shapes[1])
            let (m, ka) = c.attributes.bool("transposeA") ? (a[1], a[0]) : (a[0], a[1])
            let (kb, n) = c.attributes.bool("transposeB") ? (b[1], b[0]) : (b[0], b[1])
            guard Shape.compatible(ka, kb) else { throw c.mismatch("inner dimensions \(ka) and \(kb) differ") }
            return ([m, n], .float32)
        }
    )
    .withGradient(matMulGradient)
    .withCost { c in
        let k = c.node.attributes.bool("transposeA") ? c.inputs[0][0] : c.inputs[0][1]
        return (2 * Double(c.output.count) * Double(k), c.bytes)
    },
    OpDefinition(
        .biasAdd, OpSignature(["input", "bias"]), rowwiseInputs: { _ in [0] },
        inferShape: { c in
            let (x, b) = (c.shapes[0], c.shapes[1])
            guard x.rank == 2 || x.rank == 4 else { throw c.mismatch("input must be [N, C] or [N, C, H, W]") }
            try c.requireRank(1, 1, "bias")
            guard Shape.compatible(x[1], b[0]) else {
                throw c.mismatch("bias length \(b[0]) differs from channels \(x[1])")
            }
            return (x, .float32)
        }
    )
    .withGradient { _, dy in [dy, try biasAddGrad(dy)] },
    OpDefinition(.biasAddGrad, OpSignature(["gradient"])) { c in
        guard c.shapes[0].rank == 2 || c.shapes[0].rank == 4 else { throw c.mismatch("gradient must be rank 2 or 4") }
        return ([c.shapes[0][1]], .float32)
    },
    OpDefinition(.identity, OpSignature(["input"]), rowwiseInputs: { _ in [0] }) { c in (c.shapes[0], c.dtypes[0]) }
        .withGradient { _, dy in [dy] },
    // Rows are contiguous: whenever the output keeps the input's number of rows, row i stays row i.
    OpDefinition(
        .reshape, OpSignature(["input"], attributes: ["shape": .shape]), rowwiseInputs: { _ in [0] },
        inferShape: { c in
            let x = c.shapes[0]
            var target = c.attributes.shape("shape")
            let unknowns = target.dims.indices.filter { target[$0] == Shape.unknown }
            guard unknowns.count <= 1 else {
                throw c.mismatch("target shape \(target) has more than one unknown dimension")
            }
            guard x.isFullyKnown else {
                guard unknowns.count == 1 else {
                    throw c.mismatch(
                        "target shape \(target) must leave one dimension unknown for an input of unknown size")
                }
                return (target, c.dtypes[0])
            }
            let known = target.dims.filter { $0 != Shape.unknown }.reduce(1, *)
            if let i = unknowns.first {
                guard known > 0, x.count % known == 0 else {
                    throw c.mismatch("cannot reshape \(x.count) elements into \(target)")
                }
                target.dims[i] = x.count / known
            }
            guard target.count == x.count else { throw c.mismatch("cannot reshape \(x.count) elements into \(target)") }
            return (target, c.dtypes[0])
        }
    )
    .withGradient { y, dy in [try reshape(dy, y.inputs[0].shape)] },
]

/// y = op(A) · op(B): each input's gradient is a product of dy with the other input, transposed to fit.
private func matMulGradient(_ y: Tensor, _ dy: Tensor) throws -> [Tensor?] {
    let (a, b) = (y.inputs[0], y.inputs[1])
    let attributes = y.node.attributes
    switch (attributes.bool("transposeA"), attributes.bool("transposeB")) {
    case (false, false):
        return [try matmul(dy, b, transposeB: true), try matmul(a, dy, transposeA: true)]
    case (false, true):
        return [try matmul(dy, b), try matmul(dy, a, transposeA: true)]
    case (true, false):
        return [try matmul(b, dy, transposeB: true), try matmul(a, dy)]
    case (true, true):
        return [
            try matmul(b, dy, transposeA: true, transposeB: true),
            try matmul(dy, a, transposeA: true, transposeB: true),
        ]
    }
}
