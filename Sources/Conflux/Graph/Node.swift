/// One operation in a graph: its op type, the nodes it reads, its attributes and its inferred output.
public struct Node: Sendable {
    /// Position in the graph; a node only reads nodes with smaller ids, so id order is a topological order.
    public let id: Int
    /// Unique name, prefixed by the name scopes it was built in (`conv1/Conv2D`).
    public let name: String
    public let op: OpType
    /// Ids of the nodes whose outputs this node reads, in the op's argument order.
    public let inputs: [Int]
    public let attributes: Attributes
    /// The output's shape as known when the graph is built; the batch may be `Shape.unknown`.
    public let shape: Shape
    public let dtype: DType
    /// The device the user asked for (`opencl:0`, or a kind alone, `opencl`), if any; the placer decides.
    public internal(set) var requestedDevice: String?
}
