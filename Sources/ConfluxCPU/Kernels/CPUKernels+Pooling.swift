import Conflux

/// Pooling over each (image, channel) plane; windows are clipped to the input, so padding never counts.
extension CPUKernels {
    static func maxPool(_ c: KernelContext) {
        let g = WindowGeometry(input: c.inputs[0].shape, attributes: c.node.attributes)
        forEachWindow(c, g, input: c.inputs[0].floats, output: c.output.floats) { src, dst, window in
            var best = -Float.infinity
            for i in window.rows { for j in window.columns { best = max(best, src[i * g.width + j]) } }
            dst.pointee = best
        }
    }

    static func avgPool(_ c: KernelContext) {
        let g = WindowGeometry(input: c.inputs[0].shape, attributes: c.node.attributes)
        forEachWindow(c, g, input: c.inputs[0].floats, output: c.output.floats) { src, dst, window in
            var total: Float = 0
            for i in window.rows { for j in window.columns { total += src[i * g.width + j] } }
            dst.pointee = total / Float(window.rows.count * window.columns.count)
        }
    }

    /// Routes each output gradient to the first position holding its window's maximum.
    static func maxPoolGrad(_ c: KernelContext) {
        let g = WindowGeometry(input: c.inputs[0].shape, attributes: c.node.attributes)
        let (x, dx) = (c.inputs[0].floats, c.output.floats)
        forEachWindow(c, g, input: c.inputs[1].floats, output: dx, clearing: true) { dy, plane, window in
            let offset = plane - dx
            var best = window.rows.lowerBound * g.width + window.columns.lowerBound
            for i in window.rows {
                for j in window.columns where x[offset + i * g.width + j] > x[offset + best] { best = i * g.width + j }
            }
            plane[best] += dy.pointee
        }
    }

    /// Spreads each output gradient evenly over the input positions of its window.
    static func avgPoolGrad(_ c: KernelContext) {
        let g = WindowGeometry(input: c.output.shape, attributes: c.node.attributes)
        forEachWindow(c, g, input: c.inputs[0].floats, output: c.output.floats, clearing: true) { dy, plane, window in
            let share = dy.pointee / Float(window.rows.count * window.columns.count)
            for i in window.rows { for j in window.columns { plane[i * g.width + j] += share } }
        }
    }

    /// The input rows and columns one output position's window covers, clipped to the input.
    struct Window {
        var rows: Range<Int>
        var columns: Range<Int>
    }

    /// Calls `body` for every output position of every plane, in parallel over planes.
    ///
    /// In the forward direction `body` gets (input plane, output element, window); for a gradient
    /// (`clearing: true`) the roles swap: `input` is the output gradient, `output` the input gradient, which is
    /// zeroed first, and `body` gets (gradient element, gradient plane, window).
    private static func forEachWindow(
        _ c: KernelContext, _ g: WindowGeometry, input: UnsafeMutablePointer<Float>,
        output: UnsafeMutablePointer<Float>, clearing: Bool = false,
        _ body: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, Window) -> Void
    ) {
        let (oh, ow, planeSize) = (g.outHeight, g.outWidth, g.height * g.width)
        c.cpu.parallelChunks(g.batch * g.channels, serialBelow: 32) { _, planes in
            for plane in planes {
                let full = (clearing ? output : input) + plane * planeSize
                if clearing { full.update(repeating: 0, count: planeSize) }
                let pooled = (clearing ? input : output) + plane * oh * ow
                for y in 0..<oh {
                    let top = y * g.strideHeight - g.padTop
                    let rows = max(top, 0)..<min(top + g.kernelHeight, g.height)
                    for x in 0..<ow {
                        let left = x * g.strideWidth - g.padLeft
                        let window = Window(rows: rows, columns: max(left, 0)..<min(left + g.kernelWidth, g.width))
                        if clearing { body(pooled + y * ow + x, full, window) } else { body(full, pooled + y * ow + x, window) }
                    }
                }
            }
        }
    }
}
