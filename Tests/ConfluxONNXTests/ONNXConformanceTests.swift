import Conflux
import Foundation
import TestSupport
import XCTest

@testable import ConfluxONNX

/// onnx's backend test data, shipped in its wheel: models converted from PyTorch's modules and operators, small
/// hand-written models, and the "light" model zoo (AlexNet to VGG-19 with constant weights). Every case Conflux
/// imports must compute the stored outputs on `cpu:0` and on every OpenCL device within onnx's own tolerances; the
/// cases it refuses are listed in `Tests/Fixtures/onnx/conformance-refused.txt`, so that a case newly refused (or
/// newly imported) shows up here.
final class ONNXConformanceTests: XCTestCase {
    /// onnx's backend runner compares with `numpy.testing.assert_allclose(actual, expected, rtol=1e-3, atol=1e-7)`.
    private static let (relative, absolute): (Float, Float) = (1e-3, 1e-7)

    func testBackendTestDataOnEveryDevice() throws {
        let directory = try XCTUnwrap(
            runPythonFixture("onnx/backend_test_data.py", [])["directory"] as? String)
        let cases = try BackendTestCase.all(in: directory)
        XCTAssertGreaterThan(cases.count, 100, "onnx's wheel at \(directory) holds fewer cases than expected")
        let devices = try allDevices.get()
        let evaluate = ONNXModel.evaluator(on: try devices.device(named: "cpu:0"), kernels: devices.kernels)
        var refused: [String: String] = [:]
        var table: [String] = []
        for testCase in cases {
            let (model, dataSets): (ONNXModel, [BackendTestCase.DataSet])
            do {
                // Conflux reads float32, int32 and int64 tensors: data of other types is refused as a model would be.
                (model, dataSets) = (
                    try ONNXModel(contentsOf: testCase.model, evaluate: evaluate), try testCase.dataSets()
                )
            } catch {
                refused[testCase.name] = "\(error)".components(separatedBy: testCase.model).last ?? "\(error)"
                continue
            }
            var row = "\(testCase.name):"
            for device in devices.devices {
                let session = Session(graph: model.graph, device: device, kernels: devices.kernels)
                for (set, data) in dataSets.enumerated() {
                    let feeds = Dictionary(uniqueKeysWithValues: zip(model.inputs.map(\.tensor), data.inputs))
                    let outputs: [HostTensor]
                    do {
                        outputs = try session.run(model.outputs.map(\.tensor), feeds: feeds)
                    } catch {
                        XCTFail("\(testCase.name) imports but fails on \(device.id): \(error)")
                        continue
                    }
                    XCTAssertEqual(outputs.count, data.outputs.count, testCase.name)
                    var worst: Float = 0
                    for (output, (actual, expected)) in zip(model.outputs, zip(outputs, data.outputs)) {
                        let context = "\(testCase.name) data set \(set), output \(output.name), on \(device.id)"
                        XCTAssertEqual(actual.shape.dims, expected.shape.dims, context)
                        let (a, e) =
                            actual.dtype == .int32
                            ? (actual.ints.map(Float.init), expected.ints.map(Float.init))
                            : (actual.floats, expected.floats)
                        assertClose(a, e, relative: Self.relative, absolute: Self.absolute, context)
                        worst = max(worst, zip(a, e).map { abs($0 - $1) / (abs($1) + 1e-30) }.max() ?? 0)
                    }
                    if set == 0 { row += " \(device.id) " + String(format: "%.1e", worst) }
                }
            }
            table.append(row)
        }
        print(
            "onnx backend test data: \(table.count) of \(cases.count) cases imported and compared "
                + "(largest relative difference per device)")
        for row in table { print("  " + row) }
        print("refused (\(refused.count)):")
        for (name, reason) in refused.sorted(by: { $0.key < $1.key }) { print("  \(name):\(reason)") }
        let expected = try String(contentsOfFile: fixturePath("onnx/conformance-refused.txt"), encoding: .utf8)
            .split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") && !$0.isEmpty }
        XCTAssertEqual(
            refused.keys.sorted(), expected.sorted(),
            "the cases Conflux refuses differ from Tests/Fixtures/onnx/conformance-refused.txt")
    }
}

/// One case of onnx's backend test data: a model and its data sets of inputs and expected outputs.
private struct BackendTestCase {
    struct DataSet {
        let inputs: [HostTensor]
        let outputs: [HostTensor]
    }

    /// `pytorch-converted/test_Conv2d`, `light/light_resnet50`, …
    let name: String
    let model: String
    /// Reads the data sets.
    let dataSets: () throws -> [DataSet]

    /// The cases under onnx's `backend/test/data`: a directory with `model.onnx` and `test_data_set_N` for the
    /// converted and simple models; for the light zoo, `light_NAME.onnx` beside its expected output, computed from
    /// the input onnx's runner makes up (0, 1/n, …, (n−1)/n in the input's shape).
    static func all(in root: String) throws -> [BackendTestCase] {
        let files = FileManager.default
        var cases: [BackendTestCase] = []
        for collection in ["pytorch-converted", "pytorch-operator", "simple"] {
            let directory = "\(root)/\(collection)"
            for name in try files.contentsOfDirectory(atPath: directory).sorted() {
                let model = "\(directory)/\(name)/model.onnx"
                guard files.fileExists(atPath: model) else { continue }
                let sets = try files.contentsOfDirectory(atPath: "\(directory)/\(name)").filter {
                    $0.hasPrefix("test_data_set_")
                }.sorted().map { "\(directory)/\(name)/\($0)" }
                cases.append(
                    BackendTestCase(name: "\(collection)/\(name)", model: model) {
                        try sets.map {
                            DataSet(
                                inputs: try tensors(in: $0, prefix: "input_"),
                                outputs: try tensors(in: $0, prefix: "output_"))
                        }
                    })
            }
        }
        let light = "\(root)/light"
        for file in try files.contentsOfDirectory(atPath: light).filter({ $0.hasSuffix(".onnx") }).sorted() {
            let stem = String(file.dropLast(".onnx".count))
            let model = "\(light)/\(file)"
            cases.append(
                BackendTestCase(name: "light/\(stem)", model: model) {
                    let proto = try Onnx_ModelProto(serializedBytes: Data(contentsOf: URL(fileURLWithPath: model)))
                    let initializers = Set(proto.graph.initializer.map(\.name))
                    let inputs = proto.graph.input.filter { !initializers.contains($0.name) }.map { info in
                        let shape = Shape(info.type.tensorType.shape.dim.map { $0.dimValue > 0 ? Int($0.dimValue) : 1 })
                        let n = shape.count
                        return HostTensor(shape: shape, floats: (0..<n).map { Float(Double($0) / Double(n)) })
                    }
                    return [DataSet(inputs: inputs, outputs: [try tensor("\(light)/\(stem)_output_0.pb")])]
                })
        }
        return cases
    }

    /// The tensors `prefix0.pb`, `prefix1.pb`, … in `directory`, in order.
    private static func tensors(in directory: String, prefix: String) throws -> [HostTensor] {
        var tensors: [HostTensor] = []
        while FileManager.default.fileExists(atPath: "\(directory)/\(prefix)\(tensors.count).pb") {
            tensors.append(try tensor("\(directory)/\(prefix)\(tensors.count).pb"))
        }
        return tensors
    }

    private static func tensor(_ path: String) throws -> HostTensor {
        try HostTensor(Onnx_TensorProto(serializedBytes: Data(contentsOf: URL(fileURLWithPath: path))), file: path)
    }
}
