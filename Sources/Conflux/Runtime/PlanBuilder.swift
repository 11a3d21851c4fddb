/// Lays out an `ExecutionPlan` one node at a time, in execution order: gives each output a buffer (reusing those
/// whose last reader on the device has been planned), appends the node's steps to its device's lane, and adds the
/// transfers its output needs.
struct PlanBuilder {
    /// A node's buffer on one device: where it was computed, or a copy received or fed there.
    struct BufferKey: Hashable {
        let node: Int
        let device: String
    }

    private let graph: Graph
    private let placement: Placement
    private let devices: [String: any Device]
    private let kernels: KernelRegistry
    private let order: [Int]
    private let partition: Partition
    private let chunkBytes: Int
    /// Nodes whose buffers are never reused within a run: fetched, or read by a transfer (on both ends).
    private let pinned: Set<Int>
    /// Reads of each buffer by steps still to be planned.
    private var remainingReads: [BufferKey: Int] = [:]
    /// Per device, the buffers whose last reader has been planned, in the order they were freed.
    private var freeLists: [String: [any DeviceStorage]] = [:]
    /// Where new buffers come from: the session's, shared with its other plans.
    private let shared: PlanBuffers
    private var taken = PlanBuffers.Taken()
    private var drained: Set<String> = []
    /// Buffers an output took over from its node's input (`inPlaceInput`): not freed after that input's last read.
    private var forwarded: Set<BufferKey> = []
    /// Per streamed transfer, its chunks' rows and the reader that runs chunk by chunk, if one can.
    private var streamed: [Int: (rows: [Range<Int>], reader: Int?)] = [:]
    /// The chains of nodes that run as one kernel.
    private let fusion: Fusion
    private let layouts: LayoutAssignment
    /// The tasks the devices span, if more than this process's.
    let tasks: TaskSpan?
    /// The tag of the next chunk to cross tasks: every task builds the same plan, so tags match end to end.
    private var nextTag = 0

    private(set) var buffers: [BufferKey: DeviceTensor] = [:]
    private(set) var lanes: [ExecutionPlan.Lane] = []
    private(set) var transfers: [Transfer] = []
    private(set) var feeds: [(id: Int, device: any Device, buffer: DeviceTensor)] = []

    init(
        graph: Graph, placement: Placement, devices: [String: any Device], kernels: KernelRegistry, order: [Int],
        fed: Set<Int>, fetches: [Int], chunkBytes: Int, buffers: PlanBuffers
    ) {
        shared = buffers
        self.graph = graph
        self.placement = placement
        self.devices = devices
        self.kernels = kernels
        self.order = order
        self.chunkBytes = chunkBytes
        tasks = TaskSpan(devices: devices.values)
        partition = Partition(graph: graph, nodes: order, placement: placement, fetches: fetches, tasks: tasks)
        pinned = Set(fetches).union(partition.transfers.map(\.tensor))
        let computed = order.filter { !fed.contains($0) && !graph.nodes[$0].role.isSource }
        let fusion = Fusion(
            graph: graph, computed: computed, placement: placement, kept: pinned, kernels: kernels,
            kind: { devices[$0]?.kind })
        self.fusion = fusion
        layouts = LayoutAssignment(
            graph: graph,
            nodes: computed.filter { !fusion.absorbed.contains($0) }.map { fusion.runner(of: $0, in: graph) },
            placement: placement, kept: pinned, devices: devices)
        for id in order where !fed.contains(id) {
            for input in graph.nodes[id].inputs {
                remainingReads[BufferKey(node: input, device: placement.device(of: id)!), default: 0] += 1
            }
        }
    }

    private func device(of id: Int) -> String { placement.device(of: id)! }

    /// A fed node: a buffer on its device and on every other device that reads it, all filled from the host.
    mutating func feed(_ id: Int, _ shape: Shape, _ dtype: DType) throws {
        let readers = [device(of: id)] + partition.hostFeeds.filter { $0.tensor == id }.map(\.to)
        for reader in readers {
            // Never a buffer freed earlier in the plan: every feed is written before the run starts.
            let buffer = try allocate(shape, dtype, on: reader, for: graph.nodes[id].name, reusing: false)
            // Each task feeds its own devices.
            if !(devices[reader] is RemoteDevice) { feeds.append((id, devices[reader]!, buffer)) }
            buffers[BufferKey(node: id, device: reader)] = buffer
        }
        try send(id)
    }

    /// A variable or constant: the session's buffer.
    mutating func persistent(_ id: Int, _ buffer: DeviceTensor) throws {
        buffers[BufferKey(node: id, device: device(of: id))] = buffer
        try send(id)
    }

