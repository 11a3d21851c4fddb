import ConfluxNN
import Foundation
import TestSupport
import XCTest

/// Runs the built `conflux` executable and checks what it prints.
final class CommandLineTests: XCTestCase {
    private func conflux(_ arguments: String...) throws -> ConfluxProcess.Output {
        try ConfluxProcess.run(arguments)
    }

    func testDevicesListsTheCPU() throws {
        let output = try conflux("devices")
        XCTAssertEqual(output.status, 0, output.stderr)
        XCTAssertTrue(output.stdout.hasPrefix("cpu:0  "), output.stdout)
        XCTAssertTrue(output.stdout.contains("BLAS: OpenBLAS"), output.stdout)
        let json = try conflux("devices", "--json")
        let devices = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: String]]
        XCTAssertEqual(devices?.first?["id"], "cpu:0")
    }

    func testUnknownDeviceListsTheDevicesFound() throws {
        let output = try conflux("train", "lenet", "--device", "opencl:7", "--limit", "10")
        XCTAssertNotEqual(output.status, 0)
        let found = try allDevices.get().devices.map(\.id).joined(separator: ", ")
        XCTAssertTrue(output.stderr.contains("no device named 'opencl:7'; devices found: \(found)"), output.stderr)
    }

    func testMissingDataDirectoryIsAClearError() throws {
        let output = try conflux("train", "lenet", "--data", "/nonexistent")
        XCTAssertNotEqual(output.status, 0)
        XCTAssertTrue(output.stderr.contains("/nonexistent/train-images-idx3-ubyte[.gz]: no such file"), output.stderr)
    }

    func testImportSummarizesAnONNXModel() throws {
        let output = try conflux("import", fixturePath("onnx/zoo_opset13.onnx"))
        XCTAssertEqual(output.status, 0, output.stderr)
        XCTAssertTrue(output.stdout.contains("ONNX opset 13, 5210 parameters, "), output.stdout)
        XCTAssertTrue(output.stdout.contains("GFLOPs per example"), output.stdout)
        XCTAssertTrue(output.stdout.contains("input images: [3, 3, 15, 15]"), output.stdout)
        XCTAssertTrue(output.stdout.contains("Conv2D 8"), output.stdout)
        XCTAssertTrue(output.stdout.contains("  on cpu:0: "), output.stdout)
        if try allDevices.get().devices.contains(where: { $0.id == "opencl:0" }) {
            let placed = try conflux("import", fixturePath("onnx/zoo_opset13.onnx"), "--place", "Conv2D=opencl:0")
            XCTAssertTrue(placed.stdout.contains("  on opencl:0: Conv2D 8\n"), placed.stdout)
        }
        let missing = try conflux("import", "/nonexistent/model.onnx")
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("/nonexistent/model.onnx: cannot be read"), missing.stderr)
    }

    func testRunWritesAnONNXModelsOutputsAsNumPy() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("logits.npy")
        let output = try conflux(
            "run", fixturePath("onnx/zoo_opset9.onnx"), "--input", fixturePath("onnx/zoo_opset9.input.npy"), "--output",
            path)
        XCTAssertEqual(output.status, 0, output.stderr)
        XCTAssertTrue(output.stdout.contains("logits [2, 10]"), output.stdout)
        let expected = try XCTUnwrap(
            try SafeTensors.read(fixturePath("onnx/reference.safetensors")).tensors["zoo_opset9.output"])
        assertClose(try NumPyFile.read(path).floats, expected.floats, relative: 0, absolute: 1e-5, "onnxruntime's")
        let wrongName = try conflux(
            "run", fixturePath("onnx/zoo_opset9.onnx"), "--input", "pixels=" + fixturePath("onnx/zoo_opset9.input.npy"),
            "--output", path)
        XCTAssertNotEqual(wrongName.status, 0)
        XCTAssertTrue(
            wrongName.stderr.contains("the model has no input 'pixels'; its inputs: images"), wrongName.stderr)
        let none = try conflux("run", fixturePath("onnx/zoo_opset9.onnx"), "--output", path)
        XCTAssertTrue(none.stderr.contains("no --input for images"), none.stderr)
    }

    func testBadOptionsAreRejectedWithHelp() throws {
        XCTAssertTrue(
            try conflux("train", "lenet", "--batch-size", "0").stderr.contains("--batch-size must be at least 1"))
        XCTAssertTrue(
            try conflux("train", "lenet", "--bucket-mb", "0").stderr.contains("--bucket-mb must be a positive number"))
        let unknown = try conflux("train", "vgg16").stderr
        XCTAssertTrue(unknown.contains("lenet") && unknown.contains("resnet"), "the error lists the models: \(unknown)")
        let help = try conflux("train", "--help").stdout
        XCTAssertTrue(help.contains("--optimizer <optimizer>") && help.contains("adam"), help)
        XCTAssertTrue(help.contains("0.003 for adam") && help.contains("--schedule <schedule>"), help)
    }

    func testTrainPrintsJSONResults() throws {
        let output = try conflux("train", "lenet", "--limit", "256", "--batch-size", "64", "--json", "--seed", "4")
        XCTAssertEqual(output.status, 0, output.stderr)
        let report = try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any]
        let epochs = report?["epochs"] as? [[String: Any]]
        XCTAssertEqual(epochs?.count, 1)
        XCTAssertNotNil(epochs?.first?["imagesPerSecond"] as? Double)
        let test = report?["test"] as? [String: Any]
        XCTAssertEqual(test?["count"] as? Int, 256)
        let accuracy = try XCTUnwrap(test?["accuracy"] as? Double)
        XCTAssertTrue((0...1).contains(accuracy))
        XCTAssertEqual(report?["devices"] as? [String], ["cpu:0"])
    }

    func testPlaceExplainsEveryNode() throws {
        _ = try openCLDevices()
        let output = try conflux("place", "lenet", "--place", "conv=opencl:0,pool=opencl:0,dense=cpu", "--explain")
        XCTAssertEqual(output.status, 0, output.stderr)
        XCTAssertTrue(output.stdout.contains("opencl:0  conv1/Conv2D (Conv2D)  rule conv=opencl:0\n"), output.stdout)
        XCTAssertTrue(output.stdout.contains("cpu:0  dense1/MatMul (MatMul)  rule dense=cpu: cpu:0\n"), output.stdout)
        XCTAssertTrue(output.stdout.contains("transfers per training step: 2, 204800 bytes at batch 64"), output.stdout)
        // The learning rate, read on both devices, comes from the host to each rather than crossing between them.
        XCTAssertTrue(
            output.stdout.contains("fed from the host to cpu:0 as well as opencl:0: learning_rate"), output.stdout)
        let bad = try conflux("place", "lenet", "--place", "conv=tpu:0")
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("no device named 'tpu:0'"), bad.stderr)
    }

    func testTraceIsAChromeTrace() throws {
        _ = try openCLDevices()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(
            "conflux-trace-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        let output = try conflux("train", "lenet", "--limit", "128", "--place", "conv=opencl:0", "--trace", file.path)
        XCTAssertEqual(output.status, 0, output.stderr)
        let trace = try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any]
        let events = try XCTUnwrap(trace?["traceEvents"] as? [[String: Any]])
        let streams = Set(events.compactMap { ($0["args"] as? [String: String])?["name"] })
        XCTAssertTrue(
            streams.isSuperset(of: ["cpu:0 compute", "opencl:0 compute", "opencl:0 → cpu:0 transfer"]), "\(streams)")
        // conv1's convolution, bias and ReLU, all on opencl:0, run as one fused kernel named after the three.
        XCTAssertTrue(
            events.contains {
                $0["ph"] as? String == "X" && $0["name"] as? String == "conv1/Conv2D+conv1/BiasAdd+conv1/Relu"
            })
        XCTAssertTrue(events.contains { $0["cat"] as? String == "transfer" })
        XCTAssertTrue(output.stdout.contains("% of it hidden behind compute"), output.stdout)
    }

    func testSavedWeightsEvaluateTheSameOnEveryDevice() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "conflux-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let weights = directory.appendingPathComponent("lenet.safetensors").path
        let trained = try conflux("train", "lenet", "--limit", "512", "--save", weights)
        XCTAssertEqual(trained.status, 0, trained.stderr)
        XCTAssertTrue(trained.stdout.contains("saved \(weights)"), trained.stdout)
        let accuracies = try allDevices.get().devices.map(\.id).map { device -> String in
            let output = try conflux("eval", "lenet", "--weights", weights, "--device", device, "--limit", "500")
            XCTAssertEqual(output.status, 0, output.stderr)
            XCTAssertTrue(
                output.stdout.contains("confusion matrix (rows: true class, columns: predicted)"), output.stdout)
            XCTAssertTrue(output.stdout.contains("9 Ankle boot"), output.stdout)
            return try XCTUnwrap(output.stdout.split(separator: "\n").first { $0.hasPrefix("accuracy ") }).description
        }
        XCTAssertEqual(Set(accuracies).count, 1, "the same weights score the same on every device: \(accuracies)")

        // predict: a test image by index, and the same pixels as a PGM file.
        let image = directory.appendingPathComponent("first.pgm")
        let pixels = try XCTUnwrap(testImagePixels())
        try (Data("P5 28 28 255\n".utf8) + Data(pixels)).write(to: image)
        let predicted = try conflux("predict", "lenet", "--weights", weights, "--index", "0", image.path)
        XCTAssertEqual(predicted.status, 0, predicted.stderr)
        let lines = predicted.stdout.split(separator: "\n").map { $0.split(separator: ":", maxSplits: 1).last ?? "" }
        XCTAssertEqual(lines.count, 2, predicted.stdout)
        XCTAssertEqual(lines[0], lines[1], "the file and the test-set image get the same prediction")

        let wrongSize = directory.appendingPathComponent("small.pgm")
        try (Data("P5 4 4 255\n".utf8) + Data(repeating: 0, count: 16)).write(to: wrongSize)
        let rejected = try conflux("predict", "lenet", "--weights", weights, wrongSize.path)
        XCTAssertNotEqual(rejected.status, 0)
        XCTAssertTrue(rejected.stderr.contains("is 4×4; the model expects 28×28 grey images"), rejected.stderr)
        let resumed = try conflux("train", "lenet", "--limit", "256", "--resume", weights, "--json")
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stdout.contains("\"epoch\" : 2"), resumed.stdout)
    }

    /// The bytes of the first Fashion-MNIST test image.
    private func testImagePixels() throws -> [UInt8]? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = [
            "-c", "gzip -dc /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz | head -c 800 | tail -c 784",
        ]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return data.count == 784 ? Array(data) : nil
    }

    func testVerifyPassesAndCatchesABrokenKernel() throws {
        _ = try openCLDevices()
        let output = try conflux("verify", "--device", "opencl:0")
        XCTAssertEqual(output.status, 0, output.stdout + output.stderr)
        XCTAssertTrue(
            output.stdout.contains("pass  opencl:0  Conv2D 31×29, 1→6 channels (LeNet conv1), same: gradient 1"),
            output.stdout)
        XCTAssertTrue(output.stdout.contains(" passed, 0 failed"), output.stdout)

        let broken = try conflux("verify", "--device", "opencl:0", "--inject-fault", "AvgPool", "--json")
        XCTAssertNotEqual(broken.status, 0)
        let report = try JSONSerialization.jsonObject(with: Data(broken.stdout.utf8)) as? [String: Any]
        let failed = (report?["results"] as? [[String: Any]])?.filter { $0["passed"] as? Bool == false } ?? []
        XCTAssertFalse(failed.isEmpty)
        XCTAssertTrue(failed.allSatisfy { $0["op"] as? String == "AvgPool" }, "\(failed)")
        XCTAssertTrue(
            failed.contains { ($0["name"] as? String)?.hasPrefix("3×3 stride 2 on 13×13") ?? false }, "\(failed)")
    }

    func testVerifyModelFindsTheFirstDivergingOp() throws {
        _ = try openCLDevices()
        let agree = try conflux("verify", "--model", "lenet", "--device", "opencl:0")
        XCTAssertEqual(agree.status, 0, agree.stdout + agree.stderr)
        XCTAssertTrue(
            agree.stdout.contains("opencl:0 agrees with cpu:0 on every op of a lenet training step"), agree.stdout)
        let broken = try conflux("verify", "--model", "lenet", "--device", "opencl:0", "--inject-fault", "Relu")
        XCTAssertNotEqual(broken.status, 0)
        XCTAssertTrue(broken.stdout.contains("opencl:0 first differs from cpu:0 at conv1/Relu (Relu)"), broken.stdout)
        XCTAssertTrue(broken.stdout.contains("input conv1/BiasAdd: [64, 6, 28, 28] min "), broken.stdout)
    }

    func testTensorBoardReadsTheLogOfATrainingRun() throws {
        _ = try openCLDevices()
        let directory = try TemporaryDirectory()
        let output = try conflux(
            "train", "lenet", "--limit", "256", "--epochs", "2", "--place", "conv=opencl:0", "--logdir",
            directory.url.path,
            "--json")
        XCTAssertEqual(output.status, 0, output.stderr)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any])
        let printed = try XCTUnwrap(report["epochs"] as? [[String: Any]]).flatMap {
            $0["stepLosses"] as? [Double] ?? []
        }
        XCTAssertEqual(printed.count, 8)

        let read = try runPythonFixture("tensorboard/read_events.py", [directory.url.path])
        let scalars = try XCTUnwrap(read["scalars"] as? [String: [[Double]]])
        XCTAssertEqual(scalars["loss"]?.map { $0[0] }, (0..<8).map(Double.init))
        XCTAssertEqual(
            scalars["loss"]?.map { Float($0[1]) }, printed.map { Float($0) }, "TensorBoard shows the printed losses")
        for tag in [
            "accuracy", "learning_rate", "images_per_second", "epoch/loss", "epoch/images_per_second", "epoch/accuracy",
            "epoch/learning_rate",
            "test/accuracy",
        ] {
            XCTAssertNotNil(scalars[tag], tag)
        }
        let histograms = try XCTUnwrap(read["histograms"] as? [String: [Int]])
        XCTAssertEqual(histograms["conv1/weights"], [4, 8], "a histogram per parameter per epoch")
        XCTAssertEqual(histograms.count, 10)
        let graph = try XCTUnwrap(read["graph"] as? [[String: Any]])
        XCTAssertGreaterThan(graph.count, 90)
        XCTAssertTrue(graph.allSatisfy { ($0["device"] as? String)?.hasPrefix("/device:") ?? false })
        XCTAssertTrue(
            graph.contains { $0["name"] as? String == "conv1/Conv2D" && $0["device"] as? String == "/device:opencl:0" })
        XCTAssertTrue(
            graph.contains { $0["name"] as? String == "dense1/MatMul" && $0["device"] as? String == "/device:cpu:0" })
        // The convolutions run on OpenCL and the pools on the CPU: tensors cross through Send/Recv pairs.
        XCTAssertTrue(graph.contains { $0["op"] as? String == "_Send" && $0["device"] as? String == "/device:cpu:0" })
        let recv = try XCTUnwrap(
            graph.first { $0["op"] as? String == "_Recv" && $0["device"] as? String == "/device:opencl:0" })
        XCTAssertTrue(
            graph.contains { ($0["inputs"] as? [String])?.contains(recv["name"] as! String) ?? false },
            "a reader of the Recv")
    }

    func testGraphDotRendersWithGraphviz() throws {
        _ = try openCLDevices()
        let directory = try TemporaryDirectory()
        let output = try conflux("graph", "lenet", "--place", "conv=opencl:0", "--dot", directory.path("lenet.dot"))
        XCTAssertEqual(output.status, 0, output.stderr)
        let dot = Process()
        dot.executableURL = URL(fileURLWithPath: "/usr/bin/dot")
        dot.arguments = ["-Tpng", directory.path("lenet.dot"), "-o", directory.path("lenet.png")]
        try dot.run()
        dot.waitUntilExit()
        XCTAssertEqual(dot.terminationStatus, 0)
        let text = try String(contentsOfFile: directory.path("lenet.dot"), encoding: .utf8)
        XCTAssertTrue(text.contains("label=\"opencl:0\"") && text.contains("label=\"cpu:0\""), text)
    }

    func testTextOutputReportsEpochsAndTestAccuracy() throws {
        let output = try conflux("train", "lenet", "--limit", "128", "--optimizer", "sgd")
        XCTAssertEqual(output.status, 0, output.stderr)
        XCTAssertTrue(output.stdout.contains("sgd lr 0.01"), output.stdout)
        XCTAssertTrue(output.stdout.contains("epoch 1/1  loss "), output.stdout)
        XCTAssertTrue(output.stdout.contains("test accuracy "), output.stdout)
    }

    func testTuneChoosesAConfigurationPerKernelAndReusesIt() throws {
        for device in try openCLDevices().map(\.id) {
            var choices: [[String: String]] = []
            for _ in 0..<2 {
                let output = try conflux("tune", "lenet", "--device", device, "--eval-batch-size", "100", "--json")
                XCTAssertEqual(output.status, 0, output.stderr)
                let report = try XCTUnwrap(
                    try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [[String: Any]])
                let kernels = try XCTUnwrap(report.first?["kernels"] as? [[String: Any]], output.stdout)
                XCTAssertTrue(kernels.contains { ($0["kernel"] as? String)?.hasPrefix("conv_forward") == true })
                choices.append(
                    Dictionary(uniqueKeysWithValues: kernels.map { ($0["kernel"] as! String, $0["choice"] as! String) })
                )
                if choices.count == 2 {
                    XCTAssertTrue(kernels.allSatisfy { $0["cached"] as? Bool == true }, output.stdout)
                }
            }
            XCTAssertEqual(choices[0], choices[1])
        }
        let cpu = try conflux("tune", "lenet", "--device", "cpu")
        XCTAssertEqual(cpu.status, 0, cpu.stderr)
        XCTAssertTrue(cpu.stdout.contains("nothing to tune"), cpu.stdout)
        let zero = try conflux("tune", "lenet", "--batch-size", "0")
        XCTAssertNotEqual(zero.status, 0)
        XCTAssertTrue(zero.stderr.contains("batch sizes must be at least 1"), zero.stderr)
    }

    func testProfileTimesEveryOpOfAStepOnEachDevice() throws {
        let devices = try allDevices.get().devices.map(\.id)
        for device in devices {
            let output = try conflux("profile", "lenet", "--device", device, "--steps", "3", "--warmup", "1", "--json")
            XCTAssertEqual(output.status, 0, output.stderr)
            let profile = try XCTUnwrap(
                try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any])
            let rows = try XCTUnwrap(profile["rows"] as? [[String: Any]])
            // On the CPU the convolution, its bias and ReLU run as one fused kernel, named after all three.
            let conv = try XCTUnwrap(
                rows.first {
                    ["conv1/Conv2D", "conv1/Conv2D+conv1/BiasAdd+conv1/Relu"].contains($0["node"] as? String)
                },
                "\(rows)")
            XCTAssertEqual(conv["launchesPerStep"] as? Double, 1)
            XCTAssertEqual(conv["device"] as? String, device)
            XCTAssertGreaterThan(conv["gflops"] as? Double ?? 0, 0)
            XCTAssertEqual(rows.compactMap { $0["share"] as? Double }.reduce(0, +), 1, accuracy: 1e-9)
            XCTAssertNotNil((profile["peaks"] as? [String: Any])?[device])
        }
        let text = try conflux("profile", "lenet", "--steps", "2", "--warmup", "0")
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains(" ms/step   share  launches  GFLOP/s    GB/s  of peak  op\n"), text.stdout)
        XCTAssertTrue(text.stdout.contains("peak of cpu:0 (calibrated): "), text.stdout)
    }

    /// A run on the CPU discovers only the CPU backend: the OpenCL driver (PoCL here, 63 MB) is never loaded. An
    /// OpenCL run loads it.
    func testACPURunDoesNotLoadTheOpenCLDriver() throws {
        func librariesWhileTraining(_ device: String) throws -> String {
            let directory = try TemporaryDirectory()
            let process = try ConfluxProcess.start(
                ["train", "lenet", "--device", device, "--limit", "64", "--epochs", "1000"],
                stdout: directory.path("stdout"), stderr: directory.path("stderr"))
            defer {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
            let deadline = Date().addingTimeInterval(60)
            while process.isRunning && Date() < deadline
                && !((try? String(contentsOfFile: directory.path("stdout"), encoding: .utf8)) ?? "").contains(
                    "epoch 1/")
            {
                usleep(50_000)
            }
            // procfs files report no size, so they are read to their end rather than by their length.
            let maps = try XCTUnwrap(FileHandle(forReadingAtPath: "/proc/\(process.processIdentifier)/maps"))
            let text = String(decoding: maps.readDataToEndOfFile(), as: UTF8.self)
            XCTAssertTrue(text.contains("libswiftCore"), "the maps of a running conflux")
            return text
        }
        XCTAssertFalse(try librariesWhileTraining("cpu").contains("libpocl"), "PoCL loaded by a CPU run")
        let pocl = try allDevices.get().devices.contains {
            $0.properties.contains { $0.1 == "Portable Computing Language" }
        }
        if pocl { XCTAssertTrue(try librariesWhileTraining("opencl:0").contains("libpocl"), "the control") }
    }
}
