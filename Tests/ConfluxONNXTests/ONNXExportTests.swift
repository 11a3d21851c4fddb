import Conflux
import ConfluxNN
import Foundation
import TestSupport
import XCTest

@testable import ConfluxONNX

/// Trained ConfluxNN models written as ONNX compute the same logits in onnxruntime and, imported back, on every
/// device; an imported model trains as a layer of a ConfluxNN model.
final class ONNXExportTests: XCTestCase {
    /// A few SGD steps on random images, so that the weights and batch norm's running statistics are no longer their
    /// initial values; returns the classifier and its session.
    private func trained(_ model: Sequential, steps: Int = 3) throws -> (Classifier, Session) {
        let devices = try allDevices.get()
        let classifier = try Classifier(
            model: model, imageShape: [1, 28, 28], optimizer: SGD(learningRate: 0.05, momentum: 0.9), seed: 3)
        let session = Session(
            graph: classifier.graph, device: try devices.device(named: "cpu:0"), kernels: devices.kernels)
        for step in 0..<steps { try self.step(classifier, session, seed: UInt64(step)) }
        return (classifier, session)
    }

    /// One training step on 16 random images.
    private func step(_ classifier: Classifier, _ session: Session, seed: UInt64) throws {
        let feeds = [
            classifier.images: randomTensor([16, 1, 28, 28], seed: seed, in: 0...1),
            classifier.labels: ParityInputs.labels(16, classes: 10, seed: seed), classifier.learningRate: .scalar(0.05),
        ]
        _ = try session.run([], feeds: feeds, targets: classifier.updates)
    }

    /// The logits of `classifier` for `images`, and the ONNX file written from it.
    private func export(_ classifier: Classifier, _ session: Session, images: HostTensor, to path: String) throws
        -> HostTensor
    {
        try ONNXExporter.write(classifier, from: session, to: path)
        return try session.run(classifier.logits, feeds: [classifier.images: images])
    }

    func testExportedModelsGiveTheSameLogitsInOnnxruntimeAndOnEveryDevice() throws {
        _ = try fixturePython()
        let directory = try TemporaryDirectory()
        let images = randomTensor([5, 1, 28, 28], seed: 9, in: 0...1)
        let input = directory.path("images.npy")
        try NumPyFile.encode(images).write(to: URL(fileURLWithPath: input))
        for (name, model) in [("lenet", lenet5()), ("resnet", resnet())] {
            let (classifier, session) = try trained(model)
            let path = directory.path("\(name).onnx")
            let expected = try export(classifier, session, images: images, to: path)
            let output = directory.path("\(name).onnxruntime.npy")
            _ = try runPythonFixture("onnx/run_onnxruntime.py", [path, input, output])
            let scale = expected.floats.map(abs).max()!
            assertClose(
                try NumPyFile.read(output).floats, expected.floats, relative: 0, absolute: 1e-5 * scale,
                "\(name) in onnxruntime")
            let devices = try allDevices.get()
            let imported = try ONNXModel(
                contentsOf: path,
                evaluate: ONNXModel.evaluator(on: try devices.device(named: "cpu:0"), kernels: devices.kernels))
            for device in devices.devices {
                let logits = try Session(graph: imported.graph, device: device, kernels: devices.kernels)
                    .run(imported.outputs[0].tensor, feeds: [imported.inputs[0].tensor: images])
                assertClose(
                    logits.floats, expected.floats, relative: 0, absolute: 1e-5 * scale,
                    "\(name) imported on \(device.id)")
            }
        }
    }

    /// An op without an ONNX form is named before any training starts.
    func testOpsWithoutAnONNXFormAreListed() throws {
        let graph = Graph()
        let x = try graph.placeholder([Shape.unknown, 4])
        let y = try relu(dropout(x, rate: 0.5, step: graph.variable(.scalar), seed: 0))
        XCTAssertThrowsError(try ONNXExporter.checkExportable(input: x, output: y)) {
            XCTAssertTrue("\($0)".contains("no ONNX form for Dropout"), "\($0)")
        }
    }

    /// An exported ResNet (batch norm, residual additions) imported as a layer trains: batch norm uses the batch's
    /// statistics and moves the running ones, every weight gets a gradient, and the inference build reads the same
    /// variables.
    func testAnImportedModelTrainsAsALayer() throws {
        let (original, session) = try trained(resnet(), steps: 1)
        let directory = try TemporaryDirectory()
        let path = directory.path("resnet.onnx")
        _ = try export(original, session, images: randomTensor([1, 1, 28, 28], seed: 1), to: path)
        let devices = try allDevices.get()
        let network = try ONNXNetwork(
            contentsOf: path,
            evaluate: ONNXModel.evaluator(on: try devices.device(named: "cpu:0"), kernels: devices.kernels))
        XCTAssertTrue(network.dependsOnMode)
        XCTAssertEqual(network.exampleShape, [1, 28, 28])
        let classifier = try Classifier(
            model: Sequential([network]), imageShape: [1, 28, 28], optimizer: SGD(learningRate: 0.05), seed: 0)
        let running = classifier.graph.variables.filter { $0.name.hasSuffix("running_var") }
        XCTAssertEqual(running.count, 15, "ResNet-14's batch norms keep their running statistics as state")
        XCTAssertEqual(classifier.parameters.count, original.parameters.count)
        let trainer = Session(
            graph: classifier.graph, device: try devices.device(named: "cpu:0"), kernels: devices.kernels)
        let before = try trainer.run(classifier.parameters + running)
        try step(classifier, trainer, seed: 5)
        let after = try trainer.run(classifier.parameters + running)
        for (index, (old, new)) in zip(before, after).enumerated() {
            XCTAssertNotEqual(old.floats, new.floats, "variable \(index) did not change in a training step")
        }
    }
}
