import COpenCL
import Conflux
import Kernels

extension OpenCLKernels {
    static func softmax(_ c: KernelContext) throws {
        try rowKernel(c, "softmax_forward", [.buffer(c.inputs[0].mem), .buffer(c.output.mem)])
    }

    static func softmaxGrad(_ c: KernelContext) throws {
        try rowKernel(c, "softmax_grad", [.buffer(c.inputs[0].mem), .buffer(c.inputs[1].mem), .buffer(c.output.mem)])
    }

    static func logSoftmax(_ c: KernelContext) throws {
        try rowKernel(c, "log_softmax_forward", [.buffer(c.inputs[0].mem), .buffer(c.output.mem)])
    }

    static func logSoftmaxGrad(_ c: KernelContext) throws {
        try rowKernel(
            c, "log_softmax_grad", [.buffer(c.inputs[0].mem), .buffer(c.inputs[1].mem), .buffer(c.output.mem)])
    }

    static func softmaxCrossEntropy(_ c: KernelContext) throws {
        try rowKernel(
            c, "softmax_xent",
            [.buffer(c.inputs[0].mem), .buffer(c.inputs[1].mem), .buffer(c.output.mem)] + (try watchLabels(c)))
    }

    static func softmaxCrossEntropyGrad(_ c: KernelContext) throws {
        try rowKernel(
            c, "softmax_xent_grad",
            [
                .buffer(c.inputs[0].mem), .buffer(c.inputs[1].mem), .buffer(c.inputs[2].mem), .buffer(c.output.mem),
            ] + (try watchLabels(c)))
    }

    static func argMax(_ c: KernelContext) throws {
        try rowKernel(c, "argmax_rows", [.buffer(c.inputs[0].mem), .buffer(c.output.mem)])
    }

    static func accuracy(_ c: KernelContext) throws {
        let runtime = try c.opencl.runtime()
        let logits = c.inputs[0]
        try runtime.launch(
            .softmax, "accuracy", global: runtime.groupSize, local: runtime.groupSize,
            [
                .buffer(logits.mem), .buffer(c.inputs[1].mem), .buffer(c.output.mem), .int(logits.shape[0]),
                .int(logits.shape[1]),
            ])
    }

    /// One work-item per row of the logits (input 0), with rows and classes appended to `arguments`.
    private static func rowKernel(_ c: KernelContext, _ name: String, _ arguments: [KernelArgument]) throws {
        let logits = c.inputs[0]
        try c.opencl.runtime().launch(
            .softmax, name, global: logits.shape[0], arguments + [.int(logits.shape[0]), .int(logits.shape[1])])
    }

    /// The data-check slot a label-checking kernel reports to (buffer and index); the next fetch reads it.
    private static func watchLabels(_ c: KernelContext) throws -> [KernelArgument] {
        let check = DataCheck.labels(of: c.node, classes: c.inputs[0].shape[1])
        let (buffer, slot) = try c.opencl.dataChecks.slot(for: check, on: try c.opencl.runtime())
        return [.buffer(buffer), .int(slot)]
    }
}

extension OpenCLKernels {
    /// The kernels of this file, registered by the backend.
    static let softmaxAndLosses: [(OpType, Kernel)] = [
        (.softmax, softmax), (.softmaxGrad, softmaxGrad), (.logSoftmax, logSoftmax), (.logSoftmaxGrad, logSoftmaxGrad),
        (.softmaxCrossEntropy, softmaxCrossEntropy),
        (.softmaxCrossEntropyGrad, softmaxCrossEntropyGrad), (.argMax, argMax), (.accuracy, accuracy),
    ]
}
