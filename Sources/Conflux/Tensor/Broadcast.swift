/// NumPy's broadcasting of two shapes: aligned at their last dimension, each pair of dimensions equal or one of
/// them 1 (or missing), the result the larger.
extension Shape {
    /// The broadcast of `a` and `b`; nil when a pair of dimensions differs and neither is 1. An unknown
    /// dimension against 1 stays unknown; against a known size above 1 it takes that size.
    public static func broadcast(_ a: Shape, _ b: Shape) -> Shape? {
        let rank = Swift.max(a.rank, b.rank)
        var dims = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let x = i < rank - a.rank ? 1 : a[i - (rank - a.rank)]
            let y = i < rank - b.rank ? 1 : b[i - (rank - b.rank)]
            if x == y || y == 1 || y == Shape.unknown && x != 1 {
                dims[i] = x
            } else if x == 1 || x == Shape.unknown {
                dims[i] = y
            } else {
                return nil
            }
        }
        return Shape(dims)
    }
}

/// How the inputs of a broadcasting op map onto its output, for kernels: the output's dimensions, with adjacent
/// dimensions merged wherever every input either spans both or is broadcast along both, and each input's element
/// stride along each merged dimension (0 where it is broadcast). `[2, 3, 4, 5] + [3, 1, 1]` becomes dimensions
/// [2, 3, 20] with strides [60, 20, 1] and [0, 1, 0].
public struct BroadcastLayout: Sendable, Equatable {
    public let dims: [Int]
    public let strides: [[Int]]

    /// The layout of `inputs` broadcast to `output` (their broadcast, exactly known).
    public init(output: Shape, inputs: [Shape]) {
        let rank = output.rank
        // Per input, aligned dimensions: the size, 1 where it is missing.
        let aligned = inputs.map { shape in
            (0..<rank).map { i in i < rank - shape.rank ? 1 : shape[i - (rank - shape.rank)] }
        }
        var dims: [Int] = []
        var spans: [[Bool]] = []  // whether each input spans each merged dimension
        for i in 0..<rank where output[i] != 1 {
            let span = aligned.map { $0[i] != 1 }
            if let last = spans.last, last == span {
                dims[dims.count - 1] *= output[i]
            } else {
                dims.append(output[i])
                spans.append(span)
            }
        }
        self.dims = dims
        strides = inputs.indices.map { input in
            var stride = 1
            var result = [Int](repeating: 0, count: dims.count)
            for d in dims.indices.reversed() where spans[d][input] {
                result[d] = stride
                stride *= dims[d]
            }
            return result
        }
    }

    /// Elements in the output.
    public var count: Int { dims.reduce(1, *) }

    /// Where output element `element` (in row-major order) reads `input`.
    @inline(__always)
    public func offset(_ input: Int, element: Int) -> Int {
        var (offset, rest) = (0, element)
        for d in dims.indices.reversed() {
            offset += rest % dims[d] * strides[input][d]
            rest /= dims[d]
        }
        return offset
    }
}
