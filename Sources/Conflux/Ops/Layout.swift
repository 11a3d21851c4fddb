// The ops that move elements without computing: Transpose, Slice, Pad (constant), Concat, and the gradient of a
// slice. Each kernel is one or a few `StridedCopy`s.

/// The end of a slice that runs to the end of its dimension, whatever its size.
public let sliceToEnd = Int(Int32.max)

/// `x` with its dimensions permuted: output dimension d is input dimension `permutation[d]` (ONNX's and
/// TensorFlow's Transpose).
public func transpose(_ x: Tensor, _ permutation: [Int]) throws -> Tensor {
    try x.graph.addNode(.transpose, [x], attributes: Attributes(["permutation": .ints(permutation)]))
}

/// The elements of `x` from `starts` up to `ends` (excluded) by `steps` along each of `axes` (all of them, in
/// order, when nil), every other dimension whole: ONNX's Slice, whose negative starts and ends count from the end
/// and whose ends are clamped to the dimension (`sliceToEnd` reaches it). A negative step goes backwards.
///
/// - Throws: `invalidArgument` for lists of different lengths, an axis out of range or a zero step.
public func slice(_ x: Tensor, starts: [Int], ends: [Int], axes: [Int]? = nil, steps: [Int]? = nil) throws -> Tensor {
    let rank = x.shape.rank
    let axes = try (axes ?? Array(starts.indices)).map { try normalizedAxis($0, rank: rank, op: "Slice") }
    let steps = steps ?? [Int](repeating: 1, count: starts.count)
    guard starts.count == axes.count, ends.count == axes.count, steps.count == axes.count, Set(axes).count == axes.count
    else {
        throw ConfluxError.invalidArgument(
            op: "Slice", reason: "starts, ends, axes and steps must have one entry per axis, each axis once")
    }
    guard !steps.contains(0) else { throw ConfluxError.invalidArgument(op: "Slice", reason: "a step must not be 0") }
    var (allStarts, allEnds, allSteps) = (
        [Int](repeating: 0, count: rank), [Int](repeating: sliceToEnd, count: rank), [Int](repeating: 1, count: rank)
    )
    for (i, axis) in axes.enumerated() {
        (allStarts[axis], allEnds[axis], allSteps[axis]) = (starts[i], ends[i], steps[i])
    }
    return try x.graph.addNode(
        .slice, [x],
        attributes: Attributes(["starts": .ints(allStarts), "ends": .ints(allEnds), "steps": .ints(allSteps)]))
}

/// `x` padded with `value`: `pads` holds the count before each dimension, then after each, as ONNX's Pad in its
/// constant mode.
///
/// - Throws: `invalidArgument` unless there are 2·rank pads, none negative.
public func pad(_ x: Tensor, _ pads: [Int], value: Float = 0) throws -> Tensor {
    guard pads.count == 2 * x.shape.rank, pads.allSatisfy({ $0 >= 0 }) else {
        throw ConfluxError.invalidArgument(
            op: "Pad", reason: "needs \(2 * x.shape.rank) pads (before each dimension, then after), none negative")
    }
    return try x.graph.addNode(.pad, [x], attributes: Attributes(["pads": .ints(pads), "value": .float(value)]))
}

/// `xs` joined along `axis` (negative counts from the end): ONNX's and TensorFlow's Concat. Every other dimension
/// must agree.
public func concat(_ xs: [Tensor], axis: Int) throws -> Tensor {
    guard let first = xs.first else { throw ConfluxError.invalidArgument(op: "ConcatV2", reason: "needs an input") }
    let axis = try normalizedAxis(axis, rank: first.shape.rank, op: "ConcatV2")
    return try first.graph.addNode(.concat, xs, attributes: Attributes(["axis": .int(axis)]))
}

/// The gradient of a slice of `x`: `dy` at the slice's place in zeros of the shape of `x`.
func sliceGrad(_ dy: Tensor, like x: Tensor, slice: Node) throws -> Tensor {
    try dy.graph.addNode(.sliceGrad, [dy, x], attributes: slice.attributes)
}

private func normalizedAxis(_ axis: Int, rank: Int, op: String) throws -> Int {
    guard (-rank..<rank).contains(axis) else {
        throw ConfluxError.invalidArgument(op: op, reason: "axis \(axis) is outside a tensor of rank \(rank)")
    }
    return axis < 0 ? axis + rank : axis
}

extension SliceRegion {
    /// The region a Slice node's attributes take from a tensor of `shape`; an unknown dimension gives an unknown
    /// count.
    public init(_ shape: Shape, attributes: Attributes) {
        let known = shape.dims.map { $0 == Shape.unknown ? 0 : $0 }
        let region = SliceRegion(
            size: known, starts: attributes.ints("starts"), ends: attributes.ints("ends"),
            steps: attributes.ints("steps"))
        self.init(
            starts: region.starts,
            counts: zip(region.counts, shape.dims).map { $1 == Shape.unknown ? Shape.unknown : $0 },
            steps: region.steps)
    }

    /// Where the inputs of a Concat along `axis` go in its output: each whole, one after another along the axis.
    public static func concatenated(_ shapes: [Shape], axis: Int) -> [SliceRegion] {
        var offset = 0
        return shapes.map { shape in
            var starts = [Int](repeating: 0, count: shape.rank)
            starts[axis] = offset
            offset += shape[axis]
            return SliceRegion(starts: starts, counts: shape.dims, steps: [Int](repeating: 1, count: shape.rank))
        }
    }

