import ArgumentParser
import Conflux
import Foundation

struct DevicesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices", abstract: "List every device found, with its key properties.")

    @Flag(help: "Print machine-readable JSON instead of text.")
    var json = false

    func run() throws {
        let devices = try DeviceSet(backends: backends).devices
        if json {
            let entries = devices.map { device in
                ["id": device.id, "kind": device.kind.rawValue, "name": device.name].merging(
                    device.properties.map { ($0.0, $0.1) }, uniquingKeysWith: { first, _ in first })
            }
            print(try JSONText.encode(entries))
            return
        }
        for device in devices {
            print("\(device.id)  \(device.name)")
            for (label, value) in device.properties { print("    \(label): \(value)") }
        }
    }
}
