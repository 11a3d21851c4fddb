import Conflux
import Foundation

/// Batch normalization, channels split across the cores. A channel's values are the planes x[n, c, …] of every
/// image n; its batch statistics take two passes (the mean, then the squared deviations from it), which keeps the
/// variance exact for values far from zero. Every per-element pass is a·x + b with per-channel a and b.
extension CPUKernels {
    /// An input [N, C, …] seen as N·C planes of `inner` values.
    private struct ChannelLayout {
        let batch: Int
        let channels: Int
        let inner: Int

        init(_ shape: Shape) {
            (batch, channels) = (shape[0], shape[1])
            inner = shape.count / max(batch * channels, 1)
        }

        /// The values each channel's statistics run over.
        var perChannel: Int { batch * inner }

        /// The offset of every plane of `channel`.
        func planes(_ channel: Int) -> some Sequence<Int> {
            (0..<batch).lazy.map { ($0 * channels + channel) * inner }
        }
    }

    /// The mean and variance of each channel: inputs `first` and `first + 1` when the node has them, otherwise
    /// the batch's own (biased variance).
    private struct Statistics {
        let given: (mean: UnsafePointer<Float>, variance: UnsafePointer<Float>)?
        let x: UnsafePointer<Float>
        let layout: ChannelLayout

        init(_ c: KernelContext, first: Int) {
            x = UnsafePointer(c.inputs[0].floats)
            layout = ChannelLayout(c.inputs[0].shape)
            given =
                c.inputs.count > first
                ? (UnsafePointer(c.inputs[first].floats), UnsafePointer(c.inputs[first + 1].floats)) : nil
        }

        func callAsFunction(_ channel: Int) -> (mean: Float, variance: Float) {
            if let given { return (given.mean[channel], given.variance[channel]) }
            return batchStatistics(x, layout, channel)
        }
    }

    private static func batchStatistics(_ x: UnsafePointer<Float>, _ layout: ChannelLayout, _ channel: Int)
        -> (mean: Float, variance: Float)
    {
        let count = Float(max(layout.perChannel, 1))
        let mean = layout.planes(channel).reduce(0) { $0 + sum(x + $1, count: layout.inner) } / count
        let squares = layout.planes(channel).reduce(0) {
            $0 + centeredDot(x + $1, x + $1, count: layout.inner, shiftA: mean, shiftB: mean)
        }
        return (mean, squares / count)
    }

