import Conflux
import Kernels

extension OpenCLKernels {
    static func sum(_ c: KernelContext) throws { try sumAll(c, mean: false) }
    static func mean(_ c: KernelContext) throws { try sumAll(c, mean: true) }

    private static func sumAll(_ c: KernelContext, mean: Bool) throws {
        let runtime = try c.opencl.runtime()
        let n = c.inputs[0].shape.count
        try runtime.launch(
            .reduction, "sum_all", global: runtime.groupSize, local: runtime.groupSize,
            [.buffer(c.inputs[0].mem), .buffer(c.output.mem), .int(n), .float(mean ? 1 / Float(max(n, 1)) : 1)])
    }

    /// Spreads the scalar gradient over the output, divided by the element count for a mean.
    static func reduceGrad(_ c: KernelContext) throws {
        let n = c.output.shape.count
        let scale = c.node.attributes.bool("mean") ? 1 / Float(max(n, 1)) : 1
        try c.opencl.runtime().launch(
            .elementwise, "fill_scaled", global: n,
            [.buffer(c.inputs[0].mem), .buffer(c.output.mem), .int(n), .float(scale)])
    }

    static func biasAddGrad(_ c: KernelContext) throws {
        let runtime = try c.opencl.runtime()
        let dy = c.inputs[0]
        let (batch, channels) = (dy.shape[0], dy.shape[1])
        try runtime.launch(
            .reduction, "bias_add_grad", global: channels * runtime.groupSize, local: runtime.groupSize,
            [
                .buffer(dy.mem), .buffer(c.output.mem), .int(batch), .int(channels),
                .int(dy.shape.count / max(batch * channels, 1)),
            ])
    }
}

extension OpenCLKernels {
    /// The kernels of this file, registered by the backend.
    static let reductions: [(OpType, Kernel)] = [
        (.sum, sum), (.mean, mean), (.reduceGrad, reduceGrad), (.biasAddGrad, biasAddGrad),
    ]
}
