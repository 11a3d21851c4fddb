import Conflux
import ConfluxNN
import Foundation
import TestSupport
import XCTest

/// `conflux run`, `train` and `graph` on ONNX models, with the real Fashion-MNIST the install step provides.
final class ONNXCommandTests: XCTestCase {
    private func conflux(_ arguments: String...) throws -> ConfluxProcess.Output {
        try ConfluxProcess.run(arguments)
    }

    /// The index of the largest logit of each row of [N, classes].
    private func predictions(_ logits: HostTensor) -> [Int] {
        let classes = logits.shape[1]
        let values = logits.floats
        return (0..<logits.shape[0]).map { row in
            let slice = values[(row * classes)..<((row + 1) * classes)]
            return slice.indices.max { slice[$0] < slice[$1] }! - row * classes
        }
    }

    /// A LeNet-5 trained in PyTorch (`Tests/Fixtures/onnx/make_lenet.py`) classifies the test set as PyTorch did,
    /// image by image, on every device.
    func testPyTorchsLeNetGivesPyTorchsTestAccuracy() throws {
        let reference = try XCTUnwrap(
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: fixturePath("onnx/lenet_pytorch.json")))) as? [String: Any])
        let expected = try XCTUnwrap(reference["predictions"] as? [Int])
        let accuracy = try XCTUnwrap(reference["test_accuracy"] as? Double)
        let test = try Dataset(directory: Dataset.defaultDirectory, split: .test)
        var pixels: [Float] = []
        for index in 0..<test.count { test.appendPixels(of: index, to: &pixels) }
        let directory = try TemporaryDirectory()
        let input = directory.path("test.npy")
        try NumPyFile.encode(HostTensor(shape: [test.count, 1, test.rows, test.cols], floats: pixels))
            .write(to: URL(fileURLWithPath: input))
        for device in try allDevices.get().devices.map(\.id) {
            let output = directory.path("logits.npy")
            let run = try conflux(
                "run", fixturePath("onnx/lenet_pytorch.onnx"), "--input", input, "--output", output, "--device", device)
            XCTAssertEqual(run.status, 0, run.stderr)
            let predicted = predictions(try NumPyFile.read(output))
            let differing = zip(predicted, expected).filter { $0 != $1 }.count
            let correct = zip(predicted, test.labels).filter { $0 == Int($1) }.count
            print(
                "PyTorch's LeNet-5 on \(device): \(correct) of \(test.count) correct, \(differing) predictions differ")
            // Logits equal to rounding can only flip an image whose two best classes tie within it.
            XCTAssertLessThanOrEqual(differing, 2, device)
            XCTAssertEqual(Double(correct) / Double(test.count), accuracy, accuracy: 2e-4, device)
        }
    }

    /// `train --export` writes ONNX that onnxruntime runs to Conflux's logits; the file trains again as a model,
    /// and draws as a graph.
    func testTrainExportsONNXThatTrainsAgainAndRunsInOnnxruntime() throws {
        _ = try fixturePython()
        let directory = try TemporaryDirectory()
        let model = directory.path("lenet.onnx")
        let trained = try conflux("train", "lenet", "--limit", "512", "--export", model)
        XCTAssertEqual(trained.status, 0, trained.stderr)
        XCTAssertTrue(trained.stdout.contains("exported \(model)"), trained.stdout)
        let input = directory.path("images.npy")
        try NumPyFile.encode(randomTensor([4, 1, 28, 28], seed: 2, in: 0...1)).write(to: URL(fileURLWithPath: input))
        let (ours, theirs) = (directory.path("conflux.npy"), directory.path("onnxruntime.npy"))
        XCTAssertEqual(try conflux("run", model, "--input", input, "--output", ours).status, 0)
        let ran = try runPythonFixture("onnx/run_onnxruntime.py", [model, input, theirs])
        XCTAssertEqual(ran["input"] as? String, "images")
        let expected = try NumPyFile.read(ours).floats
        assertClose(
            try NumPyFile.read(theirs).floats, expected, relative: 0, absolute: 1e-5 * expected.map(abs).max()!,
            "onnxruntime against conflux run")

        let again = try conflux("train", model, "--limit", "512", "--json")
        XCTAssertEqual(again.status, 0, again.stderr)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(report["model"] as? String, "lenet.onnx")
        let graph = try conflux("graph", model, "--dot", directory.path("graph.dot"))
        XCTAssertEqual(graph.status, 0, graph.stderr)

        let wrongImages = try conflux("train", fixturePath("onnx/zoo_opset9.onnx"), "--limit", "64")
        XCTAssertNotEqual(wrongImages.status, 0)
        XCTAssertTrue(
            wrongImages.stderr.contains("takes 'images' as [2, 3, 15, 15], not [?, 1, 28, 28]"), wrongImages.stderr)
    }
}
