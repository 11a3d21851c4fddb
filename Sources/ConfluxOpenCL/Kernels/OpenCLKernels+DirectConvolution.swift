import COpenCL
import Conflux
import Kernels

/// Stride-1 convolutions through the kernels of `direct.cl`, each compiled for its layer's sizes. The input is
/// zero-padded first (one cheap copy) so that the convolution kernels check no bounds; the input gradient is the
/// forward kernel over the padded output gradient with the filters flipped and transposed.
extension OpenCLKernels {
    /// Scratch slots of the padded input and of the flipped filters (0 and 1 hold im2col columns and partial sums).
    private static let paddedSlot = 2
    private static let flippedSlot = 3
    /// The padded output gradient of the filter gradient.
    private static let gradientSlot = 4

    /// y = max(conv(x, w) + bias, 0 when `relu`), or false when the stride is not 1 or the convolution is
    /// dilated or grouped.
    static func directForward(_ c: KernelContext, bias: DeviceTensor?, relu: Bool) throws -> Bool {
        let (x, w) = (c.inputs[0], c.inputs[1])
        let g = WindowGeometry(input: x.shape, attributes: c.node.attributes)
        guard g.strideHeight == 1, g.strideWidth == 1, g.isDense else { return false }
        let runtime = try c.opencl.runtime()
        let (input, height, width) = try padded(
            runtime, x.mem, planes: g.batch * g.channels, height: g.height, width: g.width,
            pads: (g.padTop, g.padBottom, g.padLeft, g.padRight))
        try convolve(
            runtime, input, batch: g.batch, channels: g.channels, height: height, width: width, filters: w.mem,
            outChannels: w.shape[0], kernel: (g.kernelHeight, g.kernelWidth), bias: bias?.mem, relu: relu,
            into: c.output.mem)
        return true
    }

    /// dx for Conv2DBackpropInput, or false when the stride is not 1, a pad is wider than the window or the
    /// convolution is dilated or grouped.
    static func directInputGradient(_ c: KernelContext) throws -> Bool {
        let (w, dy) = (c.inputs[0], c.inputs[1])
        let g = WindowGeometry(input: c.output.shape, attributes: c.node.attributes)
        let (kh, kw) = (g.kernelHeight, g.kernelWidth)
        guard g.strideHeight == 1, g.strideWidth == 1, g.isDense,
            [g.padTop, g.padBottom].allSatisfy({ $0 < kh }), [g.padLeft, g.padRight].allSatisfy({ $0 < kw })
        else { return false }
        let runtime = try c.opencl.runtime()
        let o = w.shape[0]
        let flipped = try runtime.scratch(flippedSlot, bytes: w.shape.count * 4)
        try runtime.launch(
            .direct, "flip_filters", specialization: ["FLIP": 1, "O": o, "C": g.channels, "KH": kh, "KW": kw],
            global: [w.shape.count], local: nil, [.buffer(w.mem), .buffer(flipped)])
        let (gradient, height, width) = try padded(
            runtime, dy.mem, planes: g.batch * o, height: g.outHeight, width: g.outWidth,
            pads: (kh - 1 - g.padTop, kh - 1 - g.padBottom, kw - 1 - g.padLeft, kw - 1 - g.padRight))
        try convolve(
            runtime, gradient, batch: g.batch, channels: o, height: height, width: width, filters: flipped,
            outChannels: g.channels, kernel: (kh, kw), bias: nil, relu: false, into: c.output.mem)
        return true
    }

    /// dW for Conv2DBackpropFilter, or false when the stride is not 1 or the convolution is dilated or grouped.
    /// The vector width is tuned; x and dy are padded on the right to whole vectors of output columns.
    static func directFilterGradient(_ c: KernelContext) throws -> Bool {
        let (x, dy) = (c.inputs[0], c.inputs[1])
        let g = WindowGeometry(input: x.shape, attributes: c.node.attributes)
        guard g.strideHeight == 1, g.strideWidth == 1, g.isDense else { return false }
        let runtime = try c.opencl.runtime()
        let (o, k) = (c.output.shape[0], g.patchSize)
        // Enough chunks of the batch for a few hundred work-items; each sums its images in order.
        let chunks = min(g.batch, max(1, (256 + o * g.channels - 1) / (o * g.channels)))
        let partials = chunks == 1 ? c.output.mem : try runtime.scratch(1, bytes: chunks * o * k * 4)
        let sizes: Specialization = [
            "N": g.batch, "C": g.channels, "O": o, "OH": g.outHeight, "KH": g.kernelHeight, "KW": g.kernelWidth,
            "CHUNKS": chunks,
        ]
        let launch = { (configuration: Specialization) in
            let lanes = configuration["VW"]!
            let columns = (g.outWidth + lanes - 1) / lanes * lanes
            let extra = columns - g.outWidth
            let (input, height, width) = try padded(
                runtime, x.mem, planes: g.batch * g.channels, height: g.height, width: g.width,
                pads: (g.padTop, g.padBottom, g.padLeft, g.padRight + extra))
            let (gradient, _, _) = try padded(
                runtime, dy.mem, planes: g.batch * o, height: g.outHeight, width: g.outWidth,
                pads: (0, 0, 0, extra), slot: gradientSlot)
            try runtime.launch(
                .direct, "conv_filter_gradient",
                specialization: sizes.merging(["H": height, "W": width, "OW": columns, "VW": lanes]) { $1 },
                global: [o * g.channels, chunks], local: nil, [.buffer(input), .buffer(gradient), .buffer(partials)])
        }
        let candidates: [Specialization] = [["VW": 16], ["VW": 8], ["VW": 4]]
        try launch(try runtime.tuned("conv_filter_gradient", sizes: sizes, candidates: candidates, launch: launch))
        if chunks > 1 {
            try runtime.launch(
                .reduction, "sum_rows", global: o * k,
                [.buffer(partials), .buffer(c.output.mem), .int(chunks), .int(o * k)])
        }
        return true
    }

