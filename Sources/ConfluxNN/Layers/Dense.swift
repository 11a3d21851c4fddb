import Conflux

/// A fully connected layer y = x · Wᵀ + b with an optional activation: weights [units, in] (Glorot-uniform, the
/// layout PyTorch uses), bias [units] (zeros); input [N, in].
public struct Dense: Layer {
    public let name: String
    public let units: Int
    public let activation: Activation?

    public init(_ name: String, units: Int, activation: Activation? = nil) {
        self.name = name
        self.units = units
        self.activation = activation
    }

    /// - Throws: `shapeMismatch` unless the input is [N, in].
    public func apply(_ x: Tensor, in context: LayerContext) throws -> Tensor {
        guard x.shape.rank == 2, x.shape[1] > 0 else {
            throw ConfluxError.shapeMismatch(
                op: "Dense", node: name, shapes: [x.shape], reason: "input must be [N, features]; add Flatten")
        }
        let inputs = x.shape[1]
        let weights = try context.variable(
            [units, inputs], initializer: .glorotUniform(fanIn: inputs, fanOut: units), name: "weights")
        let bias = try context.variable([units], name: "bias")
        let y = try biasAdd(matmul(x, weights, transposeB: true), bias)
        return try activation?.apply(y) ?? y
    }
}
