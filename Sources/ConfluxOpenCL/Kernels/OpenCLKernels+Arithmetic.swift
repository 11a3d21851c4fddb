import Conflux
import Kernels

/// Add, Sub, Mul and RealDiv with NumPy broadcasting, and SumToShape (`elementwise.cl`): one work-item per output
/// element, which finds its inputs through the `BroadcastLayout`.
extension OpenCLKernels {
    static func broadcasting(_ name: String) -> Kernel {
        { c in
            let layout = BroadcastLayout(output: c.output.shape, inputs: [c.inputs[0].shape, c.inputs[1].shape])
            try checkRank(layout, c)
            try c.opencl.runtime().launch(
                .elementwise, name, global: layout.count,
                [
                    .buffer(c.inputs[0].mem), .buffer(c.inputs[1].mem), .buffer(c.output.mem), .int(layout.count),
                    .int(layout.dims.count), .ints8(layout.dims), .ints8(layout.strides[0]),
                    .ints8(layout.strides[1]),
                ])
        }
    }

    static func sumToShape(_ c: KernelContext) throws {
        let layout = BroadcastLayout(output: c.inputs[0].shape, inputs: [c.output.shape])
        try checkRank(layout, c)
        let n = c.output.shape.count
        try c.opencl.runtime().launch(
            .elementwise, "sum_to_shape", global: n,
            [
                .buffer(c.inputs[0].mem), .buffer(c.output.mem), .int(n), .int(layout.dims.count),
                .ints8(layout.dims), .ints8(layout.strides[0]),
            ])
    }

    /// The kernels take up to eight dimensions once merged, which every broadcast of up to eight dimensions fits.
    private static func checkRank(_ layout: BroadcastLayout, _ c: KernelContext) throws {
        guard layout.dims.count <= 8 else {
            throw ConfluxError.invalidArgument(
                op: c.node.op.rawValue,
                reason: "broadcasting \(c.inputs.map(\.shape)) alternates over \(layout.dims.count) dimensions; "
                    + "the OpenCL kernels take up to 8")
        }
    }
}

extension OpenCLKernels {
    /// The kernels of this file, registered by the backend.
    static let arithmetic: [(OpType, Kernel)] = [
        (.add, broadcasting("add")), (.sub, broadcasting("sub")), (.mul, broadcasting("mul")),
        (.realDiv, broadcasting("real_div")), (.sumToShape, sumToShape),
    ]
}