    /// A node that runs a kernel, after receiving what it reads from other devices; a fused chain runs at its last
    /// node, as one kernel.
    mutating func compute(_ id: Int) throws {
        guard !fusion.absorbed.contains(id) else { return }
        let node = fusion.runner(of: id, in: graph)
        let device = device(of: id)
        let streaming = receiveInputs(of: node)
        if node.role == .update, drained.insert(device).inserted {
            append(.drainSends, "wait for outgoing transfers", on: device)
        }
        let inputs = node.inputs.map { buffers[BufferKey(node: $0, device: device)]! }
        let (shape, dtype) = try OpDefinition.all[node.op]!.inferShape(
            ShapeContext(
                op: node.op, nodeName: node.name, shapes: inputs.map(\.shape), dtypes: inputs.map(\.dtype),
                attributes: node.attributes))
        guard let kernel = kernels.kernel(for: node.op, on: devices[device]!.kind) else {
            throw ConfluxError.noKernel(
                op: node.op.rawValue, node: node.name, device: device,
                kindsWithKernel: kernels.kinds(for: node.op).map(\.rawValue))
        }
        let output: DeviceTensor
        // Not for a node that runs chunk by chunk: its pieces' views would hide from its kernel that the output
        // and the residual share memory.
        if streaming == nil, let input = inPlaceInput(of: node, on: device) {
            output = DeviceTensor(shape: shape, dtype: dtype, storage: inputs[input].storage)
            forwarded.insert(BufferKey(node: node.inputs[input], device: device))
        } else {
            output = try allocate(shape, dtype, on: device, for: node.name)
        }
        buffers[BufferKey(node: id, device: device)] = output
        var context = KernelContext(node: node, inputs: inputs, output: output, device: devices[device]!)
        context.persistentInputs = Set(
            node.inputs.indices.filter {
                graph.nodes[node.inputs[$0]].role.isPersistent && self.device(of: node.inputs[$0]) == device
            })
        context.inputLayouts = node.inputs.map(layouts.layout(of:))
        context.outputLayout = layouts.layout(of: id)
        if let streaming, let rows = streamed[streaming]?.rows,
            let pieces = try Streaming.pieces(of: context, rows: rows)
        {
            for (chunk, (piece, range)) in zip(pieces, rows).enumerated() {
                receive(streaming, chunks: chunk..<chunk + 1)
                append(
                    .compute(kernel, piece), "\(node.name) rows \(range.lowerBound)..<\(range.upperBound)", on: device)
            }
        } else {
            if let streaming { receive(streaming, chunks: transfers[streaming].chunks.indices) }
            append(.compute(kernel, context), node.name, on: device)
        }
        for input in node.inputs { release(BufferKey(node: input, device: device)) }
        try send(id)
    }

    /// The input whose buffer the node's output may take over, as TensorFlow's `forward_input_or_allocate_output`:
    /// a fused convolution's residual at its last read, which the kernel sums into in place (oneDNN's sum
    /// post-op: no copy of the residual). Only a buffer this plan computed on the device, read once by the node,
    /// and in the output's layout.
    private func inPlaceInput(of node: Node, on device: String) -> Int? {
        guard node.op == .fusedConv2D, node.attributes["residual"] == .bool(true) else { return nil }
        let (index, residual) = (node.inputs.count - 1, node.inputs.last!)
        let key = BufferKey(node: residual, device: device)
        guard self.device(of: residual) == device, remainingReads[key] == 1, !pinned.contains(residual),
            !graph.nodes[residual].role.isPersistent, !feeds.contains(where: { $0.id == residual }),
            node.inputs.filter({ $0 == residual }).count == 1,
            layouts.layout(of: residual) == layouts.layout(of: node.id)
        else { return nil }
        return index
    }

    /// Adds the receives of the node's inputs from other devices not yet received on its device; returns the
    /// transfer the node itself reads chunk by chunk, whose receives come with its pieces.
    private mutating func receiveInputs(of node: Node) -> Int? {
        let (id, device) = (node.id, device(of: node.id))
        var streaming: Int?
        for input in node.inputs where self.device(of: input) != device {
            guard let index = transfers.firstIndex(where: { $0.pair.tensor == input && $0.pair.to == device }),
                !hasReceived(index, on: device)
            else { continue }
            if streamed[index]?.reader == id {
                streaming = index
            } else {
                receive(index, chunks: transfers[index].chunks.indices)
            }
        }
        return streaming
    }

    /// Whether `device`'s lane already waits for transfer `index`.
    private func hasReceived(_ index: Int, on device: String) -> Bool {
        lane(device).steps.contains { if case .receive(index, _) = $0 { true } else { false } }
    }

