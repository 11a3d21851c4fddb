import ArgumentParser
import Conflux
import ConfluxMPI
import Foundation

struct DevicesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices", abstract: "List every device found, with its key properties.",
        discussion: """
            Under mpirun, rank 0 lists the devices of every rank (task), named task:R/ID: task:1/opencl:0 is rank \
            1's first OpenCL device.
            """)

    @Flag(help: "Print machine-readable JSON instead of text.")
    var json = false

    func run() throws {
        var entries = try DeviceSet(backends: backends).devices.map(DeviceEntry.init)
        if let world = MPIWorld.shared {
            let tasks = try world.gather(JSONEncoder().encode(entries)).map {
                try JSONDecoder().decode([DeviceEntry].self, from: $0)
            }
            guard speaksForTheJob else { return }
            entries = tasks.enumerated().flatMap { task, devices in devices.map { $0.inTask(task) } }
        }
        if json {
            let rows = entries.map { entry in
                ["id": entry.id, "kind": entry.kind, "name": entry.name].merging(
                    entry.properties.map { ($0[0], $0[1]) }, uniquingKeysWith: { first, _ in first })
            }
            print(try JSONText.encode(rows))
            return
        }
        for entry in entries {
            print("\(entry.id)  \(entry.name)")
            for property in entry.properties { print("    \(property[0]): \(property[1])") }
        }
    }
}

/// One device as `conflux devices` lists it, and as the ranks of an mpirun job send it to rank 0.
private struct DeviceEntry: Codable {
    let id: String
    let kind: String
    let name: String
    /// (label, value) pairs, in the device's order.
    let properties: [[String]]

    init(_ device: any Device) {
        (id, kind, name) = (device.id, device.kind.rawValue, device.name)
        properties = device.properties.map { [$0.0, $0.1] }
    }

    /// This device as another task's: its id qualified by the task.
    func inTask(_ task: Int) -> DeviceEntry {
        DeviceEntry(id: "task:\(task)/\(id)", kind: kind, name: name, properties: properties)
    }

    private init(id: String, kind: String, name: String, properties: [[String]]) {
        (self.id, self.kind, self.name, self.properties) = (id, kind, name, properties)
    }
}
