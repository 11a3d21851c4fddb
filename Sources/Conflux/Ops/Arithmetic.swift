/// a + b, with NumPy broadcasting (ONNX's and TensorFlow's Add).
///
/// - Throws: `shapeMismatch` naming the op when the shapes do not broadcast.
public func add(_ a: Tensor, _ b: Tensor) throws -> Tensor { try broadcasting(.add, a, b) }

/// a − b, with NumPy broadcasting.
public func subtract(_ a: Tensor, _ b: Tensor) throws -> Tensor { try broadcasting(.sub, a, b) }

/// a · b element by element, with NumPy broadcasting.
public func multiply(_ a: Tensor, _ b: Tensor) throws -> Tensor { try broadcasting(.mul, a, b) }

/// a / b element by element, with NumPy broadcasting.
public func divide(_ a: Tensor, _ b: Tensor) throws -> Tensor { try broadcasting(.realDiv, a, b) }

/// x₀ + x₁ + …, with broadcasting (TensorFlow's AddN, ONNX's Sum of n inputs).
public func addN(_ xs: [Tensor]) throws -> Tensor {
    guard let first = xs.first else { throw ConfluxError.invalidArgument(op: "AddN", reason: "needs an input") }
    return try xs.dropFirst().reduce(first) { try add($0, $1) }
}

/// `dy`, summed over the dimensions along which `x` was broadcast, so that it has the shape of `x`: the gradient
/// of a broadcast input. `dy` itself when the shapes are already equal.
public func sumToShape(_ dy: Tensor, like x: Tensor) throws -> Tensor {
    dy.shape == x.shape ? dy : try dy.graph.addNode(.sumToShape, [dy, x])
}

/// Records which inputs map rows one to one onto the output (`rowwise`): those with the output's rank and first
/// dimension. An input broadcast along the rows (a bias [C], a [1, C] row) must not be cut into rows.
private func broadcasting(_ op: OpType, _ a: Tensor, _ b: Tensor) throws -> Tensor {
    let output = Shape.broadcast(a.shape, b.shape)
    let rowwise = [a, b].indices.filter { i in
        let shape = [a, b][i].shape
        return output.map { shape.rank == $0.rank && shape.rank > 0 && shape[0] == $0[0] } ?? false
    }
    return try a.graph.addNode(op, [a, b], attributes: Attributes(["rowwise": .ints(rowwise)]))
}

private func broadcastShape(_ c: ShapeContext) throws -> (Shape, DType) {
    try c.requireType(0, .float32, "a")
    try c.requireType(1, .float32, "b")
    guard let shape = Shape.broadcast(c.shapes[0], c.shapes[1]) else {
        throw c.mismatch("shapes do not broadcast: each pair of dimensions, aligned at the last, must be equal or 1")
    }
    return (shape, .float32)
}

/// The arithmetic op `type`, broadcasting its inputs, with the gradient of each input before `sumToShape`.
private func arithmetic(_ type: OpType, _ gradients: @escaping (Tensor, Tensor, Tensor, Tensor) throws -> [Tensor])
    -> OpDefinition
{
    OpDefinition(
        type, OpSignature(["a", "b"]),
        rowwiseInputs: { attributes in attributes["rowwise"] == nil ? [] : attributes.ints("rowwise") },
        inferShape: broadcastShape
    )
    .withGradient { y, dy in
        let (a, b) = (y.inputs[0], y.inputs[1])
        return try zip([a, b], gradients(a, b, y, dy)).map { x, dx in try sumToShape(dx, like: x) }
    }
}

let arithmeticOps: [OpDefinition] = [
    arithmetic(.add) { _, _, _, dy in [dy, dy] },
    arithmetic(.sub) { _, _, _, dy in [dy, try negate(dy)] },
    arithmetic(.mul) { a, b, _, dy in [try multiply(dy, b), try multiply(dy, a)] },
    // d(a/b)/db = −a/b² = −y/b
    arithmetic(.realDiv) { _, b, y, dy in
        let quotient = try divide(dy, b)
        return [quotient, try negate(multiply(quotient, y))]
    },
    OpDefinition(.sumToShape, OpSignature(["gradient", "like"])) { c in
        let (dy, x) = (c.shapes[0], c.shapes[1])
        try c.requireType(0, .float32, "gradient")
        guard let broadcast = Shape.broadcast(dy, x), unify(broadcast, dy) != nil else {
            throw c.mismatch("the gradient's shape must be the broadcast of the target's")
        }
        return (x, .float32)
    },
]
