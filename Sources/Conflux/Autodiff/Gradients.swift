/// Given a node's output and the gradient flowing into it, builds the gradient of each input (nil where an input
/// has none, such as integer labels); each differentiable op's definition carries one (`OpDefinition.gradient`).
public typealias GradientFunction = (_ y: Tensor, _ dy: Tensor) throws -> [Tensor?]

/// Adds to the graph the ops computing d`loss`/d`x` for each of `xs`, by reverse-mode differentiation through
/// each op's gradient function (`OpDefinition.gradient`); returns one gradient per `x`, shaped like it.
///
/// - Throws: `noGradient` if `loss` is not a scalar, does not depend on some `x`, or passes through an op with
///   no gradient function.
public func gradients(of loss: Tensor, wrt xs: [Tensor]) throws -> [Tensor] {
    let graph = loss.graph
    guard loss.shape.rank == 0 else {
        throw ConfluxError.noGradient(
            op: loss.op.rawValue, node: loss.name, reason: "the loss must be a scalar, not \(loss.shape)")
    }
    let onPath = nodesBetween(xs.map(\.id), and: loss.id, in: graph)
    for x in xs where !onPath.contains(x.id) {
        throw ConfluxError.noGradient(
            op: x.op.rawValue, node: x.name, reason: "the loss '\(loss.name)' does not depend on it")
    }
    var pending: [Int: [Tensor]] = [loss.id: [try graph.constant(1, name: "gradients/seed")]]
    var result: [Int: Tensor] = [:]
    try graph.nameScope("gradients") {
        for id in onPath.sorted(by: >) {
            guard let contributions = pending.removeValue(forKey: id) else { continue }
            let dy = try contributions.dropFirst().reduce(contributions[0]) { try add($0, $1) }
            result[id] = dy
            let node = graph.nodes[id]
            guard node.inputs.contains(where: onPath.contains) else { continue }
            guard let gradient = OpDefinition.all[node.op]?.gradient else {
                throw ConfluxError.noGradient(
                    op: node.op.rawValue, node: node.name, reason: "the op has no gradient function")
            }
            // Gradient ops are named after and colocated with the op they differentiate, as TensorFlow's
            // `colocate_gradients_with_ops`, so a placement by layer covers the backward pass too.
            let inputGradients = try graph.nameScope(node.name + "_grad") {
                guard let device = node.requestedDevice else { return try gradient(graph.tensor(id), dy) }
                return try graph.device(device) { try gradient(graph.tensor(id), dy) }
            }
            for (input, dx) in zip(node.inputs, inputGradients) where onPath.contains(input) {
                if let dx { pending[input, default: []].append(dx) }
            }
        }
    }
    return try xs.map { x in
        guard let dx = result[x.id] else {
            throw ConfluxError.noGradient(
                op: x.op.rawValue, node: x.name, reason: "no gradient flows to it from '\(loss.name)'")
        }
        return dx
    }
}

/// The ids of nodes that are descendants of one of `sources` and ancestors of `target` (both ends included).
private func nodesBetween(_ sources: [Int], and target: Int, in graph: Graph) -> Set<Int> {
    var ancestors: Set<Int> = [target]
    for id in stride(from: target, through: 0, by: -1) where ancestors.contains(id) {
        ancestors.formUnion(graph.nodes[id].inputs)
    }
    var between = Set(sources.filter(ancestors.contains))
    for id in 0...target where ancestors.contains(id) && !between.contains(id) {
        if graph.nodes[id].inputs.contains(where: between.contains) { between.insert(id) }
    }
    return between
}
