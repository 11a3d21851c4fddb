/// The family of a device; kernels are registered per kind.
public struct DeviceKind: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let cpu = DeviceKind(rawValue: "cpu")
    public static let opencl = DeviceKind(rawValue: "opencl")
    public var description: String { rawValue }
}

/// Memory a device owns for one tensor; each backend defines its own.
public protocol DeviceStorage: AnyObject {
    var byteCount: Int { get }
}

/// A tensor in a device's memory.
public final class DeviceTensor {
    public let shape: Shape
    public let dtype: DType
    public let storage: any DeviceStorage

    public init(shape: Shape, dtype: DType, storage: any DeviceStorage) {
        precondition(shape.count * dtype.size <= storage.byteCount, "a tensor larger than its storage")
        self.shape = shape
        self.dtype = dtype
        self.storage = storage
    }

    /// The bytes the tensor holds: the first of its storage's, which a plan may have made larger (`PlanBuilder`).
    public var byteCount: Int { shape.count * dtype.size }
}

/// A point in one of a device's streams: it passes once the work enqueued before it is done.
public protocol DeviceEvent: AnyObject {
    /// Blocks the calling thread until the event has passed.
    func wait() throws
}

/// Host memory that transfers pass through; pinned (page-locked) where the device offers it, so that copies to
/// and from it run at full speed and need no intermediate copy by the driver.
public final class HostStaging {
    public let pointer: UnsafeMutableRawPointer
    public let byteCount: Int
    private let free: () -> Void

    public init(pointer: UnsafeMutableRawPointer, byteCount: Int, free: @escaping () -> Void) {
        self.pointer = pointer
        self.byteCount = byteCount
        self.free = free
    }

    /// Ordinary 64-byte-aligned host memory.
    public convenience init(byteCount: Int) {
        let pointer = UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 1), alignment: 64)
        self.init(pointer: pointer, byteCount: byteCount, free: { pointer.deallocate() })
    }

    deinit { free() }
}

/// A place where kernels run and tensors live: `cpu:0`, `opencl:1`.
///
/// A device has an in-order compute stream, which the kernels and `upload`/`download` use, and a transfer stream
/// for copies between devices (`read`, `write`, `copy`), which overlaps the compute stream; events order the two.
/// The transfer-stream calls may come from another thread while one thread enqueues compute. A device whose
/// tensors live in host memory (the CPU) runs everything synchronously and needs only `hostMemory`.
public protocol Device: AnyObject, Sendable {
    /// The name users select it by: `cpu:0`, `opencl:0`.
    var id: String { get }
    var kind: DeviceKind { get }
    /// A human-readable model name.
    var name: String { get }
    /// Key properties as label/value pairs, in display order, for `conflux devices`.
    var properties: [(String, String)] { get }
    /// The processor its kernels run on: `host` for the CPU device and for an OpenCL CPU device (PoCL), which
    /// compete for the same cores; its own id for an accelerator.
    var processor: String { get }

    /// How many buffers the device has allocated so far; constant across training steps once the first has run.
    var allocations: Int { get }

    /// Storage for `byteCount` bytes; `tensor` names what it is for in an out-of-memory error.
    func allocate(byteCount: Int, for tensor: String) throws -> any DeviceStorage
    /// Copies a host tensor into device storage of the same size, in order with the compute stream.
    func upload(_ host: HostTensor, to tensor: DeviceTensor) throws
    /// Copies a device tensor back to the host, once everything enqueued before has run.
    func download(_ tensor: DeviceTensor) throws -> HostTensor

    /// The alignment, in bytes, of a view's offset; 0 when the device makes no views.
    var viewAlignment: Int { get }
    /// A tensor of `shape` over `tensor`'s memory from byte `offset`, sharing it: how a kernel runs on some rows.
    func view(of tensor: DeviceTensor, offset: Int, shape: Shape) throws -> DeviceTensor

    /// Waits until the work enqueued so far is done (nothing to wait for on a synchronous device).
    func synchronize() throws
    /// A marker after the work enqueued on the compute stream so far; nil when that work is already done.
    func marker() throws -> (any DeviceEvent)?
    /// Makes the compute stream's later work wait for `event`, an event of this device's transfer stream.
    func wait(for event: any DeviceEvent) throws

