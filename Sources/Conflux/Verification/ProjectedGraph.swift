/// An op built on placeholders, reduced to a scalar loss Σ y·r by a fixed random projection r, with the loss's
/// gradient for every Float32 input: how parity checks and gradient checks see an op's backward pass. A plain sum
/// would hide errors (softmax's outputs sum to one whatever the input); the projection weighs every element.
public struct ProjectedGraph {
    public let graph: Graph
    /// One placeholder per input, named `input0`, `input1`, ….
    public let placeholders: [Tensor]
    /// y, the op's output.
    public let output: Tensor
    /// Σ y·r, when gradients were asked for.
    public let loss: Tensor?
    /// d loss / d input for each Float32 input, with the input's index.
    public let gradients: [(input: Int, tensor: Tensor)]

    /// Builds `build(placeholders)` in a new graph; r is `projection` if given, else uniform from `projectionSeed`.
    public init(
        _ inputs: [HostTensor], gradients withGradients: Bool = true, projection: HostTensor? = nil,
        projectionSeed: UInt64 = 77, build: ([Tensor]) throws -> Tensor
    ) throws {
        graph = Graph(seed: 3)
        let graph = self.graph
        let placeholders = try inputs.enumerated().map { i, value in
            try graph.placeholder(value.shape, value.dtype, name: "input\(i)")
        }
        self.placeholders = placeholders
        let output = try build(placeholders)
        self.output = output
        guard withGradients else {
            (loss, gradients) = (nil, [])
            return
        }
        let count = output.shape.count
        let r = try graph.constant(
            projection ?? ParityInputs.uniform([count, 1], seed: projectionSeed), name: "projection")
        let loss = try sum(matmul(reshape(output, [1, count]), r))
        let differentiable = placeholders.indices.filter { placeholders[$0].dtype == .float32 }
        let grads = try Conflux.gradients(of: loss, wrt: differentiable.map { placeholders[$0] })
        self.loss = loss
        gradients = Array(zip(differentiable, grads))
    }

    /// The output, then each gradient.
    public var fetches: [Tensor] { [output] + gradients.map(\.tensor) }
    /// `output`, `gradient 0`, … in the order of `fetches`.
    public var labels: [String] { ["output"] + gradients.map { "gradient \($0.input)" } }

    /// The feeds that give the placeholders `inputs`.
    public func feeds(_ inputs: [HostTensor]) -> [Tensor: HostTensor] {
        Dictionary(uniqueKeysWithValues: zip(placeholders, inputs))
    }
}
