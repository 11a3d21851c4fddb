import Foundation

/// What one task tells the others about one of its devices when a job starts.
public struct DeviceDescription: Codable, Sendable {
    /// Its name in its own task: `cpu:0`.
    public let id: String
    public let kind: String
    public let name: String
    /// (label, value) pairs, in the device's order.
    public let properties: [[String]]
    public let processor: String
    /// The host name of its machine: devices of two tasks on one machine may share a processor.
    public let machine: String
    public let viewAlignment: Int
    /// Its measured speed, when the placer needs it.
    public let profile: DeviceProfile?

    public init(_ device: any Device, profile: DeviceProfile? = nil) {
        (id, kind, name, processor) = (device.id, device.kind.rawValue, device.name, device.processor)
        properties = device.properties.map { [$0.0, $0.1] }
        viewAlignment = device.viewAlignment
        machine = ProcessInfo.processInfo.hostName
        self.profile = profile
    }
}

/// A device of another task of the job, as this task plans with it: the plan of a run has the same steps on every
/// task, and each task runs only the lanes of its own devices. A remote tensor has a size and no memory here; a
/// tensor that crosses tasks moves through `transport`.
public final class RemoteDevice: Device, @unchecked Sendable {
    public let task: Int
    /// `task:1/cpu:0`.
    public let id: String
    public let kind: DeviceKind
    public let name: String
    public let properties: [(String, String)]
    public let processor: String
    public let viewAlignment: Int
    /// Its speed as its task measured it, for the placer.
    public let profile: DeviceProfile?
    public let transport: any TaskTransport

    public init(task: Int, _ description: DeviceDescription, transport: any TaskTransport) {
        self.task = task
        id = TaskDeviceName.qualified(description.id, task: task)
        kind = DeviceKind(rawValue: description.kind)
        name = description.name
        properties = description.properties.map { ($0[0], $0.count > 1 ? $0[1] : "") }
        // Tasks on one machine compete for its processors (two ranks of `mpirun` on one host share its cores).
        processor =
            description.machine == ProcessInfo.processInfo.hostName
            ? description.processor : "\(description.machine)/\(description.processor)"
        viewAlignment = description.viewAlignment
        profile = description.profile
        self.transport = transport
    }

    public var allocations: Int { 0 }

    public func allocate(byteCount: Int, for tensor: String) throws -> any DeviceStorage {
        RemoteStorage(byteCount: byteCount)
    }

    /// Values for a remote tensor are put there by its own task (every task feeds and restores its own devices).
    public func upload(_ host: HostTensor, to tensor: DeviceTensor) throws {}

    public func download(_ tensor: DeviceTensor) throws -> HostTensor {
        throw ConfluxError.invalidArgument(
            op: "download", reason: "\(id) belongs to task \(task): its tensors reach this task only as transfers")
    }

    public func view(of tensor: DeviceTensor, offset: Int, shape: Shape) throws -> DeviceTensor {
        DeviceTensor(
            shape: shape, dtype: tensor.dtype, storage: RemoteStorage(byteCount: shape.count * tensor.dtype.size))
    }
}

/// The size of a tensor that lives on another task.
final class RemoteStorage: DeviceStorage {
    let byteCount: Int
    init(byteCount: Int) { self.byteCount = byteCount }
}
