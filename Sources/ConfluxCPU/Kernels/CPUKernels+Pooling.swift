import Conflux
import VectorKernels

/// Pooling over each (image, channel) plane, planes split across the cores. Windows are clipped to the input, so
/// padding never wins a max and counts in an average only as `countedPads` says; a max-pool may be dilated. 2×2 max pooling with stride 2 runs in the vector
/// kernels (`VectorKernels.h`).
extension CPUKernels {
    static func maxPool(_ c: KernelContext) {
        let g = WindowGeometry(input: c.inputs[0].shape, attributes: c.node.attributes)
        let (x, y) = (c.inputs[0].floats, c.output.floats)
        // Input and output are in one layout (`CPUDevice.channelsLastUse`).
        if c.inputLayouts[0] == .channelsLast { return maxPoolChannelsLast(c, g) }
        if g.isHalving {
            return forEachPlaneRange(c, g) { planes in
                vk_max_pool_halving(
                    x + planes.lowerBound * g.height * g.width, Int32(planes.count), Int32(g.height),
                    Int32(g.width), y + planes.lowerBound * g.outHeight * g.outWidth)
            }
        }
        // Each tap column of the window covers a range of output columns that it finds inside the input; the inner
        // loop runs along that range, with no bounds to test (ResNet's 3×3 stride-2 pooling: 6 times the per-window
        // loop).
        let taps = (0..<g.kernelWidth).map { tap in
            let offset = tap * g.dilationWidth - g.padLeft
            let first = max(0, (-offset + g.strideWidth - 1) / g.strideWidth)
            let last = g.width - 1 - offset
            let end = last < 0 ? 0 : min(g.outWidth, last / g.strideWidth + 1)
            return (offset: offset, outputs: first..<max(first, end))
        }
        forEachPlane(c, g) { plane in
            let (src, dst) = (x + plane * g.height * g.width, y + plane * g.outHeight * g.outWidth)
            for oy in 0..<g.outHeight {
                let out = dst + oy * g.outWidth
                out.update(repeating: -.infinity, count: g.outWidth)
                for i in g.windowRows(oy) {
                    let row = src + i * g.width
                    for (offset, outputs) in taps {
                        for ox in outputs { out[ox] = max(out[ox], row[ox * g.strideWidth + offset]) }
                    }
                }
            }
        }
    }

    /// Max pooling of channels-last tensors (`vk_max_pool_channels_last_row`): each output pixel's channels at
    /// once, the maximum over the pixels of its window that fall inside the input.
    private static func maxPoolChannelsLast(_ c: KernelContext, _ g: WindowGeometry) {
        let (x, y, channels) = (c.inputs[0].floats, c.output.floats, g.channels)
        // (height, width) pairs, as the C kernel takes them.
        let kernel = [Int32(g.kernelHeight), Int32(g.kernelWidth)]
        let stride = [Int32(g.strideHeight), Int32(g.strideWidth)]
        let pad = [Int32(g.padTop), Int32(g.padLeft)]
        let dilation = [Int32(g.dilationHeight), Int32(g.dilationWidth)]
        c.cpu.parallelChunks(g.batch * g.outHeight) { _, rows in
            for row in rows {
                let (image, oy) = row.quotientAndRemainder(dividingBy: g.outHeight)
                vk_max_pool_channels_last_row(
                    x + image * g.imageSize, Int32(g.height), Int32(g.width), Int32(channels), Int32(oy),
                    Int32(g.outWidth), kernel, stride, pad, dilation, y + row * g.outWidth * channels)
            }
        }
    }

    static func avgPool(_ c: KernelContext) {
        let g = WindowGeometry(input: c.inputs[0].shape, attributes: c.node.attributes)
        let (x, y) = (c.inputs[0].floats, c.output.floats)
        // A global pooling may read a channels-last input (`CPUDevice.channelsLastUse`); its output is plain.
        if c.inputLayouts[0] == .channelsLast { return globalAveragePoolChannelsLast(c, g) }
        forEachPlane(c, g) { plane in
            let (src, dst) = (x + plane * g.height * g.width, y + plane * g.outHeight * g.outWidth)
            for oy in 0..<g.outHeight {
                let rows = g.windowRows(oy)
                for ox in 0..<g.outWidth {
                    let columns = g.windowColumns(ox)
                    var total: Float = 0
                    for i in rows {
                        for j in columns { total += src[i * g.width + j] }
                    }
                    dst[oy * g.outWidth + ox] = total / Float(g.countedWindowSize(oy, ox))
                }
            }
        }
    }

    /// The mean of every channel over the whole of a channels-last image: y[n, c] = Σ pixels x[n, ·, ·, c] / H·W,
    /// the channels of a pixel side by side.
    private static func globalAveragePoolChannelsLast(_ c: KernelContext, _ g: WindowGeometry) {
        let (x, y, channels, pixels) = (c.inputs[0].floats, c.output.floats, g.channels, g.height * g.width)
        let scale = 1 / Float(pixels)
        // Blocks of 64 channels of one image per task.
        let blocks = (channels + 63) / 64
        c.cpu.parallelChunks(g.batch * blocks) { _, tasks in
            for task in tasks {
                let (image, block) = task.quotientAndRemainder(dividingBy: blocks)
                let range = block * 64..<min(block * 64 + 64, channels)
                let out = y + image * channels
                for channel in range { out[channel] = 0 }
                for pixel in 0..<pixels {
                    let source = x + (image * pixels + pixel) * channels
                    for channel in range { out[channel] += source[channel] }
                }
                for channel in range { out[channel] *= scale }
            }
        }
    }

