import Conflux

/// Convolution as GEMM over im2col columns, one image at a time, images split across the cores.
///
/// For image n, col[K, P] holds the input patch of every output position (K = C·KH·KW, P = OH·OW), so that
/// y[n] = W[O, K] · col, dcol = Wᵀ · dy[n] (scattered back by col2im) and dW = Σn dy[n] · colᵀ.
extension CPUKernels {
    static func conv2D(_ c: KernelContext) {
        let (x, w) = (c.inputs[0], c.inputs[1])
        let g = WindowGeometry(input: x.shape, attributes: c.node.attributes)
        let (outChannels, k, p) = (w.shape[0], g.patchSize, g.outHeight * g.outWidth)
        c.cpu.parallelChunks(g.batch) { worker, images in
            let col = c.cpu.scratch(worker: worker, slot: 0, count: k * p)
            for n in images {
                im2col(g, x.floats + n * g.imageSize, col)
                BLAS.sgemm(
                    transposeA: false, transposeB: false, m: outChannels, n: p, k: k, a: w.floats, lda: k,
                    b: col, ldb: p, c: c.output.floats + n * outChannels * p, ldc: p)
            }
        }
    }

    static func conv2DBackpropInput(_ c: KernelContext) {
        let (w, dy) = (c.inputs[0], c.inputs[1])
        let g = WindowGeometry(input: c.output.shape, attributes: c.node.attributes)
        let (outChannels, k, p) = (w.shape[0], g.patchSize, g.outHeight * g.outWidth)
        c.cpu.parallelChunks(g.batch) { worker, images in
            let col = c.cpu.scratch(worker: worker, slot: 0, count: k * p)
            for n in images {
                BLAS.sgemm(
                    transposeA: true, transposeB: false, m: k, n: p, k: outChannels, a: w.floats, lda: k,
                    b: dy.floats + n * outChannels * p, ldb: p, c: col, ldc: p)
                col2im(g, col, c.output.floats + n * g.imageSize)
            }
        }
    }

    static func conv2DBackpropFilter(_ c: KernelContext) {
        let (x, dy) = (c.inputs[0], c.inputs[1])
        let g = WindowGeometry(input: x.shape, attributes: c.node.attributes)
        let (outChannels, k, p) = (c.output.shape[0], g.patchSize, g.outHeight * g.outWidth)
        let filterCount = outChannels * k
        var partials = [UnsafeMutablePointer<Float>?](repeating: nil, count: c.cpu.workers)
        partials.withUnsafeMutableBufferPointer { partials in
            c.cpu.parallelChunks(g.batch) { worker, images in
                let col = c.cpu.scratch(worker: worker, slot: 0, count: k * p)
                let partial = c.cpu.scratch(worker: worker, slot: 1, count: filterCount)
                partial.update(repeating: 0, count: filterCount)
                for n in images {
                    im2col(g, x.floats + n * g.imageSize, col)
                    BLAS.sgemm(
                        transposeA: false, transposeB: true, m: outChannels, n: k, k: p,
                        a: dy.floats + n * outChannels * p, lda: p, b: col, ldb: p, beta: 1, c: partial, ldc: k)
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

    /// Copies every input patch of one image into the columns of `col` [C·KH·KW, OH·OW], zeros where the
    /// window covers padding.
    static func im2col(_ g: WindowGeometry, _ image: UnsafePointer<Float>, _ col: UnsafeMutablePointer<Float>) {
        let (oh, ow) = (g.outHeight, g.outWidth)
        var row = 0
        for channel in 0..<g.channels {
            let plane = image + channel * g.height * g.width
            for kh in 0..<g.kernelHeight {
                for kw in 0..<g.kernelWidth {
                    let dst = col + row * oh * ow
                    let columns = g.validColumns(kw)
                    for y in 0..<oh {
                        let ih = y * g.strideHeight - g.padTop + kh
                        let line = dst + y * ow
                        guard ih >= 0 && ih < g.height, !columns.isEmpty else {
                            line.update(repeating: 0, count: ow)
                            continue
                        }
                        line.update(repeating: 0, count: columns.lowerBound)
                        (line + columns.upperBound).update(repeating: 0, count: ow - columns.upperBound)
                        let src = plane + ih * g.width - g.padLeft + kw
                        if g.strideWidth == 1 {
                            (line + columns.lowerBound).update(from: src + columns.lowerBound, count: columns.count)
                        } else {
                            for x in columns { line[x] = src[x * g.strideWidth] }
                        }
                    }
                    row += 1
                }
            }
        }
    }

    /// The adjoint of `im2col`: sums every column entry back into the image position it came from.
    static func col2im(_ g: WindowGeometry, _ col: UnsafePointer<Float>, _ image: UnsafeMutablePointer<Float>) {
        let (oh, ow) = (g.outHeight, g.outWidth)
        image.update(repeating: 0, count: g.imageSize)
        var row = 0
        for channel in 0..<g.channels {
            let plane = image + channel * g.height * g.width
            for kh in 0..<g.kernelHeight {
                for kw in 0..<g.kernelWidth {
                    let src = col + row * oh * ow
                    let columns = g.validColumns(kw)
                    for y in 0..<oh {
                        let ih = y * g.strideHeight - g.padTop + kh
                        guard ih >= 0 && ih < g.height else { continue }
                        let dst = plane + ih * g.width - g.padLeft + kw
                        let line = src + y * ow
                        if g.strideWidth == 1 {
                            for x in columns { dst[x] += line[x] }
                        } else {
                            for x in columns { dst[x * g.strideWidth] += line[x] }
                        }
                    }
                    row += 1
                }
            }
        }
    }
}

extension WindowGeometry {
    /// Elements in one input image: C·H·W.
    var imageSize: Int { channels * height * width }
    /// Elements in one patch: C·KH·KW.
    var patchSize: Int { channels * kernelHeight * kernelWidth }

    /// The output columns x whose input column x·stride - padLeft + kw lies inside the image.
    func validColumns(_ kw: Int) -> Range<Int> {
        let first = max(0, (padLeft - kw + strideWidth - 1) / strideWidth)
        let span = width - 1 + padLeft - kw
        let last = span < 0 ? 0 : min(outWidth, span / strideWidth + 1)
        return first..<max(first, last)
    }
}
