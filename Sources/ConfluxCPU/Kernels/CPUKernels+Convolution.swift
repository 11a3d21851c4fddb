import Conflux

/// Convolution: direct vector kernels for stride 1 (`DirectConvolution`) and for depthwise convolutions
/// (`DepthwiseConvolution`, forward), otherwise GEMM over im2col columns, one image at a time, images split across
/// the cores.
///
/// For image n and group g, col[K, P] holds the input patch of every output position over the group's channels
/// (K = C/groups·KH·KW, P = OH·OW), so that y[n, g] = W[g] · col with W[g] the group's [O/groups, K] filters,
/// dcol = W[g]ᵀ · dy[n, g] (scattered back by col2im) and dW[g] = Σn dy[n, g] · colᵀ.
extension CPUKernels {
    static func conv2D(_ c: KernelContext) { convolve(c, ConvolutionMemo.of(c)) }

    /// Conv2D with the bias, residual and activation of a fused chain (`Fusion`) applied as the output is written.
    static func fusedConv2D(_ c: KernelContext) { convolve(c, ConvolutionMemo.of(c)) }

    /// oneDNN where it runs the convolution (in the tensors' layouts); else the vector kernels or GEMM on plain
    /// tensors, converting channels-last ones (`LayoutAssignment` expected oneDNN), then what the epilogue adds
    /// beyond a bias and a ReLU.
    private static func convolve(_ c: KernelContext, _ prepared: ConvolutionMemo) {
        let (x, w) = (c.inputs[0], c.inputs[1])
        let (g, epilogue) = (prepared.geometry, prepared.epilogue)
        let bias = epilogue.bias ? UnsafePointer(c.inputs[2].floats) : nil
        var residual = epilogue.residual ? c.inputs[epilogue.residualInput] : nil
        if let oneDNN = prepared.oneDNN {
            return oneDNN.forward(
                x, w, bias: bias, residual: residual, into: c.output,
                persistentWeights: c.persistentInputs.contains(1), on: c.cpu)
        }
        // The output may have taken over the residual's buffer (`PlanBuilder.inPlaceInput`): keep the residual
        // before the convolution writes over it.
        if let kept = residual, kept.storage === c.output.storage {
            let copy = ChannelsLast.fresh(like: kept)
            copy.raw.copyMemory(from: kept.raw, byteCount: kept.byteCount)
            residual = copy
        }
        let channelsLast = c.outputLayout == .channelsLast
        let y = channelsLast ? ChannelsLast.fresh(like: c.output) : c.output
        convolvePlain(
            g, ChannelsLast.plain(x, c.inputLayouts[0], on: c.cpu), w, bias: bias,
            relu: epilogue.isBiasAndReLU && epilogue.activation == .relu, into: y, on: c.cpu)
        if !epilogue.isBiasAndReLU {
            let plainResidual = residual.map { ChannelsLast.plain($0, prepared.residualLayout, on: c.cpu) }
            epilogue.finish(y.floats, residual: plainResidual?.floats, count: y.count, on: c.cpu)
        }
        if channelsLast { ChannelsLast.convert(y, into: c.output, toChannelsLast: true, on: c.cpu) }
    }

    /// y = conv(x, w) + bias, then ReLU when `relu`, all plain NCHW.
    private static func convolvePlain(
        _ g: WindowGeometry, _ x: DeviceTensor, _ w: DeviceTensor, bias: UnsafePointer<Float>?, relu: Bool,
        into output: DeviceTensor, on cpu: CPUDevice
    ) {
        let (outChannels, k, p) = (w.shape[0], g.patchSize, g.outHeight * g.outWidth)
        if let direct = DirectConvolution(g, outChannels: outChannels, on: cpu) {
            return direct.forward(x.floats, w.floats, bias: bias, relu: relu, into: output.floats)
        }
        if let depthwise = DepthwiseConvolution(g, outChannels: outChannels, on: cpu) {
            return depthwise.forward(x.floats, w.floats, bias: bias, relu: relu, into: output.floats)
        }
        let groupOutputs = outChannels / g.groups
        /// y[n, group] = W[group] · col over the output columns `columns` of image n.
        func multiply(_ col: UnsafePointer<Float>, image n: Int, group: Int, columns: Range<Int>) {
            BLAS.sgemm(
                transposeA: false, transposeB: false, m: groupOutputs, n: columns.count, k: k,
                a: w.floats + group * groupOutputs * k, lda: k, b: col + columns.lowerBound, ldb: p,
                c: output.floats + (n * outChannels + group * groupOutputs) * p + columns.lowerBound, ldc: p)
        }
        func finish(image n: Int) {
            guard bias != nil || relu else { return }
            let y = output.floats + n * outChannels * p
            for channel in 0..<outChannels { addBias(bias?[channel] ?? 0, relu: relu, to: y + channel * p, count: p) }
        }
        // Fewer images than cores (inference at batch 1): each image's output columns are split across the cores
        // instead, from one shared im2col matrix, so that no core idles. Not for grouped convolutions, whose
        // per-group products are too small to share (MobileNetV2 at batch 1: 25 ms split against 21 ms whole).
        guard g.batch >= cpu.workers || p < 2 * cpu.workers || g.groups > 1 else {
            let col = cpu.sharedScratch(count: k * p)
            for n in 0..<g.batch {
                for group in 0..<g.groups {
                    im2col(g, group: group, x.floats + n * g.imageSize, col)
                    cpu.parallelChunks(p) { _, columns in multiply(col, image: n, group: group, columns: columns) }
                }
                finish(image: n)
            }
            return
        }
        cpu.parallelChunks(g.batch) { worker, images in
            let col = cpu.scratch(worker: worker, slot: 0, count: k * p)
            for n in images {
                for group in 0..<g.groups {
                    im2col(g, group: group, x.floats + n * g.imageSize, col)
                    multiply(col, image: n, group: group, columns: 0..<p)
                }
                finish(image: n)
            }
        }
    }

