import Conflux

extension CPUKernels {
    /// y = weight·x, then summed over the job's processes (`Collectives.group`) in place.
    static func allReduce(_ c: KernelContext) {
        let (x, y, weight) = (c.inputs[0].floats, c.output.floats, c.inputs[1].floats[0])
        elementwise(c) { range in
            for i in range { y[i] = weight * x[i] }
        }
        Collectives.group?.sum(y, count: c.output.count)
    }

    /// The kernels of this file, registered by the backend.
    static let collectives: [(OpType, Kernel)] = [(.allReduce, allReduce)]
}