    /// Where a Pad's input goes in its output: whole, after the pads before each dimension.
    public static func padded(_ shape: Shape, pads: [Int]) -> SliceRegion {
        SliceRegion(
            starts: Array(pads.prefix(shape.rank)), counts: shape.dims,
            steps: [Int](repeating: 1, count: shape.rank))
    }
}

let layoutOps: [OpDefinition] = [
    OpDefinition(
        .transpose, OpSignature(["input"], attributes: ["permutation": .ints(nil)]),
        rowwiseInputs: { $0.ints("permutation").first == 0 ? [0] : [] },
        inferShape: { c in
            let permutation = c.attributes.ints("permutation")
            guard permutation.sorted() == Array(0..<c.shapes[0].rank) else {
                throw c.mismatch("permutation \(permutation) must order every dimension once")
            }
            return (Shape(permutation.map { c.shapes[0][$0] }), c.dtypes[0])
        }
    )
    .withGradient { y, dy in
        let permutation = y.node.attributes.ints("permutation")
        var inverse = permutation
        for (d, source) in permutation.enumerated() { inverse[source] = d }
        return [try transpose(dy, inverse)]
    },
    OpDefinition(
        .slice, OpSignature(["input"], attributes: ["starts": .ints(nil), "ends": .ints(nil), "steps": .ints(nil)]),
        rowwiseInputs: { a in
            a.ints("starts")[0] == 0 && a.ints("steps")[0] == 1 && a.ints("ends")[0] == sliceToEnd ? [0] : []
        },
        inferShape: { c in
            let rank = c.shapes[0].rank
            guard
                [c.attributes.ints("starts"), c.attributes.ints("ends"), c.attributes.ints("steps")].allSatisfy({
                    $0.count == rank
                })
            else { throw c.mismatch("starts, ends and steps must have one entry per dimension") }
            return (Shape(SliceRegion(c.shapes[0], attributes: c.attributes).counts), c.dtypes[0])
        }
    )
    .withGradient { y, dy in [try sliceGrad(dy, like: y.inputs[0], slice: y.node)] },
    OpDefinition(
        .sliceGrad,
        OpSignature(["gradient", "like"], attributes: ["starts": .ints(nil), "ends": .ints(nil), "steps": .ints(nil)])
    ) { c in
        let region = SliceRegion(c.shapes[1], attributes: c.attributes)
        guard unify(Shape(region.counts), c.shapes[0]) != nil else {
            throw c.mismatch("the gradient must have the slice's shape \(Shape(region.counts))")
        }
        return (c.shapes[1], .float32)
    },
    OpDefinition(
        .pad, OpSignature(["input"], attributes: ["pads": .ints(nil), "value": .float]),
        rowwiseInputs: { a in
            let pads = a.ints("pads")
            return pads[0] == 0 && pads[pads.count / 2] == 0 ? [0] : []
        },
        inferShape: { c in
            let (x, pads) = (c.shapes[0], c.attributes.ints("pads"))
            guard pads.count == 2 * x.rank else { throw c.mismatch("needs \(2 * x.rank) pads") }
            let dims = x.dims.indices.map { d in
                x[d] == Shape.unknown ? Shape.unknown : x[d] + pads[d] + pads[x.rank + d]
            }
            return (Shape(dims), c.dtypes[0])
        }
    )
    .withGradient { y, dy in
        let pads = y.node.attributes.ints("pads")
        let rank = pads.count / 2
        // Back to the input's place: from the pad before each dimension to the pad after (counted from the end).
        let ends = (0..<rank).map { pads[rank + $0] == 0 ? sliceToEnd : -pads[rank + $0] }
        return [try slice(dy, starts: Array(pads.prefix(rank)), ends: ends)]
    },
    OpDefinition(
        .concat, OpSignature(["values"], variadic: true, attributes: ["axis": .int]),
        inferShape: { c in
            let axis = c.attributes.int("axis")
            let first = c.shapes[0]
            guard (0..<first.rank).contains(axis) else {
                throw c.mismatch("axis \(axis) is outside rank \(first.rank)")
            }
            var dims = first.dims
            for (i, shape) in c.shapes.enumerated().dropFirst() {
                guard shape.rank == first.rank,
                    shape.dims.indices.allSatisfy({ $0 == axis || Shape.compatible(shape[$0], first[$0]) })
                else { throw c.mismatch("input \(i) must match input 0 in every dimension but \(axis)") }
                dims[axis] =
                    dims[axis] == Shape.unknown || shape[axis] == Shape.unknown
                    ? Shape.unknown : dims[axis] + shape[axis]
            }
            for i in c.dtypes.indices { try c.requireType(i, c.dtypes[0], "input \(i)") }
            return (Shape(dims), c.dtypes[0])
        }
    )
    .withGradient { y, dy in
        let axis = y.node.attributes.int("axis")
        var (offset, gradients) = (0, [Tensor?]())
        for x in y.inputs {
            guard x.shape[axis] != Shape.unknown else {
                throw ConfluxError.noGradient(
                    op: "ConcatV2", node: y.name, reason: "an input's size along the axis \(axis) is unknown")
            }
            gradients.append(try slice(dy, starts: [offset], ends: [offset + x.shape[axis]], axes: [axis]))
            offset += x.shape[axis]
        }
        return gradients
    },
]
