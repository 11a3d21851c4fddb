/// A tensor that crosses devices: sent by the device that produces it, received by one that reads it.
public struct SendRecvPair: Hashable, Sendable, CustomStringConvertible {
    /// The node whose output moves.
    public let tensor: Int
    public let from: String
    public let to: String

    public init(tensor: Int, from: String, to: String) {
        self.tensor = tensor
        self.from = from
        self.to = to
    }

    public var description: String { "\(tensor): \(from) → \(to)" }
}

/// The nodes a run needs, split by device, and the transfers between them.
public struct Partition: Sendable {
    /// Node ids by device, each in execution order.
    public let nodes: [String: [Int]]
    /// One pair per (tensor, destination device), however many readers the tensor has there.
    public let transfers: [SendRecvPair]
    /// Placeholders read on a device other than their own: the host feeds that device too, so no Send/Recv is
    /// needed (one pair per placeholder and reading device).
    public let hostFeeds: [SendRecvPair]

    /// Splits `nodes` (in execution order) by `placement`, with a Send/Recv pair for every edge that crosses
    /// devices; a node must be placed. When the devices span `tasks`, a tensor crosses to each other task once:
    /// another device there that reads it gets it from the first device it reached on that task. Each of
    /// `fetches` also goes to every other task's home device (`TaskSpan.home`), so that every task's run returns
    /// every fetched value.
    public init(graph: Graph, nodes order: [Int], placement: Placement, fetches: [Int] = [], tasks: TaskSpan? = nil) {
        var nodes: [String: [Int]] = [:]
        var transfers: [SendRecvPair] = []
        var hostFeeds: [SendRecvPair] = []
        var reached = Set<SendRecvPair>()
        func add(_ tensor: Int, from: String, to: String) {
            // Keyed by tensor and destination alone: one pair per (tensor, destination device).
            guard from != to, reached.insert(SendRecvPair(tensor: tensor, from: "", to: to)).inserted else { return }
            if graph.nodes[tensor].role == .placeholder {
                return hostFeeds.append(SendRecvPair(tensor: tensor, from: from, to: to))
            }
            var source = from
            if let tasks, tasks.task(of: from) != tasks.task(of: to),
                let arrived = transfers.first(where: {
                    $0.tensor == tensor && tasks.task(of: $0.to) == tasks.task(of: to)
                })
            {
                source = arrived.to
            }
            transfers.append(SendRecvPair(tensor: tensor, from: source, to: to))
        }
        let included = Set(order)
        for id in order {
            let device = placement.device(of: id)!
            nodes[device, default: []].append(id)
            for input in graph.nodes[id].inputs where included.contains(input) {
                add(input, from: placement.device(of: input)!, to: device)
            }
            guard let tasks, fetches.contains(id) else { continue }
            for task in 0..<tasks.count where task != tasks.task(of: device) {
                add(id, from: device, to: tasks.home(of: task))
            }
        }
        self.nodes = nodes
        self.transfers = transfers
        self.hostFeeds = hostFeeds
    }
}
