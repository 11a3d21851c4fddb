import ArgumentParser
import Conflux
import ConfluxTensorBoard
import Foundation

struct GraphCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graph",
        abstract: "Write a model's placed training graph as Graphviz DOT (clustered by device) or for TensorBoard.")

    @Argument(help: "The model to draw.")
    var model: ModelName

    @OptionGroup var options: CommonOptions

    @Option(help: "Write the graph as Graphviz DOT to FILE (render with `dot -Tpng FILE -o graph.png`).")
    var dot: String?

    @Option(help: "Write the graph as a TensorBoard event file in DIR.")
    var logdir: String?

    func validate() throws {
        if dot == nil && logdir == nil { throw ValidationError("give --dot FILE, --logdir DIR or both") }
    }

    func run() throws {
        if let dot { try OutputFile.check(dot) }
        if let logdir { try OutputDirectory.prepare(logdir) }
        let run = try ModelSession(model, options: options)
        let (graph, placement) = (run.classifier.graph, run.session.placement)
        if let dot {
            try OutputFile.write(GraphExport.dot(graph, placement: placement), to: dot)
            print("wrote \(dot): \(graph.nodes.count) nodes on \(run.used.map(\.id).joined(separator: ", "))")
        }
        if let logdir {
            let writer = try SummaryWriter(directory: logdir)
            try writer.graph(graph, placement: placement)
            try writer.close()
            print("wrote \(writer.path)")
        }
    }
}
