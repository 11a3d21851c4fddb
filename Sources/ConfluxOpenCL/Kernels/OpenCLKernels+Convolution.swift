import COpenCL
import Conflux
import Kernels

/// Stride-1 convolution as the direct kernels of `direct.cl` (`OpenCLKernels+DirectConvolution.swift`). Other
/// strides: im2col over the whole batch plus one strided-batched CLBlast GEMM (or, for small patches, a direct
/// kernel: see `directPatchLimit`): for image n,
/// col[n] is [K, P] (K = C·KH·KW, P = OH·OW), y[n] = W · col[n], dcol[n] = Wᵀ · dy[n] (gathered back by col2im),
/// and dW = Σn dy[n] · col[n]ᵀ (per-image products, then summed). A dilated or grouped convolution (depthwise)
/// runs as the three one-pass kernels of `convolution.cl` that take dilation and groups (`conv_direct`,
/// `conv_input_gradient`, `conv_filter_gradient_grouped`).
extension OpenCLKernels {
    /// Forward convolutions with fewer patch elements (C·KH·KW) than this run as one direct kernel, which reads
    /// the input once instead of writing and re-reading K copies of it. Measured on PoCL (2 cores) at batch 64:
    /// LeNet's conv1 (K = 25) takes 10.8 ms direct against 17.7 ms through im2col + GEMM, while conv2 (K = 150)
    /// takes 14.9 ms direct against 11.0 ms through GEMM.
    static let directPatchLimit = 64
    /// Scratch for a residual whose buffer the output took over.
    private static let residualSlot = 5

    static func conv2D(_ c: KernelContext) throws { try convolve(c, bias: nil, relu: false) }

    /// Conv2D with the bias and ReLU of a fused chain (`Fusion`): in the direct kernel's epilogue, or after the GEMM.
    /// A residual and a clip follow as passes over the output.
    static func fusedConv2D(_ c: KernelContext) throws {
        let attributes = c.node.attributes
        let bias = attributes.bool("bias") ? c.inputs[2] : nil
        guard attributes.bool("residual") || attributes.bool("clip") else {
            return try convolve(c, bias: bias, relu: attributes.bool("relu"))
        }
        let runtime = try c.opencl.runtime()
        let (y, n) = (c.output.mem, c.output.shape.count)
        var residual = attributes.bool("residual") ? c.inputs.last!.mem : nil
        // The output may have taken over the residual's buffer (`PlanBuilder`): keep the residual first.
        if let shared = residual, shared == y {
            let copy = try runtime.scratch(residualSlot, bytes: n * 4)
            try runtime.launch(.elementwise, "copy", global: n, [.buffer(shared), .buffer(copy), .int(n)])
            residual = copy
        }
        try convolve(c, bias: bias, relu: false)
        if let residual {
            try runtime.launch(.optimizers, "assign_add", global: n, [.buffer(y), .buffer(residual), .int(n)])
        }
        if attributes.bool("relu") {
            try runtime.launch(.elementwise, "relu_forward", global: n, [.buffer(y), .buffer(y), .int(n)])
        } else if attributes.bool("clip") {
            try runtime.launch(
                .elementwise, "clip_forward", global: n,
                [.buffer(y), .buffer(y), .int(n), .float(attributes.float("min")), .float(attributes.float("max"))])
        }
    }

    private static func convolve(_ c: KernelContext, bias: DeviceTensor?, relu: Bool) throws {
        guard try !directForward(c, bias: bias, relu: relu) else { return }
        let g = WindowGeometry(input: c.inputs[0].shape, attributes: c.node.attributes)
        let (o, p) = (c.inputs[1].shape[0], g.outHeight * g.outWidth)
        let runtime = try c.opencl.runtime()
        try convolveByGEMM(c, g)
        let n = c.output.shape.count
        if let bias {
            try runtime.launch(
                .elementwise, "bias_add", global: n,
                [.buffer(c.output.mem), .buffer(bias.mem), .buffer(c.output.mem), .int(n), .int(o), .int(p)])
        }
        if relu {
            try runtime.launch(
                .elementwise, "relu_forward", global: n, [.buffer(c.output.mem), .buffer(c.output.mem), .int(n)])
        }
    }

