/// What a kernel receives: its node, its inputs and the output to fill, all on one device.
public struct KernelContext {
    public let node: Node
    public let inputs: [DeviceTensor]
    public let output: DeviceTensor
    public let device: any Device
    /// The indices of the inputs that are persistent tensors of this device (variables and constants, the
    /// session's own buffers): written only by uploads and by ops that update variables, so that a kernel may keep
    /// what it derives from them (a reordered filter) until then.
    public var persistentInputs: Set<Int> = []
    /// The layout of each input and of the output (`LayoutAssignment`): plain unless the device's kernel said it
    /// takes them channels-last.
    public var inputLayouts: [TensorLayout]
    public var outputLayout = TensorLayout.plain
    /// Where a kernel keeps what it derives from the context alone on its first run, for the next runs (a
    /// convolution's geometry, epilogue and oneDNN plan, as TensorFlow's OpKernel is built once per node): a
    /// plan's contexts never change their node, tensors or layouts. A context made anew starts empty.
    public let memo = KernelMemo()

    public init(node: Node, inputs: [DeviceTensor], output: DeviceTensor, device: any Device) {
        self.node = node
        self.inputs = inputs
        self.output = output
        self.device = device
        inputLayouts = Array(repeating: .plain, count: inputs.count)
    }
}

/// What a kernel keeps between runs of one `KernelContext`.
public final class KernelMemo {
    public var value: AnyObject?
}

/// The computation of one op on one kind of device; throws for values it cannot compute with.
public typealias Kernel = (KernelContext) throws -> Void

/// Kernels keyed by (op type, device kind), as TensorFlow's `REGISTER_KERNEL_BUILDER`.
public struct KernelRegistry {
    private struct Key: Hashable {
        let op: OpType
        let kind: DeviceKind
    }

    private var kernels: [Key: Kernel] = [:]

    public init() {}

    /// Registers `kernel` for `op` on devices of `kind`, replacing any earlier one.
    public mutating func register(_ op: OpType, on kind: DeviceKind, _ kernel: @escaping Kernel) {
        kernels[Key(op: op, kind: kind)] = kernel
    }

    public func kernel(for op: OpType, on kind: DeviceKind) -> Kernel? { kernels[Key(op: op, kind: kind)] }

    /// The device kinds that have a kernel for `op`.
    public func kinds(for op: OpType) -> [DeviceKind] {
        kernels.keys.filter { $0.op == op }.map(\.kind).sorted { $0.rawValue < $1.rawValue }
    }
}
