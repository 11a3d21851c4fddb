// Ops that ONNX and modern CNNs name but that Conflux builds from its own: each adds the ops it is made of, whose
// kernels and gradients it uses, so it runs and trains on every device that has them.

/// max(0, min(1, alpha·x + beta)) (ONNX's HardSigmoid; PyTorch's is alpha 1/6, beta 1/2).
public func hardSigmoid(_ x: Tensor, alpha: Float = 0.2, beta: Float = 0.5) throws -> Tensor {
    try clip(add(multiply(x, x.graph.constant(alpha)), x.graph.constant(beta)), min: 0, max: 1)
}

/// x where x ≥ 0, slope·x below, `slope` broadcast against x (ONNX's PRelu: [C, 1, 1] for one slope per
/// channel of [N, C, H, W]): relu(x) + slope·(x − relu(x)), so that the slope is trained too.
public func prelu(_ x: Tensor, slope: Tensor) throws -> Tensor {
    let positive = try relu(x)
    return try add(positive, multiply(slope, subtract(x, positive)))
}

/// −x (ONNX's Neg), as x·(−1).
public func negate(_ x: Tensor) throws -> Tensor { try multiply(x, x.graph.constant(-1)) }

/// |x| (ONNX's Abs), as relu(x) + relu(−x): its gradient is the sign, 0 at 0.
public func absolute(_ x: Tensor) throws -> Tensor { try add(relu(x), relu(negate(x))) }

/// The element-wise larger of `a` and `b`, broadcast (ONNX's Max of two), as a + relu(b − a): at a tie the
/// gradient goes to `a`.
public func maximum(_ a: Tensor, _ b: Tensor) throws -> Tensor { try add(a, relu(subtract(b, a))) }

/// The element-wise smaller of `a` and `b`, broadcast (ONNX's Min of two), as a − relu(a − b).
public func minimum(_ a: Tensor, _ b: Tensor) throws -> Tensor { try subtract(a, relu(subtract(a, b))) }

/// `x` repeated `repeats[d]` times along each dimension d (ONNX's Tile), as concatenations.
public func tile(_ x: Tensor, _ repeats: [Int]) throws -> Tensor {
    guard repeats.count == x.shape.rank, repeats.allSatisfy({ $0 >= 1 }) else {
        throw ConfluxError.invalidArgument(
            op: "Tile", reason: "repeats \(repeats) must be one count of at least 1 per dimension of \(x.shape)")
    }
    return try repeats.enumerated().reduce(x) { y, axis in
        axis.element == 1 ? y : try concat(Array(repeating: y, count: axis.element), axis: axis.offset)
    }
}

/// alpha·op(a)·op(b) + beta·c, with `c` broadcast against the product (ONNX's Gemm).
public func gemm(
    _ a: Tensor, _ b: Tensor, _ c: Tensor? = nil, alpha: Float = 1, beta: Float = 1, transposeA: Bool = false,
    transposeB: Bool = false
) throws -> Tensor {
    let graph = a.graph
    var y = try matmul(a, b, transposeA: transposeA, transposeB: transposeB)
    if alpha != 1 { y = try multiply(y, graph.constant(alpha)) }
    guard let c else { return y }
    return try add(y, beta == 1 ? c : multiply(c, graph.constant(beta)))
}

/// `x` as a matrix: the dimensions before `axis` make the rows, the others the columns (ONNX's Flatten).
public func flatten(_ x: Tensor, axis: Int = 1) throws -> Tensor {
    let dims = x.shape.dims
    guard (0...dims.count).contains(axis) else {
        throw ConfluxError.invalidArgument(op: "Flatten", reason: "axis \(axis) is outside 0...\(dims.count)")
    }
    func product(_ part: ArraySlice<Int>) -> Int { part.contains(Shape.unknown) ? Shape.unknown : part.reduce(1, *) }
    return try reshape(x, [product(dims[..<axis]), product(dims[axis...])])
}

/// `x` without the dimensions of size 1 at `axes` (every one of them when nil): ONNX's Squeeze.
public func squeeze(_ x: Tensor, axes: [Int]? = nil) throws -> Tensor {
    let rank = x.shape.rank
    let axes = Set((axes ?? x.shape.dims.indices.filter { x.shape[$0] == 1 }).map { $0 < 0 ? $0 + rank : $0 })
    guard axes.allSatisfy({ (0..<rank).contains($0) && x.shape[$0] == 1 }) else {
        throw ConfluxError.invalidArgument(op: "Squeeze", reason: "only dimensions of size 1 of \(x.shape) can go")
    }
    return try reshape(x, Shape(x.shape.dims.indices.filter { !axes.contains($0) }.map { x.shape[$0] }))
}

/// `x` with dimensions of size 1 inserted so that they are `axes` of the result: ONNX's Unsqueeze.
public func unsqueeze(_ x: Tensor, axes: [Int]) throws -> Tensor {
    let rank = x.shape.rank + axes.count
    let inserted = Set(axes.map { $0 < 0 ? $0 + rank : $0 })
    guard inserted.count == axes.count, inserted.allSatisfy({ (0..<rank).contains($0) }) else {
        throw ConfluxError.invalidArgument(
            op: "Unsqueeze", reason: "axes \(axes) must be distinct places in a result of rank \(rank)")
    }
    var rest = x.shape.dims.makeIterator()
    return try reshape(x, Shape((0..<rank).map { inserted.contains($0) ? 1 : rest.next()! }))
}

/// The sum of `x` over `axes` (negative count from the end), those dimensions kept as 1 when `keepDimensions`
/// (ONNX's ReduceSum): the reduced dimensions moved last and flattened, then a product with a vector of ones.
public func reduceSum(_ x: Tensor, axes: [Int], keepDimensions: Bool = true) throws -> Tensor {
    try reduce(x, axes: axes, keepDimensions: keepDimensions, weight: { _ in 1 })
}

/// The mean of `x` over `axes` (ONNX's ReduceMean), as `reduceSum` with a vector of 1/count.
public func reduceMean(_ x: Tensor, axes: [Int], keepDimensions: Bool = true) throws -> Tensor {
    try reduce(x, axes: axes, keepDimensions: keepDimensions, weight: { 1 / Float($0) })
}

private func reduce(_ x: Tensor, axes: [Int], keepDimensions: Bool, weight: (Int) -> Float) throws -> Tensor {
    let rank = x.shape.rank
    let reduced = Set(axes.map { $0 < 0 ? $0 + rank : $0 })
    guard !reduced.isEmpty, reduced.count == axes.count, reduced.allSatisfy({ (0..<rank).contains($0) }),
        reduced.allSatisfy({ x.shape[$0] != Shape.unknown })
    else {
        throw ConfluxError.invalidArgument(
            op: "Reduce", reason: "axes \(axes) must be distinct dimensions of \(x.shape), each of known size")
    }
    let kept = (0..<rank).filter { !reduced.contains($0) }
    let count = reduced.map { x.shape[$0] }.reduce(1, *)
    let moved = kept + reduced.sorted() == Array(0..<rank) ? x : try transpose(x, kept + reduced.sorted())
    let rows = try reshape(moved, [kept.isEmpty ? 1 : Shape.unknown, count])
    let column = try x.graph.constant(
        HostTensor(shape: [count, 1], floats: [Float](repeating: weight(count), count: count)))
    let shape = (0..<rank).compactMap { d in reduced.contains(d) ? (keepDimensions ? 1 : nil) : x.shape[d] }
    return try reshape(matmul(rows, column), Shape(shape))
}
