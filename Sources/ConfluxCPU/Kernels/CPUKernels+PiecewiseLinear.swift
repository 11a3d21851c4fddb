import Conflux

/// LeakyRelu, Clip and HardSwish, and their gradients, which read the activation's input.
extension CPUKernels {
    static func leakyRelu(_ c: KernelContext) {
        let (x, y, alpha) = (c.inputs[0].floats, c.output.floats, c.node.attributes.float("alpha"))
        elementwise(c) { range in
            for i in range { y[i] = x[i] < 0 ? alpha * x[i] : x[i] }
        }
    }

    /// dx = dy where x > 0, alpha·dy elsewhere (as PyTorch).
    static func leakyReluGrad(_ c: KernelContext) {
        let (x, dy, dx) = (c.inputs[0].floats, c.inputs[1].floats, c.output.floats)
        let alpha = c.node.attributes.float("alpha")
        elementwise(c) { range in
            for i in range { dx[i] = x[i] > 0 ? dy[i] : alpha * dy[i] }
        }
    }

    static func clip(_ c: KernelContext) {
        let (x, y) = (c.inputs[0].floats, c.output.floats)
        let (low, high) = (c.node.attributes.float("min"), c.node.attributes.float("max"))
        elementwise(c) { range in
            for i in range { y[i] = Swift.min(Swift.max(x[i], low), high) }
        }
    }

    /// dx = dy where min ≤ x ≤ max, 0 elsewhere (as PyTorch's clamp).
    static func clipGrad(_ c: KernelContext) {
        let (x, dy, dx) = (c.inputs[0].floats, c.inputs[1].floats, c.output.floats)
        let (low, high) = (c.node.attributes.float("min"), c.node.attributes.float("max"))
        elementwise(c) { range in
            for i in range { dx[i] = x[i] >= low && x[i] <= high ? dy[i] : 0 }
        }
    }

    static func hardSwish(_ c: KernelContext) {
        let (x, y) = (c.inputs[0].floats, c.output.floats)
        elementwise(c) { range in
            for i in range { y[i] = x[i] * Swift.min(Swift.max(x[i] + 3, 0), 6) / 6 }
        }
    }

    /// dx = 0 below -3, dy·(x/3 + 1/2) up to 3, dy above (as PyTorch).
    static func hardSwishGrad(_ c: KernelContext) {
        let (x, dy, dx) = (c.inputs[0].floats, c.inputs[1].floats, c.output.floats)
        elementwise(c) { range in
            for i in range { dx[i] = x[i] < -3 ? 0 : x[i] <= 3 ? dy[i] * (x[i] / 3 + 0.5) : dy[i] }
        }
    }
}

extension CPUKernels {
    /// The kernels of this file, registered by the backend.
    static let piecewiseLinear: [(OpType, Kernel)] = [
        (.leakyRelu, leakyRelu), (.leakyReluGrad, leakyReluGrad), (.clip, clip), (.clipGrad, clipGrad),
        (.hardSwish, hardSwish), (.hardSwishGrad, hardSwishGrad),
    ]
}
