import ArgumentParser
import Conflux
import ConfluxCPU
import ConfluxMPI
import ConfluxNN
import ConfluxOpenCL
import Foundation

/// Options every command spells the same way.
struct CommonOptions: ParsableArguments {
    @Option(
        name: .customLong("device"),
        help: """
            The device to run on: cpu, cpu:0, opencl:N (see `conflux devices`), or auto to let the placer choose per \
            op. Under mpirun, a comma-separated list gives each rank its own: rank R takes entry R (cycling); a \
            device of a task (task:R/cpu:0, here and in --place) runs one graph across the ranks instead.
            """)
    var devices = "cpu"

    @Option(
        help:
            "Place layers or op types on devices, e.g. conv=opencl:0,pool=opencl:0,dense=cpu (under mpirun also dense=task:1/cpu:0); the rest goes to --device."
    )
    var place: String?

    @Flag(help: "Print machine-readable JSON instead of text.")
    var json = false

    @Option(
        parsing: .unconditional,
        help: "The seed of weight initialisation and shuffling; the same seed gives the same run.")
    var seed: UInt64 = 0

    @Option(help: "A directory of IDX files (train-/t10k-images-idx3-ubyte and -labels-idx1-ubyte, .gz or raw).")
    var data = Dataset.defaultDirectory
}

extension CommonOptions {
    /// This process's device: `--device`, or under mpirun the entry of its rank in the list.
    var device: String {
        guard taskWorld == nil else { return devices }
        let list = devices.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        return list.isEmpty ? devices : list[Collectives.group.rank % list.count]
    }

    /// The job whose ranks run one graph together: under mpirun, when `--device` or `--place` names a task
    /// (`task:1/cpu:0`); nil for a process on its own and for data-parallel ranks.
    var taskWorld: MPIWorld? {
        guard let world = MPIWorld.shared else { return nil }
        let names = [devices] + ((try? rules) ?? []).map(\.device)
        return names.contains(where: TaskDeviceName.isQualified) ? world : nil
    }

    /// The `--place` rules.
    var rules: [PlacementRule] {
        get throws { try place.map(PlacementRule.parse) ?? [] }
    }
}

extension CommonOptions {
    /// The backends a run must discover: for a `--device` of one kind (`cpu`, `opencl:1`) and no `--place` rules,
    /// that kind's alone, so that a CPU run never loads an OpenCL driver (PoCL alone adds 63 MB of memory and its
    /// start-up); every backend for `auto`, for rules, and for a name of no known kind.
    var backendsNeeded: [any Backend.Type] {
        taskWorld == nil ? backendsToDiscover(device: device, place: place) : backends
    }
}

/// The backends a run on `device` with `place` rules must discover (`CommonOptions.backendsNeeded`).
func backendsToDiscover(device: String, place: String?) -> [any Backend.Type] {
    guard place == nil, device.lowercased() != "auto" else { return backends }
    let kind = device.lowercased().split(separator: ":").first.map(String.init)
    let matching = backends.filter { $0.kind.rawValue == kind }
    return matching.isEmpty ? backends : matching
}

/// The backends this executable carries, in the order their devices are listed.
let backends: [any Backend.Type] = [CPUBackend.self, OpenCLBackend.self]

/// Where `conflux import` and `conflux run` place an ONNX model's ops.
struct GraphPlacementOptions: ParsableArguments {
    @Option(help: "The device to run on: cpu, cpu:0, opencl:N, or auto to let the placer choose per op.")
    var device = "cpu"

    @Option(help: "Place op types on devices, e.g. Conv2D=opencl:0; the rest goes to --device.")
    var place: String?

    /// Places `graph` as `--device` and `--place` say, on the devices of the backends that needs.
    func placed(_ graph: Graph) throws -> (devices: DeviceSet, placement: Placement) {
        let devices = try DeviceSet(backends: backendsToDiscover(device: device, place: place))
        let placement = try devices.placement(
            for: graph, device: device, rules: try place.map(PlacementRule.parse) ?? [])
        return (devices, placement)
    }
}
