/// How far a device may stray from the reference, and why.
///
/// An element passes when |actual - reference| ≤ relative·|reference| + absolute·max(1, the largest |reference|
/// of the fetch): the absolute part scales with the tensor, since summation-order error grows with its magnitude.
public struct Tolerance: Sendable {
    public let relative: Float
    public let absolute: Float
    /// Where the difference comes from.
    public let reason: String

    public init(relative: Float, absolute: Float, reason: String) {
        self.relative = relative
        self.absolute = absolute
        self.reason = reason
    }

    /// Only float rounding in a different order: element-wise ops, selections, copies.
    public static let rounding = Tolerance(
        relative: 1e-6, absolute: 1e-6, reason: "the same arithmetic, at most reordered sums of a few terms")
    /// Dot products of up to a few hundred terms summed in a different order (GEMM tiling, im2col vs direct).
    public static let summation = Tolerance(
        relative: 1e-4, absolute: 2e-5, reason: "sums of hundreds of products in a different order")
    /// exp, log, tanh from different math libraries (glibc against the OpenCL compiler's), a few ulps each.
    public static let transcendental = Tolerance(
        relative: 2e-5, absolute: 2e-6, reason: "exp, log and tanh differ by a few ulps between math libraries")
}

/// One parity case: an op on fixed inputs, checked forward and through the gradient of Σ y·r for a fixed random
/// projection r, with respect to every Float32 input.
public struct ParityCase: @unchecked Sendable {
    /// The op the case exercises, as registered (`Conv2D`); its gradient ops are checked through it.
    public let op: OpType
    /// What makes the case different: shapes, stride, padding, magnitudes (`x[2,3,7,9] w[4,3,3,3] s1 same`).
    public let name: String
    public let inputs: [HostTensor]
    public let tolerance: Tolerance
    /// Whether to check gradients too.
    public let gradients: Bool
    /// Builds the op on placeholders for `inputs`.
    public let build: ([Tensor]) throws -> Tensor

    public init(
        _ op: OpType, _ name: String, inputs: [HostTensor], tolerance: Tolerance, gradients: Bool = true,
        build: @escaping ([Tensor]) throws -> Tensor
    ) {
        self.op = op
        self.name = name
        self.inputs = inputs
        self.tolerance = tolerance
        self.gradients = gradients
        self.build = build
    }

    /// `op name`, the label printed for the case.
    public var label: String { "\(op.rawValue) \(name)" }
}

/// Reproducible inputs for parity cases.
public enum ParityInputs {
    /// Uniform values in `range`.
    public static func uniform(_ shape: Shape, seed: UInt64, _ range: ClosedRange<Float> = -1...1) -> HostTensor {
        var generator = SeededGenerator(seed: seed)
        let values = (0..<shape.count).map { _ in generator.uniform(range.lowerBound, range.upperBound) }
        return HostTensor(shape: shape, floats: values)
    }

    /// Distinct values at least `spacing` apart in a shuffled order: no ties, no kink within a rounding error.
    public static func distinct(_ shape: Shape, seed: UInt64, spacing: Float = 0.05) -> HostTensor {
        var generator = SeededGenerator(seed: seed)
        let count = shape.count
        let values = (0..<count).map { (Float($0) - Float(count) / 2 + 0.25) * spacing }.shuffled(using: &generator)
        return HostTensor(shape: shape, floats: values)
    }

    /// Integer labels in 0..<classes.
    public static func labels(_ count: Int, classes: Int, seed: UInt64) -> HostTensor {
        var generator = SeededGenerator(seed: seed)
        return HostTensor(shape: [count], ints: (0..<count).map { _ in Int32(generator.next() % UInt64(classes)) })
    }
}
