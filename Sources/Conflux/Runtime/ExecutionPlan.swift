/// The work of one run, laid out once per combination of fetches, targets and feed shapes: one lane of steps per
/// device, the transfers between lanes, and every buffer assigned in advance.
///
/// Each later run with the same combination reuses the plan's buffers, so a training step allocates nothing. A
/// buffer returns to its device's free list after its last reader on that device, so later ops of the same size
/// reuse it; a tensor that is sent to another device keeps its buffer, since the copy reads it asynchronously, and
/// so does its copy on the receiving device, since the transfer stream writes it while that device's compute
/// stream may still be running earlier kernels.
struct ExecutionPlan {
    /// One step of a lane.
    enum Step {
        /// Run a kernel.
        case compute(Kernel, KernelContext)
        /// Start copying a tensor this lane produced to the host for another lane (transfer index).
        case send(Int)
        /// Make the lane's later work wait for a chunk of a transfer into this lane's buffer (transfer, chunk).
        case receive(Int, chunk: Int)
        /// Wait until every transfer this lane sends has read its tensor: stateful ops may then overwrite them.
        case drainSends
    }

    struct Lane {
        let device: any Device
        var steps: [Step] = []
        var names: [String] = []
    }

    let lanes: [Lane]
    let transfers: [Transfer]
    let feeds: [(id: Int, device: any Device, buffer: DeviceTensor)]
    let fetches: [(device: any Device, buffer: DeviceTensor)]

