import Conflux

extension OpenCLKernels {
    /// y = weight·x on the device, then summed over the job's processes (`Collectives.group`) on the host: the
    /// result read into host memory, reduced there, and written back.
    static func allReduce(_ c: KernelContext) throws {
        let runtime = try c.opencl.runtime()
        let n = c.output.shape.count
        try runtime.launch(
            .elementwise, "scale_by", global: n,
            [.buffer(c.inputs[0].mem), .buffer(c.inputs[1].mem), .buffer(c.output.mem), .int(n)])
        guard let group = Collectives.group else { return }
        var host = [Float](repeating: 0, count: n)
        try host.withUnsafeMutableBytes { try runtime.read(c.output.mem, into: $0) }
        host.withUnsafeMutableBufferPointer { group.sum($0.baseAddress!, count: n) }
        try host.withUnsafeBytes { try runtime.write($0, to: c.output.mem) }
    }

    /// The kernels of this file, registered by the backend.
    static let collectives: [(OpType, Kernel)] = [(.allReduce, allReduce)]
}