    private mutating func receive(_ index: Int, chunks: Range<Int>) {
        let transfer = transfers[index]
        for chunk in chunks {
            append(
                .receive(index, chunk: chunk), "receive \(transfer.name) from \(transfer.pair.from)",
                on: transfer.pair.to)
        }
    }

    /// Adds the sends of `id` to its lane, right after it is produced: one per device that reads it, each into a
    /// buffer of its own there, in chunks when it is large.
    private mutating func send(_ id: Int) throws {
        for pair in partition.transfers where pair.tensor == id {
            guard let target = devices[pair.to] else {
                throw ConfluxError.invalidArgument(
                    op: "Send", reason: "\(graph.nodes[id].name) goes to \(pair.to), which the session was not given")
            }
            let source = buffers[BufferKey(node: id, device: pair.from)]!
            let destination = try target.allocate(source.shape, source.dtype, for: graph.nodes[id].name)
            buffers[BufferKey(node: id, device: pair.to)] = destination
            var chunks = [0..<source.byteCount]
            if let rows = Streaming.rows(
                of: source.shape, dtype: source.dtype, chunkBytes: chunkBytes, alignment: target.viewAlignment)
            {
                let rowBytes = source.byteCount / source.shape[0]
                chunks = rows.map { $0.lowerBound * rowBytes..<$0.upperBound * rowBytes }
                // The first node there to read it, or the fused chain it runs in.
                let reader = order.first { device(of: $0) == pair.to && graph.nodes[$0].inputs.contains(id) }.map {
                    fusion.runner(of: $0, in: graph)
                }.flatMap { Streaming.canStream(id, into: $0, on: target, deviceOf: device(of:)) ? $0.id : nil }
                streamed[transfers.count] = (rows, reader)
            }
            transfers.append(
                try Transfer(
                    pair: pair, name: graph.nodes[id].name, from: devices[pair.from]!, source, to: target, destination,
                    chunks: chunks, firstTag: nextTag))
            nextTag += chunks.count
            // A tensor passed on from the device it reached on another task (`Partition`) is sent once it is there.
            if pair.from != device(of: id),
                let arrival = transfers.firstIndex(where: { $0.pair.tensor == id && $0.pair.to == pair.from }),
                !hasReceived(arrival, on: pair.from)
            {
                receive(arrival, chunks: transfers[arrival].chunks.indices)
            }
            append(.send(transfers.count - 1), "send \(graph.nodes[id].name) to \(pair.to)", on: pair.from)
        }
    }

    /// A buffer for a tensor of `shape`: a free one when `reusing` finds one that fits, else one from the pool.
    private mutating func allocate(
        _ shape: Shape, _ dtype: DType, on device: String, for name: String, reusing: Bool = true
    ) throws -> DeviceTensor {
        let bytes = shape.count * dtype.size
        let free = reusing ? reuse(bytes, on: device) : nil
        let storage = try free ?? shared.take(bytes, on: devices[device]!, for: name, &taken)
        return DeviceTensor(shape: shape, dtype: dtype, storage: storage)
    }

    /// The free buffer of `device` that fits `bytes` most closely, the last freed of those: tensors of every size
    /// share buffers, so that a run touches little more memory than it holds at once and that memory stays in the
    /// caches (MobileNetV2 at batch 1 held 17.6 MB of activations when only a buffer of the same size was reused).
    private mutating func reuse(_ bytes: Int, on device: String) -> (any DeviceStorage)? {
        guard let free = freeLists[device] else { return nil }
        let fitting = free.indices.filter { free[$0].byteCount >= bytes }
        guard let best = fitting.reversed().min(by: { free[$0].byteCount < free[$1].byteCount }) else { return nil }
        return freeLists[device]!.remove(at: best)
    }

    /// Counts one read of `key`; after its last, the buffer goes back to its device's free list unless it must
    /// outlive the run's other steps.
    private mutating func release(_ key: BufferKey) {
        remainingReads[key]! -= 1
        guard remainingReads[key] == 0, !pinned.contains(key.node), !graph.nodes[key.node].role.isPersistent,
            !forwarded.contains(key), let buffer = buffers[key]
        else { return }
        freeLists[key.device, default: []].append(buffer.storage)
    }

    private func lane(_ device: String) -> ExecutionPlan.Lane {
        lanes.first { $0.device.id == device } ?? ExecutionPlan.Lane(device: devices[device]!)
    }

    private mutating func append(_ step: ExecutionPlan.Step, _ name: String, on device: String) {
        guard let index = lanes.firstIndex(where: { $0.device.id == device }) else {
            lanes.append(ExecutionPlan.Lane(device: devices[device]!, steps: [step], names: [name]))
            return
        }
        lanes[index].steps.append(step)
        lanes[index].names.append(name)
    }
}
