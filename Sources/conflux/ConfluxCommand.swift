import ArgumentParser
import ConfluxCPU

@main
struct ConfluxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conflux",
        abstract: "A dataflow-graph deep-learning runtime for CPUs and OpenCL devices.",
        subcommands: [
            DevicesCommand.self, TrainCommand.self, EvalCommand.self, PredictCommand.self, PlaceCommand.self,
            VerifyCommand.self, GraphCommand.self,
        ])

    static func main() {
        OpenBLASCore.relaunchWithBetterCoreIfAvailable()
        main(nil)
    }
}
