/// A device as the placer sees it: its name, kind, measured speed and the processor it runs on.
public struct PlacementDevice: Sendable {
    public let id: String
    public let kind: DeviceKind
    public let profile: DeviceProfile
    /// Devices on one processor (see `Device.processor`) share one queue in the cost model: running work on
    /// both at once gains nothing, however fast each measured alone.
    public let processor: String
    /// The task (process) of a job that owns it: a transfer between tasks also crosses their link.
    public let task: Int

    public init(id: String, kind: DeviceKind, profile: DeviceProfile, processor: String? = nil, task: Int = 0) {
        self.id = id
        self.kind = kind
        self.profile = profile
        self.processor = processor ?? id
        self.task = task
    }
}

/// Assigns every node of a graph to a device, after TensorFlow's placer:
///
/// 1. explicit requests (device scopes, per-node requests, then `--place` rules), limited to devices with a
///    kernel for the op; with soft placement an impossible request falls back to a device that can run it;
/// 2. colocation: a variable, its optimizer state and its update stay on one device, the device of the op that
///    first reads it, so weights never cross devices;
/// 3. the rest by the cost model: in topological order, each node goes where it would finish earliest, counting
///    the queue of the device's processor, the node's run time from the device's profile, and the transfers of
///    its inputs.
///
/// Placeholders and constants go where their first reader is.
public struct Placer {
    public let devices: [PlacementDevice]
    public let kernels: KernelRegistry
    public var rules: [PlacementRule]
    /// Whether an impossible request falls back to another device (true) or is an error.
    public var softPlacement: Bool
    /// The device of nodes no request or rule covers (`--device cpu --place conv=opencl:0`); nil lets the cost
    /// model choose (`--device auto`).
    public var defaultDevice: String?
    /// The link between the tasks of a job whose devices span several.
    public var link: TaskLink?

    public init(
        devices: [PlacementDevice], kernels: KernelRegistry, rules: [PlacementRule] = [], softPlacement: Bool = true,
        defaultDevice: String? = nil, link: TaskLink? = nil
    ) {
        precondition(!devices.isEmpty, "the placer needs at least one device")
        self.devices = devices
        self.kernels = kernels
        self.rules = rules
        self.softPlacement = softPlacement
        self.defaultDevice = defaultDevice
        self.link = link
    }

    /// Places every node of `graph`.
    ///
    /// - Throws: `invalidArgument` for a rule that matches no node or a pattern given twice;
    ///   `impossiblePlacement` when soft placement is off and a request names no device that can run the op;
    ///   `noKernel` when no device at all can.
    public func place(_ graph: Graph) throws -> Placement {
        try PlacementRule.check(rules, against: graph)
        var state = State(graph: graph)
        let groups = colocationGroups(graph)
        for node in graph.nodes where !node.role.isSource {
            try placeComputation(node, groups: groups, state: &state)
        }
        for node in graph.nodes where node.role.isSource && state.devices[node.id] == nil {
            let reader = graph.nodes.first { $0.inputs.contains(node.id) && state.devices[$0.id] != nil }
            let device = reader.flatMap { state.devices[$0.id] } ?? devices[0].id
            state.assign(
                node.id, device, reader.map { "with its first reader \($0.name)" } ?? "unused: the first device")
        }
        return Placement(devices: state.devices, reasons: state.reasons)
    }

    private struct State {
        let graph: Graph
        var devices: [Int: String] = [:]
        var reasons: [Int: String] = [:]
        /// When each processor's queue is free, and when each node's output is ready (seconds from the start).
        var free: [String: Double] = [:]
        var finish: [Int: Double] = [:]

        init(graph: Graph) { self.graph = graph }

        mutating func assign(_ id: Int, _ device: String, _ reason: String) {
            devices[id] = device
            reasons[id] = reason
        }
    }

    private func placeComputation(_ node: Node, groups: [Int: Int], state: inout State) throws {
        let capable = devices.filter { kernels.kernel(for: node.op, on: $0.kind) != nil }
        guard !capable.isEmpty else {
            throw ConfluxError.noKernel(
                op: node.op.rawValue, node: node.name, device: devices.map(\.id).joined(separator: ", "),
                kindsWithKernel: kernels.kinds(for: node.op).map(\.rawValue))
        }
        // A node colocated with an already-placed variable goes with it.
        if let group = groups[node.id],
            let variable = state.graph.nodes.first(where: { groups[$0.id] == group && $0.role == .variable }),
            let device = state.devices[variable.id], capable.contains(where: { $0.id == device })
        {
            commit(node, on: device, reason: "colocated with \(variable.name), whose state it updates", state: &state)
            return
        }
        var candidates = capable
        var reason: ((String) -> String)? = nil
        if let (request, who) = request(for: node, groups: groups, in: state.graph) {
            let matching = devices.filter { Self.matches(request, $0) }
            let possible = matching.filter { device in capable.contains { $0.id == device.id } }
            if !possible.isEmpty {
                candidates = possible
                reason = { chosen in chosen == request ? who : "\(who): \(chosen)" }
            } else if softPlacement {
                let why = matching.isEmpty ? "which is not a device here" : "which has no \(node.op) kernel"
                reason = { chosen in "\(who), \(why); soft placement chose \(chosen)" }
            } else {
                throw ConfluxError.impossiblePlacement(
                    op: node.op.rawValue, node: node.name, requested: request, capable: capable.map(\.id))
            }
        }
        let estimates = candidates.map { ($0, estimatedFinish(node, on: $0, state: state)) }
        let (best, finish) = estimates.min {
            $0.1 + returnCost(node, on: $0.0, state: state) < $1.1 + returnCost(node, on: $1.0, state: state)
        }!
        let alternatives = estimates.filter { $0.0.id != best.id }
            .map { "\($0.0.id) \(Self.milliseconds($0.1))" }.joined(separator: ", ")
        let costReason =
            "finishes earliest, at \(Self.milliseconds(finish))" + (alternatives.isEmpty ? "" : " (\(alternatives))")
        commit(node, on: best.id, reason: reason?(best.id) ?? "auto: \(costReason)", state: &state)
        state.finish[node.id] = finish
        state.free[best.processor] = finish
    }

