import Conflux
import Kernels

extension OpenCLKernels {
    /// An element-wise kernel reading `inputs` and writing the output, one work-item per element, with the
    /// node's float attributes named `parameters` as its last arguments.
    static func elementwise(_ name: String, parameters: [String] = []) -> Kernel {
        { c in
            let n = c.output.shape.count
            try c.opencl.runtime().launch(
                .elementwise, name, global: n,
                c.inputs.map { .buffer($0.mem) } + [.buffer(c.output.mem), .int(n)]
                    + parameters.map { .float(c.node.attributes.float($0)) })
        }
    }

    static func biasAdd(_ c: KernelContext) throws {
        let x = c.inputs[0]
        let n = x.shape.count
        try c.opencl.runtime().launch(
            .elementwise, "bias_add", global: n,
            [
                .buffer(x.mem), .buffer(c.inputs[1].mem), .buffer(c.output.mem), .int(n), .int(x.shape[1]),
                .int(n / (x.shape[0] * x.shape[1])),
            ])
    }

    static func matMul(_ c: KernelContext) throws {
        let (a, b) = (c.inputs[0], c.inputs[1])
        let transposeA = c.node.attributes.bool("transposeA")
        try CLBlastGEMM.gemm(
            on: c.opencl, transposeA: transposeA, transposeB: c.node.attributes.bool("transposeB"),
            m: c.output.shape[0], n: c.output.shape[1], k: transposeA ? a.shape[0] : a.shape[1],
            a: .init(mem: a.mem, ld: a.shape[1]), b: .init(mem: b.mem, ld: b.shape[1]),
            c: .init(mem: c.output.mem, ld: c.output.shape[1]))
    }
}

extension OpenCLKernels {
    /// The kernels of this file and of `elementwise.cl`, registered by the backend.
    static let elementwiseAndMatrices: [(OpType, Kernel)] = [
        (.matMul, matMul), (.biasAdd, biasAdd), (.reshape, elementwise("copy")), (.identity, elementwise("copy")),
        (.relu, elementwise("relu_forward")), (.reluGrad, elementwise("relu_grad")),
        (.tanh, elementwise("tanh_forward")), (.tanhGrad, elementwise("tanh_grad")),
        (.sigmoid, elementwise("sigmoid_forward")), (.sigmoidGrad, elementwise("sigmoid_grad")),
        (.leakyRelu, elementwise("leaky_relu_forward", parameters: ["alpha"])),
        (.leakyReluGrad, elementwise("leaky_relu_grad", parameters: ["alpha"])),
        (.clip, elementwise("clip_forward", parameters: ["min", "max"])),
        (.clipGrad, elementwise("clip_grad", parameters: ["min", "max"])),
        (.hardSwish, elementwise("hard_swish_forward")), (.hardSwishGrad, elementwise("hard_swish_grad")),
    ]
}
