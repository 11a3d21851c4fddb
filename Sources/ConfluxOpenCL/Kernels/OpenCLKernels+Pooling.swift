import Conflux
import Kernels

extension OpenCLKernels {
    static func maxPool(_ c: KernelContext) throws { try pool(c, "max_pool", input: c.inputs[0].shape, forward: true) }
    static func avgPool(_ c: KernelContext) throws { try pool(c, "avg_pool", input: c.inputs[0].shape, forward: true) }
    static func maxPoolGrad(_ c: KernelContext) throws {
        try pool(c, "max_pool_grad", input: c.inputs[0].shape, forward: false)
    }
    static func avgPoolGrad(_ c: KernelContext) throws {
        try pool(c, "avg_pool_grad", input: c.output.shape, forward: false)
    }

    /// Forward kernels run one work-item per output element, gradients one per input element.
    private static func pool(_ c: KernelContext, _ name: String, input: Shape, forward: Bool) throws {
        let g = WindowGeometry(input: input, attributes: c.node.attributes)
        let planes = g.batch * g.channels
        try c.opencl.runtime().launch(
            .pooling, name, global: forward ? planes * g.outHeight * g.outWidth : planes * g.height * g.width,
            (c.inputs + [c.output]).map { .buffer($0.mem) } + [
                .int(planes), .int(g.height), .int(g.width), .int(g.outHeight), .int(g.outWidth), .int(g.kernelHeight),
                .int(g.kernelWidth), .int(g.strideHeight), .int(g.strideWidth), .int(g.padTop), .int(g.padLeft),
            ])
    }
}
