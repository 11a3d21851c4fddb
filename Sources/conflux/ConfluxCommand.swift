import ArgumentParser
import Conflux
import ConfluxCPU
import ConfluxMPI
import Foundation

@main
struct ConfluxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conflux",
        abstract: "A dataflow-graph deep-learning runtime for CPUs and OpenCL devices.",
        subcommands: [
            DevicesCommand.self, TrainCommand.self, EvalCommand.self, PredictCommand.self, PlaceCommand.self,
            VerifyCommand.self, GraphCommand.self, ProfileCommand.self, TuneCommand.self, ImportCommand.self,
            RunCommand.self,
        ])

    static func main() {
        OpenBLASCore.relaunchWithBetterCoreIfAvailable()
        // Line-buffered even into a file or a pipe, so that a log shows every finished line of a killed run.
        setvbuf(stdout, nil, _IOLBF, 0)
        Interruption.install { signal in
            ProgressBar.clearLine()
            FileHandle.standardError.write(Data("conflux: \(ConfluxError.interrupted(signal: signal))\n".utf8))
        }
        guard let world = MPIWorld.shared else { return main(nil) }
        // Under mpirun an error on any process ends all of them, naming the rank, rather than leaving the others
        // waiting in a collective; data-parallel ranks reduce across the job, ranks that run one graph together
        // (a placement on devices of tasks) exchange tensors instead.
        do {
            var command = try parseAsRoot()
            if let options = (command as? any DeviceCommand)?.options, options.taskWorld != nil {
                guard command is TrainCommand || command is PlaceCommand else {
                    throw ValidationError(
                        "devices of tasks (task:R/…) place one graph across the ranks in `conflux train` and "
                            + "`conflux place`; this command runs in each process on its own devices")
                }
            } else {
                Collectives.group = world
            }
            try command.run()
        } catch {
            let code = exitCode(for: error)
            guard code != .success else { exit(withError: error) }
            world.abort(fullMessage(for: error))
        }
    }
}

/// Whether this process speaks for its job: prints progress and results, writes checkpoints, logs and exports. A
/// process on its own does; in an `mpirun` job, rank 0 alone.
var speaksForTheJob: Bool { (MPIWorld.shared?.rank ?? 0) == 0 }

/// A command that runs a model on the devices its `CommonOptions` name.
protocol DeviceCommand: ParsableCommand {
    var options: CommonOptions { get }
}

extension TrainCommand: DeviceCommand {}
extension EvalCommand: DeviceCommand {}
extension PredictCommand: DeviceCommand {}
extension PlaceCommand: DeviceCommand {}
extension ProfileCommand: DeviceCommand {}
extension GraphCommand: DeviceCommand {}
extension TuneCommand: DeviceCommand {}
