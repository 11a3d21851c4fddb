import Conflux

/// Dropout and its gradient: the same kernel, x or dy scaled by 1 / (1 − rate) where `DropoutMask` keeps the
/// element, zero elsewhere.
extension CPUKernels {
    static func dropout(_ c: KernelContext) {
        let (x, y, step) = (c.inputs[0].floats, c.output.floats, c.inputs[1].floats[0])
        let (rate, seed) = (c.node.attributes.float("rate"), c.node.attributes.int("seed"))
        let kept = 1 - rate
        elementwise(c) { range in
            for i in range { y[i] = DropoutMask.keeps(i, step: step, seed: seed, rate: rate) ? x[i] / kept : 0 }
        }
    }
}

extension CPUKernels {
    /// The kernels of this file, registered by the backend.
    static let dropoutKernels: [(OpType, Kernel)] = [(.dropout, dropout), (.dropoutGrad, dropout)]
}
