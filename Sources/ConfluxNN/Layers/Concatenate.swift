import Conflux

/// Parallel branches over one input, their outputs joined along the channels (axis 1): an Inception module, or,
/// with an empty branch (the input itself), a DenseNet layer. Each branch's layers are named inside `branch<i>`.
public struct Concatenate: Layer {
    public let name: String
    public let branches: [Sequential]

    public init(_ name: String, branches: [[any Layer]]) {
        self.name = name
        self.branches = branches.enumerated().map { Sequential($1, name: "branch\($0)") }
    }

    public var dependsOnMode: Bool { branches.contains { $0.dependsOnMode } }

    /// - Throws: `shapeMismatch` when the branches' outputs differ in any dimension but the channels.
    public func apply(_ x: Tensor, in context: LayerContext) throws -> Tensor {
        let outputs = try branches.map { branch in
            branch.layers.isEmpty ? x : try context.scope(branch.name) { try branch.apply(x, in: context) }
        }
        return try concat(outputs, axis: 1)
    }
}
