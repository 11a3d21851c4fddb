import Conflux

/// What a fused convolution (`Fusion`) applies as it writes its output: y = activation(conv + bias + residual).
struct ConvolutionEpilogue: Hashable {
    enum Activation: Hashable {
        case none
        case relu
        /// Limits to min...max: ReLU6 is clip(0, 6).
        case clip(Float, Float)
    }

    var bias = false
    var residual = false
    var activation = Activation.none

    init() {}

    /// A convolution node's: nothing for a Conv2D, a fused one's from its attributes.
    init(of node: Node) {
        guard node.op == .fusedConv2D else { return }
        let attributes = node.attributes
        bias = attributes.bool("bias")
        residual = attributes.bool("residual")
        if attributes.bool("relu") {
            activation = .relu
        } else if attributes.bool("clip") {
            activation = .clip(attributes.float("min"), attributes.float("max"))
        }
    }

    /// Whether the direct vector kernels apply all of it as they write: a bias and a ReLU, nothing else.
    var isBiasAndReLU: Bool { !residual && (activation == .none || activation == .relu) }

    /// The residual's input index among a fused convolution's inputs.
    var residualInput: Int { bias ? 3 : 2 }

    /// y = activation(y + residual) over plain `count` floats, after a kernel that applied only the bias.
    func finish(_ y: UnsafeMutablePointer<Float>, residual r: UnsafePointer<Float>?, count: Int, on cpu: CPUDevice) {
        cpu.parallelChunks(count, serialBelow: 1 << 15) { _, range in
            if let r { for i in range { y[i] += r[i] } }
            switch activation {
            case .none: break
            case .relu: for i in range { y[i] = Swift.max(y[i], 0) }
            case .clip(let low, let high): for i in range { y[i] = Swift.min(Swift.max(y[i], low), high) }
            }
        }
    }
}
