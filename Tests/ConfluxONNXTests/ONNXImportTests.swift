import Conflux
import ConfluxNN
import Foundation
import TestSupport
import XCTest

@testable import ConfluxONNX

/// Models exported from PyTorch (`Tests/Fixtures/onnx/make_models.py`) import and compute onnxruntime's outputs on
/// every device.
final class ONNXImportTests: XCTestCase {
    private let reference = Result { try SafeTensors.read(fixturePath("onnx/reference.safetensors")).tensors }

    /// Folds constant nodes on the CPU, as the command line does.
    private func cpuEvaluator() throws -> ONNXModel.Evaluator {
        let devices = try allDevices.get()
        return ONNXModel.evaluator(on: try devices.device(named: "cpu:0"), kernels: devices.kernels)
    }

    func testExportedModelsMatchOnnxruntimeOnEveryDevice() throws {
        let devices = try allDevices.get()
        for name in ["zoo_opset13", "zoo_opset9"] {
            let model = try ONNXModel(contentsOf: fixturePath("onnx/\(name).onnx"), evaluate: cpuEvaluator())
            let tensors = try reference.get()
            let (input, expected) = (try XCTUnwrap(tensors["\(name).input"]), try XCTUnwrap(tensors["\(name).output"]))
            XCTAssertEqual(model.inputs.map(\.name), ["images"])
            XCTAssertFalse(model.parameters.isEmpty, "the weights are variables")
            let logits = try XCTUnwrap(model.outputs.first).tensor
            for device in devices.devices {
                let session = Session(graph: model.graph, device: device, kernels: devices.kernels)
                let actual = try session.run(logits, feeds: [model.inputs[0].tensor: input])
                let largest = zip(actual.floats, expected.floats).map { abs($0 - $1) }.max() ?? 0
                print("\(name) on \(device.id): largest difference from onnxruntime \(largest)")
                // onnx's model-zoo rule: within 1e-3 of the output's largest magnitude.
                assertClose(
                    actual.floats, expected.floats, relative: 0, absolute: 1e-3 * expected.floats.map(abs).max()!,
                    "\(name) on \(device.id)")
            }
        }
    }

    /// Every node Conflux cannot import is listed at once, with its name and opset, before anything is built.
    func testUnsupportedNodesAreAllListed() throws {
        var model = Onnx_ModelProto()
        var opset = Onnx_OperatorSetIdProto()
        opset.version = 13
        model.opsetImport = [opset]
        model.graph.node = [("Relu", "fine"), ("Pow", "square"), ("NonMaxSuppression", "boxes")].map { type, name in
            var node = Onnx_NodeProto()
            (node.opType, node.name) = (type, name)
            return node
        }
        let directory = try TemporaryDirectory()
        let path = directory.path("unsupported.onnx")
        try Data(model.serializedBytes() as [UInt8]).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try ONNXModel(contentsOf: path)) {
            XCTAssertTrue(
                "\($0)".contains(
                    "has 2 nodes Conflux cannot import: Pow 'square' (opset 13), "
                        + "NonMaxSuppression 'boxes' (opset 13)"), "\($0)")
        }
        opset.version = 5
        model.opsetImport = [opset]
        try Data(model.serializedBytes() as [UInt8]).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try ONNXModel(contentsOf: path)) {
            XCTAssertTrue("\($0)".contains("uses opset 5") && "\($0)".contains("opsets 6 to 21"), "\($0)")
        }
    }

    /// A missing file, a truncated model and a reference to a tensor nothing produces are errors naming the file.
    func testBadFilesAreErrorsNamingTheFile() throws {
        XCTAssertThrowsError(try ONNXModel(contentsOf: "/nonexistent/model.onnx")) {
            XCTAssertTrue("\($0)".contains("/nonexistent/model.onnx") && "\($0)".contains("cannot be read"), "\($0)")
        }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: fixturePath("onnx/zoo_opset9.onnx")))
        let directory = try TemporaryDirectory()
        let path = directory.path("cut.onnx")
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try ONNXModel(contentsOf: path, evaluate: cpuEvaluator())) {
            XCTAssertTrue("\($0)".contains(path), "\($0)")
        }
        var model = try Onnx_ModelProto(serializedBytes: bytes)
        model.graph.node[3].input[0] = "nowhere"
        try Data(model.serializedBytes() as [UInt8]).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try ONNXModel(contentsOf: path, evaluate: cpuEvaluator())) {
            XCTAssertTrue(
                "\($0)".contains("reads 'nowhere', which no input, initializer or earlier node produces"), "\($0)")
        }
    }
}

/// Mutated models (bits flipped, bytes set to edge values, slices cut, repeated or dropped) import or are refused
/// with a `ConfluxError`; nothing crashes.
final class ONNXFuzzTests: XCTestCase {
    func testMutatedModelsNeverCrash() throws {
        let seed = try Data(contentsOf: URL(fileURLWithPath: fixturePath("onnx/zoo_opset9.onnx")))
        let directory = try TemporaryDirectory()
        let path = directory.path("mutated.onnx")
        var mutator = Mutator(seed: 14)
        let devices = try cpuDevices()
        let evaluate = ONNXModel.evaluator(on: try devices.device(named: "cpu:0"), kernels: devices.kernels)
        var accepted = 0
        for iteration in 0..<1000 {
            try Data(mutator.mutate([UInt8](seed))).write(to: URL(fileURLWithPath: path))
            do {
                _ = try ONNXModel(contentsOf: path, evaluate: evaluate)
                accepted += 1
            } catch is ConfluxError {
            } catch {
                XCTFail("mutation \(iteration): not a ConfluxError: \(error)")
            }
        }
        print("ONNX fuzz: \(accepted) of 1000 mutated models imported, the others refused")
    }
}
