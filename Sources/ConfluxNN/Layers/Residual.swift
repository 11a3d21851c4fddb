import Conflux

/// A residual block (He et al., 2016): y = activation(body(x) + shortcut(x)), the shortcut the identity when it
/// has no layers (a projection, typically a strided 1×1 convolution and batch norm, when the shape changes).
/// The shortcut's layers are named inside `downsample`, as torchvision's ResNet names them.
public struct Residual: Layer {
    public let name: String
    public let body: Sequential
    public let shortcut: Sequential
    public let activation: Activation?

    public init(_ name: String, body: [any Layer], shortcut: [any Layer] = [], activation: Activation? = .relu) {
        self.name = name
        self.body = Sequential(body)
        self.shortcut = Sequential(shortcut, name: "downsample")
        self.activation = activation
    }

    public var dependsOnMode: Bool { body.dependsOnMode || shortcut.dependsOnMode }

    /// - Throws: `shapeMismatch` naming the block when the body's output and the shortcut's differ.
    public func apply(_ x: Tensor, in context: LayerContext) throws -> Tensor {
        let main = try body.apply(x, in: context)
        let skip = shortcut.layers.isEmpty ? x : try context.scope(shortcut.name) { try shortcut.apply(x, in: context) }
        guard main.shape == skip.shape else {
            throw ConfluxError.shapeMismatch(
                op: "Residual", node: name, shapes: [main.shape, skip.shape],
                reason: "the body's output and the shortcut's must have one shape; give the shortcut a projection")
        }
        let y = try add(main, skip)
        return try activation?.apply(y) ?? y
    }
}
