// Trains LeNet-5 for one epoch with the reference recipe, then measures inference throughput at batch 1000, batch-1
// latency and peak resident memory; prints one JSON object, with the time from start to the first finished training
// step. `LeNetBenchmark [--device D] [--first-step-only] [DATA_DIR]`: the device is `cpu` unless given;
// `--first-step-only` stops after the first step (for the cold-cache measurement). `Benchmarks/run.sh` runs it on
// the CPU beside PyTorch, `Benchmarks/run-opencl.sh` on `opencl:0` beside tinygrad.
import Conflux
import ConfluxCPU
import ConfluxNN
import ConfluxOpenCL
import Foundation

let start = DispatchTime.now().uptimeNanoseconds
var arguments = Array(CommandLine.arguments.dropFirst())
if arguments.contains("--help") || arguments.contains("-h") {
    print(
        """
        usage: LeNetBenchmark [--device D] [--first-step-only] [DATA_DIR]
        Trains LeNet-5 one epoch (the reference recipe) on the device (cpu unless given), then measures inference
        at batch 1000 and 1 and peak memory; prints one JSON object. --first-step-only stops after the first step.
        """)
    exit(0)
}
OpenBLASCore.relaunchWithBetterCoreIfAvailable()
var deviceName = "cpu"
if let flag = arguments.firstIndex(of: "--device"), flag + 1 < arguments.count {
    deviceName = arguments[flag + 1]
    arguments.removeSubrange(flag...flag + 1)
}
let firstStepOnly = arguments.contains("--first-step-only")
arguments.removeAll { $0 == "--first-step-only" }
let directory = arguments.first ?? Dataset.defaultDirectory
let train = try Dataset(directory: directory, split: .train)
let test = try Dataset(directory: directory, split: .test)
// The OpenCL backend only when asked for: loading PoCL costs the CPU run memory it would otherwise not use.
let devices = try DeviceSet(
    backends: deviceName.hasPrefix("cpu") ? [CPUBackend.self] : [CPUBackend.self, OpenCLBackend.self])
let device = try devices.device(named: deviceName)
let classifier = try Classifier(
    model: lenet5(), imageShape: train.imageShape, optimizer: SGD(learningRate: 0.01, momentum: 0.9), seed: 0)
let trainer = Trainer(classifier: classifier, device: device, kernels: devices.kernels, seed: 0)

var firstStep: Double?
let epoch = try trainer.trainEpoch(firstStepOnly ? train.prefix(64) : train, batchSize: 64, epoch: 1) { _ in
    if firstStep == nil { firstStep = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
}
if firstStepOnly {
    print("{\"first_step_seconds\":\(firstStep!)}")
    exit(0)
}
let evaluation = try trainer.evaluate(test, batchSize: 1000)

/// Seconds `body` takes, best of `repeats` (the least disturbed by other work on a shared machine).
func bestTime(repeats: Int, _ body: () throws -> Void) rethrows -> Double {
    var best = Double.infinity
    for _ in 0..<repeats {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return best
}

// Batches are converted from the data set's bytes as they are needed, as in training: a copy of the whole test
// set as floats would be 31 MB of the peak memory measured.
let inferenceSeconds = try bestTime(repeats: 3) {
    for batch in Batches(test, size: 1000, shuffleSeed: nil) {
        _ = try trainer.session.run(classifier.logits, feeds: [classifier.images: batch.images])
    }
}
let single = Array(Batches(test.prefix(200), size: 1, shuffleSeed: nil))
_ = try trainer.session.run(classifier.logits, feeds: [classifier.images: single[0].images])
var latencies: [Double] = []
for batch in single {
    latencies.append(
        try bestTime(repeats: 1) {
            _ = try trainer.session.run(classifier.logits, feeds: [classifier.images: batch.images])
        })
}
latencies.sort()

var usage = rusage()
getrusage(RUSAGE_SELF.rawValue, &usage)

let report: [String: Double] = [
    "train_images_per_second": epoch.imagesPerSecond,
    "test_accuracy": evaluation.accuracy,
    "inference_images_per_second": Double(test.count) / inferenceSeconds,
    "batch1_latency_ms": latencies[latencies.count / 2] * 1000,
    "peak_rss_mb": Double(usage.ru_maxrss) / 1024,
    "first_step_seconds": firstStep ?? 0,
]
FileHandle.standardError.write(Data("OpenBLAS kernels: \(OpenBLASCore.current)\n".utf8))
let encoder = JSONEncoder()
encoder.outputFormatting = [.sortedKeys]
print(String(decoding: try encoder.encode(report), as: UTF8.self))
