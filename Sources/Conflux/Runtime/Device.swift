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
        self.shape = shape
        self.dtype = dtype
        self.storage = storage
    }
}

/// A point in a device's compute stream: it passes once the work enqueued before it is done.
public protocol DeviceEvent: AnyObject {}

/// A place where kernels run and tensors live: `cpu:0`, `opencl:1`.
public protocol Device: AnyObject, Sendable {
    /// The name users select it by: `cpu:0`, `opencl:0`.
    var id: String { get }
    var kind: DeviceKind { get }
    /// A human-readable model name.
    var name: String { get }
    /// Key properties as label/value pairs, in display order, for `conflux devices`.
    var properties: [(String, String)] { get }

    /// How many buffers the device has allocated so far; constant across training steps once the first has run.
    var allocations: Int { get }

    /// Storage for `byteCount` bytes; `tensor` names what it is for in an out-of-memory error.
    func allocate(byteCount: Int, for tensor: String) throws -> any DeviceStorage
    /// Copies a host tensor into device storage of the same size.
    func upload(_ host: HostTensor, to tensor: DeviceTensor) throws
    /// Copies a device tensor back to the host, once everything enqueued before has run.
    func download(_ tensor: DeviceTensor) throws -> HostTensor

    /// Waits until the work enqueued so far is done (nothing to wait for on a synchronous device).
    func synchronize() throws

    /// A marker after the work enqueued so far; nil when that work is already done (a synchronous device).
    func marker() throws -> (any DeviceEvent)?
    /// Copies a device tensor to the host once `event` has passed, without holding up the compute stream: the
    /// transfer stream of a cross-device copy. Safe to call while another thread enqueues compute.
    func download(_ tensor: DeviceTensor, after event: (any DeviceEvent)?) throws -> HostTensor
}

extension Device {
    public func synchronize() throws {}
    public func marker() throws -> (any DeviceEvent)? { nil }
    public func download(_ tensor: DeviceTensor, after event: (any DeviceEvent)?) throws -> HostTensor {
        try download(tensor)
    }
}

extension Device {
    /// A device tensor of `shape` and `dtype`, freshly allocated.
    public func allocate(_ shape: Shape, _ dtype: DType, for tensor: String) throws -> DeviceTensor {
        DeviceTensor(
            shape: shape, dtype: dtype, storage: try allocate(byteCount: shape.count * dtype.size, for: tensor))
    }
}
