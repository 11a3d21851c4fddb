/// Runs parts of a graph, keeping variable values between runs: on one device, or across several as a
/// placement says.
///
/// A session is used from one thread at a time.
public final class Session {
    public let graph: Graph
    public let placement: Placement
    private let devices: [String: any Device]
    private let kernels: KernelRegistry
    /// When set, every run records its kernels and transfers here.
    public var tracer: Tracer?
    /// Whether copies between devices run on transfer streams while the devices compute (the default). Off, each
    /// copy waits for its producer's device to finish and holds up that device's lane until it is done, and `stage`
    /// leaves its feeds on the host, to be uploaded when their run starts.
    public var overlapsTransfers = true
    /// A tensor of at least twice this size crosses devices in chunks of about this size, and a consumer that
    /// works row by row starts on the first chunk while the rest are in flight.
    public var streamingChunkBytes = 1 << 20
    /// Variable and constant values, by node id, created on first use on the node's device.
    private var persistent: [Int: DeviceTensor] = [:]
    private var plans: [PlanKey: ExecutionPlan] = [:]
    private let planBuffers = PlanBuffers()
    private let stager = FeedStager()
    /// The devices each placeholder is fed to: its own and every other one that reads it.
    private lazy var feedDevices: [Int: [String]] = {
        let placed = graph.nodes.map(\.id).filter { placement.device(of: $0) != nil }
        var devices: [Int: [String]] = [:]
        for id in placed where graph.nodes[id].role == .placeholder { devices[id] = [placement.device(of: id)!] }
        for pair in Partition(graph: graph, nodes: placed, placement: placement).hostFeeds {
            devices[pair.tensor, default: []].append(pair.to)
        }
        return devices
    }()

    private struct PlanKey: Hashable {
        let fetches: [Int]
        let targets: [Int]
        let feeds: [Int: Shape]
        let chunkBytes: Int
    }

    /// A session that runs every node of `graph` on `device`.
    public convenience init(graph: Graph, device: any Device, kernels: KernelRegistry) {
        self.init(graph: graph, placement: .all(on: device.id), devices: [device], kernels: kernels)
    }

