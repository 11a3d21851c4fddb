/// Which tensors of a planned run stay channels-last (`TensorLayout.channelsLast`) from the kernel that writes
/// them to the kernels that read them. Where a device's kernels are faster on channels-last tensors (oneDNN's
/// convolutions on the CPU), tensors are then converted where a chain of such kernels begins and ends, not in and
/// out of every op (as onnxruntime's NCHWc transformer and XLA's layout assignment do).
///
/// A tensor is channels-last when it is 4-D, written by a kernel that can write it so, read only by kernels on its
/// device that can read it so, and not kept (fetched or sent to another device). A kernel of one layout
/// (element-wise, pooling) needs its inputs and output alike: either all of them qualify, or none is channels-last.
/// What each kernel can do comes from its device (`Device.channelsLastUse`); a kernel that finds it cannot after
/// all (no oneDNN kernel for the shape) converts for itself.
struct LayoutAssignment {
    private(set) var channelsLast: Set<Int> = []

    /// The layouts of the outputs of `nodes` (the run's kernels in execution order, fused chains as one node),
    /// keeping every output in `kept` plain.
    init(graph: Graph, nodes: [Node], placement: Placement, kept: Set<Int>, devices: [String: any Device]) {
        var uses: [Int: ChannelsLastUse] = [:]
        var readers: [Int: [(node: Int, slot: Int)]] = [:]
        for node in nodes {
            let device = placement.device(of: node.id).flatMap { devices[$0] }
            uses[node.id] =
                device?.channelsLastUse(for: node, inputs: node.inputs.map { graph.nodes[$0].shape }) ?? .none
            for (slot, input) in node.inputs.enumerated() { readers[input, default: []].append((node.id, slot)) }
        }
        func qualifies(_ id: Int) -> Bool {
            guard uses[id]?.writes == true, !kept.contains(id), graph.nodes[id].shape.rank == 4,
                let reads = readers[id]
            else { return false }
            return reads.allSatisfy {
                placement.device(of: $0.node) == placement.device(of: id) && uses[$0.node]!.reads(slot: $0.slot)
            }
        }
        channelsLast = Set(nodes.map(\.id).filter(qualifies))
        // Kernels of one layout: their inputs and output all channels-last, or all plain; until nothing changes.
        var changed = true
        while changed {
            changed = false
            for node in nodes where uses[node.id] == .uniform {
                let members = [node.id] + node.inputs
                guard members.contains(where: channelsLast.contains) else { continue }
                if !members.allSatisfy(channelsLast.contains) {
                    channelsLast.subtract(members)
                    changed = true
                }
            }
        }
    }

    func layout(of id: Int) -> TensorLayout { channelsLast.contains(id) ? .channelsLast : .plain }
}