    /// `planes` planes of `height`×`width` with `pads` (top, bottom, left, right) of zeros around each, in scratch
    /// `slot`, and their new size.
    private static func padded(
        _ runtime: CLRuntime, _ x: cl_mem, planes: Int, height: Int, width: Int,
        pads: (top: Int, bottom: Int, left: Int, right: Int), slot: Int = paddedSlot
    ) throws -> (cl_mem, height: Int, width: Int) {
        let (paddedHeight, paddedWidth) = (height + pads.top + pads.bottom, width + pads.left + pads.right)
        // Slack after the planes for the vector reads of conv_forward's last block.
        let y = try runtime.scratch(slot, bytes: (planes * paddedHeight * paddedWidth + 16) * 4)
        try runtime.launch(
            .direct, "pad_planes",
            specialization: [
                "PLANES": planes, "H": height, "W": width, "HP": paddedHeight, "WP": paddedWidth,
                "PAD_TOP": pads.top, "PAD_LEFT": pads.left,
            ],
            global: [paddedWidth, paddedHeight, planes], local: rowGroup(width: paddedWidth, height: paddedHeight),
            [.buffer(x), .buffer(y)])
        return (y, paddedHeight, paddedWidth)
    }

    /// The valid convolution of an already padded input by `filters` [outChannels, channels, kernel], with the
    /// vector width (outputs of a row per work-item) and output channels per work-item tuned for the device.
    private static func convolve(
        _ runtime: CLRuntime, _ x: cl_mem, batch: Int, channels: Int, height: Int, width: Int, filters: cl_mem,
        outChannels: Int, kernel: (Int, Int), bias: cl_mem?, relu: Bool, into y: cl_mem
    ) throws {
        let (outHeight, outWidth) = (height - kernel.0 + 1, width - kernel.1 + 1)
        let sizes: Specialization = [
            "N": batch, "C": channels, "H": height, "W": width, "O": outChannels, "OH": outHeight, "OW": outWidth,
            "KH": kernel.0, "KW": kernel.1, "BIAS": bias == nil ? 0 : 1, "RELU": relu ? 1 : 0,
        ]
        let launch = { (configuration: Specialization) in
            let (width, group) = (configuration["VW"]!, configuration["OB"]!)
            try runtime.launch(
                .direct, "conv_forward", specialization: sizes.merging(configuration) { $1 },
                global: [(outWidth + width - 1) / width, outHeight, batch * ((outChannels + group - 1) / group)],
                local: nil, [.buffer(x), .buffer(filters), .buffer(bias ?? filters), .buffer(y)])
        }
        let candidates = forwardCandidates(outChannels: outChannels)
        try launch(try runtime.tuned("conv_forward", sizes: sizes, candidates: candidates, launch: launch))
    }

    /// conv_forward's configurations to time: 4, 8 or 16 outputs of a row per work-item, for up to 8 or up to 16
    /// output channels.
    static func forwardCandidates(outChannels: Int) -> [Specialization] {
        let groups = Set([min(outChannels, 8), min(outChannels, 16)]).sorted()
        return [16, 8, 4].flatMap { width in groups.map { ["VW": width, "OB": $0] } }
    }

    /// Work-groups of whole rows, rounded up to 8 work-items (the kernels check their bounds), up to 256 in all:
    /// neighbouring work-items read neighbouring floats.
    static func rowGroup(width: Int, height: Int) -> [Int] {
        let lanes = (width + 7) / 8 * 8
        return [lanes, max(1, min(height, 256 / lanes)), 1]
    }
}
