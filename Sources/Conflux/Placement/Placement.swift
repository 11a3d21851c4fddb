/// The device of every node of a graph, and why it is there.
public struct Placement: Sendable {
    /// Device id (`cpu:0`) by node id.
    public let devices: [Int: String]
    /// A sentence per node id saying why it is on its device.
    public let reasons: [Int: String]
    /// The device of every node not in `devices`, including nodes built later; nil for a placer's placement.
    public let everyNode: String?

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
}
