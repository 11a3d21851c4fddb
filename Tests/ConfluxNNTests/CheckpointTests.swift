import Conflux
import ConfluxCPU
import ConfluxNN
import Foundation
import TestSupport
import XCTest

final class CheckpointTests: XCTestCase {
    private var directory: TemporaryDirectory!

    override func setUpWithError() throws { directory = try TemporaryDirectory() }

    private func file(_ name: String) -> String { directory.path(name) }

    /// The fixture written by Python's `safetensors` (Tests/Fixtures/safetensors/make_fixture.py).
    private let fixture = fixturePath("safetensors/pytorch_lenet.safetensors")

    private func lenet(optimizer: any Optimizer = SGD(learningRate: 0.1, momentum: 0.9)) throws -> (Classifier, Session)
    {
        let classifier = try Classifier(model: lenet5(), imageShape: [1, 28, 28], optimizer: optimizer, seed: 5)
        return (
            classifier, Session(graph: classifier.graph, device: try CPUDevice(), kernels: try cpuDevices().kernels)
        )
    }

    func testNamesFollowPyTorchStateDict() throws {
        let (classifier, _) = try lenet()
        let names = classifier.parameters.map { classifier.checkpointNames[$0]! }
        XCTAssertEqual(
            names,
            [
                "conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc1.weight", "fc1.bias", "fc2.weight",
                "fc2.bias", "fc3.weight", "fc3.bias",
            ])
        XCTAssertEqual(classifier.parameters[4].shape, [120, 400], "fc1 is [out, in] as in PyTorch")
        let state = classifier.graph.variables.filter { !classifier.parameters.contains($0) }
        XCTAssertTrue(state.allSatisfy { classifier.checkpointNames[$0]!.hasPrefix("optimizer.") })
    }

    func testLoadsAFileWrittenByPythonSafetensors() throws {
        let (tensors, metadata) = try SafeTensors.read(fixture)
        XCTAssertTrue(metadata["generator"]?.hasPrefix("safetensors ") ?? false, "\(metadata)")
        XCTAssertEqual(tensors["conv2.weight"]?.shape, [16, 6, 5, 5])
        let expected = (0..<2400).map { Float($0) * 0.001 - 1 }
        XCTAssertEqual(tensors["conv2.weight"]?.floats, expected)

        let (classifier, session) = try lenet()
        try Checkpoint.load(fixture, into: session, for: classifier, weightsOnly: true)
        XCTAssertEqual(try session.run(classifier.parameters[2]).floats, expected)
        XCTAssertThrowsError(try Checkpoint.load(fixture, into: session, for: classifier, weightsOnly: false)) {
            XCTAssertTrue("\($0)".contains("has no tensor 'optimizer."), "resuming needs optimizer state: \($0)")
        }
    }

    func testRoundTripKeepsWeightsAndOptimizerState() throws {
        let (classifier, session) = try lenet()
        let data = try Dataset(directory: Dataset.defaultDirectory, split: .test).prefix(64 * 3)
        _ = try Trainer(classifier: classifier, session: session, seed: 1).trainEpoch(data, batchSize: 64, epoch: 1)
        try Checkpoint.save(classifier, from: session, to: file("a.safetensors"), metadata: ["epochs": "1"])

        let (restored, restoredSession) = try lenet()
        let metadata = try Checkpoint.load(
            file("a.safetensors"), into: restoredSession, for: restored, weightsOnly: false)
        XCTAssertEqual(metadata["epochs"], "1")
        XCTAssertEqual(
            try restoredSession.run(restored.graph.variables).map(\.floats),
            try session.run(classifier.graph.variables).map(\.floats))
    }

    func testPythonReadsWhatConfluxWrote() throws {
        let (classifier, session) = try lenet()
        try Checkpoint.save(classifier, from: session, to: file("b.safetensors"))
        let read = try runPythonFixture("safetensors/read_checkpoint.py", [file("b.safetensors")]).mapValues {
            try XCTUnwrap($0 as? [String: Any])
        }
        XCTAssertEqual(read.count, classifier.graph.variables.count)
        for variable in classifier.graph.variables {
            let name = classifier.checkpointNames[variable]!
            let entry = try XCTUnwrap(read[name], name)
            XCTAssertEqual(entry["shape"] as? [Int], variable.shape.dims, name)
            XCTAssertEqual(entry["dtype"] as? String, "float32")
            let sum = try session.run(variable).floats.map(Double.init).reduce(0, +)
            XCTAssertEqual(entry["sum"] as? Double ?? .nan, sum, accuracy: 1e-9 * max(1, abs(sum)), name)
        }
    }

    // MARK: - Bad input

    private func write(_ bytes: Data, _ name: String = "bad.safetensors") throws -> String {
        try bytes.write(to: URL(fileURLWithPath: file(name)))
        return file(name)
    }