    /// Places `node`, and the variables it reads that are not yet placed, on `device`.
    private func commit(_ node: Node, on device: String, reason: String, state: inout State) {
        state.assign(node.id, device, reason)
        for input in node.inputs where state.graph.nodes[input].role == .variable && state.devices[input] == nil {
            state.assign(input, device, "with its first reader \(node.name), so the weights stay where they are used")
        }
        if state.finish[node.id] == nil {
            let placed = devices.first { $0.id == device }!
            state.finish[node.id] = estimatedFinish(node, on: placed, state: state)
            state.free[placed.processor] = state.finish[node.id]
        }
    }

    /// When `node` would finish on `device`: after the device is free and every input has arrived.
    private func estimatedFinish(_ node: Node, on device: PlacementDevice, state: State) -> Double {
        let start = max(state.free[device.processor] ?? 0, inputsReady(node, on: device.id, state: state))
        return start + CostModel.seconds(node, in: state.graph, on: device.profile)
    }

    /// What moving away from the inputs' device costs later: greedy earliest-finish sees only this node, so
    /// without this a cheap op between two ops of one device would hop to an idle device and pay two transfers.
    /// Counts sending the output back to the device of its first computed input, when that is another device.
    private func returnCost(_ node: Node, on device: PlacementDevice, state: State) -> Double {
        guard
            let home = node.inputs.lazy.filter({ !state.graph.nodes[$0].role.isSource }).compactMap({
                state.devices[$0]
            }).first,
            home != device.id, let destination = devices.first(where: { $0.id == home })
        else { return 0 }
        return transferSeconds(bytes: CostModel.concrete(node.shape).count * 4, from: device, to: destination)
    }

    /// Seconds to move `bytes` between two devices, over the link between their tasks when they differ.
    private func transferSeconds(bytes: Int, from source: PlacementDevice, to destination: PlacementDevice) -> Double {
        let local = CostModel.transferSeconds(bytes: bytes, from: source.profile, to: destination.profile)
        guard source.task != destination.task, let link else { return local }
        return local + link.seconds(bytes: bytes)
    }

    /// When all of `node`'s inputs could be on `device`, counting a transfer for each input placed elsewhere.
    private func inputsReady(_ node: Node, on device: String, state: State) -> Double {
        let target = devices.first { $0.id == device }!
        return node.inputs.map { input in
            let ready = state.finish[input] ?? 0
            guard let name = state.devices[input], name != device,
                let source = devices.first(where: { $0.id == name })
            else { return ready }
            let bytes = CostModel.concrete(state.graph.nodes[input].shape).count * 4
            return ready + transferSeconds(bytes: bytes, from: source, to: target)
        }.max() ?? 0
    }

    /// The device asked for, and who asked, as a phrase: the node itself, the variables it is colocated with, a
    /// rule, or the default device.
    private func request(for node: Node, groups: [Int: Int], in graph: Graph) -> (String, String)? {
        let group = groups[node.id].map { group in graph.nodes.filter { groups[$0.id] == group } } ?? []
        if let device = node.requestedDevice { return (device, "requested \(device)") }
        if let member = group.first(where: { $0.requestedDevice != nil }), let device = member.requestedDevice {
            return (device, "colocated with \(member.name), which requested \(device)")
        }
        if let rule = rules.first(where: { $0.matches(node) }) { return (rule.device, "rule \(rule)") }
        for member in group {
            if let rule = rules.first(where: { $0.matches(member) }) {
                return (rule.device, "colocated with \(member.name) by rule \(rule)")
            }
        }
        return defaultDevice.map { ($0, "--device \($0)") }
    }

    /// Colocation groups by node id: each stateful op with the variables it reads (the parameter, its optimizer
    /// state), merged where they share a variable.
    private func colocationGroups(_ graph: Graph) -> [Int: Int] {
        var parent: [Int: Int] = [:]
        func root(_ id: Int) -> Int {
            var id = id
            while let up = parent[id], up != id { id = up }
            return id
        }
        for node in graph.nodes where node.role == .update {
            parent[node.id] = parent[node.id] ?? node.id
            for input in node.inputs where graph.nodes[input].role == .variable {
                parent[input] = parent[input] ?? input
                parent[root(input)] = root(node.id)
            }
        }
        return Dictionary(uniqueKeysWithValues: parent.keys.map { ($0, root($0)) })
    }

    /// True when `request` (`opencl:0`, or a kind alone, `opencl`) names `device`.
    static func matches(_ request: String, _ device: PlacementDevice) -> Bool {
        let wanted = request.lowercased()
        return wanted.contains(":") ? device.id == wanted : device.kind.rawValue == wanted
    }

    private static func milliseconds(_ seconds: Double) -> String {
        let ms = seconds * 1000
        return ms < 0.01 ? "\(Int(ms * 1000)) µs" : "\((ms * 100).rounded() / 100) ms"
    }
}