    static func conv2DBackpropInput(_ c: KernelContext) {
        let (w, dy) = (c.inputs[0], c.inputs[1])
        let g = WindowGeometry(input: c.output.shape, attributes: c.node.attributes)
        let (outChannels, k, p) = (w.shape[0], g.patchSize, g.outHeight * g.outWidth)
        if let direct = DirectConvolution(g, outChannels: outChannels, on: c.cpu) {
            return direct.inputGradient(w.floats, dy.floats, into: c.output.floats)
        }
        let groupOutputs = outChannels / g.groups
        c.cpu.parallelChunks(g.batch) { worker, images in
            let col = c.cpu.scratch(worker: worker, slot: 0, count: k * p)
            for n in images {
                let dx = c.output.floats + n * g.imageSize
                dx.update(repeating: 0, count: g.imageSize)
                for group in 0..<g.groups {
                    BLAS.sgemm(
                        transposeA: true, transposeB: false, m: k, n: p, k: groupOutputs,
                        a: w.floats + group * groupOutputs * k, lda: k,
                        b: dy.floats + (n * outChannels + group * groupOutputs) * p, ldb: p, c: col, ldc: p)
                    col2im(g, group: group, col, dx)
                }
            }
        }
    }

    static func conv2DBackpropFilter(_ c: KernelContext) {
        let (x, dy) = (c.inputs[0], c.inputs[1])
        let g = WindowGeometry(input: x.shape, attributes: c.node.attributes)
        let (outChannels, k, p) = (c.output.shape[0], g.patchSize, g.outHeight * g.outWidth)
        if let direct = DirectConvolution(g, outChannels: outChannels, on: c.cpu) {
            return direct.filterGradient(x.floats, dy.floats, into: c.output.floats)
        }
        let (filterCount, groupOutputs) = (outChannels * k, outChannels / g.groups)
        var partials = [UnsafeMutablePointer<Float>?](repeating: nil, count: c.cpu.workers)
        partials.withUnsafeMutableBufferPointer { partials in
            c.cpu.parallelChunks(g.batch) { worker, images in
                let col = c.cpu.scratch(worker: worker, slot: 0, count: k * p)
                let partial = c.cpu.scratch(worker: worker, slot: 1, count: filterCount)
                partial.update(repeating: 0, count: filterCount)
                for n in images {
                    for group in 0..<g.groups {
                        im2col(g, group: group, x.floats + n * g.imageSize, col)
                        BLAS.sgemm(
                            transposeA: false, transposeB: true, m: groupOutputs, n: k, k: p,
                            a: dy.floats + (n * outChannels + group * groupOutputs) * p, lda: p, b: col, ldb: p,
                            beta: 1, c: partial + group * groupOutputs * k, ldc: k)
                    }
                }
                partials[worker] = partial
            }
            let dw = c.output.floats
            dw.update(repeating: 0, count: filterCount)
            for case let partial? in partials {
                for i in 0..<filterCount { dw[i] += partial[i] }
            }
        }
    }

