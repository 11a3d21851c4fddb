/// A device plugin: finds its devices and registers its kernels. The core never imports a backend.
public protocol Backend {
    static var kind: DeviceKind { get }
    /// Every device of this kind on the machine; none is not an error.
    static func discover() throws -> [any Device]
    static func register(into registry: inout KernelRegistry)
}
