import Conflux
import XCTest

/// Compares the symbolic gradient of an op against central finite differences.
///
/// The op's output y is reduced to a scalar by a fixed random projection, loss = Σ y·r, so that every output
/// element contributes a different weight (a plain sum would hide errors, e.g. softmax's sums to one).
public enum GradientCheck {
    /// Float32 central differences with step h err by about ulp(loss)/h from rounding plus h²·f''' from truncation;
    /// with h = 1e-2 and losses of order 1–10 both stay below 1e-3.
    public static let step: Float = 1e-2
    /// Allowed disagreement: a few times the finite-difference error above.
    public static let absolute: Float = 5e-3
    public static let relative: Float = 1e-2

    /// Checks d(Σ build(inputs)·r)/d(input) for every input, built on placeholders fed `inputs`.
    ///
    /// Inputs should keep kinks (ReLU's zero, ties in a max) farther than `step` from every element.
    public static func check(
        _ inputs: [HostTensor], wrt: [Int]? = nil, file: StaticString = #filePath, line: UInt = #line,
        _ build: ([Tensor]) throws -> Tensor
    ) throws {
        let harness = try CPUHarness(seed: 1)
        let graph = harness.graph
        let placeholders = try inputs.enumerated().map { i, value in
            try graph.placeholder(value.shape, value.dtype, name: "input\(i)")
        }
        let y = try build(placeholders)
        let count = y.shape.count
        let projection = try graph.constant(randomTensor([count, 1], seed: 99), name: "projection")
        let loss = try sum(matmul(reshape(y, [1, count]), projection))
        let differentiable = wrt ?? Array(inputs.indices)
        let grads = try gradients(of: loss, wrt: differentiable.map { placeholders[$0] })

        var feeds = Dictionary(uniqueKeysWithValues: zip(placeholders, inputs))
        let analytic = try harness.values(grads, feeds)
        for (k, index) in differentiable.enumerated() {
            var numeric = [Float](repeating: 0, count: inputs[index].shape.count)
            var values = inputs[index].floats
            for j in values.indices {
                let original = values[j]
                values[j] = original + step
                feeds[placeholders[index]] = HostTensor(shape: inputs[index].shape, floats: values)
                let plus = try harness.values([loss], feeds)[0][0]
                values[j] = original - step
                feeds[placeholders[index]] = HostTensor(shape: inputs[index].shape, floats: values)
                let minus = try harness.values([loss], feeds)[0][0]
                values[j] = original
                numeric[j] = (plus - minus) / (2 * step)
            }
            feeds[placeholders[index]] = inputs[index]
            assertClose(
                analytic[k], numeric, relative: relative, absolute: absolute,
                "gradient of \(y.op) with respect to input \(index)", file: file, line: line)
        }
    }
}

/// Values spaced at least 0.05 apart in a shuffled order: no ties and no kink within a finite-difference step.
public func distinctTensor(_ shape: Shape, seed: UInt64) -> HostTensor {
    var generator = SeededGenerator(seed: seed)
    let count = shape.count
    let values = (0..<count).map { Float($0) * 0.05 - Float(count) * 0.025 + 0.0125 }.shuffled(using: &generator)
    return HostTensor(shape: shape, floats: values)
}
