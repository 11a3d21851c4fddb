/// Where two devices first disagree when they run the same graph side by side.
public struct Divergence: Sendable {
    /// Summary statistics of a tensor.
    public struct Statistics: Sendable, CustomStringConvertible {
        public let shape: Shape
        public let min: Float, max: Float, mean: Float

        init(_ tensor: HostTensor) {
            let values = tensor.floats
            shape = tensor.shape
            min = values.min() ?? 0
            max = values.max() ?? 0
            mean = values.isEmpty ? 0 : values.reduce(0, +) / Float(values.count)
        }

        public var description: String { "\(shape) min \(min) max \(max) mean \(mean)" }
    }

    public let node: String
    public let op: String
    public let maxAbsoluteError: Float
    /// The node's inputs on the reference device.
    public let inputs: [(name: String, statistics: Statistics)]

    /// Runs every op `roots` need on `reference`, with `feeds` and the graph's initial variable values, then each
    /// of them alone on `device` from the reference's values of its inputs, and returns the first node, in
    /// execution order, whose output differs beyond `tolerance` (nil when all agree). Stateful ops are not run.
    public static func first(
        in graph: Graph, roots: [Tensor], feeds: [Tensor: HostTensor], reference: any Device, device: any Device,
        kernels: KernelRegistry, tolerance: Tolerance = .summation
    ) throws -> Divergence? {
        let fed = Set(feeds.keys.map(\.id))
        let nodes = graph.executionOrder(roots: roots.map(\.id), fed: fed).map { graph.tensor($0) }.filter { tensor in
            tensor.node.role != .update && !fed.contains(tensor.id) && tensor.node.role != .placeholder
        }
        let expected = try Session(graph: graph, device: reference, kernels: kernels).run(nodes, feeds: feeds)
        let values = Dictionary(uniqueKeysWithValues: zip(nodes.map(\.id), expected))
        let session = Session(graph: graph, device: device, kernels: kernels)
        for (index, node) in nodes.enumerated() {
            // The op alone, from the reference's values of its inputs: a difference is its own, not one carried in
            // from an earlier op (after batch norm, a rounding difference upstream flips ReLUs downstream).
            var given: [Tensor: HostTensor] = [:]
            for input in node.inputs { given[input] = values[input.id] ?? feeds[input] }
            let actual = try session.run(node, feeds: given)
            let probe = ParityCase(node.op, node.name, inputs: [], tolerance: tolerance) { $0[0] }
            let result = ParityCheck.compare(
                actual, expected[index], parityCase: probe, device: device.id, fetch: "output")
            guard !result.passed else { continue }
            let inputs = node.inputs.map { input in
                (input.name, Statistics(values[input.id] ?? feeds[input] ?? HostTensor.zeros([0])))
            }
            return Divergence(
                node: node.name, op: node.op.rawValue, maxAbsoluteError: result.maxAbsoluteError, inputs: inputs)
        }
        return nil
    }
}