    /// A file with the given header JSON and `dataBytes` bytes of data.
    private func craft(_ header: String, dataBytes: Int) throws -> String {
        var data = Data()
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: Array(header.utf8))
        data.append(contentsOf: [UInt8](repeating: 0, count: dataBytes))
        return try write(data)
    }

    private func assertRejected(_ path: String, _ fragment: String, file: StaticString = #filePath, line: UInt = #line)
    {
        XCTAssertThrowsError(try SafeTensors.read(path), file: file, line: line) { error in
            guard case .dataFile(let reported, let reason) = error as? ConfluxError else {
                return XCTFail("\(error)", file: file, line: line)
            }
            XCTAssertEqual(reported, path, file: file, line: line)
            XCTAssertTrue(reason.contains(fragment), "\(reason)", file: file, line: line)
        }
    }

    func testBadFilesNameTheFileAndTheTensor() throws {
        assertRejected(try write(Data([1, 2, 3])), "is truncated")
        var huge = Data()
        withUnsafeBytes(of: UInt64(1 << 40).littleEndian) { huge.append(contentsOf: $0) }
        assertRejected(try write(huge + Data("{}".utf8)), "header length 1099511627776 runs past the end")
        assertRejected(try craft("[1, 2]", dataBytes: 0), "header is not a JSON object")
        assertRejected(
            try craft(#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, dataBytes: 4),
            "tensor 'w' data ends at 8")
        assertRejected(
            try craft(
                #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
                dataBytes: 12), "tensor 'b' overlaps")
        assertRejected(
            try craft(#"{"w":{"dtype":"Q7","shape":[1],"data_offsets":[0,4]}}"#, dataBytes: 4),
            "tensor 'w' has unknown dtype 'Q7'")
        assertRejected(
            try craft(#"{"w":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}"#, dataBytes: 4), "tensor 'w' is F16")
        assertRejected(
            try craft(#"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, dataBytes: 8),
            "tensor 'w' of shape [3] needs 12 bytes")
        assertRejected(
            try craft(#"{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}"#, dataBytes: 8),
            "tensor 'w' of shape")
        assertRejected(
            try craft(#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, dataBytes: 8),
            "4 bytes after the last tensor")
        assertRejected(file("missing.safetensors"), "no such file")
    }

    func testMissingExtraAndMisshapenTensorsAreNamed() throws {
        let (classifier, session) = try lenet()
        var (tensors, _) = try SafeTensors.read(fixture)
        tensors["fc3.bias"] = nil
        try SafeTensors.write(tensors, to: file("missing.safetensors"))
        XCTAssertThrowsError(
            try Checkpoint.load(file("missing.safetensors"), into: session, for: classifier, weightsOnly: true)
        ) {
            XCTAssertTrue("\($0)".contains("has no tensor 'fc3.bias'"), "\($0)")
        }
        tensors["fc3.bias"] = .zeros([10])
        tensors["fc4.weight"] = .zeros([2])
        try SafeTensors.write(tensors, to: file("extra.safetensors"))
        XCTAssertThrowsError(
            try Checkpoint.load(file("extra.safetensors"), into: session, for: classifier, weightsOnly: true)
        ) {
            XCTAssertTrue("\($0)".contains("has a tensor 'fc4.weight' that the model does not have"), "\($0)")
        }
        tensors["fc4.weight"] = nil
        tensors["fc1.weight"] = .zeros([400, 120])
        try SafeTensors.write(tensors, to: file("transposed.safetensors"))
        XCTAssertThrowsError(
            try Checkpoint.load(file("transposed.safetensors"), into: session, for: classifier, weightsOnly: true)
        ) {
            XCTAssertTrue(
                "\($0)".contains("tensor 'fc1.weight' has shape [400, 120] but the model's is [120, 400]"), "\($0)")
        }
    }

    func testMutatedAndTruncatedFilesNeverCrash() throws {
        // A small valid file: the fixture's conv1 tensors alone.
        let (tensors, _) = try SafeTensors.read(fixture)
        try SafeTensors.write(
            ["conv1.weight": tensors["conv1.weight"]!, "conv1.bias": tensors["conv1.bias"]!],
            to: file("small.safetensors"))
        let valid = try Data(contentsOf: URL(fileURLWithPath: file("small.safetensors")))
        var generator = SeededGenerator(seed: 2024)
        var (loaded, rejected) = (0, 0)
        for trial in 0..<400 {
            var bytes = valid
            switch trial % 4 {
            case 0: bytes = bytes.prefix(Int.random(in: 0..<bytes.count, using: &generator))
            case 1:
                for _ in 0..<Int.random(in: 1...4, using: &generator) {
                    bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(
                        in: 0...255, using: &generator)
                }
            case 2:
                let headerLength = Int(bytes[0]) | Int(bytes[1]) << 8
                bytes[Int.random(in: 8..<(8 + headerLength), using: &generator)] = UInt8.random(
                    in: 32...126, using: &generator)
            default:
                bytes[Int.random(in: 0..<8, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            let path = try write(bytes, "fuzz.safetensors")
            do {
                _ = try SafeTensors.read(path)
                loaded += 1
            } catch let error as ConfluxError {
                guard case .dataFile(let reported, _) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(reported, path)
                rejected += 1
            }
        }
        XCTAssertEqual(loaded + rejected, 400)
        XCTAssertGreaterThan(rejected, 200, "most mutations break the file")
        XCTAssertGreaterThan(loaded, 0, "mutations of the data alone still load")
    }
}
