/// Every device the present backends found, and the kernels they registered.
public struct DeviceSet {
    public let devices: [any Device]
    public let kernels: KernelRegistry

    /// Discovers the devices of each backend, in the order given, and registers their kernels.
    public init(backends: [any Backend.Type]) throws {
        var registry = KernelRegistry()
        var devices: [any Device] = []
        for backend in backends {
            devices += try backend.discover()
            backend.register(into: &registry)
        }
        self.devices = devices
        self.kernels = registry
    }

    /// The devices of this process and, in a job that spans tasks, every other task's as `RemoteDevice`s.
    public init(devices: [any Device], kernels: KernelRegistry) {
        self.devices = devices
        self.kernels = kernels
    }

    /// The tasks the devices span; nil when all are this process's.
    public var tasks: TaskSpan? { TaskSpan(devices: devices) }

    /// The device called `name`: a full id (`cpu:0`, `opencl:1`) or a kind alone (`cpu`), meaning its first device;
    /// qualified by a task (`task:1/cpu:0`), that task's device (this process's own is task 0 when it is alone).
    ///
    /// - Throws: `unknownDevice`, listing the devices that exist, each qualified by its task in a job of several.
    public func device(named name: String) throws -> any Device {
        let wanted = TaskDeviceName.local(name, task: tasks?.own ?? 0)
        if let exact = devices.first(where: { $0.id == wanted }) { return exact }
        if !wanted.contains(":"), let first = devices.first(where: { $0.kind.rawValue == wanted }) { return first }
        throw ConfluxError.unknownDevice(requested: name, available: qualifiedIDs)
    }

    /// Every device's id, qualified by its task when the devices span tasks.
    public var qualifiedIDs: [String] {
        guard let tasks else { return devices.map(\.id) }
        return devices.map { TaskDeviceName.qualified($0.id, task: tasks.own) }
    }
}
