/// Epilogue fusion over a planned run: a convolution or matrix product and the element-wise ops that follow it, a
/// bias and then a ReLU (for a convolution also a residual `Add` before it, or a `Clip` in its place: ResNet's
/// shortcut, MobileNet's ReLU6), run as one kernel that applies them as it writes its output; and a max-pooling
/// gradient with the gradient of the ReLU whose output was pooled. The intermediate tensors are then neither written, read,
/// nor allocated (what TensorFlow's remapper does with `_FusedConv2D`).
///
/// A chain grows from its producer while the node it ends at is read by exactly one node of the run, on the same
/// device, is not kept (fetched, or sent to another device) and its reader continues the pattern. It becomes one
/// node only when the device's backend has a kernel for the fused op; otherwise its nodes run as before. Autodiff
/// has already run: the gradients read the chain's inputs and its last output, never what fusion removes.
struct Fusion {
    /// Nodes planned as one.
    struct Chain {
        /// The producer first, the node whose output the chain computes last.
        let nodes: [Int]
        /// What the fused kernel runs as: the fused op over the chain's inputs from outside, named after the
        /// chain's nodes joined by `+`.
        let node: Node
    }

    /// Chains by their last node.
    private(set) var chains: [Int: Chain] = [:]
    /// Nodes that run inside a chain ending at another node.
    private(set) var absorbed: Set<Int> = []
    /// The last node of the chain each absorbed node runs in.
    private var chainEnds: [Int: Int] = [:]

    /// The chains among `computed` (the run's nodes that execute a kernel, in execution order), placed by
    /// `placement` on devices whose kinds `kind` gives, keeping the output of every node in `kept`.
    init(
        graph: Graph, computed: [Int], placement: Placement, kept: Set<Int>, kernels: KernelRegistry,
        kind: (String) -> DeviceKind?
    ) {
        var readers: [Int: [Int]] = [:]
        for id in computed {
            for input in graph.nodes[id].inputs { readers[input, default: []].append(id) }
        }
        let isComputed = Set(computed)
        for id in computed where !absorbed.contains(id) {
            let producer = graph.nodes[id]
            guard let fused = Fusion.fusedOp[producer.op], let device = placement.device(of: id),
                let deviceKind = kind(device), kernels.kernel(for: fused, on: deviceKind) != nil
            else { continue }
            var nodes = [id]
            /// The sole reader of the chain's end, if it is an `op` reading that end as input `slot` and the chain may
            /// grow into it: not a node of another chain (an `Add` of two convolutions belongs to the first).
            func next(_ op: OpType, slot: Int = 0) -> Node? {
                let end = nodes.last!
                guard !kept.contains(end), let only = readers[end], only.count == 1, isComputed.contains(only[0]),
                    placement.device(of: only[0]) == device, !absorbed.contains(only[0]), chains[only[0]] == nil
                else { return nil }
                let reader = graph.nodes[only[0]]
                return reader.op == op && reader.inputs[slot] == end ? reader : nil
            }
            var bias: Node?
            var residual: Int?
            var clip: Node?
            if producer.op == .maxPoolGrad {
                // ReluGrad(y, dy) whose y is what was pooled: the ReLU's output.
                if let reluGrad = next(.reluGrad, slot: 1), reluGrad.inputs[0] == producer.inputs[0] {
                    nodes.append(reluGrad.id)
                }
            } else {
                bias = next(.biasAdd)
                if let bias { nodes.append(bias.id) }
                // A convolution's residual connection: Add of a tensor of the same shape (ResNet's shortcut).
                if producer.op == .conv2D, let add = next(.add, slot: 0) ?? next(.add, slot: 1) {
                    let other = add.inputs[add.inputs[0] == nodes.last! ? 1 : 0]
                    if graph.nodes[other].shape == graph.nodes[nodes.last!].shape {
                        residual = other
                        nodes.append(add.id)
                    }
                }
                if let relu = next(.relu) {
                    nodes.append(relu.id)
                } else if producer.op == .conv2D, let found = next(.clip) {
                    clip = found
                    nodes.append(found.id)
                }
            }
            guard nodes.count > 1 else { continue }
            var attributes = producer.attributes
            attributes["bias"] = .bool(bias != nil)
            attributes["relu"] = .bool([.relu, .reluGrad].contains(graph.nodes[nodes.last!].op))
            if producer.op == .conv2D {
                attributes["residual"] = .bool(residual != nil)
                attributes["clip"] = .bool(clip != nil)
                attributes["min"] = clip?.attributes["min"] ?? .float(0)
                attributes["max"] = clip?.attributes["max"] ?? .float(0)
            }
            let last = graph.nodes[nodes.last!]
            let node = Node(
                id: last.id, name: nodes.map { graph.nodes[$0].name }.joined(separator: "+"), op: fused,
                inputs: producer.inputs + (bias.map { [$0.inputs[1]] } ?? []) + (residual.map { [$0] } ?? []),
                attributes: attributes, shape: last.shape, dtype: last.dtype, requestedDevice: nil)
            chains[last.id] = Chain(nodes: nodes, node: node)
            absorbed.formUnion(nodes.dropLast())
            for absorbedNode in nodes.dropLast() { chainEnds[absorbedNode] = last.id }
        }
    }

    /// The node that runs `id`'s computation: the fused node of its chain, or the graph's own.
    func runner(of id: Int, in graph: Graph) -> Node {
        let end = chainEnds[id] ?? id
        return chains[end]?.node ?? graph.nodes[end]
    }

    /// The producers that fuse, and the op each becomes.
    static let fusedOp: [OpType: OpType] = [
        .conv2D: .fusedConv2D, .matMul: .fusedMatMul, .maxPoolGrad: .fusedMaxPoolGrad,
    ]
}