    /// Plans the part of `graph` that `fetches` and `targets` need, cut at fed placeholders, on the devices of
    /// `placement`. `persistent` hands back the session-owned buffer of a variable or constant. A tensor of at
    /// least twice `chunkBytes` crosses devices in chunks of rows (see `Streaming`).
    init(
        graph: Graph, placement: Placement, devices: [String: any Device], kernels: KernelRegistry, fetches: [Int],
        targets: [Int], feedShapes: [Int: (Shape, DType)], chunkBytes: Int,
        persistent: (Node) throws -> DeviceTensor
    ) throws {
        let order = graph.executionOrder(roots: fetches + targets, fed: Set(feedShapes.keys))
        for id in order where placement.device(of: id) == nil {
            throw ConfluxError.invalidArgument(
                op: graph.nodes[id].op.rawValue,
                reason: "node '\(graph.nodes[id].name)' was built after the graph was placed")
        }
        let partition = Partition(graph: graph, nodes: order, placement: placement)
        let deviceOf = { (id: Int) in placement.device(of: id)! }
        let sent = Set(partition.transfers.map(\.tensor))
        let pinned = Set(fetches).union(sent)

        /// Reads of each (node, device) by steps of that device's lane.
        var remainingReads: [String: Int] = [:]
        func key(_ id: Int, _ device: String) -> String { "\(id)@\(device)" }
        for id in order where feedShapes[id] == nil {
            for input in graph.nodes[id].inputs { remainingReads[key(input, deviceOf(id)), default: 0] += 1 }
        }

        var freeLists: [String: [Int: [any DeviceStorage]]] = [:]
        var buffers: [String: DeviceTensor] = [:]
        var lanes: [String: Lane] = [:]
        var transfers: [Transfer] = []
        var feeds: [(Int, any Device, DeviceTensor)] = []
        var laneOrder: [String] = []
        /// Per streamed transfer, its chunks' rows and the reader that runs chunk by chunk, if one can.
        var streamed: [Int: (rows: [Range<Int>], reader: Int?)] = [:]

        func lane(_ device: String) -> Lane {
            if lanes[device] == nil { laneOrder.append(device) }
            return lanes[device] ?? Lane(device: devices[device]!)
        }
        func allocate(_ shape: Shape, _ dtype: DType, on device: String, for name: String) throws -> DeviceTensor {
            let bytes = shape.count * dtype.size
            let storage =
                try freeLists[device]?[bytes]?.popLast()
                ?? devices[device]!.allocate(byteCount: bytes, for: name)
            return DeviceTensor(shape: shape, dtype: dtype, storage: storage)
        }
        func release(_ id: Int, on device: String) {
            let source = graph.nodes[id].op
            guard !pinned.contains(id), source != .variable, source != .constant,
                let buffer = buffers[key(id, device)]
            else { return }
            freeLists[device, default: [:]][buffer.storage.byteCount, default: []].append(buffer.storage)
        }
        /// Adds the sends of `id` to its lane, right after it is produced.
        func sendAfterProducing(_ id: Int) throws {
            for pair in partition.transfers where pair.tensor == id {
                let source = buffers[key(id, pair.from)]!
                let target = devices[pair.to]!
                let destination = try target.allocate(source.shape, source.dtype, for: graph.nodes[id].name)
                buffers[key(id, pair.to)] = destination
                let rows = Streaming.rows(
                    of: source.shape, dtype: source.dtype, chunkBytes: chunkBytes, alignment: target.viewAlignment)
                let rowBytes = source.storage.byteCount / max(source.shape.rank > 0 ? source.shape[0] : 1, 1)
                if let rows {
                    let reader = order.first { deviceOf($0) == pair.to && graph.nodes[$0].inputs.contains(id) }
                    streamed[transfers.count] = (
                        rows,
                        reader.flatMap {
                            Streaming.canStream(id, into: graph.nodes[$0], on: target, deviceOf: deviceOf) ? $0 : nil
                        }
                    )
                }
                transfers.append(
                    try Transfer(
                        pair: pair, name: graph.nodes[id].name, from: devices[pair.from]!, source, to: target,
                        destination,
                        chunks: rows?.map { $0.lowerBound * rowBytes..<$0.upperBound * rowBytes }
                            ?? [0..<source.storage.byteCount]))
                var from = lane(pair.from)
                from.steps.append(.send(transfers.count - 1))
                from.names.append("send \(graph.nodes[id].name) to \(pair.to)")
                lanes[pair.from] = from
            }
        }

        var drained = Set<String>()
        for id in order {
            let node = graph.nodes[id]
            let device = deviceOf(id)
            if let (shape, dtype) = feedShapes[id] {
                let buffer = try allocate(shape, dtype, on: device, for: node.name)
                feeds.append((id, devices[device]!, buffer))
                buffers[key(id, device)] = buffer
                try sendAfterProducing(id)
                continue
            }
            if node.op == .variable || node.op == .constant {
                buffers[key(id, device)] = try persistent(node)
                try sendAfterProducing(id)
                continue
            }
            if node.op == .placeholder { throw ConfluxError.missingFeed(placeholder: node.name, shape: node.shape) }
            var current = lane(device)
            func receive(_ index: Int, chunks: Range<Int>) {
                for chunk in chunks {
                    current.steps.append(.receive(index, chunk: chunk))
                    current.names.append("receive \(transfers[index].name) from \(transfers[index].pair.from)")
                }
            }
            /// The transfer this node reads chunk by chunk as it arrives.
            var streaming: Int?
            for input in node.inputs where deviceOf(input) != device {
                guard let index = transfers.firstIndex(where: { $0.pair.tensor == input && $0.pair.to == device }),
                    !current.steps.contains(where: { if case .receive(index, _) = $0 { true } else { false } })
                else { continue }
                if streamed[index]?.reader == id { streaming = index } else {
                    receive(index, chunks: transfers[index].chunks.indices)
                }
            }
            if OpDefinition.all[node.op]!.isStateful, drained.insert(device).inserted {
                current.steps.append(.drainSends)
                current.names.append("wait for outgoing transfers")
            }
            let inputs = node.inputs.map { buffers[key($0, device)]! }
            let (shape, dtype) = try OpDefinition.all[node.op]!.inferShape(
                ShapeContext(
                    op: node.op, nodeName: node.name, shapes: inputs.map(\.shape), dtypes: inputs.map(\.dtype),
                    attributes: node.attributes))
            let kind = devices[device]!.kind
            guard let kernel = kernels.kernel(for: node.op, on: kind) else {
                throw ConfluxError.noKernel(
                    op: node.op.rawValue, node: node.name, device: device,
                    kindsWithKernel: kernels.kinds(for: node.op).map(\.rawValue))
            }
            let output = try allocate(shape, dtype, on: device, for: node.name)
            buffers[key(id, device)] = output
            let context = KernelContext(node: node, inputs: inputs, output: output, device: devices[device]!)
            if let streaming, let rows = streamed[streaming]?.rows,
                let pieces = try Streaming.pieces(of: context, rows: rows)
            {
                for (chunk, (piece, range)) in zip(pieces, rows).enumerated() {
                    receive(streaming, chunks: chunk..<chunk + 1)
                    current.steps.append(.compute(kernel, piece))
                    current.names.append("\(node.name) rows \(range.lowerBound)..<\(range.upperBound)")
                }
            } else {
                if let streaming { receive(streaming, chunks: transfers[streaming].chunks.indices) }
                current.steps.append(.compute(kernel, context))
                current.names.append(node.name)
            }
            lanes[device] = current
            for input in node.inputs {
                remainingReads[key(input, device)]! -= 1
                if remainingReads[key(input, device)] == 0 { release(input, on: device) }
            }
            try sendAfterProducing(id)
        }
        self.lanes = laneOrder.map { lanes[$0]! }
        self.transfers = transfers
        self.feeds = feeds
        self.fetches = fetches.map { (devices[deviceOf($0)]!, buffers[key($0, deviceOf($0))]!) }
    }
}