    /// Σ (a[i] − shiftA)·(b[i] − shiftB) in eight interleaved partial sums (as `sum`).
    private static func centeredDot(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int, shiftA: Float, shiftB: Float
    ) -> Float {
        var partial = SIMD8<Float>(repeating: 0)
        let (sa, sb) = (SIMD8<Float>(repeating: shiftA), SIMD8<Float>(repeating: shiftB))
        var i = 0
        while i + 8 <= count {
            let va = UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self)
            let vb = UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self)
            partial += (va - sa) * (vb - sb)
            i += 8
        }
        var total = partial.sum()
        while i < count {
            total += (a[i] - shiftA) * (b[i] - shiftB)
            i += 1
        }
        return total
    }

    /// out = slope·x + intercept over every plane of `channel`.
    private static func affine(
        _ x: UnsafePointer<Float>, _ layout: ChannelLayout, _ channel: Int, slope: Float, intercept: Float,
        plus extra: (input: UnsafePointer<Float>, slope: Float)? = nil, into out: UnsafeMutablePointer<Float>
    ) {
        for plane in layout.planes(channel) {
            let (src, dst) = (x + plane, out + plane)
            if let extra {
                let other = extra.input + plane
                for i in 0..<layout.inner { dst[i] = slope * src[i] + extra.slope * other[i] + intercept }
            } else {
                for i in 0..<layout.inner { dst[i] = slope * src[i] + intercept }
            }
        }
    }

    /// Runs `body` for every channel of input 0, channels split across the cores.
    private static func forEachChannel(_ c: KernelContext, _ body: (Int) -> Void) {
        let shape = c.inputs[0].shape
        c.cpu.parallelChunks(shape[1], serialBelow: shape.count < 1 << 14 ? Int.max : 2) { _, channels in
            for channel in channels { body(channel) }
        }
    }

    static func batchNorm(_ c: KernelContext) {
        let (scale, offset) = (c.inputs[1].floats, c.inputs[2].floats)
        let statistics = Statistics(c, first: 3)
        let epsilon = c.node.attributes.float("epsilon")
        forEachChannel(c) { channel in
            let (mean, variance) = statistics(channel)
            let slope = scale[channel] / (variance + epsilon).squareRoot()
            affine(
                statistics.x, statistics.layout, channel, slope: slope, intercept: offset[channel] - mean * slope,
                into: c.output.floats)
        }
    }

    /// dx = scale·σ⁻¹·(dy − Σdy/M − x̂·Σ(dy·x̂)/M) through batch statistics over M values, x̂ = (x − mean)·σ⁻¹;
    /// dx = scale·σ⁻¹·dy through given ones.
    static func batchNormGrad(_ c: KernelContext) {
        let (scale, dy) = (c.inputs[1].floats, UnsafePointer(c.inputs[2].floats))
        let statistics = Statistics(c, first: 3)
        let (x, layout) = (statistics.x, statistics.layout)
        let epsilon = c.node.attributes.float("epsilon")
        forEachChannel(c) { channel in
            let (mean, variance) = statistics(channel)
            let inverse = 1 / (variance + epsilon).squareRoot()
            let gain = scale[channel] * inverse
            guard statistics.given == nil else {
                return affine(dy, layout, channel, slope: gain, intercept: 0, into: c.output.floats)
            }
            let m = Float(max(layout.perChannel, 1))
            var (sumDy, sumDyX) = (Float(0), Float(0))
            for plane in layout.planes(channel) {
                sumDy += sum(dy + plane, count: layout.inner)
                sumDyX += centeredDot(dy + plane, x + plane, count: layout.inner, shiftA: 0, shiftB: mean)
            }
            let slopeX = -gain * inverse * inverse * sumDyX / m
            affine(
                dy, layout, channel, slope: gain, intercept: -gain * sumDy / m - slopeX * mean,
                plus: (x, slopeX), into: c.output.floats)
        }
    }

    /// dscale[c] = Σ dy·x̂ over channel c.
    static func batchNormScaleGrad(_ c: KernelContext) {
        let dy = UnsafePointer(c.inputs[1].floats)
        let statistics = Statistics(c, first: 2)
        let epsilon = c.node.attributes.float("epsilon")
        forEachChannel(c) { channel in
            let (mean, variance) = statistics(channel)
            let dot = statistics.layout.planes(channel).reduce(0) {
                $0
                    + centeredDot(
                        dy + $1, statistics.x + $1, count: statistics.layout.inner, shiftA: 0, shiftB: mean)
            }
            c.output.floats[channel] = dot / (variance + epsilon).squareRoot()
        }
    }

    /// running = (1 − momentum)·running + momentum·batch, the batch variance unbiased (M/(M − 1)).
    static func batchNormStatisticsUpdate(_ c: KernelContext) {
        let (runningMean, runningVariance, x) = (c.inputs[0].floats, c.inputs[1].floats, c.inputs[2])
        let layout = ChannelLayout(x.shape)
        let momentum = c.node.attributes.float("momentum")
        let correction = layout.perChannel > 1 ? Float(layout.perChannel) / Float(layout.perChannel - 1) : 1
        for channel in 0..<layout.channels {
            let (mean, variance) = batchStatistics(x.floats, layout, channel)
            runningMean[channel] += momentum * (mean - runningMean[channel])
            runningVariance[channel] += momentum * (variance * correction - runningVariance[channel])
        }
    }
}

