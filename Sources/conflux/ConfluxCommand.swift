import ArgumentParser
import Conflux
import ConfluxCPU
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
        main(nil)
    }
}
