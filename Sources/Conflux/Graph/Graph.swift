/// A dataflow graph: nodes are appended as ops are built, each with its output shape inferred on the spot.
///
/// A graph is built on one thread; sessions read it but never change it.
public final class Graph: @unchecked Sendable {
    public private(set) var nodes: [Node] = []
    /// The seed from which every variable's initial value is drawn, so a graph built twice starts the same.
    public let seed: UInt64
    private var scopes: [String] = []
    private var deviceScopes: [String] = []
    private var nameCounts: [String: Int] = [:]

    public init(seed: UInt64 = 0) { self.seed = seed }

    /// Adds a node of `op` reading `inputs`; throws `invalidArgument` naming the op when the inputs or attributes do
    /// not match its signature, and a shape error when their shapes do not fit.
    @discardableResult
    public func addNode(
        _ op: OpType, _ inputs: [Tensor] = [], attributes: Attributes = Attributes(), name: String? = nil
    )
        throws -> Tensor
    {
        guard let definition = OpDefinition.all[op] else {
            throw ConfluxError.invalidArgument(op: op.rawValue, reason: "unknown op type")
        }
        precondition(inputs.allSatisfy { $0.graph === self }, "an input of \(op) belongs to another graph")
        try definition.signature.check(op, inputs: inputs.count, attributes: attributes)
        let nodeName = uniqueName(name ?? op.rawValue)
        let context = ShapeContext(
            op: op, nodeName: nodeName, shapes: inputs.map(\.shape), dtypes: inputs.map(\.dtype), attributes: attributes
        )
        let (shape, dtype) = try definition.inferShape(context)
        nodes.append(
            Node(
                id: nodes.count, name: nodeName, op: op, inputs: inputs.map(\.id), attributes: attributes,
                shape: shape, dtype: dtype, requestedDevice: deviceScopes.last))
        return Tensor(graph: self, id: nodes.count - 1)
    }

    /// Runs `body` with node names prefixed by `name/`, as TensorFlow's `name_scope`.
    public func nameScope<R>(_ name: String, _ body: () throws -> R) rethrows -> R {
        scopes.append(name)
        defer { scopes.removeLast() }
        return try body()
    }

    /// Runs `body` with every node it builds asking for `device` (`opencl:0`, or a kind alone, `opencl`), as
    /// TensorFlow's `with tf.device(...)`; an inner scope wins.
    public func device<R>(_ device: String, _ body: () throws -> R) rethrows -> R {
        deviceScopes.append(device)
        defer { deviceScopes.removeLast() }
        return try body()
    }

    /// Asks for `device` for the node of `tensor` alone, overriding any scope it was built in.
    public func requestDevice(_ device: String?, for tensor: Tensor) {
        precondition(tensor.graph === self, "\(tensor.name) belongs to another graph")
        nodes[tensor.id].requestedDevice = device
    }

    /// The tensor of the node with id `id`.
    public func tensor(_ id: Int) -> Tensor { Tensor(graph: self, id: id) }

    /// Every variable in the graph, in creation order.
    public var variables: [Tensor] { nodes.filter { $0.role == .variable }.map { tensor($0.id) } }

    private func uniqueName(_ base: String) -> String {
        let full = (scopes + [base]).joined(separator: "/")
        let seen = nameCounts[full, default: 0]
        nameCounts[full] = seen + 1
        return seen == 0 ? full : "\(full)_\(seen)"
    }
}
