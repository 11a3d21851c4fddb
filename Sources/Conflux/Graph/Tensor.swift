/// A symbolic handle on the output of a node in a graph; its value exists only when a session runs it.
public struct Tensor: Hashable, @unchecked Sendable, CustomStringConvertible {
    public unowned let graph: Graph
    public let id: Int

    init(graph: Graph, id: Int) {
        self.graph = graph
        self.id = id
    }

    public var node: Node { graph.nodes[id] }
    public var shape: Shape { node.shape }
    public var dtype: DType { node.dtype }
    public var name: String { node.name }
    public var op: OpType { node.op }
    /// The tensors this tensor's node reads.
    public var inputs: [Tensor] { node.inputs.map { Tensor(graph: graph, id: $0) } }

    public static func == (a: Tensor, b: Tensor) -> Bool { a.graph === b.graph && a.id == b.id }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(ObjectIdentifier(graph))
        hasher.combine(id)
    }

    public var description: String { "\(name): \(dtype) \(shape)" }
}
