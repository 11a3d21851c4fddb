/// How a 4-D tensor's elements lie in its device's memory. Kernels see the layout of each input and of their
/// output in `KernelContext`; everything outside kernels (feeds, fetches, transfers, variables) sees `plain`.
public enum TensorLayout: Sendable, Hashable {
    /// Row-major in the shape's order: NCHW.
    case plain
    /// The channels innermost, NHWC: what oneDNN's convolutions on the CPU read and write.
    case channelsLast
}

/// How a device's kernel for a node takes tensors in `TensorLayout.channelsLast` (`LayoutAssignment`).
public enum ChannelsLastUse: Sendable, Equatable {
    /// Plain tensors only.
    case none
    /// Each of `inputs`, and the output when `output`, in either layout, chosen independently.
    case independent(inputs: Set<Int>, output: Bool)
    /// One layout for every input and the output alike: an element-wise op, a pooling.
    case uniform

    func reads(slot: Int) -> Bool {
        switch self {
        case .none: false
        case .independent(let inputs, _): inputs.contains(slot)
        case .uniform: true
        }
    }

    var writes: Bool {
        switch self {
        case .none: false
        case .independent(_, let output): output
        case .uniform: true
        }
    }
}
