/// What the graph knows about an op type, in one record: its signature, its role, how to infer its output, its
/// gradient and its cost. A family's definitions live beside its builders in `Ops/<Family>.swift`.
///
/// Sendable because its closures are pure functions of their arguments.
public struct OpDefinition: @unchecked Sendable {
    public let type: OpType
    /// Its inputs and attributes, checked when a node is added.
    public let signature: OpSignature
    /// What a node of the op is to the runtime: a source, an update of variables, or a computation.
    public let role: OpRole
    /// The inputs whose rows (first dimension) map one to one onto the output's rows, given the node's
    /// attributes: the kernel run on some rows of these, and all of the other inputs, computes those rows of the
    /// output (when the output has as many rows). Empty when the op mixes rows. It lets a consumer start on the
    /// first rows of a tensor streamed in from another device.
    public let rowwiseInputs: (Attributes) -> [Int]
    /// Infers the output from the inputs; used with partly unknown shapes at build time and exact ones at run time.
    public let inferShape: (ShapeContext) throws -> (Shape, DType)
    /// Builds the gradient of each input from the output's (TensorFlow's `RegisterGradient`); nil when the op is
    /// not differentiable.
    public private(set) var gradient: GradientFunction?
    /// The op's FLOPs and bytes for the cost model; nil for the element-wise default (`CostModel.work`).
    public private(set) var cost: CostFunction?
    /// Whether a run schedules its nodes as soon as their inputs are computed rather than in id order: a
    /// collective's start, so that communication begins while the backward pass goes on.
    public private(set) var runsEarly = false

    public init(
        _ type: OpType, _ signature: OpSignature, role: OpRole = .compute,
        rowwiseInputs: @escaping (Attributes) -> [Int] = { _ in [] },
        inferShape: @escaping (ShapeContext) throws -> (Shape, DType)
    ) {
        self.type = type
        self.signature = signature
        self.role = role
        self.rowwiseInputs = rowwiseInputs
        self.inferShape = inferShape
    }

    /// This definition with `gradient` as its gradient function.
    public func withGradient(_ gradient: @escaping GradientFunction) -> OpDefinition {
        var copy = self
        copy.gradient = gradient
        return copy
    }

    /// This definition, its nodes scheduled as soon as their inputs are computed (`runsEarly`).
    public func runningEarly() -> OpDefinition {
        var copy = self
        copy.runsEarly = true
        return copy
    }

    /// This definition with `cost` as its work for the cost model.
    public func withCost(_ cost: @escaping CostFunction) -> OpDefinition {
        var copy = self
        copy.cost = cost
        return copy
    }

    /// Every op the core defines, by type.
    public static let all: [OpType: OpDefinition] = Dictionary(
        uniqueKeysWithValues: (sourceOps + mathOps + convolutionOps + poolingOps + activationOps + lossOps
            + reductionOps + optimizerOps + fusedOps + piecewiseLinearOps + normalizationOps + arithmeticOps
            + layoutOps + dropoutOps + indexingOps + collectiveOps).map {
                ($0.type, $0)
            })
}

/// The inputs of a node whose output is being inferred, and a way to report why they do not fit.
public struct ShapeContext {
    public let op: OpType
    public let nodeName: String
    public let shapes: [Shape]
    public let dtypes: [DType]
    public let attributes: Attributes

    /// The error to throw when the inputs do not fit; it names the op, the node and every input shape.
    public func mismatch(_ reason: String) -> ConfluxError {
        .shapeMismatch(op: op.rawValue, node: nodeName, shapes: shapes, reason: reason)
    }

    /// Throws unless input `index` has the given rank.
    public func requireRank(_ index: Int, _ rank: Int, _ what: String) throws {
        guard shapes[index].rank == rank else { throw mismatch("\(what) must have rank \(rank)") }
    }

    /// Throws unless input `index` has the given element type.
    public func requireType(_ index: Int, _ dtype: DType, _ what: String) throws {
        guard dtypes[index] == dtype else { throw mismatch("\(what) must be \(dtype), not \(dtypes[index])") }
    }
}