    /// Copies every input patch of one image over the channels of `group` into the columns of `col`
    /// [C/groups·KH·KW, OH·OW], zeros where the window covers padding.
    static func im2col(
        _ g: WindowGeometry, group: Int, _ image: UnsafePointer<Float>, _ col: UnsafeMutablePointer<Float>
    ) {
        let ow = g.outWidth
        forEachColumnLine(g, group: group) { line, source, columns in
            let dst = col + line
            guard let source, !columns.isEmpty else {
                dst.update(repeating: 0, count: ow)
                return
            }
            dst.update(repeating: 0, count: columns.lowerBound)
            (dst + columns.upperBound).update(repeating: 0, count: ow - columns.upperBound)
            let src = image + source
            if g.strideWidth == 1 {
                (dst + columns.lowerBound).update(from: src + columns.lowerBound, count: columns.count)
            } else {
                for x in columns { dst[x] = src[x * g.strideWidth] }
            }
        }
    }

    /// The adjoint of `im2col`: adds every column entry into the image position it came from (the caller
    /// zeroes the image first).
    static func col2im(
        _ g: WindowGeometry, group: Int, _ col: UnsafePointer<Float>, _ image: UnsafeMutablePointer<Float>
    ) {
        forEachColumnLine(g, group: group) { line, source, columns in
            guard let source else { return }
            let (src, dst) = (col + line, image + source)
            if g.strideWidth == 1 {
                for x in columns { dst[x] += src[x] }
            } else {
                for x in columns { dst[x * g.strideWidth] += src[x] }
            }
        }
    }

    /// Walks the lines of an im2col matrix of `group`: one per (channel of the group, kh, kw, output row). `body`
    /// gets the line's offset in `col`, the image offset that output column x reads at `x·strideWidth` (nil when
    /// the row lies in the padding), and the output columns whose input lies inside the image.
    @inline(__always)
    private static func forEachColumnLine(_ g: WindowGeometry, group: Int, _ body: (Int, Int?, Range<Int>) -> Void) {
        let (oh, ow) = (g.outHeight, g.outWidth)
        var line = 0
        for channel in group * g.groupChannels..<(group + 1) * g.groupChannels {
            for kh in 0..<g.kernelHeight {
                for kw in 0..<g.kernelWidth {
                    let columns = g.validColumns(kw)
                    let shift = kw * g.dilationWidth - g.padLeft
                    for y in 0..<oh {
                        let ih = y * g.strideHeight - g.padTop + kh * g.dilationHeight
                        let inside = ih >= 0 && ih < g.height
                        body(line, inside ? (channel * g.height + ih) * g.width + shift : nil, columns)
                        line += ow
                    }
                }
            }
        }
    }
}

extension WindowGeometry {
    /// Elements in one input image: C·H·W.
    var imageSize: Int { channels * height * width }

    /// The output columns x whose input column x·stride − padLeft + kw·dilation lies inside the image.
    func validColumns(_ kw: Int) -> Range<Int> {
        let offset = kw * dilationWidth
        let first = max(0, (padLeft - offset + strideWidth - 1) / strideWidth)
        let span = width - 1 + padLeft - offset
        let last = span < 0 ? 0 : min(outWidth, span / strideWidth + 1)
        return first..<max(first, last)
    }
}

extension CPUKernels {
    /// The kernels of this file, registered by the backend.
    static let convolutions: [(OpType, Kernel)] = [
        (.conv2D, conv2D), (.fusedConv2D, fusedConv2D), (.conv2DBackpropInput, conv2DBackpropInput),
        (.conv2DBackpropFilter, conv2DBackpropFilter),
    ]
}

/// A convolution's geometry, epilogue and oneDNN plan (nil where oneDNN does not run it), derived on a context's
/// first run and kept in its memo: looked up on every run, they cost MobileNetV2 a microsecond per convolution.
final class ConvolutionMemo {
    let geometry: WindowGeometry
    let epilogue: ConvolutionEpilogue
    /// The residual's layout; plain without one.
    let residualLayout: TensorLayout
    let oneDNN: OneDNNConvolution?

    private init(_ c: KernelContext) {
        geometry = WindowGeometry(input: c.inputs[0].shape, attributes: c.node.attributes)
        epilogue = ConvolutionEpilogue(of: c.node)
        residualLayout = epilogue.residual ? c.inputLayouts[epilogue.residualInput] : .plain
        oneDNN = OneDNNConvolution.plan(
            geometry, outChannels: c.inputs[1].shape[0], epilogue: epilogue,
            layouts: (c.inputLayouts[0], c.outputLayout, residualLayout), on: c.cpu)
    }

    /// The memo of `c`, made on its first run.
    static func of(_ c: KernelContext) -> ConvolutionMemo {
        if let memo = c.memo.value as? ConvolutionMemo { return memo }
        let memo = ConvolutionMemo(c)
        c.memo.value = memo
        return memo
    }
}
