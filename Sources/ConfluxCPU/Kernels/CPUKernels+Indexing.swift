import Conflux

/// Shape, GatherV2 and Cast, for graphs whose shape arithmetic could not be folded at build time.
extension CPUKernels {
    static func shape(_ c: KernelContext) {
        for (d, size) in c.inputs[0].shape.dims.enumerated() { c.output.ints[d] = Int32(size) }
    }

    /// - Throws: `invalidValue` naming the node for an index outside the axis.
    static func gather(_ c: KernelContext) throws {
        let (data, indices) = (c.inputs[0], c.inputs[1])
        let gathering = Gathering(data: data.shape, indices: indices.shape, attributes: c.node.attributes)
        try gathering.run(
            data.raw, indices.ints, into: c.output.raw,
            check: .indices(op: c.node.op.rawValue, node: c.node.name, bound: gathering.axisSize))
    }

    /// Float32 to Int32 rounds toward zero; Int32 to Float32 is exact up to 2²⁴.
    static func cast(_ c: KernelContext) {
        let (x, count) = (c.inputs[0], c.output.count)
        if c.output.dtype == .int32 {
            for i in 0..<count { c.output.ints[i] = Int32(x.floats[i].rounded(.towardZero)) }
        } else {
            for i in 0..<count { c.output.floats[i] = Float(x.ints[i]) }
        }
    }
}

extension CPUKernels {
    /// The kernels of this file, registered by the backend.
    static let indexing: [(OpType, Kernel)] = [(.shape, shape), (.gather, gather), (.cast, cast)]
}
