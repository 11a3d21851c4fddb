import COpenCL
import Conflux
import Kernels

/// Transpose, Slice, Pad, ConcatV2 and SliceGrad (`elementwise.cl`): a `fill` where the output has places no input
/// reaches, and one `strided_copy` launch per `StridedCopy`.
extension OpenCLKernels {
    static func transpose(_ c: KernelContext) throws {
        let copy = StridedCopy.transpose(c.inputs[0].shape, permutation: c.node.attributes.ints("permutation"))
        try run(copy, c, from: c.inputs[0].mem)
    }

    static func slice(_ c: KernelContext) throws {
        let x = c.inputs[0]
        try run(.gather(SliceRegion(x.shape, attributes: c.node.attributes), from: x.shape), c, from: x.mem)
    }

    static func sliceGrad(_ c: KernelContext) throws {
        try fill(c, 0)
        let region = SliceRegion(c.output.shape, attributes: c.node.attributes)
        try run(.scatter(region, into: c.output.shape), c, from: c.inputs[0].mem)
    }

    static func pad(_ c: KernelContext) throws {
        let x = c.inputs[0]
        try fill(c, c.node.attributes.float("value"))
        let region = SliceRegion.padded(x.shape, pads: c.node.attributes.ints("pads"))
        try run(.scatter(region, into: c.output.shape), c, from: x.mem)
    }

    static func concat(_ c: KernelContext) throws {
        let regions = SliceRegion.concatenated(c.inputs.map(\.shape), axis: c.node.attributes.int("axis"))
        for (input, region) in zip(c.inputs, regions) {
            try run(.scatter(region, into: c.output.shape), c, from: input.mem)
        }
    }

    private static func fill(_ c: KernelContext, _ value: Float) throws {
        let n = c.output.shape.count
        try c.opencl.runtime().launch(.elementwise, "fill", global: n, [.buffer(c.output.mem), .int(n), .float(value)])
    }

    private static func run(_ copy: StridedCopy, _ c: KernelContext, from source: cl_mem) throws {
        guard copy.dims.count <= 8 else {
            throw ConfluxError.invalidArgument(
                op: c.node.op.rawValue, reason: "rank \(copy.dims.count): the OpenCL kernels take up to 8 dimensions")
        }
        try c.opencl.runtime().launch(
            .elementwise, "strided_copy", global: copy.count,
            [
                .buffer(source), .buffer(c.output.mem), .int(copy.count), .int(copy.dims.count), .ints8(copy.dims),
                .ints8(copy.sourceStrides), .ints8(copy.destinationStrides), .int(copy.sourceOffset),
                .int(copy.destinationOffset),
            ])
    }
}

extension OpenCLKernels {
    /// The kernels of this file, registered by the backend.
    static let layout: [(OpType, Kernel)] = [
        (.transpose, transpose), (.slice, slice), (.sliceGrad, sliceGrad), (.pad, pad), (.concat, concat),
    ]
}
