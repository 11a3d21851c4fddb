import Conflux
import ConfluxMPI
import Foundation

/// One graph across the ranks of an mpirun job, as TensorFlow's client, master and workers: when `--device` or
/// `--place` name a task (`task:1/cpu:0`), every rank discovers and measures its devices and tells the others,
/// rank 0 places the graph over all of them, and every rank then runs the same plans, each the lanes of its own
/// devices, with tensors between tasks as MPI messages.
struct TaskJob {
    let world: MPIWorld
    /// This rank's devices, and every other rank's as `RemoteDevice`s.
    let devices: DeviceSet
    /// The link between the tasks, measured at start, for the cost model.
    let link: TaskLink

    init(world: MPIWorld, willCalibrate: (any Device) -> Void) throws {
        let local = try DeviceSet(backends: backends)
        let described = try local.devices.map {
            DeviceDescription(
                $0, profile: try Calibration.profile(of: $0, kernels: local.kernels, willMeasure: willCalibrate))
        }
        let everyTask = try world.gather(JSONEncoder().encode(described)).map {
            try JSONDecoder().decode([DeviceDescription].self, from: $0)
        }
        var devices = local.devices
        for (task, descriptions) in everyTask.enumerated() where task != world.rank {
            devices += descriptions.map { RemoteDevice(task: task, $0, transport: world) }
        }
        self.world = world
        self.devices = DeviceSet(devices: devices, kernels: local.kernels)
        link = try world.measureLink()
    }

    /// Rank 0's placement of `graph`, in this rank's names (its own devices plain, the others' qualified).
    func placement(for graph: Graph, device: String, rules: [PlacementRule]) throws -> Placement {
        var placed = Data()
        if world.rank == 0 {
            let placement = try devices.placement(for: graph, device: device, rules: rules, link: link)
            placed = try JSONEncoder().encode(qualified(placement))
        }
        return try JSONDecoder().decode(Placement.self, from: world.broadcast(placed)).renamingDevices {
            TaskDeviceName.local($0, task: world.rank)
        }
    }

    /// `placement` with every device qualified by its task, as users name them.
    func qualified(_ placement: Placement) -> Placement {
        placement.renamingDevices { TaskDeviceName.qualified($0, task: world.rank) }
    }

    /// The devices a session needs besides those its placement uses: every task's first CPU, where fetched values
    /// are delivered (`TaskSpan.home`).
    func withHomes(_ used: [any Device]) -> [any Device] {
        let tasks = TaskSpan(own: world.rank, count: world.size)
        let homes = Set((0..<world.size).map(tasks.home)).subtracting(used.map(\.id))
        return used + devices.devices.filter { homes.contains($0.id) }
    }
}