    static func maxPoolGrad(_ c: KernelContext) { routeMaxPoolGradient(c, relu: false) }

    /// MaxPoolGrad and the ReluGrad of the ReLU whose output was pooled, fused (`Fusion`): the gradient goes to a
    /// window's maximum only when that maximum is positive.
    static func fusedMaxPoolGrad(_ c: KernelContext) { routeMaxPoolGradient(c, relu: true) }

    /// Routes each output gradient to the first position holding its window's maximum.
    private static func routeMaxPoolGradient(_ c: KernelContext, relu: Bool) {
        let g = WindowGeometry(input: c.inputs[0].shape, attributes: c.node.attributes)
        let (x, dy, dx) = (c.inputs[0].floats, c.inputs[1].floats, c.output.floats)
        if g.isHalving {
            return forEachPlaneRange(c, g) { planes in
                let (input, output) = (
                    planes.lowerBound * g.height * g.width, planes.lowerBound * g.outHeight * g.outWidth
                )
                vk_max_pool_halving_gradient(
                    x + input, dy + output, Int32(planes.count), Int32(g.height), Int32(g.width), relu ? 1 : 0,
                    dx + input)
            }
        }
        forEachPlane(c, g) { plane in
            let planeSize = g.height * g.width
            let (src, grad, out) = (
                x + plane * planeSize, dy + plane * g.outHeight * g.outWidth, dx + plane * planeSize
            )
            out.update(repeating: 0, count: planeSize)
            for oy in 0..<g.outHeight {
                let rows = g.windowRows(oy)
                for ox in 0..<g.outWidth {
                    let columns = g.windowColumns(ox)
                    var best = -1
                    for i in rows {
                        for j in columns where best < 0 || src[i * g.width + j] > src[best] { best = i * g.width + j }
                    }
                    // Every window covering a position adds to it, and all see the same input there: the ReLU's
                    // gradient masks each addition alike.
                    if !relu || src[best] > 0 { out[best] += grad[oy * g.outWidth + ox] }
                }
            }
        }
    }

    /// Spreads each output gradient evenly over the input positions of its window.
    static func avgPoolGrad(_ c: KernelContext) {
        let g = WindowGeometry(input: c.output.shape, attributes: c.node.attributes)
        let (dy, dx) = (c.inputs[0].floats, c.output.floats)
        forEachPlane(c, g) { plane in
            let planeSize = g.height * g.width
            let (grad, out) = (dy + plane * g.outHeight * g.outWidth, dx + plane * planeSize)
            out.update(repeating: 0, count: planeSize)
            for oy in 0..<g.outHeight {
                let rows = g.windowRows(oy)
                for ox in 0..<g.outWidth {
                    let columns = g.windowColumns(ox)
                    let share = grad[oy * g.outWidth + ox] / Float(g.countedWindowSize(oy, ox))
                    for i in rows {
                        for j in columns { out[i * g.width + j] += share }
                    }
                }
            }
        }
    }

    /// Runs `body` for every (image, channel) plane, in parallel.
    private static func forEachPlane(_ c: KernelContext, _ g: WindowGeometry, _ body: (Int) -> Void) {
        forEachPlaneRange(c, g) { planes in
            for plane in planes { body(plane) }
        }
    }

    /// Runs `body` on one range of (image, channel) planes per worker, in parallel.
    private static func forEachPlaneRange(_ c: KernelContext, _ g: WindowGeometry, _ body: (Range<Int>) -> Void) {
        c.cpu.parallelChunks(g.batch * g.channels, serialBelow: 32) { _, planes in body(planes) }
    }
}

extension WindowGeometry {
    /// The input rows the taps of output row `oy`'s window fall on inside the input: every dilation-th from the
    /// window's top.
    @inline(__always) func windowRows(_ oy: Int) -> StrideTo<Int> {
        taps(from: oy * strideHeight - padTop, extent: extentHeight, dilation: dilationHeight, size: height)
    }

    /// The input columns the taps of output column `ox`'s window fall on inside the input.
    @inline(__always) func windowColumns(_ ox: Int) -> StrideTo<Int> {
        taps(from: ox * strideWidth - padLeft, extent: extentWidth, dilation: dilationWidth, size: width)
    }

    @inline(__always) private func taps(from start: Int, extent: Int, dilation: Int, size: Int) -> StrideTo<Int> {
        let first = start < 0 ? start + (-start + dilation - 1) / dilation * dilation : start
        return stride(from: first, to: min(start + extent, size), by: dilation)
    }
}

extension CPUKernels {
    /// The kernels of this file, registered by the backend.
    static let pooling: [(OpType, Kernel)] = [
        (.maxPool, maxPool), (.avgPool, avgPool), (.maxPoolGrad, maxPoolGrad), (.fusedMaxPoolGrad, fusedMaxPoolGrad),
        (.avgPoolGrad, avgPoolGrad),
    ]
}
