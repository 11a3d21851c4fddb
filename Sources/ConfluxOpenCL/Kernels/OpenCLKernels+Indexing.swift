import Conflux
import Kernels

/// Shape, GatherV2 and Cast (`elementwise.cl`), for graphs whose shape arithmetic could not be folded at build
/// time. A Gather index out of range is reported through the device's data-check slots.
extension OpenCLKernels {
    static func shape(_ c: KernelContext) throws {
        let dims = c.inputs[0].shape.dims
        guard dims.count <= 8 else {
            throw ConfluxError.invalidArgument(
                op: "Shape", reason: "rank \(dims.count): the OpenCL kernel takes up to 8")
        }
        try c.opencl.runtime().launch(
            .elementwise, "write_ints", global: dims.count, [.buffer(c.output.mem), .int(dims.count), .ints8(dims)])
    }

    static func gather(_ c: KernelContext) throws {
        let (data, indices) = (c.inputs[0], c.inputs[1])
        let gathering = Gathering(data: data.shape, indices: indices.shape, attributes: c.node.attributes)
        let runtime = try c.opencl.runtime()
        let check = DataCheck.indices(op: c.node.op.rawValue, node: c.node.name, bound: gathering.axisSize)
        let (checks, slot) = try c.opencl.dataChecks.slot(for: check, on: runtime)
        let n = c.output.shape.count
        try runtime.launch(
            .elementwise, "gather", global: n,
            [
                .buffer(data.mem), .buffer(indices.mem), .buffer(c.output.mem), .int(n), .int(gathering.axisSize),
                .int(gathering.inner), .int(gathering.indexCount), .buffer(checks), .int(slot),
            ])
    }

    static func cast(_ c: KernelContext) throws {
        let n = c.output.shape.count
        try c.opencl.runtime().launch(
            .elementwise, c.output.dtype == .int32 ? "cast_to_int" : "cast_to_float", global: n,
            [.buffer(c.inputs[0].mem), .buffer(c.output.mem), .int(n)])
    }
}

extension OpenCLKernels {
    /// The kernels of this file, registered by the backend.
    static let indexing: [(OpType, Kernel)] = [(.shape, shape), (.gather, gather), (.cast, cast)]
}
