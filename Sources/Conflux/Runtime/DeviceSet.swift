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

    /// The device called `name`: a full id (`cpu:0`, `opencl:1`) or a kind alone (`cpu`), meaning its first device.
    ///
    /// - Throws: `unknownDevice`, listing the devices that exist.
    public func device(named name: String) throws -> any Device {
        let wanted = name.lowercased()
        if let exact = devices.first(where: { $0.id == wanted }) { return exact }
        if !wanted.contains(":"), let first = devices.first(where: { $0.kind.rawValue == wanted }) { return first }
        throw ConfluxError.unknownDevice(requested: name, available: devices.map(\.id))
    }
}
