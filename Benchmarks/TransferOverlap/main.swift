// Trains LeNet-5 with a mixed placement (convolutions and pools on opencl:0, dense layers on cpu:0, the reference
// recipe) for one epoch with transfers overlapping compute and for one without, and prints one JSON object:
// images/second of each and their ratio, plus, from a traced stretch of steps in each mode, the time per step
// spent in transfers and the part of it hidden behind compute.
//
// Usage: TransferOverlapBenchmark [--limit IMAGES] [--batch-size N] [--trace-steps STEPS] [DATA-DIRECTORY]
import Conflux
import ConfluxCPU
import ConfluxNN
import ConfluxOpenCL
import Foundation

var arguments = Array(CommandLine.arguments.dropFirst())
if arguments.contains("--help") || arguments.contains("-h") {
    print(
        """
        usage: TransferOverlapBenchmark [--limit IMAGES] [--batch-size N] [--trace-steps STEPS] [DATA-DIRECTORY]
        Trains LeNet-5 one epoch on opencl:0 and cpu:0 together, with transfers overlapping compute and without,
        and prints images/second of each, their ratio, and the transfer time per step hidden behind compute.
        """)
    exit(0)
}
OpenBLASCore.relaunchWithBetterCoreIfAvailable()
func option(_ name: String, default value: Int) -> Int {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count,
        let parsed = Int(arguments[index + 1])
    else { return value }
    arguments.removeSubrange(index...index + 1)
    return parsed
}
let limit = option("--limit", default: Int.max)
let traceSteps = option("--trace-steps", default: 100)
let batchSize = option("--batch-size", default: 64)
let directory = arguments.first ?? Dataset.defaultDirectory
let rules = "conv=opencl:0,pool=opencl:0,dense=cpu"

let devices = try DeviceSet(backends: [CPUBackend.self, OpenCLBackend.self])
guard devices.devices.contains(where: { $0.kind == .opencl }) else {
    FileHandle.standardError.write(Data("no OpenCL device: install pocl-opencl-icd (scripts/install-deps.sh)\n".utf8))
    exit(1)
}
let train = try Dataset(directory: directory, split: .train).prefix(limit)

/// A fresh mixed-placement trainer from the same seed.
func makeTrainer(overlap: Bool) throws -> Trainer {
    let classifier = try Classifier(
        model: lenet5(), imageShape: train.imageShape, optimizer: SGD(learningRate: 0.01, momentum: 0.9), seed: 0)
    let placement = try devices.placement(
        for: classifier.graph, device: "cpu", rules: PlacementRule.parse(rules))
    let session = Session(
        graph: classifier.graph, placement: placement, devices: devices.devices(of: placement),
        kernels: devices.kernels)
    session.overlapsTransfers = overlap
    return Trainer(classifier: classifier, session: session, seed: 0)
}

struct Mode: Encodable {
    let imagesPerSecond: Double
    let epochSeconds: Double
    let finalLoss: Double
    let tracedSteps: Int
    let transfersPerStep: Double
    let transferMillisecondsPerStep: Double
    let hiddenMillisecondsPerStep: Double
    let hiddenFraction: Double
}

func measure(overlap: Bool) throws -> Mode {
    let trainer = try makeTrainer(overlap: overlap)
    let epoch = try trainer.trainEpoch(train, batchSize: batchSize, epoch: 1)
    let tracer = Tracer()
    trainer.session.tracer = tracer
    _ = try trainer.trainEpoch(train.prefix(traceSteps * batchSize), batchSize: batchSize, epoch: 2)
    let summary = tracer.summary
    let steps = Double(min(traceSteps, (train.count + batchSize - 1) / batchSize))
    return Mode(
        imagesPerSecond: epoch.imagesPerSecond, epochSeconds: epoch.seconds, finalLoss: epoch.loss,
        tracedSteps: Int(steps), transfersPerStep: Double(summary.transfers) / steps,
        transferMillisecondsPerStep: summary.transferSeconds * 1000 / steps,
        hiddenMillisecondsPerStep: summary.hiddenSeconds * 1000 / steps, hiddenFraction: summary.hiddenFraction)
}

// Warm up: build the OpenCL programs and measure the device profiles before anything is timed.
_ = try makeTrainer(overlap: true).trainEpoch(train.prefix(4 * batchSize), batchSize: batchSize, epoch: 0)
let overlapped = try measure(overlap: true)
let serial = try measure(overlap: false)

struct Report: Encodable {
    let placement: String
    let devices: [String]
    let images: Int
    let batchSize: Int
    let overlap: Mode
    let noOverlap: Mode
    /// Overlap over no overlap: above 1, overlapping is faster.
    let imagesPerSecondRatio: Double
}
let encoder = JSONEncoder()
encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
encoder.keyEncodingStrategy = .convertToSnakeCase
print(
    String(
        decoding: try encoder.encode(
            Report(
                placement: rules, devices: devices.devices.map { "\($0.id) \($0.name)" }, images: train.count,
                batchSize: batchSize, overlap: overlapped, noOverlap: serial,
                imagesPerSecondRatio: overlapped.imagesPerSecond / serial.imagesPerSecond)),
        as: UTF8.self))
