import ArgumentParser
import Conflux
import ConfluxNN
import Foundation

struct PlaceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "place",
        abstract: "Show where each op of a model's training step runs, and what crosses devices per step.")

    @Argument(help: "The model to place.")
    var model: ModelName

    @OptionGroup var options: CommonOptions

    @Flag(help: "Print every node with its device and the reason it is there.")
    var explain = false

    @Option(help: "The batch size the transfer volume is counted for.")
    var batchSize = CostModel.nominalBatch

    func run() throws {
        let run = try ModelSession(model, options: options)
        let (classifier, graph, placement) = (run.classifier, run.classifier.graph, run.session.placement)
        let step = graph.executionOrder(
            roots: [classifier.loss.id] + classifier.updates.map(\.id),
            fed: [classifier.images.id, classifier.labels.id, classifier.learningRate.id])
        let partition = Partition(graph: graph, nodes: step, placement: placement)
        let bytes = partition.transfers.map { pair in
            CostModel.concrete(graph.nodes[pair.tensor].shape, batch: batchSize).count * 4
        }
        if options.json {
            let nodes = step.map { id in
                [
                    "node": graph.nodes[id].name, "op": graph.nodes[id].op.rawValue,
                    "device": placement.device(of: id)!,
                    "reason": placement.reasons[id] ?? "",
                ]
            }
            let transfers = zip(partition.transfers, bytes).map { pair, size in
                ["tensor": graph.nodes[pair.tensor].name, "from": pair.from, "to": pair.to, "bytes": String(size)]
            }
            let hostFeeds = partition.hostFeeds.map { pair in
                ["tensor": graph.nodes[pair.tensor].name, "device": pair.to, "alsoOn": pair.from]
            }
            print(try JSONText.encode(["nodes": nodes, "transfers": transfers, "hostFeeds": hostFeeds]))
            return
        }
        if explain {
            for id in step {
                let node = graph.nodes[id]
                print("\(placement.device(of: id)!)  \(node.name) (\(node.op))  \(placement.reasons[id] ?? "")")
            }
            print("")
        }
        for (device, nodes) in partition.nodes.sorted(by: { $0.key < $1.key }) {
            print("\(device): \(nodes.count) ops")
        }
        print(
            "transfers per training step: \(partition.transfers.count), \(bytes.reduce(0, +)) bytes at batch \(batchSize)"
        )
        for (pair, size) in zip(partition.transfers, bytes) {
            print("    \(graph.nodes[pair.tensor].name): \(pair.from) → \(pair.to), \(size) bytes")
        }
        for pair in partition.hostFeeds {
            print("fed from the host to \(pair.to) as well as \(pair.from): \(graph.nodes[pair.tensor].name)")
        }
    }
}
