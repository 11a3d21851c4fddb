/// The work of one run, laid out once per combination of fetches, targets and feed shapes by `PlanBuilder`: one
/// lane of steps per device, the transfers between lanes, and every buffer assigned in advance.
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
    /// `placement`. `persistent` hands back the session-owned buffer of a variable or constant; every other buffer
    /// comes from `buffers`, shared with the session's other plans. A tensor of at least twice `chunkBytes` crosses
    /// devices in chunks of rows (see `Streaming`).
    init(
        graph: Graph, placement: Placement, devices: [String: any Device], kernels: KernelRegistry, fetches: [Int],
        targets: [Int], feedShapes: [Int: (Shape, DType)], chunkBytes: Int, buffers: PlanBuffers,
        persistent: (Node) throws -> DeviceTensor
    ) throws {
        let order = graph.executionOrder(roots: fetches + targets, fed: Set(feedShapes.keys))
        for id in order where placement.device(of: id) == nil {
            throw ConfluxError.invalidArgument(
                op: graph.nodes[id].op.rawValue,
                reason: "node '\(graph.nodes[id].name)' was built after the graph was placed")
        }
        var builder = PlanBuilder(
            graph: graph, placement: placement, devices: devices, kernels: kernels, order: order,
            fed: Set(feedShapes.keys), fetches: fetches, chunkBytes: chunkBytes, buffers: buffers)
        for id in order {
            let node = graph.nodes[id]
            if let (shape, dtype) = feedShapes[id] {
                try builder.feed(id, shape, dtype)
            } else if node.role.isPersistent {
                try builder.persistent(id, persistent(node))
            } else if node.role == .placeholder {
                throw ConfluxError.missingFeed(placeholder: node.name, shape: node.shape)
            } else {
                try builder.compute(id)
            }
        }
        lanes = builder.lanes
        transfers = builder.transfers
        feeds = builder.feeds
        // A value fetched from another task is read where the partition delivered it, on this task's home.
        self.fetches = fetches.map { [tasks = builder.tasks] in
            var device = placement.device(of: $0)!
            if let tasks, tasks.task(of: device) != tasks.own { device = tasks.home(of: tasks.own) }
            return (devices[device]!, builder.buffers[PlanBuilder.BufferKey(node: $0, device: device)]!)
        }
    }
}
