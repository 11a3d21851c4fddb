import Conflux
import Kernels

/// Dropout and its gradient (`elementwise.cl`): one kernel, x or dy scaled where the shared mask keeps an element.
extension OpenCLKernels {
    static func dropout(_ c: KernelContext) throws {
        let n = c.output.shape.count
        try c.opencl.runtime().launch(
            .elementwise, "dropout", global: n,
            [
                .buffer(c.inputs[0].mem), .buffer(c.inputs[1].mem), .buffer(c.output.mem), .int(n),
                .int(c.node.attributes.int("seed")), .float(c.node.attributes.float("rate")),
            ])
    }
}

extension OpenCLKernels {
    /// The kernels of this file, registered by the backend.
    static let dropoutKernels: [(OpType, Kernel)] = [(.dropout, dropout), (.dropoutGrad, dropout)]
}
