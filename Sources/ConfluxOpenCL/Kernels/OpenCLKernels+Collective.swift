import Conflux

/// Collectives on an OpenCL device reduce through host memory: the start reads each tensor into the bucket's
/// staging and scales it there; the wait writes the sum back to the device.
extension OpenCLKernels {
    static func allReduceStart(_ c: KernelContext) throws {
        let group = Collectives.group
        let runtime = try c.opencl.runtime()
        let (bucket, buckets) = (c.node.attributes.int("bucket"), c.node.attributes.int("buckets"))
        let tensors = c.inputs.dropFirst()
        let count = tensors.map { $0.shape.count }.reduce(0, +)
        let staging = group.staging(bucket: bucket, count: count)
        var weight: Float = 0
        try withUnsafeMutableBytes(of: &weight) { try runtime.read(c.inputs[0].mem, into: $0) }
        var offset = 0
        for x in tensors {
            let n = x.shape.count
            try runtime.read(x.mem, into: UnsafeMutableRawBufferPointer(start: staging + offset, count: n * 4))
            for i in offset..<(offset + n) { staging[i] *= weight }
            offset += n
        }
        group.startSum(bucket: bucket, count: count, of: buckets)
    }

    static func allReduceWait(_ c: KernelContext) throws {
        let sum = Collectives.group.waitSum(bucket: c.node.attributes.int("bucket"))
        try c.opencl.runtime().write(
            UnsafeRawBufferPointer(start: sum, count: c.output.shape.count * 4), to: c.output.mem)
    }

    /// The kernels of this file, registered by the backend.
    static let collectives: [(OpType, Kernel)] = [(.allReduceStart, allReduceStart), (.allReduceWait, allReduceWait)]
}
