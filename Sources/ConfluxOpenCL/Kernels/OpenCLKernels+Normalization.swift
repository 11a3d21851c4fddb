import Conflux
import Kernels

/// Batch normalization (`reduction.cl`): one work-group per channel, each computing its channel's statistics.
extension OpenCLKernels {
    /// Launches `name` with `buffers`, then the given statistics (inputs `first`, `first + 1`, or placeholders the
    /// kernel does not read), the output, and the layout of input 0 and `parameter`.
    private static func perChannel(
        _ c: KernelContext, _ name: String, buffers: [Int], statistics first: Int, parameter: Float
    ) throws {
        let runtime = try c.opencl.runtime()
        let x = c.inputs[0]
        let given = c.inputs.count > first
        let statistics = given ? [c.inputs[first].mem, c.inputs[first + 1].mem] : [x.mem, x.mem]
        let (batch, channels) = (x.shape[0], x.shape[1])
        try runtime.launch(
            .reduction, name, global: channels * runtime.groupSize, local: runtime.groupSize,
            buffers.map { .buffer(c.inputs[$0].mem) } + statistics.map { .buffer($0) }
                + [
                    .buffer(c.output.mem), .int(given ? 1 : 0), .int(batch), .int(channels),
                    .int(x.shape.count / max(batch * channels, 1)), .float(parameter),
                ])
    }

    static func batchNorm(_ c: KernelContext) throws {
        try perChannel(
            c, "batch_norm_forward", buffers: [0, 1, 2], statistics: 3, parameter: c.node.attributes.float("epsilon"))
    }

    static func batchNormGrad(_ c: KernelContext) throws {
        try perChannel(
            c, "batch_norm_grad", buffers: [0, 1, 2], statistics: 3, parameter: c.node.attributes.float("epsilon"))
    }

    static func batchNormScaleGrad(_ c: KernelContext) throws {
        try perChannel(
            c, "batch_norm_scale_grad", buffers: [0, 1], statistics: 2, parameter: c.node.attributes.float("epsilon"))
    }

    static func batchNormStatisticsUpdate(_ c: KernelContext) throws {
        let runtime = try c.opencl.runtime()
        let x = c.inputs[2]
        let (batch, channels) = (x.shape[0], x.shape[1])
        try runtime.launch(
            .reduction, "batch_norm_statistics_update", global: channels * runtime.groupSize,
            local: runtime.groupSize,
            [
                .buffer(c.inputs[0].mem), .buffer(c.inputs[1].mem), .buffer(x.mem), .int(batch), .int(channels),
                .int(x.shape.count / max(batch * channels, 1)), .float(c.node.attributes.float("momentum")),
            ])
    }
}

/// Local response normalization (`normalization.cl`): one work-item per element, over its window of channels.
extension OpenCLKernels {
    static func lrn(_ c: KernelContext) throws { try lrnKernel(c, "lrn_forward") }
    static func lrnGrad(_ c: KernelContext) throws { try lrnKernel(c, "lrn_grad") }

    private static func lrnKernel(_ c: KernelContext, _ name: String) throws {
        let (shape, attributes) = (c.inputs[0].shape, c.node.attributes)
        let n = shape.count
        try c.opencl.runtime().launch(
            .normalization, name, global: n,
            (c.inputs + [c.output]).map { .buffer($0.mem) } + [
                .int(n), .int(shape[1]), .int(n / max(shape[0] * shape[1], 1)), .int(attributes.int("size")),
                .float(attributes.float("alpha")), .float(attributes.float("beta")), .float(attributes.float("bias")),
            ])
    }
}

extension OpenCLKernels {
    /// The kernels of this file, registered by the backend.
    static let normalization: [(OpType, Kernel)] = [
        (.lrn, lrn), (.lrnGrad, lrnGrad),
        (.batchNorm, batchNorm), (.batchNormGrad, batchNormGrad), (.batchNormScaleGrad, batchNormScaleGrad),
        (.batchNormStatisticsUpdate, batchNormStatisticsUpdate),
    ]
}
