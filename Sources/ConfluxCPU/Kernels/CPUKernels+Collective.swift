import Conflux

extension CPUKernels {
    /// Writes weight·x of each tensor into the bucket's staging, one after another, and starts its sum.
    static func allReduceStart(_ c: KernelContext) {
        let group = Collectives.group
        let (bucket, buckets) = (c.node.attributes.int("bucket"), c.node.attributes.int("buckets"))
        let tensors = c.inputs.dropFirst()
        let count = tensors.map(\.count).reduce(0, +)
        let (weight, staging) = (c.inputs[0].floats[0], group.staging(bucket: bucket, count: count))
        var offset = 0
        for x in tensors {
            let (source, destination) = (x.floats, staging + offset)
            for i in 0..<x.count { destination[i] = weight * source[i] }
            offset += x.count
        }
        c.output.floats[0] = 0
        group.startSum(bucket: bucket, count: count, of: buckets)
    }

    /// The bucket's sum, once every process has added its share.
    static func allReduceWait(_ c: KernelContext) {
        let sum = Collectives.group.waitSum(bucket: c.node.attributes.int("bucket"))
        c.output.floats.update(from: sum, count: c.output.count)
    }

    /// The kernels of this file, registered by the backend.
    static let collectives: [(OpType, Kernel)] = [(.allReduceStart, allReduceStart), (.allReduceWait, allReduceWait)]
}