    private static func convolveByGEMM(_ c: KernelContext, _ g: WindowGeometry) throws {
        let (x, w) = (c.inputs[0], c.inputs[1])
        let (o, k, p) = (w.shape[0], g.patchSize, g.outHeight * g.outWidth)
        if k < directPatchLimit || !g.isDense {
            let total = c.output.shape.count
            try c.opencl.runtime().launch(
                .convolution, "conv_direct", global: total,
                [.buffer(x.mem), .buffer(w.mem), .buffer(c.output.mem), .int(total), .int(o)] + geometry(g))
            return
        }
        let col = try im2col(c, g, x.mem)
        try CLBlastGEMM.gemm(
            on: c.opencl, transposeA: false, transposeB: false, m: o, n: p, k: k,
            a: .init(mem: w.mem, ld: k), b: .init(mem: col, ld: p, stride: k * p),
            c: .init(mem: c.output.mem, ld: p, stride: o * p), count: g.batch)
    }

    static func conv2DBackpropInput(_ c: KernelContext) throws {
        guard try !directInputGradient(c) else { return }
        let (w, dy) = (c.inputs[0], c.inputs[1])
        let g = WindowGeometry(input: c.output.shape, attributes: c.node.attributes)
        let (o, k, p) = (w.shape[0], g.patchSize, g.outHeight * g.outWidth)
        let runtime = try c.opencl.runtime()
        guard g.isDense else {
            let total = c.output.shape.count
            return try runtime.launch(
                .convolution, "conv_input_gradient", global: total,
                [.buffer(w.mem), .buffer(dy.mem), .buffer(c.output.mem), .int(total), .int(o)] + geometry(g))
        }
        let col = try runtime.scratch(0, bytes: g.batch * k * p * 4)
        try CLBlastGEMM.gemm(
            on: c.opencl, transposeA: true, transposeB: false, m: k, n: p, k: o,
            a: .init(mem: w.mem, ld: k), b: .init(mem: dy.mem, ld: p, stride: o * p),
            c: .init(mem: col, ld: p, stride: k * p), count: g.batch)
        let total = c.output.shape.count
        try runtime.launch(
            .convolution, "col2im", global: total, [.buffer(col), .buffer(c.output.mem), .int(total)] + geometry(g))
    }

    static func conv2DBackpropFilter(_ c: KernelContext) throws {
        guard try !directFilterGradient(c) else { return }
        let (x, dy) = (c.inputs[0], c.inputs[1])
        let g = WindowGeometry(input: x.shape, attributes: c.node.attributes)
        let (o, k, p) = (c.output.shape[0], g.patchSize, g.outHeight * g.outWidth)
        let runtime = try c.opencl.runtime()
        guard g.isDense else {
            let total = c.output.shape.count
            return try runtime.launch(
                .convolution, "conv_filter_gradient_grouped", global: total,
                [.buffer(x.mem), .buffer(dy.mem), .buffer(c.output.mem), .int(total), .int(o), .int(g.batch)]
                    + geometry(g))
        }
        let col = try im2col(c, g, x.mem)
        let partials = try runtime.scratch(1, bytes: g.batch * o * k * 4)
        try CLBlastGEMM.gemm(
            on: c.opencl, transposeA: false, transposeB: true, m: o, n: k, k: p,
            a: .init(mem: dy.mem, ld: p, stride: o * p), b: .init(mem: col, ld: p, stride: k * p),
            c: .init(mem: partials, ld: k, stride: o * k), count: g.batch)
        try runtime.launch(
            .reduction, "sum_rows", global: o * k,
            [.buffer(partials), .buffer(c.output.mem), .int(g.batch), .int(o * k)])
    }

    /// Fills scratch slot 0 with the im2col matrices of the whole batch, [N, K, P].
    private static func im2col(_ c: KernelContext, _ g: WindowGeometry, _ x: cl_mem) throws -> cl_mem {
        let runtime = try c.opencl.runtime()
        let total = g.batch * g.patchSize * g.outHeight * g.outWidth
        let col = try runtime.scratch(0, bytes: total * 4)
        try runtime.launch(
            .convolution, "im2col", global: total, [.buffer(x), .buffer(col), .int(total)] + geometry(g))
        return col
    }

    private static func geometry(_ g: WindowGeometry) -> [KernelArgument] {
        [
            g.channels, g.height, g.width, g.outHeight, g.outWidth, g.kernelHeight, g.kernelWidth, g.strideHeight,
            g.strideWidth, g.padTop, g.padLeft, g.dilationHeight, g.dilationWidth, g.groups,
        ].map { .int($0) }
    }
}

extension OpenCLKernels {
    /// The kernels of this file, registered by the backend.
    static let convolutions: [(OpType, Kernel)] = [
        (.conv2D, conv2D), (.fusedConv2D, fusedConv2D), (.conv2DBackpropInput, conv2DBackpropInput),
        (.conv2DBackpropFilter, conv2DBackpropFilter),
    ]
}