    /// A session that runs each node on the device `placement` gives it, among `devices`.
    public init(graph: Graph, placement: Placement, devices: [any Device], kernels: KernelRegistry) {
        self.graph = graph
        self.placement = placement
        self.devices = Dictionary(devices.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        self.kernels = kernels
        let named = Set(placement.devices.values).union(placement.everyNode.map { [$0] } ?? [])
        precondition(named.isSubset(of: self.devices.keys), "the placement names devices the session was not given")
    }

    /// The device a node runs on.
    public func device(of tensor: Tensor) -> (any Device)? { placement.device(of: tensor.id).flatMap { devices[$0] } }

    /// Computes `fetches` after feeding `feeds` to placeholders, also running `targets` (such as optimizer
    /// updates); only the ops these need run.
    ///
    /// - Throws: `missingFeed` or `feedMismatch` for a feed problem, `noKernel` if a device cannot run an op,
    ///   a shape error if the fed shapes do not fit the graph, or an error a kernel raised.
    @discardableResult
    public func run(_ fetches: [Tensor], feeds: [Tensor: HostTensor] = [:], targets: [Tensor] = []) throws
        -> [HostTensor]
    {
        try run(fetches, feedShapes: checkedShapes(feeds), targets: targets) { id, device, buffer in
            try device.upload(feeds[graph.tensor(id)]!, to: buffer)
        }
    }

    /// Starts copying `feeds` to their placeholders' devices on the devices' transfer streams and returns at once;
    /// pass the result to `run(_:staged:targets:)`. Staging the next batch before running the current one uploads
    /// it while the current one computes. A placeholder's staged values use two buffers in turn, so a
    /// `StagedFeeds` must be run before the second `stage` call after it.
    ///
    /// - Throws: `feedMismatch` if a value does not fit its placeholder, or a device's error.
    public func stage(_ feeds: [Tensor: HostTensor]) throws -> StagedFeeds {
        let shapes = try checkedShapes(feeds)
        var values: [Int: [String: StagedFeeds.Value]] = [:]
        for (placeholder, value) in feeds {
            // Another task feeds its own devices.
            for id in try feedDevices[placeholder.id] ?? [deviceOf(placeholder.node).id]
            where !(devices[id] is RemoteDevice) {
                values[placeholder.id, default: [:]][id] =
                    overlapsTransfers ? try stager.stage(value, for: placeholder.node, on: devices[id]!) : .host(value)
            }
        }
        return StagedFeeds(values: values, shapes: shapes)
    }

    /// `run(_:feeds:targets:)` with feeds that `stage` has sent ahead.
    @discardableResult
    public func run(_ fetches: [Tensor], staged: StagedFeeds, targets: [Tensor] = []) throws -> [HostTensor] {
        try run(fetches, feedShapes: staged.shapes, targets: targets) { id, device, buffer in
            guard let value = staged.values[id]?[device.id] else {
                throw ConfluxError.invalidArgument(
                    op: "Placeholder", reason: "'\(graph.nodes[id].name)' was not staged for \(device.id)")
            }
            try FeedStager.consume(value, into: buffer, on: device, name: graph.nodes[id].name)
        }
    }

    /// The shape and type of each feed, by node id, once each fits its placeholder.
    private func checkedShapes(_ feeds: [Tensor: HostTensor]) throws -> [Int: (Shape, DType)] {
        for (placeholder, value) in feeds {
            guard placeholder.shape.accepts(value.shape), placeholder.dtype == value.dtype else {
                throw ConfluxError.feedMismatch(
                    placeholder: placeholder.name, expected: placeholder.shape, expectedType: placeholder.dtype,
                    got: value.shape, gotType: value.dtype)
            }
        }
        return Dictionary(uniqueKeysWithValues: feeds.map { ($0.key.id, ($0.value.shape, $0.value.dtype)) })
    }

    /// Plans the run, puts each feed into its buffer with `feed`, runs the plan and downloads the fetches.
    private func run(
        _ fetches: [Tensor], feedShapes: [Int: (Shape, DType)], targets: [Tensor],
        feed: (Int, any Device, DeviceTensor) throws -> Void
    ) throws -> [HostTensor] {
        let plan = try self.plan(fetches: fetches, targets: targets, feedShapes: feedShapes)
        for (id, device, buffer) in plan.feeds { try feed(id, device, buffer) }
        try Executor(plan: plan, tracer: tracer, overlapsTransfers: overlapsTransfers).run()
        return try plan.fetches.map { try $0.device.download($0.buffer) }
    }

    /// Computes one tensor.
    public func run(_ fetch: Tensor, feeds: [Tensor: HostTensor] = [:]) throws -> HostTensor {
        try run([fetch], feeds: feeds)[0]
    }

    /// Replaces the value of `variable`.
    ///
    /// - Throws: `feedMismatch` if the value's shape or type differs from the variable's.
    public func assign(_ variable: Tensor, _ value: HostTensor) throws {
        precondition(variable.node.role == .variable, "\(variable.name) is not a variable")
        guard variable.shape == value.shape, value.dtype == .float32 else {
            throw ConfluxError.feedMismatch(
                placeholder: variable.name, expected: variable.shape, expectedType: .float32, got: value.shape,
                gotType: value.dtype)
        }
        try deviceOf(variable.node).upload(value, to: persistentTensor(variable.node))
    }

    private func plan(fetches: [Tensor], targets: [Tensor], feedShapes: [Int: (Shape, DType)]) throws
        -> ExecutionPlan
    {
        precondition((fetches + targets).allSatisfy { $0.graph === graph }, "a fetch belongs to another graph")
        let key = PlanKey(
            fetches: fetches.map(\.id), targets: targets.map(\.id), feeds: feedShapes.mapValues(\.0),
            chunkBytes: streamingChunkBytes)
        if let plan = plans[key] { return plan }
        let plan = try ExecutionPlan(
            graph: graph, placement: placement, devices: devices, kernels: kernels, fetches: key.fetches,
            targets: key.targets, feedShapes: feedShapes, chunkBytes: streamingChunkBytes, buffers: planBuffers,
            persistent: persistentTensor)
        plans[key] = plan
        return plan
    }

    private func deviceOf(_ node: Node) throws -> any Device {
        guard let id = placement.device(of: node.id), let device = devices[id] else {
            throw ConfluxError.invalidArgument(
                op: node.op.rawValue, reason: "node '\(node.name)' was built after the graph was placed")
        }
        return device
    }

    /// The session's buffer for a variable (initialised from the graph's seed) or a constant.
    private func persistentTensor(_ node: Node) throws -> DeviceTensor {
        if let tensor = persistent[node.id] { return tensor }
        let value: HostTensor
        switch node.attributes["value"] ?? node.attributes["initializer"] {
        case .tensor(let constant):
            value = constant
        case .initializer(let initializer):
            var generator = SeededGenerator(seed: graph.seed &+ UInt64(node.id) &* 0x9E37_79B9_7F4A_7C15)
            value = HostTensor(
                shape: node.shape, floats: initializer.values(count: node.shape.count, generator: &generator))
        default:
            preconditionFailure("\(node.name) is neither a variable nor a constant")
        }
        let device = try deviceOf(node)
        let tensor = try device.allocate(value.shape, value.dtype, for: node.name)
        try device.upload(value, to: tensor)
        persistent[node.id] = tensor
        return tensor
    }
}