/// Local response normalization: for each image and position, a pass over the channels with a running window.
extension CPUKernels {
    /// The window of channels around `channel` (ONNX's), and the scale s = bias + alpha/size · Σ x² over it.
    private struct LRNWindow {
        let size: Int
        let alpha: Float
        let beta: Float
        let bias: Float

        init(_ attributes: Attributes) {
            (size, alpha, beta, bias) = (
                attributes.int("size"), attributes.float("alpha"), attributes.float("beta"), attributes.float("bias")
            )
        }

        func channels(_ channel: Int, of count: Int) -> Range<Int> {
            max(0, channel - (size - 1) / 2)..<min(count, channel + size / 2 + 1)
        }

        /// s for every channel at one position, the channels `stride` apart from `x`.
        func scales(_ x: UnsafePointer<Float>, channels: Int, stride: Int, into s: inout [Float]) {
            for c in 0..<channels {
                var total: Float = 0
                for j in self.channels(c, of: channels) { total += x[j * stride] * x[j * stride] }
                s[c] = bias + alpha / Float(size) * total
            }
        }
    }

    /// Runs `body(offset of channel 0, channel stride, scales)` for every image and position, images split across
    /// the cores, with the window's scales at that position in `scales`.
    private static func forEachPosition(
        _ c: KernelContext, _ window: LRNWindow, _ body: (Int, Int, [Float]) -> Void
    ) {
        let (x, shape) = (c.inputs[0].floats, c.inputs[0].shape)
        let (channels, inner) = (shape[1], shape.count / max(shape[0] * shape[1], 1))
        c.cpu.parallelChunks(shape[0]) { _, images in
            var scales = [Float](repeating: 0, count: channels)
            for n in images {
                for p in 0..<inner {
                    let start = n * channels * inner + p
                    window.scales(x + start, channels: channels, stride: inner, into: &scales)
                    body(start, inner, scales)
                }
            }
        }
    }

    static func lrn(_ c: KernelContext) {
        let window = LRNWindow(c.node.attributes)
        let (x, y, channels) = (c.inputs[0].floats, c.output.floats, c.inputs[0].shape[1])
        forEachPosition(c, window) { start, stride, s in
            for k in 0..<channels { y[start + k * stride] = x[start + k * stride] * pow(s[k], -window.beta) }
        }
    }

    /// dx_c = dy_c·s_c^(−β) − (2αβ/size)·x_c·Σ_j dy_j·x_j·s_j^(−β−1), over the channels j whose window holds c.
    static func lrnGrad(_ c: KernelContext) {
        let window = LRNWindow(c.node.attributes)
        let (x, dy, dx, channels) = (c.inputs[0].floats, c.inputs[1].floats, c.output.floats, c.inputs[0].shape[1])
        let factor = 2 * window.alpha * window.beta / Float(window.size)
        forEachPosition(c, window) { start, stride, s in
            for k in 0..<channels {
                var total: Float = 0
                // The windows holding channel k: those of channels k − ⌊size/2⌋ through k + ⌊(size − 1)/2⌋.
                for j in max(0, k - window.size / 2)..<min(channels, k + (window.size - 1) / 2 + 1) {
                    let at = start + j * stride
                    total += dy[at] * x[at] * pow(s[j], -window.beta - 1)
                }
                let at = start + k * stride
                dx[at] = dy[at] * pow(s[k], -window.beta) - factor * x[at] * total
            }
        }
    }
}

extension CPUKernels {
    /// The kernels of this file, registered by the backend.
    static let normalization: [(OpType, Kernel)] = [
        (.lrn, lrn), (.lrnGrad, lrnGrad),
        (.batchNorm, batchNorm), (.batchNormGrad, batchNormGrad), (.batchNormScaleGrad, batchNormScaleGrad),
        (.batchNormStatisticsUpdate, batchNormStatisticsUpdate),
    ]
}