    /// The address of a tensor that lives in host memory (the CPU's): transfers read and write it in place.
    func hostMemory(of tensor: DeviceTensor) -> UnsafeMutableRawPointer?
    /// Host memory for staging transfers, pinned where the device can pin it.
    func allocateStaging(byteCount: Int) throws -> HostStaging
    /// Transfer stream: copies `bytes` of `tensor` to `host` (the address of the range's first byte) once
    /// `event` has passed; returns when the copy is done.
    func read(
        _ tensor: DeviceTensor, bytes: Range<Int>, into host: UnsafeMutableRawPointer, after event: (any DeviceEvent)?)
        throws
    /// Transfer stream: starts copying `host` into `bytes` of `tensor` once `event` (of this device) has passed.
    /// The returned event passes when the copy is done (nil: already done); `host` must stay valid until then.
    func write(_ host: UnsafeRawPointer, to tensor: DeviceTensor, bytes: Range<Int>, after event: (any DeviceEvent)?)
        throws -> (any DeviceEvent)?
    /// Whether this device reads `other`'s tensors directly (one OpenCL context), so `copy` can move them.
    func sharesMemory(with other: any Device) -> Bool
    /// Transfer stream: starts copying `bytes` of `source`, a tensor of this device or of one it shares memory
    /// with, into the same range of `destination` once all of `events` have passed.
    func copy(_ source: DeviceTensor, to destination: DeviceTensor, bytes: Range<Int>, after events: [any DeviceEvent])
        throws -> (any DeviceEvent)?

    /// How this device's kernel for `node`, whose inputs have `inputs` shapes, takes channels-last tensors.
    func channelsLastUse(for node: Node, inputs: [Shape]) -> ChannelsLastUse
}

/// A synchronous device whose tensors live in host memory.
extension Device {
    public var processor: String { id }
    public var viewAlignment: Int { 0 }
    public func view(of tensor: DeviceTensor, offset: Int, shape: Shape) throws -> DeviceTensor {
        throw ConfluxError.invalidArgument(op: "view", reason: "\(id) makes no views of its tensors")
    }

    public func synchronize() throws {}
    public func marker() throws -> (any DeviceEvent)? { nil }
    public func wait(for event: any DeviceEvent) throws { try event.wait() }
    public func hostMemory(of tensor: DeviceTensor) -> UnsafeMutableRawPointer? { nil }
    public func allocateStaging(byteCount: Int) throws -> HostStaging { HostStaging(byteCount: byteCount) }

    public func read(
        _ tensor: DeviceTensor, bytes: Range<Int>, into host: UnsafeMutableRawPointer, after event: (any DeviceEvent)?
    ) throws {
        try event?.wait()
        host.copyMemory(from: try addressInHost(tensor) + bytes.lowerBound, byteCount: bytes.count)
    }

    public func write(
        _ host: UnsafeRawPointer, to tensor: DeviceTensor, bytes: Range<Int>, after event: (any DeviceEvent)?
    ) throws -> (any DeviceEvent)? {
        try event?.wait()
        (try addressInHost(tensor) + bytes.lowerBound).copyMemory(from: host, byteCount: bytes.count)
        return nil
    }

    public func sharesMemory(with other: any Device) -> Bool { false }
    public func channelsLastUse(for node: Node, inputs: [Shape]) -> ChannelsLastUse { .none }

    public func copy(
        _ source: DeviceTensor, to destination: DeviceTensor, bytes: Range<Int>, after events: [any DeviceEvent]
    ) throws -> (any DeviceEvent)? {
        for event in events { try event.wait() }
        let from = try addressInHost(source) + bytes.lowerBound
        (try addressInHost(destination) + bytes.lowerBound).copyMemory(from: from, byteCount: bytes.count)
        return nil
    }

    private func addressInHost(_ tensor: DeviceTensor) throws -> UnsafeMutableRawPointer {
        guard let address = hostMemory(of: tensor) else {
            throw ConfluxError.invalidArgument(
                op: "transfer", reason: "\(id) implements no transfer stream and its tensors are not in host memory")
        }
        return address
    }
}

extension Device {
    /// A device tensor of `shape` and `dtype`, freshly allocated.
    public func allocate(_ shape: Shape, _ dtype: DType, for tensor: String) throws -> DeviceTensor {
        DeviceTensor(
            shape: shape, dtype: dtype, storage: try allocate(byteCount: shape.count * dtype.size, for: tensor))
    }
}
