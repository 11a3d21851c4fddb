import Conflux

/// Add, Sub, Mul and RealDiv with NumPy broadcasting, and SumToShape, their inputs' gradient. Through
/// `BroadcastLayout`, each op walks the output as rows of its innermost merged dimension, along which each input
/// is either contiguous or one repeated value.
extension CPUKernels {
    static func add(_ c: KernelContext) { broadcast(c) { $0 + $1 } }
    static func sub(_ c: KernelContext) { broadcast(c) { $0 - $1 } }
    static func mul(_ c: KernelContext) { broadcast(c) { $0 * $1 } }
    static func realDiv(_ c: KernelContext) { broadcast(c) { $0 / $1 } }

    @inline(__always)
    private static func broadcast(_ c: KernelContext, _ f: (Float, Float) -> Float) {
        let (a, b, y) = (c.inputs[0].floats, c.inputs[1].floats, c.output.floats)
        guard c.inputs[0].shape != c.inputs[1].shape else {
            return elementwise(c) { range in
                for i in range { y[i] = f(a[i], b[i]) }
            }
        }
        let layout = BroadcastLayout(output: c.output.shape, inputs: [c.inputs[0].shape, c.inputs[1].shape])
        let inner = layout.dims.last ?? 1
        let (innerA, innerB) = (layout.strides[0].last ?? 0, layout.strides[1].last ?? 0)
        c.cpu.parallelChunks(layout.count / inner, serialBelow: (1 << 15) / inner + 1) { _, rows in
            for row in rows {
                let (x, z, out) = (
                    a + layout.offset(0, element: row * inner), b + layout.offset(1, element: row * inner),
                    y + row * inner
                )
                switch (innerA, innerB) {
                case (1, 1): for i in 0..<inner { out[i] = f(x[i], z[i]) }
                case (1, _): for i in 0..<inner { out[i] = f(x[i], z[0]) }
                default: for i in 0..<inner { out[i] = f(x[0], z[i]) }
                }
            }
        }
    }

    /// dx = dy summed over the dimensions along which x was broadcast, row by row of dy into x's shape.
    static func sumToShape(_ c: KernelContext) {
        let (dy, dx) = (c.inputs[0], c.output.floats)
        let layout = BroadcastLayout(output: dy.shape, inputs: [c.output.shape])
        let inner = layout.dims.last ?? 1
        let contiguous = layout.strides[0].last == 1
        dx.update(repeating: 0, count: c.output.count)
        for row in 0..<(layout.count / inner) {
            let (source, target) = (dy.floats + row * inner, dx + layout.offset(0, element: row * inner))
            if contiguous {
                for i in 0..<inner { target[i] += source[i] }
            } else {
                target[0] += sum(source, count: inner)
            }
        }
    }
}

extension CPUKernels {
    /// The kernels of this file, registered by the backend.
    static let arithmetic: [(OpType, Kernel)] = [
        (.add, add), (.sub, sub), (.mul, mul), (.realDiv, realDiv), (.sumToShape, sumToShape),
    ]
}
