import Conflux
import Foundation
import TestSupport
import XCTest

/// `mpirun -np 2 conflux … --device task:0/cpu:0 --place dense=task:1/cpu:0`: one graph placed across the ranks,
/// its tensors between them as MPI messages, against one process.
final class TaskPlacementTests: XCTestCase {
    /// The benchmarks' reference recipe, on the first 3,200 images: 50 steps of 64.
    private let recipe = [
        "--optimizer", "sgd", "--lr", "0.01", "--momentum", "0.9", "--schedule", "constant", "--batch-size", "64",
        "--limit", "3200", "--seed", "1",
    ]

    private func run(ranks: Int? = nil, _ arguments: [String]) throws -> [String: Any] {
        try ConfluxProcess.report(arguments, ranks: ranks)
    }

    private func stepLosses(_ report: [String: Any]) throws -> [Double] { try ConfluxProcess.stepLosses(report) }

    /// LeNet's dense layers on rank 1 and the rest on rank 0 take the steps of one process: the same 50 losses
    /// and test accuracy, with the dense layers on rank 1's CPU and on its OpenCL device. The CPU run's trace holds
    /// both tasks' streams on one timeline.
    func testOneGraphAcrossTwoRanksTakesTheStepsOfOneProcess() throws {
        let single = try run(["train", "lenet", "--device", "cpu"] + recipe)
        let losses = try stepLosses(single)
        XCTAssertEqual(losses.count, 50)
        let hasOpenCL = try allDevices.get().devices.contains { $0.kind == .opencl }
        let directory = try TemporaryDirectory()
        for dense in ["task:1/cpu:0", "task:1/opencl:0"] where dense.hasSuffix("cpu:0") || hasOpenCL {
            let trace = directory.path("\(dense.replacingOccurrences(of: "/", with: "-")).json")
            let report = try run(
                ranks: 2,
                ["train", "lenet", "--device", "task:0/cpu:0", "--place", "dense=\(dense)", "--trace", trace] + recipe)
            XCTAssertEqual(report["devices"] as? [String], ["task:0/cpu:0", dense])
            let split = try stepLosses(report)
            XCTAssertEqual(split.count, 50)
            let largest = zip(split, losses).map { abs($0 - $1) / $1 }.max() ?? 1
            print("dense layers on \(dense): largest relative loss difference from one process \(largest) in 50 steps")
            XCTAssertLessThan(largest, 1e-3, dense)
            let accuracy = { (report: [String: Any]) in (report["test"] as? [String: Any])?["accuracy"] as? Double }
            XCTAssertEqual(try XCTUnwrap(accuracy(report)), try XCTUnwrap(accuracy(single)), accuracy: 1e-3)

            let timeline = try XCTUnwrap(
                try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: trace)))
                    as? [String: Any])
            let events = try XCTUnwrap(timeline["traceEvents"] as? [[String: Any]])
            let processes = events.filter { $0["name"] as? String == "process_name" }
                .compactMap { ($0["args"] as? [String: Any])?["name"] as? String }
            XCTAssertEqual(processes, ["task:0", "task:1"])
            let kernelsByTask = Dictionary(grouping: events.filter { $0["cat"] as? String == "kernel" }) {
                $0["pid"] as? Int ?? 0
            }
            XCTAssertEqual(kernelsByTask.keys.sorted(), [1, 2], "both tasks ran kernels")
        }
    }

    /// Tensors of several megabytes cross between the tasks in chunks, into an OpenCL device's pooling that reads
    /// them chunk by chunk where there is one: the steps are still one process's.
    func testLargeTensorsCrossBetweenTasksInChunks() throws {
        let recipe = ["--optimizer", "sgd", "--lr", "0.01", "--batch-size", "256", "--limit", "1280", "--seed", "1"]
        let single = try stepLosses(try run(["train", "lenet", "--device", "cpu"] + recipe))
        let pooling = try allDevices.get().devices.contains { $0.kind == .opencl } ? "task:1/opencl:0" : "task:1/cpu:0"
        let placement = ["--device", "task:0/cpu:0", "--place", "pool=\(pooling)"]
        let place = try run(ranks: 2, ["place", "lenet", "--batch-size", "256"] + placement)
        let transfers = try XCTUnwrap(place["transfers"] as? [[String: String]])
        // conv1's 256 × 6 × 28 × 28 floats, over twice the 1 MB chunk.
        let conv1 = try XCTUnwrap(transfers.first { $0["tensor"] == "conv1/Relu" })
        XCTAssertEqual(conv1["bytes"], String(256 * 6 * 28 * 28 * 4))
        let split = try stepLosses(try run(ranks: 2, ["train", "lenet"] + placement + recipe))
        XCTAssertEqual(split.count, 5)
        let largest = zip(split, single).map { abs($0 - $1) / $1 }.max() ?? 1
        XCTAssertLessThan(largest, 1e-3, "pooling on \(pooling)")
    }

    /// Evaluation with the loss on rank 1's CPU and the predictions on its OpenCL device: the logits cross to
    /// rank 1 once and pass from its CPU to its OpenCL device, and the confusion matrix is one process's.
    func testATensorReadByTwoDevicesOfATaskCrossesOnce() throws {
        guard try allDevices.get().devices.contains(where: { $0.kind == .opencl }) else {
            throw XCTSkip("no OpenCL device: a second device on rank 1 needs one")
        }
        let recipe = ["--optimizer", "sgd", "--limit", "640", "--seed", "1"]
        let single = try run(["train", "lenet", "--device", "cpu"] + recipe)
        let split = try run(
            ranks: 2,
            ["train", "lenet", "--device", "task:0/cpu:0", "--place", "loss=task:1/cpu:0,predictions=task:1/opencl:0"]
                + recipe)
        XCTAssertEqual(split["devices"] as? [String], ["task:0/cpu:0", "task:1/cpu:0", "task:1/opencl:0"])
        let confusion = { (report: [String: Any]) in (report["test"] as? [String: Any])?["confusion"] as? [[Int]] }
        XCTAssertEqual(try XCTUnwrap(confusion(split)), try XCTUnwrap(confusion(single)))
    }

    /// Ranks that run one graph save its weights and export it from rank 0, with the other ranks' weights in
    /// them: the checkpoint evaluates in one process as the job evaluated, the export imports, and the job resumes
    /// from the checkpoint where it stopped.
    func testCheckpointsAndExportsHoldEveryTasksWeights() throws {
        let directory = try TemporaryDirectory()
        let (checkpoint, export) = (directory.path("split.safetensors"), directory.path("split.onnx"))
        let placement = ["--device", "task:0/cpu:0", "--place", "dense=task:1/cpu:0"]
        let first = try run(
            ranks: 2, ["train", "lenet", "--limit", "640", "--save", checkpoint, "--export", export] + placement)
        let evaluated = try run(["eval", "lenet", "--weights", checkpoint, "--limit", "640", "--device", "cpu"])
        // `train` reports the evaluation as "test", `eval` as "evaluation".
        let confusion = { (report: [String: Any], key: String) in
            (report[key] as? [String: Any])?["confusion"] as? [[Int]]
        }
        XCTAssertEqual(
            try XCTUnwrap(confusion(evaluated, "evaluation")), try XCTUnwrap(confusion(first, "test")),
            "the checkpoint evaluates otherwise than the job that saved it")
        let imported = try ConfluxProcess.run(["import", export])
        XCTAssertEqual(imported.status, 0, imported.stderr)

        let resumed = try run(ranks: 2, ["train", "lenet", "--limit", "640", "--resume", checkpoint] + placement)
        let epochs = try XCTUnwrap(resumed["epochs"] as? [[String: Any]])
        XCTAssertEqual(epochs.first?["epoch"] as? Int, 2)
        let before = try XCTUnwrap((first["epochs"] as? [[String: Any]])?.first?["loss"] as? Double)
        XCTAssertLessThan(try XCTUnwrap(epochs.first?["loss"] as? Double), before)
    }

    /// `conflux place` names the tensors that cross between the tasks, one Send/Recv pair per tensor and
    /// destination task, with their bytes, and the link they cross.
    func testPlaceNamesTheTensorsThatCrossBetweenTasks() throws {
        let report = try run(
            ranks: 2, ["place", "lenet", "--device", "task:0/cpu:0", "--place", "dense=task:1/cpu:0"])
        let transfers = try XCTUnwrap(report["transfers"] as? [[String: String]])
        let task = { (device: String?) in device.flatMap { TaskDeviceName.split($0).task } }
        XCTAssertTrue(transfers.allSatisfy { task($0["from"]) != nil && task($0["to"]) != nil }, "\(transfers)")
        let betweenTasks = transfers.filter { $0["crossesTasks"] == "true" }
        XCTAssertFalse(betweenTasks.isEmpty)
        let pairs = betweenTasks.map { "\($0["tensor"]!) → task \(task($0["to"])!)" }
        XCTAssertEqual(Set(pairs).count, pairs.count, "a tensor crosses to one task twice: \(pairs)")
        // The flattened features go to the dense layers, and their gradient comes back, 64 × 400 floats each way.
        let flatten = try XCTUnwrap(betweenTasks.first { $0["tensor"] == "flatten/Reshape" })
        XCTAssertEqual(flatten["from"], "task:0/cpu:0")
        XCTAssertEqual(flatten["to"], "task:1/cpu:0")
        XCTAssertEqual(flatten["bytes"], String(64 * 400 * 4))
        let link = try XCTUnwrap(report["link"] as? [String: Any])
        let bytes = betweenTasks.compactMap { $0["bytes"].flatMap { Int($0) } }.reduce(0, +)
        XCTAssertEqual(link["bytesBetweenTasksPerStep"] as? Int, bytes)
        XCTAssertGreaterThan(try XCTUnwrap(link["bytesPerSecond"] as? Double), 0)
    }

    /// A device of a task the job does not have is an error that lists every task's devices; so is a device of
    /// another task in a process started without mpirun, and in a command that does not run one graph across ranks.
    func testATaskThatDoesNotExistIsAnErrorListingTheTasks() throws {
        let output = try ConfluxProcess.run(
            ["place", "lenet", "--device", "task:0/cpu:0", "--place", "dense=task:5/cpu:0"],
            launcher: ConfluxProcess.mpirun(ranks: 2))
        XCTAssertNotEqual(output.status, 0)
        XCTAssertTrue(output.stderr.contains("no device named 'task:5/cpu:0'"), output.stderr)
        XCTAssertTrue(output.stderr.contains("task:0/cpu:0") && output.stderr.contains("task:1/cpu:0"), output.stderr)

        let evaluation = try ConfluxProcess.run(
            ["eval", "lenet", "--weights", "unread.safetensors", "--device", "task:1/cpu:0"],
            launcher: ConfluxProcess.mpirun(ranks: 2))
        XCTAssertNotEqual(evaluation.status, 0)
        XCTAssertTrue(
            evaluation.stderr.contains("place one graph across the ranks in `conflux train` and `conflux place`"),
            evaluation.stderr)

        let alone = try ConfluxProcess.run(["place", "lenet", "--device", "task:1/cpu:0"])
        XCTAssertNotEqual(alone.status, 0)
        XCTAssertTrue(alone.stderr.contains("no device named 'task:1/cpu:0'"), alone.stderr)
    }
}
