/// The kernels one run executes, in order, with every buffer assigned in advance.
///
/// A plan is built once per combination of fetches, targets and feed shapes; each later run with the same
/// combination reuses its buffers, so a training step allocates nothing. A buffer returns to the plan's free
/// list after its last reader, so later ops of the same size reuse it.
struct ExecutionPlan {
    struct Step {
        let kernel: Kernel
        let context: KernelContext
    }

    let feeds: [(id: Int, buffer: DeviceTensor)]
    let steps: [Step]
    let fetches: [DeviceTensor]

    /// Plans the part of `graph` that `fetches` and `targets` need, cutting it at fed placeholders.
    ///
    /// `persistent` hands back the session-owned buffer of a variable or constant.
    init(
        graph: Graph, device: any Device, kernels: KernelRegistry, fetches: [Int], targets: [Int],
        feedShapes: [Int: (Shape, DType)], persistent: (Node) throws -> DeviceTensor
    ) throws {
        let order = Self.executionOrder(graph: graph, roots: fetches + targets, fed: Set(feedShapes.keys))
        var remainingReads: [Int: Int] = [:]
        for id in order where feedShapes[id] == nil {
            for input in graph.nodes[id].inputs { remainingReads[input, default: 0] += 1 }
        }
        let pinned = Set(fetches)
        var freeList: [Int: [any DeviceStorage]] = [:]
        var buffers: [Int: DeviceTensor] = [:]
        var feeds: [(Int, DeviceTensor)] = []
        var steps: [Step] = []

        func allocate(_ shape: Shape, _ dtype: DType, for node: Node) throws -> DeviceTensor {
            let bytes = shape.count * dtype.size
            let storage = try freeList[bytes]?.popLast() ?? device.allocate(byteCount: bytes, for: node.name)
            return DeviceTensor(shape: shape, dtype: dtype, storage: storage)
        }

        for id in order {
            let node = graph.nodes[id]
            if let (shape, dtype) = feedShapes[id] {
                let buffer = try allocate(shape, dtype, for: node)
                feeds.append((id, buffer))
                buffers[id] = buffer
                continue
            }
            if node.op == .variable || node.op == .constant {
                buffers[id] = try persistent(node)
                continue
            }
            if node.op == .placeholder { throw ConfluxError.missingFeed(placeholder: node.name, shape: node.shape) }
            let inputs = node.inputs.map { buffers[$0]! }
            let context = ShapeContext(
                op: node.op, nodeName: node.name, shapes: inputs.map(\.shape), dtypes: inputs.map(\.dtype),
                attributes: node.attributes)
            let (shape, dtype) = try OpDefinition.all[node.op]!.inferShape(context)
            guard let kernel = kernels.kernel(for: node.op, on: device.kind) else {
                throw ConfluxError.noKernel(
                    op: node.op.rawValue, node: node.name, device: device.id,
                    kindsWithKernel: kernels.kinds(for: node.op).map(\.rawValue))
            }
            let output = try allocate(shape, dtype, for: node)
            buffers[id] = output
            steps.append(Step(kernel: kernel, context: KernelContext(node: node, inputs: inputs, output: output, device: device)))
            for input in node.inputs {
                remainingReads[input]! -= 1
                let source = graph.nodes[input].op
                if remainingReads[input] == 0, !pinned.contains(input), source != .variable, source != .constant {
                    freeList[buffers[input]!.storage.byteCount, default: []].append(buffers[input]!.storage)
                }
            }
        }
        self.feeds = feeds
        self.steps = steps
        self.fetches = fetches.map { buffers[$0]! }
    }

    /// The nodes `roots` depend on, not looking past fed nodes, in id order with stateful ops last: an update
    /// then runs after every op that reads the variable it writes.
    private static func executionOrder(graph: Graph, roots: [Int], fed: Set<Int>) -> [Int] {
        var needed = Set<Int>()
        var stack = roots
        while let id = stack.popLast() {
            guard needed.insert(id).inserted, !fed.contains(id) else { continue }
            stack += graph.nodes[id].inputs
        }
        let sorted = needed.sorted()
        let isStateful = { (id: Int) in OpDefinition.all[graph.nodes[id].op]?.isStateful ?? false }
        return sorted.filter { !isStateful($0) } + sorted.filter(isStateful)
    }
}
