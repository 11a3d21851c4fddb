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
        let local = try DeviceSet(backends: backends).devices.map { DeviceDescription($0) }
        // (name, description): under mpirun, every task's devices, named by their task.
        var entries = local.map { ($0.id, $0) }
        if let world = MPIWorld.shared {
            let tasks = try world.gather(JSONEncoder().encode(local)).map {
                try JSONDecoder().decode([DeviceDescription].self, from: $0)
            }
            guard speaksForTheJob else { return }
            entries = tasks.enumerated().flatMap { task, devices in
                devices.map { (TaskDeviceName.qualified($0.id, task: task), $0) }
            }
        }
        if json {
            let rows = entries.map { id, entry in
                ["id": id, "kind": entry.kind, "name": entry.name].merging(
                    entry.properties.map { ($0[0], $0[1]) }, uniquingKeysWith: { first, _ in first })
            }
            print(try JSONText.encode(rows))
            return
        }
        for (id, entry) in entries {
            print("\(id)  \(entry.name)")
            for property in entry.properties { print("    \(property[0]): \(property[1])") }
        }
    }
}
