import Conflux
import Foundation
import TestSupport
import XCTest

/// What a hostile user does to the command line, through the built `conflux`: signals, bad destinations, bad
/// data, bad options, a damaged cache. Each case failed (crashed, hung, lost data or said nothing) before the
/// reliability fixes; docs/RELIABILITY.md lists the promises these tests keep.
final class FaultTests: XCTestCase {
    private var directory: TemporaryDirectory!

    override func setUpWithError() throws { directory = try TemporaryDirectory() }

    private func conflux(_ arguments: String..., environment: [String: String] = [:]) throws -> ConfluxProcess.Output {
        try ConfluxProcess.run(arguments, environment: environment)
    }

    /// Asserts a run failed with `message` on standard error before any training step (no "Training" line).
    private func assertRefusedBeforeTraining(
        _ output: ConfluxProcess.Output, _ message: String, file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertFalse(output.killedBySignal, output.stderr, file: file, line: line)
        XCTAssertNotEqual(output.status, 0, output.stderr, file: file, line: line)
        XCTAssertTrue(output.stderr.contains(message), output.stderr, file: file, line: line)
        XCTAssertFalse(output.stdout.contains("Training"), output.stdout, file: file, line: line)
    }

    // MARK: - Stopping

    /// Ctrl-C as a terminal sends it (sometimes twice in a row), at random moments from data loading to the middle
    /// of an epoch's checkpoint: every run exits 130 and leaves readable logs, loadable checkpoints and no
    /// temporary files. Before, `exit` from the signal thread under a running kernel crashed in OpenBLAS.
    func testCtrlCStopsCleanlyAtAnyMoment() throws {
        _ = try fixturePython()
        // New moments every time the suite runs; a failure names its seed, so CONFLUX_FAULT_SEED replays it.
        let seed =
            ProcessInfo.processInfo.environment["CONFLUX_FAULT_SEED"].flatMap { UInt64($0) }
            ?? UInt64(Date().timeIntervalSince1970)
        var generator = SeededGenerator(seed: seed)
        var runs: [String] = []
        for run in 0..<20 {
            let folder = directory.path("run\(run)")
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let process = try ConfluxProcess.start(
                [
                    "train", "lenet", "--limit", "512", "--epochs", "100", "--save-every", "1", "--save",
                    "\(folder)/lenet.safetensors", "--logdir", "\(folder)/logs",
                ], stdout: "\(folder)/stdout", stderr: "\(folder)/stderr")
            usleep(UInt32.random(in: 300_000...3_000_000, using: &generator))
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                kill(process.processIdentifier, SIGINT)
                usleep(UInt32.random(in: 0...100_000, using: &generator))
            }
            let deadline = Date().addingTimeInterval(60)
            while process.isRunning && Date() < deadline { usleep(10_000) }
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                XCTFail("run \(run) (CONFLUX_FAULT_SEED=\(seed)) did not stop within 60 s of Ctrl-C")
            }
            process.waitUntilExit()
            let stderr = try String(contentsOfFile: "\(folder)/stderr", encoding: .utf8)
            let label = "run \(run) (CONFLUX_FAULT_SEED=\(seed))"
            XCTAssertEqual(process.terminationReason, .exit, "\(label): \(stderr)")
            XCTAssertEqual(process.terminationStatus, 130, "\(label): \(stderr)")
            XCTAssertTrue(stderr.hasSuffix("conflux: interrupted by SIGINT\n"), "\(label): \(stderr)")
            runs.append(folder)
        }
        let checked = try runPythonFixture("faults/check_outputs.py", runs)
        var (records, checkpoints) = (0, 0)
        for run in runs {
            let entry = try XCTUnwrap(checked[run] as? [String: Any])
            XCTAssertEqual(entry["problems"] as? [String], [], "\(run) (CONFLUX_FAULT_SEED=\(seed))")
            records += entry["records"] as? Int ?? 0
            checkpoints += entry["checkpoints"] as? Int ?? 0
        }
        XCTAssertGreaterThan(records, 0, "some runs were stopped while logging")
        XCTAssertGreaterThan(checkpoints, 0, "some runs were stopped after saving a checkpoint")
    }

    /// SIGTERM (what `kill` and job schedulers send) stops a run the same way, with status 143.
    func testSIGTERMStopsWithStatus143() throws {
        let process = try ConfluxProcess.start(
            ["train", "lenet", "--limit", "512", "--epochs", "100", "--logdir", directory.path("logs")],
            stdout: directory.path("stdout"), stderr: directory.path("stderr"))
        let deadline = Date().addingTimeInterval(60)
        while process.isRunning && Date() < deadline
            && !((try? String(contentsOfFile: directory.path("stdout"), encoding: .utf8)) ?? "").contains("epoch 1/")
        {
            usleep(50_000)
        }
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        let stderr = try String(contentsOfFile: directory.path("stderr"), encoding: .utf8)
        XCTAssertEqual(process.terminationReason, .exit, stderr)
        XCTAssertEqual(process.terminationStatus, 143, stderr)
        XCTAssertTrue(stderr.hasSuffix("conflux: interrupted by SIGTERM\n"), stderr)
    }

    /// Output into a pipe or file is line-buffered: a run that is killed outright still leaves its finished lines.
    func testOutputReachesAPipeLineByLine() throws {
        let process = try ConfluxProcess.start(
            ["train", "lenet", "--limit", "512", "--epochs", "100"], stdout: directory.path("stdout"),
            stderr: directory.path("stderr"))
        let deadline = Date().addingTimeInterval(60)
        var text = ""
        while !text.contains("epoch 1/100") && process.isRunning && Date() < deadline {
            usleep(50_000)
            text = (try? String(contentsOfFile: directory.path("stdout"), encoding: .utf8)) ?? ""
        }
        let stillRunning = process.isRunning
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        XCTAssertTrue(stillRunning, "the first epoch's line arrived only when the process ended: \(text)")
        XCTAssertTrue(text.contains("Training lenet") && text.contains("epoch 1/100"), text)
    }

    // MARK: - Destinations

    /// `--save` onto a character device: refused before training, and the device is still a device. Before, a
    /// rename replaced it with a regular file.
    func testSaveRefusesADeviceNode() throws {
        let node = directory.path("null")
        guard mknod(node, S_IFCHR | 0o666, dev_t(1 << 8 | 3)) == 0 else {
            throw XCTSkip("making a device node needs root (\(String(cString: strerror(errno))))")
        }
        assertRefusedBeforeTraining(
            try conflux("train", "lenet", "--limit", "64", "--save", node),
            "cannot write \(node): it is a character device, not a regular file")
        var info = stat()
        XCTAssertEqual(stat(node, &info), 0)
        XCTAssertEqual(info.st_mode & S_IFMT, S_IFCHR, "the device node is untouched")
    }

    func testBadDestinationsFailBeforeTraining() throws {
        mkfifo(directory.path("fifo"), 0o644)
        let cases: [(arguments: [String], message: String)] = [
            (["--save", "/nonexistent/lenet.safetensors"], "its directory /nonexistent does not exist"),
            (["--save", directory.url.path], "it is a directory, not a regular file"),
            (["--save", directory.path("fifo")], "it is a FIFO (named pipe), not a regular file"),
            (["--trace", "/nonexistent/trace.json"], "cannot write /nonexistent/trace.json: its directory"),
            (["--logdir", directory.path("fifo")], "it exists and is not a directory"),
        ]
        for (arguments, message) in cases {
            assertRefusedBeforeTraining(
                try ConfluxProcess.run(["train", "lenet", "--limit", "64"] + arguments), message)
        }
    }

    /// A symbolic link stays a link to the file it names, and the file keeps its mode.
    func testSaveKeepsSymlinksAndModes() throws {
        let target = directory.path("weights.safetensors")
        XCTAssertTrue(FileManager.default.createFile(atPath: target, contents: Data("old".utf8)))
        chmod(target, 0o600)
        let link = directory.path("latest.safetensors")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "weights.safetensors")
        let output = try conflux("train", "lenet", "--limit", "64", "--save", link)
        XCTAssertEqual(output.status, 0, output.stderr)
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: link), "weights.safetensors")
        var info = stat()
        XCTAssertEqual(stat(target, &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o600)
        XCTAssertGreaterThan(info.st_size, 1000, "the checkpoint went to the link's target")
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: directory.url.path).sorted(),
            [
                "latest.safetensors", "weights.safetensors",
            ])
    }

    // MARK: - Data

    func testDataProblemsFailBeforeTraining() throws {
        func dataSet(_ name: String, train: Int = 64, test: Int = 64, testSide: Int = 28, labels: [UInt8]? = nil)
            throws -> String
        {
            let url = directory.url.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            try IDXFixture.writeSplit("train", in: url, count: train, labels: labels)
            try IDXFixture.writeSplit("t10k", in: url, count: test, rows: testSide, cols: testSide)
            return url.path
        }
        let labels = [200] + [UInt8](repeating: 1, count: 63)
        assertRefusedBeforeTraining(
            try conflux("train", "lenet", "--data", try dataSet("label200", labels: labels)),
            "label 200 of example 0 is outside the model's 10 classes (0...9); pass --classes N")
        assertRefusedBeforeTraining(
            try conflux("train", "lenet", "--data", try dataSet("empty", train: 0)), "the training set holds no images")
        assertRefusedBeforeTraining(
            try conflux("train", "lenet", "--data", try dataSet("sizes", testSide: 32)),
            "the test images are 32×32 but the training images are 28×28")

        // With --classes the same data trains, and the checkpoint says how many classes it has.
        let weights = directory.path("wide.safetensors")
        let wide = try conflux(
            "train", "lenet", "--data", directory.path("label200"), "--classes", "201", "--save", weights)
        XCTAssertEqual(wide.status, 0, wide.stderr)
        let evaluated = try conflux("eval", "lenet", "--data", directory.path("label200"), "--weights", weights)
        XCTAssertEqual(evaluated.status, 0, evaluated.stderr)
        XCTAssertTrue(evaluated.stdout.contains("\n  200"), "the confusion matrix has 201 classes")
    }

    /// A header that overflows or claims terabytes is an error, not a trap or a 3 TB allocation.
    func testHostileIDXHeaderIsAnError() throws {
        try IDXFixture.file(dims: [-1, -1, -1], bytes: []).write(
            to: directory.url.appendingPathComponent(
                "train-images-idx3-ubyte"))
        let overflow = try conflux("train", "lenet", "--data", directory.url.path)
        assertRefusedBeforeTraining(overflow, "declares 4294967295×4294967295×4294967295 elements")
        try IDXFixture.file(dims: [4_000_000_000, 28, 28], bytes: [UInt8](repeating: 0, count: 784))
            .write(to: directory.url.appendingPathComponent("train-images-idx3-ubyte"))
        assertRefusedBeforeTraining(
            try conflux("train", "lenet", "--data", directory.url.path), "but the file ends after 784")
    }

    /// A binary PGM cut short is an error (it was decoded from uninitialised memory); a plain-text PGM is read
    /// and classified exactly as the same pixels in binary.
    func testPGMFilesAreDecodedStrictly() throws {
        let weights = directory.path("lenet.safetensors")
        XCTAssertEqual(try conflux("train", "lenet", "--limit", "64", "--save", weights).status, 0)
        let pixels = (0..<784).map { UInt8($0 * 7 % 256) }
        try (Data("P5 28 28 255\n".utf8) + pixels).write(to: directory.url.appendingPathComponent("binary.pgm"))
        let plain = "P2\n# the same pixels as text\n28 28\n255\n" + pixels.map(String.init).joined(separator: " ")
        try Data(plain.utf8).write(to: directory.url.appendingPathComponent("plain.pgm"))
        try (Data("P5 28 28 255\n".utf8) + pixels.prefix(300)).write(
            to: directory.url.appendingPathComponent(
                "short.pgm"))

        let short = try conflux("predict", "lenet", "--weights", weights, directory.path("short.pgm"))
        XCTAssertEqual(short.status, 1)
        XCTAssertTrue(
            short.stderr.contains("is truncated: a 28×28 P5 image needs 784 bytes of pixels but the file holds 300"),
            short.stderr)
        let both = try conflux(
            "predict", "lenet", "--weights", weights, "--json", directory.path("binary.pgm"),
            directory.path("plain.pgm"))
        XCTAssertEqual(both.status, 0, both.stderr)
        let predictions = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: Data(both.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(predictions.count, 2)
        XCTAssertEqual(
            predictions[0]["probabilities"] as? [Double], predictions[1]["probabilities"] as? [Double],
            "text and binary PGM give the same pixels")
    }

    // MARK: - Options and training

    func testBadOptionsAreNamed() throws {
        let cases: [(arguments: [String], message: String)] = [
            (["--lr", "-1"], "--lr must be a positive finite number, not -1.0"),
            (["--lr", "inf"], "--lr must be a positive finite number, not inf"),
            (["--optimizer", "sgd", "--momentum", "2"], "--momentum must be at least 0 and below 1, not 2.0"),
            (["--optimizer", "sgd", "--momentum", "nan"], "--momentum must be at least 0 and below 1, not nan"),
            (["--momentum", "0.5"], "--momentum applies to --optimizer sgd"),
            (
                ["--place", "xyz=cpu"],
                "--place: 'xyz' matches no node of the graph; patterns are layers (adam, conv"
            ),
            (["--place", "conv=cpu:0,conv=cpu"], "'conv' is given twice (conv=cpu:0 and conv=cpu)"),
        ]
        for (arguments, message) in cases {
            let output = try ConfluxProcess.run(["train", "lenet", "--limit", "64"] + arguments)
            XCTAssertNotEqual(output.status, 0, "\(arguments)")
            XCTAssertTrue(output.stderr.contains(message), "\(arguments): \(output.stderr)")
        }
    }

    func testResumingWithAnotherOptimizerSaysWhichToPass() throws {
        let weights = directory.path("sgd.safetensors")
        XCTAssertEqual(
            try conflux("train", "lenet", "--limit", "64", "--optimizer", "sgd", "--save", weights).status, 0)
        assertRefusedBeforeTraining(
            try conflux("train", "lenet", "--limit", "64", "--resume", weights),
            "was trained with --optimizer sgd; pass --optimizer sgd to resume it")
    }

    /// A loss that becomes NaN stops training with an error naming the step, unless --allow-nonfinite.
    func testNonFiniteLossStopsTraining() throws {
        let diverging = ["train", "lenet", "--limit", "512", "--optimizer", "sgd", "--lr", "1e10"]
        let stopped = try ConfluxProcess.run(diverging)
        XCTAssertEqual(stopped.status, 1)
        XCTAssertTrue(stopped.stderr.contains("training stopped"), stopped.stderr)
        XCTAssertNotNil(
            stopped.stderr.range(of: #"the loss became -?(nan|inf) at step \d+"#, options: .regularExpression))
        let allowed = try ConfluxProcess.run(diverging + ["--allow-nonfinite"])
        XCTAssertEqual(allowed.status, 0, allowed.stderr)
    }

    // MARK: - Devices

    /// A batch too large for the device: a clear out-of-memory error, not an abort. Before, the failed allocation
    /// left a released buffer in a scratch slot, which the runtime released again (SIGABRT in PoCL).
    func testOutOfDeviceMemoryIsAnError() throws {
        _ = try openCLDevices()
        // A device of 1 GB (PoCL's POCL_MEMORY_LIMIT, in GB) cannot hold conv1's output for 60,000 images (1.1 GB).
        let output = try conflux(
            "train", "lenet", "--device", "opencl:0", "--batch-size", "60000", "--limit", "60000",
            environment: ["POCL_MEMORY_LIMIT": "1"])
        XCTAssertFalse(output.killedBySignal, output.stderr)
        XCTAssertEqual(output.status, 1, output.stderr)
        XCTAssertNotNil(
            output.stderr.range(
                of: #"opencl:0 is out of memory allocating \d+ bytes for '[^']+'; try a smaller batch size"#,
                options: .regularExpression), output.stderr)
    }

    /// Every cache entry truncated: the next run rebuilds from source, says so once, and repairs the cache.
    /// Before, PoCL aborted on the truncated binary in every later run.
    func testTruncatedProgramCacheFallsBackToSource() throws {
        _ = try openCLDevices()
        let cache = ["CONFLUX_CACHE_DIR": directory.path("cache")]
        let run = ["train", "lenet", "--device", "opencl:0", "--limit", "64"]
        XCTAssertEqual(try ConfluxProcess.run(run, environment: cache).status, 0)
        let programs = directory.url.appendingPathComponent("cache/opencl")
        let entries = try FileManager.default.contentsOfDirectory(atPath: programs.path)
        XCTAssertFalse(entries.isEmpty)
        for entry in entries {
            let url = programs.appendingPathComponent(entry)
            try Data(try Data(contentsOf: url).prefix(200)).write(to: url)
        }
        let damaged = try ConfluxProcess.run(run, environment: cache)
        XCTAssertEqual(damaged.status, 0, damaged.stderr)
        XCTAssertEqual(
            damaged.stderr.components(separatedBy: "ignoring the OpenCL program cache entry").count, 2,
            "said once: \(damaged.stderr)")
        let repaired = try ConfluxProcess.run(run + ["--json"], environment: cache)
        XCTAssertEqual(repaired.status, 0, repaired.stderr)
        XCTAssertFalse(repaired.stderr.contains("ignoring"), repaired.stderr)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(repaired.stdout.utf8)) as? [String: Any])
        let build = try XCTUnwrap(report["programBuild"] as? [String: Any])
        XCTAssertEqual(build["fromCache"] as? Int, build["programs"] as? Int, "every program from the repaired cache")
    }
}
