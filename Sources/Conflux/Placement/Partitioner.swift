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
    /// devices; a node must be placed. When the devices span `tasks`, each of `fetches` also goes to every other
    /// task's home device (`TaskSpan.home`), so that every task's run returns every fetched value.
    public init(graph: Graph, nodes order: [Int], placement: Placement, fetches: [Int] = [], tasks: TaskSpan? = nil) {
        var nodes: [String: [Int]] = [:]
        var transfers: [SendRecvPair] = []
        var hostFeeds: [SendRecvPair] = []
        var seen = Set<SendRecvPair>()
        let included = Set(order)
        for id in order {
            let device = placement.device(of: id)!
            nodes[device, default: []].append(id)
            for input in graph.nodes[id].inputs where included.contains(input) {
                let pair = SendRecvPair(tensor: input, from: placement.device(of: input)!, to: device)
                guard pair.from != pair.to, seen.insert(pair).inserted else { continue }
                if graph.nodes[input].role == .placeholder { hostFeeds.append(pair) } else { transfers.append(pair) }
            }
            guard let tasks, fetches.contains(id) else { continue }
            for task in 0..<tasks.count where task != tasks.task(of: device) {
                let pair = SendRecvPair(tensor: id, from: device, to: tasks.home(of: task))
                if seen.insert(pair).inserted { transfers.append(pair) }
            }
        }
        self.nodes = nodes
        self.transfers = transfers
        self.hostFeeds = hostFeeds
    }
}
