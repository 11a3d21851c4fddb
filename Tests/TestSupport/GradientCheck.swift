import Conflux
import XCTest

/// Compares the symbolic gradient of an op against central finite differences, through the projected loss
/// Σ y·r of `ProjectedGraph`.
public enum GradientCheck {
    /// Float32 central differences with step h err by about ulp(loss)/h from rounding plus h²·f''' from truncation;
    /// with h = 1e-2 and losses of order 1–10 both stay below 1e-3.
    public static let step: Float = 1e-2
    /// Allowed disagreement: a few times the finite-difference error above.
    public static let absolute: Float = 5e-3
    public static let relative: Float = 1e-2

    /// Checks d(Σ build(inputs)·r)/d(input) for every Float32 input (or those in `wrt`), built on placeholders fed
    /// `inputs`.
    ///
    /// Inputs should keep kinks (ReLU's zero, ties in a max) farther than `step` from every element.
    public static func check(
        _ inputs: [HostTensor], wrt: [Int]? = nil, file: StaticString = #filePath, line: UInt = #line,
        _ build: ([Tensor]) throws -> Tensor
    ) throws {
        let projected = try ProjectedGraph(inputs, projectionSeed: 99, build: build)
        let loss = try XCTUnwrap(projected.loss)
        let differentiable = projected.gradients.filter { wrt?.contains($0.input) ?? true }
        let devices = try cpuDevices()
        let session = Session(graph: projected.graph, device: devices.devices[0], kernels: devices.kernels)
        var feeds = projected.feeds(inputs)
        let analytic = try session.run(differentiable.map(\.tensor), feeds: feeds).map(\.floats)
        for (k, index) in differentiable.map(\.input).enumerated() {
            var numeric = [Float](repeating: 0, count: inputs[index].shape.count)
            var values = inputs[index].floats
            for j in values.indices {
                let original = values[j]
                values[j] = original + step
                feeds[projected.placeholders[index]] = HostTensor(shape: inputs[index].shape, floats: values)
                let plus = try session.run(loss, feeds: feeds).scalarValue
                values[j] = original - step
                feeds[projected.placeholders[index]] = HostTensor(shape: inputs[index].shape, floats: values)
                let minus = try session.run(loss, feeds: feeds).scalarValue
                values[j] = original
                numeric[j] = (plus - minus) / (2 * step)
            }
            feeds[projected.placeholders[index]] = inputs[index]
            assertClose(
                analytic[k], numeric, relative: relative, absolute: absolute,
                "gradient of \(projected.output.op) with respect to input \(index)", file: file, line: line)
        }
    }
}

/// Values spaced 0.05 apart in a shuffled order: no ties and no kink within a finite-difference step.
public func distinctTensor(_ shape: Shape, seed: UInt64) -> HostTensor { ParityInputs.distinct(shape, seed: seed) }
