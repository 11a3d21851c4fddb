import Conflux
import Kernels

extension OpenCLKernels {
    static func assignAdd(_ c: KernelContext) throws {
        let n = c.inputs[0].shape.count
        try c.opencl.runtime().launch(
            .optimizers, "assign_add", global: n, [.buffer(c.inputs[0].mem), .buffer(c.inputs[1].mem), .int(n)])
    }

    static func applyMomentum(_ c: KernelContext) throws {
        let n = c.inputs[0].shape.count
        let attributes = c.node.attributes
        try c.opencl.runtime().launch(
            .optimizers, "apply_momentum", global: n,
            c.inputs.map { .buffer($0.mem) } + [.int(n), .float(attributes.float("momentum"))])
    }

    static func applyAdam(_ c: KernelContext) throws {
        let runtime = try c.opencl.runtime()
        let n = c.inputs[0].shape.count
        let attributes = c.node.attributes
        try runtime.launch(.optimizers, "adam_step", global: 1, [.buffer(c.inputs[3].mem)])
        try runtime.launch(
            .optimizers, "apply_adam", global: n,
            c.inputs.map { .buffer($0.mem) } + [
                .int(n), .float(attributes.float("beta1")),
                .float(attributes.float("beta2")), .float(attributes.float("epsilon")),
            ])
    }
}

extension OpenCLKernels {
    /// The kernels of this file, registered by the backend.
    static let optimizers: [(OpType, Kernel)] = [
        (.assignAdd, assignAdd), (.applyMomentum, applyMomentum), (.applyAdam, applyAdam),
    ]
}
