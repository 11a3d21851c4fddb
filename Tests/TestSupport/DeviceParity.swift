import Conflux
import XCTest

/// Runs one graph on the CPU device and on another device and compares every fetched value.
public enum DeviceParity {
    /// Builds `build(placeholders)` on placeholders fed `inputs`, plus the gradient of Σ y·r (r a fixed random
    /// projection) with respect to every Float32 input, and checks that `device` computes what the CPU computes.
    ///
    /// - Parameters:
    ///   - relative, absolute: the allowed difference per element; callers say where it comes from.
    public static func check(
        _ inputs: [HostTensor], on device: any Device, gradients withGradients: Bool = true, relative: Float,
        absolute: Float, _ label: String, file: StaticString = #filePath, line: UInt = #line,
        _ build: ([Tensor]) throws -> Tensor
    ) throws {
        let projected = try ProjectedGraph(inputs, gradients: withGradients, build: build)
        let (graph, fetches, feeds) = (projected.graph, projected.fetches, projected.feeds(inputs))
        let devices = try allDevices.get()
        let reference = try Session(graph: graph, device: devices.device(named: "cpu:0"), kernels: devices.kernels)
            .run(fetches, feeds: feeds)
        let actual = try Session(graph: graph, device: device, kernels: devices.kernels).run(fetches, feeds: feeds)
        for (index, (a, r)) in zip(actual, reference).enumerated() {
            XCTAssertEqual(a.shape, r.shape, "\(label): fetch \(index) shape", file: file, line: line)
            let what = index == 0 ? "output" : "gradient \(index - 1)"
            assertClose(
                a.floats, r.floats, relative: relative, absolute: absolute, "\(label) on \(device.id): \(what)",
                file: file, line: line)
        }
    }
}
