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
        guard speaksForTheJob else { return }
        let (classifier, graph, placement) = (run.classifier, run.classifier.graph, run.session.placement)
        let step = graph.executionOrder(
            roots: [classifier.loss.id] + classifier.updates.map(\.id),
            fed: [classifier.images.id, classifier.labels.id, classifier.learningRate.id])
        // Across tasks, the step's loss also goes to every other task, as `conflux train` fetches it there.
        let tasks = run.job.map { TaskSpan(own: $0.world.rank, count: $0.world.size) }
        let partition = Partition(
            graph: graph, nodes: step, placement: placement, fetches: [classifier.loss.id], tasks: tasks)
        let name = { (device: String) in tasks.map { TaskDeviceName.qualified(device, task: $0.own) } ?? device }
        let crossesTasks = { (pair: SendRecvPair) in
            tasks.map { $0.task(of: pair.from) != $0.task(of: pair.to) } ?? false
        }
        let bytes = partition.transfers.map { pair in
            CostModel.concrete(graph.nodes[pair.tensor].shape, batch: batchSize).count * 4
        }
        let betweenTasks = zip(partition.transfers, bytes).filter { crossesTasks($0.0) }.map(\.1)
        let linkSeconds = run.job.map { job in betweenTasks.map { job.link.seconds(bytes: $0) }.reduce(0, +) }
        if options.json {
            let nodes = step.map { id in
                [
                    "node": graph.nodes[id].name, "op": graph.nodes[id].op.rawValue,
                    "device": name(placement.device(of: id)!),
                    "reason": placement.reasons[id] ?? "",
                ]
            }
            let transfers = zip(partition.transfers, bytes).map { pair, size in
                [
                    "tensor": graph.nodes[pair.tensor].name, "from": name(pair.from), "to": name(pair.to),
                    "bytes": String(size), "crossesTasks": String(crossesTasks(pair)),
                ]
            }
            let hostFeeds = partition.hostFeeds.map { pair in
                ["tensor": graph.nodes[pair.tensor].name, "device": name(pair.to), "alsoOn": name(pair.from)]
            }
            let link = run.job.map { job in
                LinkReport(
                    latencySeconds: job.link.latencySeconds, bytesPerSecond: job.link.bytesPerSecond,
                    bytesBetweenTasksPerStep: betweenTasks.reduce(0, +), secondsBetweenTasksPerStep: linkSeconds ?? 0)
            }
            print(
                try JSONText.encode(
                    PlaceReport(nodes: nodes, transfers: transfers, hostFeeds: hostFeeds, link: link)))
            return
        }
        if explain {
            for id in step {
                let node = graph.nodes[id]
                print("\(name(placement.device(of: id)!))  \(node.name) (\(node.op))  \(placement.reasons[id] ?? "")")
            }
            print("")
        }
        for (device, nodes) in partition.nodes.map({ (name($0.key), $0.value) }).sorted(by: { $0.0 < $1.0 }) {
            print("\(device): \(nodes.count) ops")
        }
        print(
            "transfers per training step: \(partition.transfers.count), \(bytes.reduce(0, +)) bytes at batch \(batchSize)"
        )
        for (pair, size) in zip(partition.transfers, bytes) {
            let between = crossesTasks(pair) ? "  (between tasks)" : ""
            print(
                "    \(graph.nodes[pair.tensor].name): \(name(pair.from)) → \(name(pair.to)), \(size) bytes\(between)")
        }
        for pair in partition.hostFeeds {
            print(
                "fed from the host to \(name(pair.to)) as well as \(name(pair.from)): \(graph.nodes[pair.tensor].name)")
        }
        if let job = run.job, let linkSeconds {
            print(
                String(
                    format: "between tasks: %d tensors, %d bytes per step; the link (%.0f µs, %.2f GB/s measured) "
                        + "takes %.3f ms of each step for them", betweenTasks.count, betweenTasks.reduce(0, +),
                    job.link.latencySeconds * 1e6, job.link.bytesPerSecond / 1e9, linkSeconds * 1e3))
        }
    }
}

/// What `conflux place --json` prints.
private struct PlaceReport: Encodable {
    let nodes: [[String: String]]
    let transfers: [[String: String]]
    let hostFeeds: [[String: String]]
    /// When the placement spans tasks: the measured link and what crosses it per step.
    let link: LinkReport?
}

private struct LinkReport: Encodable {
    let latencySeconds: Double
    let bytesPerSecond: Double
    let bytesBetweenTasksPerStep: Int
    /// The link's estimate for those bytes, one tensor after another.
    let secondsBetweenTasksPerStep: Double
}
