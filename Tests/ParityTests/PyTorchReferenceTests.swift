import Conflux
import ConfluxNN
import Foundation
import TestSupport
import XCTest

/// Every device against outputs and gradients computed by PyTorch (Tests/Fixtures/parity/make_reference.py), so
/// that a bug the CPU and OpenCL kernels share cannot hide behind their agreement.
final class PyTorchReferenceTests: XCTestCase {
    private let fixture = fixturePath("parity/reference.safetensors")

    /// The cases the fixture leaves out on purpose (make_reference.py writes `None` for them), and why. Any other
    /// case without a reference fails the test: the fixture is out of date.
    static let withoutReference: [String: String] = [
        "MatMul batch 1: 1×400 · 400×120ᵀ (LeNet fc1)": "its 48,000-weight gradient would double the fixture's size",
        "ArgMax 37 rows × 11 classes": "an integer output with no gradient; devices are compared exactly instead",
        "Accuracy 37 rows × 11 classes": "an integer output with no gradient; devices are compared exactly instead",
    ]

    func testEveryDeviceMatchesPyTorch() throws {
        let (reference, metadata) = try SafeTensors.read(fixture)
        XCTAssertEqual(
            metadata["cases"], String(ParityCases.all.count), "the fixture mirrors ParityCases.all; regenerate it")
        let devices = try allDevices.get()
        var checked = 0
        var worst: [String: Float] = [:]
        for (index, parityCase) in ParityCases.all.enumerated() {
            guard let expectedOutput = reference["\(index).output"] else {
                XCTAssertNotNil(
                    Self.withoutReference[parityCase.label],
                    "\(parityCase.label) has no PyTorch reference: add it to make_reference.py and regenerate")
                continue
            }
            let inputs = try parityCase.inputs.indices.map { i -> HostTensor in
                let value = try XCTUnwrap(reference["\(index).input\(i)"], "\(parityCase.label): input \(i)")
                XCTAssertEqual(
                    value.shape, parityCase.inputs[i].shape, "\(parityCase.label): the fixture is out of date")
                return parityCase.inputs[i].dtype == .int32 ? HostTensor(shape: value.shape, ints: value.ints) : value
            }
            let projected = try ParityCheck.build(parityCase, projection: reference["\(index).projection"])
            let expected =
                try [expectedOutput]
                + projected.gradients.map { gradient in
                    try XCTUnwrap(
                        reference["\(index).grad\(gradient.input)"], "\(parityCase.label): gradient \(gradient.input)")
                }
            let (graph, fetches, labels, feeds) = (
                projected.graph, projected.fetches, projected.labels, projected.feeds(inputs)
            )
            for device in devices.devices {
                let actual = try Session(graph: graph, device: device, kernels: devices.kernels).run(
                    fetches, feeds: feeds)
                for (label, (a, e)) in zip(labels, zip(actual, expected)) {
                    let result = ParityCheck.compare(
                        HostTensor(shape: a.shape, floats: a.floats), e, parityCase: parityCase, device: device.id,
                        fetch: label)
                    worst["\(parityCase.op) on \(device.id)", default: 0] = max(
                        worst["\(parityCase.op) on \(device.id)", default: 0], result.maxAbsoluteError)
                    XCTAssertTrue(
                        result.passed,
                        "\(parityCase.label) on \(device.id): \(label) differs from PyTorch by \(result.maxAbsoluteError)"
                    )
                }
            }
            checked += 1
        }
        XCTAssertEqual(checked, ParityCases.all.count - Self.withoutReference.count, "cases with a PyTorch reference")
        print("\nlargest absolute error against PyTorch (\(metadata["generator"] ?? "?"), \(checked) cases)")
        for key in worst.keys.sorted() { print(String(format: "    %@  %.2e", key, worst[key]!)) }
    }
}
