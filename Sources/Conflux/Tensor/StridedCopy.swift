/// One strided copy between two dense row-major tensors, the whole of Transpose, Slice, Pad, Concat and their
/// gradients: for every index (i₀, …) over `dims`, destination[destinationOffset + Σ i_d·destinationStrides[d]] =
/// source[sourceOffset + Σ i_d·sourceStrides[d]]. Kernels on every device run it as given.
public struct StridedCopy: Sendable, Equatable {
    public let dims: [Int]
    public let sourceStrides: [Int]
    public let destinationStrides: [Int]
    public let sourceOffset: Int
    public let destinationOffset: Int

    /// Elements copied.
    public var count: Int { dims.reduce(1, *) }

    /// The element strides of a dense row-major tensor of `shape`.
    public static func strides(_ shape: Shape) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.rank)
        for d in stride(from: shape.rank - 2, through: 0, by: -1) { strides[d] = strides[d + 1] * shape[d + 1] }
        return strides
    }

    /// Every element of `input` to its place in the output of `Transpose` by `permutation` (output dimension d is
    /// input dimension permutation[d]).
    public static func transpose(_ input: Shape, permutation: [Int]) -> StridedCopy {
        let output = Shape(permutation.map { input[$0] })
        let strides = Self.strides(input)
        return StridedCopy(
            dims: output.dims, sourceStrides: permutation.map { strides[$0] }, destinationStrides: Self.strides(output),
            sourceOffset: 0, destinationOffset: 0)
    }

    /// The elements of `region` of a tensor of shape `whole` to a dense tensor (Slice).
    public static func gather(_ region: SliceRegion, from whole: Shape) -> StridedCopy {
        let (dims, strides, offset) = region.layout(in: whole)
        return StridedCopy(
            dims: dims, sourceStrides: strides, destinationStrides: Self.strides(Shape(dims)), sourceOffset: offset,
            destinationOffset: 0)
    }

    /// A dense tensor to `region` of a tensor of shape `whole` (Pad, Concat, Slice's gradient).
    public static func scatter(_ region: SliceRegion, into whole: Shape) -> StridedCopy {
        let (dims, strides, offset) = region.layout(in: whole)
        return StridedCopy(
            dims: dims, sourceStrides: Self.strides(Shape(dims)), destinationStrides: strides, sourceOffset: 0,
            destinationOffset: offset)
    }
}

/// The elements a slice takes along each dimension: `count` of them from `start`, `step` apart (negative to go
/// backwards), as ONNX's Slice resolves its starts, ends and steps against the input's shape.
public struct SliceRegion: Sendable, Equatable {
    public let starts: [Int]
    public let counts: [Int]
    public let steps: [Int]

    public init(starts: [Int], counts: [Int], steps: [Int]) {
        self.starts = starts
        self.counts = counts
        self.steps = steps
    }

    /// ONNX's rule over a dimension of `size` (known): negative `start` and `end` count from the end, both are
    /// clamped to the dimension (to [0, size] going forwards, [−1, size − 1] backwards), and the slice takes
    /// ⌈(end − start) / step⌉ elements, none if that is negative.
    public init(size: [Int], starts: [Int], ends: [Int], steps: [Int]) {
        var (first, counts) = ([Int](), [Int]())
        for d in size.indices {
            let (n, step) = (size[d], steps[d])
            func resolve(_ i: Int) -> Int {
                let index = i < 0 ? i + n : i
                return step > 0 ? min(max(index, 0), n) : min(max(index, -1), n - 1)
            }
            let (start, end) = (resolve(starts[d]), resolve(ends[d]))
            let span = step > 0 ? end - start : start - end
            let magnitude = abs(step)
            counts.append(max(0, (span + magnitude - 1) / magnitude))
            first.append(start)
        }
        self.init(starts: first, counts: counts, steps: steps)
    }

    /// The region's dimensions, its strides within a dense tensor of shape `whole`, and its first element there.
    func layout(in whole: Shape) -> (dims: [Int], strides: [Int], offset: Int) {
        let strides = StridedCopy.strides(whole)
        let offset = zip(starts, strides).map { $0 * $1 }.reduce(0, +)
        return (counts, zip(strides, steps).map { $0 * $1 }, offset)
    }
}
