import Conflux
import Kernels

extension OpenCLKernels {
    static func maxPool(_ c: KernelContext) throws {
        let g = WindowGeometry(input: c.inputs[0].shape, attributes: c.node.attributes)
        guard g.isHalving else { return try pool(c, "max_pool", input: c.inputs[0].shape, forward: true) }
        try halving(c, g, "max_pool_halving", relu: false)
    }
    static func avgPool(_ c: KernelContext) throws { try pool(c, "avg_pool", input: c.inputs[0].shape, forward: true) }
    static func maxPoolGrad(_ c: KernelContext) throws { try routeMaxPoolGradient(c, relu: false) }

    /// MaxPoolGrad and the ReluGrad of the pooled ReLU (`Fusion`): the gradient of a window goes to its maximum only
    /// when that is positive.
    static func fusedMaxPoolGrad(_ c: KernelContext) throws { try routeMaxPoolGradient(c, relu: true) }

    private static func routeMaxPoolGradient(_ c: KernelContext, relu: Bool) throws {
        let g = WindowGeometry(input: c.inputs[0].shape, attributes: c.node.attributes)
        if g.isHalving { return try halving(c, g, "max_pool_halving_grad", relu: relu) }
        try pool(c, "max_pool_grad", input: c.inputs[0].shape, forward: false)
        guard relu else { return }
        let n = c.output.shape.count
        try c.opencl.runtime().launch(
            .elementwise, "relu_grad", global: n,
            [.buffer(c.inputs[0].mem), .buffer(c.output.mem), .buffer(c.output.mem), .int(n)])
    }

    static func avgPoolGrad(_ c: KernelContext) throws {
        try pool(c, "avg_pool_grad", input: c.output.shape, forward: false)
    }

    /// 2×2 windows with stride 2 in the specialized kernels of `direct.cl`: one work-item per window.
    private static func halving(_ c: KernelContext, _ g: WindowGeometry, _ name: String, relu: Bool) throws {
        try c.opencl.runtime().launch(
            .direct, name,
            specialization: [
                "HALVING": 1, "PLANES": g.batch * g.channels, "H": g.height, "W": g.width, "OH": g.outHeight,
                "OW": g.outWidth, "RELU": relu ? 1 : 0,
            ],
            global: [g.outWidth, g.outHeight, g.batch * g.channels],
            local: rowGroup(width: g.outWidth, height: g.outHeight),
            (c.inputs + [c.output]).map { .buffer($0.mem) })
    }

    /// Forward kernels run one work-item per output element, gradients one per input element.
    private static func pool(_ c: KernelContext, _ name: String, input: Shape, forward: Bool) throws {
        let g = WindowGeometry(input: input, attributes: c.node.attributes)
        let planes = g.batch * g.channels
        try c.opencl.runtime().launch(
            .pooling, name, global: forward ? planes * g.outHeight * g.outWidth : planes * g.height * g.width,
            (c.inputs + [c.output]).map { .buffer($0.mem) } + [
                .int(planes), .int(g.height), .int(g.width), .int(g.outHeight), .int(g.outWidth), .int(g.kernelHeight),
                .int(g.kernelWidth), .int(g.strideHeight), .int(g.strideWidth), .int(g.padTop), .int(g.padLeft),
                .int(g.dilationHeight), .int(g.dilationWidth),
            ] + (c.node.op == .avgPool || c.node.op == .avgPoolGrad ? g.countedPads.map { .int($0) } : []))
    }
}

extension OpenCLKernels {
    /// The kernels of this file, registered by the backend.
    static let pooling: [(OpType, Kernel)] = [
        (.maxPool, maxPool), (.avgPool, avgPool), (.maxPoolGrad, maxPoolGrad), (.fusedMaxPoolGrad, fusedMaxPoolGrad),
        (.avgPoolGrad, avgPoolGrad),
    ]
}
