/// The device of every node of a graph, and why it is there.
public struct Placement: Codable, Sendable {
    /// Device id (`cpu:0`) by node id.
    public private(set) var devices: [Int: String]
    /// A sentence per node id saying why it is on its device.
    public let reasons: [Int: String]
    /// The device of every node not in `devices`, including nodes built later; nil for a placer's placement.
    public private(set) var everyNode: String?

    public init(devices: [Int: String], reasons: [Int: String]) {
        self.devices = devices
        self.reasons = reasons
        everyNode = nil
    }

    private init(everyNode device: String) {
        devices = [:]
        reasons = [:]
        everyNode = device
    }

    /// Every node of a graph, now and later, on one device.
    public static func all(on device: String) -> Placement { Placement(everyNode: device) }

    /// The device of node `id`, if it is placed.
    public func device(of id: Int) -> String? { devices[id] ?? everyNode }

    /// The same placement with every device name passed through `rename`: from one task's names to another's
    /// (`TaskDeviceName`).
    public func renamingDevices(_ rename: (String) -> String) -> Placement {
        var renamed = self
        renamed.devices = devices.mapValues(rename)
        renamed.everyNode = everyNode.map(rename)
        return renamed
    }
}
