import ArgumentParser
import Conflux
import ConfluxNN
import ConfluxOpenCL
import Foundation

/// The models `conflux train` can build.
enum ModelName: String, ExpressibleByArgument, CaseIterable {
    case lenet
}

/// The optimizers `conflux train` offers.
enum OptimizerName: String, ExpressibleByArgument, CaseIterable {
    case sgd, adam

    /// The learning rate used when `--lr` is not given.
    var defaultLearningRate: Float { self == .sgd ? 0.01 : 0.003 }
}

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model on an image-classification data set, then report its test accuracy.",
        discussion: """
            The reference recipe of the LeNet-5 benchmarks is `--optimizer sgd --lr 0.01 --momentum 0.9 \
            --schedule constant --batch-size 64`; weights start Glorot-uniform and biases at zero.
            """)

    @Argument(help: "The model to train.")
    var model: ModelName

    @OptionGroup var options: CommonOptions

    @Option(help: "Passes over the training set.")
    var epochs = 1

    @Option(help: "Images per training step.")
    var batchSize = 64

    @Option(help: "The optimizer.")
    var optimizer = OptimizerName.adam

    @Option(name: .customLong("lr"), help: "The learning rate (default: 0.003 for adam, 0.01 for sgd).")
    var learningRate: Float?

    @Option(help: "How the learning rate changes: constant, or cosine decay to zero over the run.")
    var schedule = LearningRateSchedule.cosine

    @Option(help: "The momentum of sgd.")
    var momentum: Float = 0.9

    @Option(help: "Use only the first N training and N test examples (for quick checks).")
    var limit: Int?

    @Option(help: "Write the run's timeline (kernels and transfers per device stream) to FILE as a Chrome trace.")
    var trace: String?

    func validate() throws {
        guard epochs > 0 else { throw ValidationError("--epochs must be at least 1") }
        guard batchSize > 0 else { throw ValidationError("--batch-size must be at least 1") }
        if let learningRate, !(learningRate > 0) { throw ValidationError("--lr must be positive") }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() throws {
        let devices = try DeviceSet(backends: backends)
        var train = try Dataset(directory: options.data, split: .train)
        var test = try Dataset(directory: options.data, split: .test)
        if let limit {
            train = train.prefix(limit)
            test = test.prefix(limit)
        }
        let learningRate = learningRate ?? optimizer.defaultLearningRate
        let optimizer: any Optimizer =
            switch self.optimizer {
            case .sgd: SGD(learningRate: learningRate, momentum: momentum)
            case .adam: Adam(learningRate: learningRate)
            }
        let classifier = try Classifier(
            model: lenet5(classes: max(train.classes, 10)), imageShape: train.imageShape, optimizer: optimizer,
            seed: options.seed)
        let placement = try devices.placement(for: classifier.graph, device: options.device, rules: options.rules)
        let used = devices.devices(of: placement)
        let session = Session(graph: classifier.graph, placement: placement, devices: used, kernels: devices.kernels)
        if trace != nil { session.tracer = Tracer() }
        let trainer = Trainer(
            classifier: classifier, session: session, seed: options.seed, schedule: schedule,
            totalSteps: epochs * Batches(train, size: batchSize, shuffleSeed: nil).count)

        let where_ = used.map { "\($0.id) (\($0.name))" }.joined(separator: " + ")
        if !options.json {
            print("Training \(model.rawValue) on \(where_): \(train.count) images, "
                + "batch \(batchSize), \(self.optimizer.rawValue) lr \(learningRate) (\(schedule.rawValue))")
        }
        var results: [EpochResult] = []
        for epoch in 1...epochs {
            var bar = ProgressBar(label: "epoch \(epoch)/\(epochs)")
            let result = try trainer.trainEpoch(train, batchSize: batchSize, epoch: epoch) { bar.update($0) }
            bar.finish()
            results.append(result)
            if !options.json {
                print(String(
                    format: "epoch %d/%d  loss %.4f  %.0f images/s  %.1f s", epoch, epochs, result.loss,
                    result.imagesPerSecond, result.seconds))
            }
        }
        let evaluation = try trainer.evaluate(test, batchSize: 1000)
        let build = used.compactMap { ($0 as? OpenCLDevice)?.buildStatistics }.first
        if let trace, let tracer = session.tracer {
            try tracer.chromeTraceJSON().write(to: URL(fileURLWithPath: trace))
        }
        if options.json {
            print(try JSONText.encode(TrainingReport(
                model: model.rawValue, devices: used.map(\.id), optimizer: self.optimizer.rawValue,
                learningRate: learningRate, schedule: schedule.rawValue, batchSize: batchSize, seed: options.seed, epochs: results,
                test: evaluation, programBuild: build.map(ProgramBuildReport.init))))
        } else {
            if let build {
                print(String(
                    format: "OpenCL programs: %d built in %.2f s (%d from the disk cache)", build.programs, build.seconds,
                    build.fromCache))
            }
            print(String(format: "test accuracy %.2f%%  (loss %.4f, %d images)", evaluation.accuracy * 100,
                evaluation.loss, evaluation.count))
        }
    }
}

/// What `conflux train --json` prints.
struct TrainingReport: Encodable {
    let model: String
    let devices: [String]
    let optimizer: String
    let learningRate: Float
    let schedule: String
    let batchSize: Int
    let seed: UInt64
    let epochs: [EpochResult]
    let test: Evaluation
    /// On an OpenCL device: the programs built and the time it took.
    let programBuild: ProgramBuildReport?
}

struct ProgramBuildReport: Encodable {
    let programs: Int
    let fromCache: Int
    let seconds: Double

    init(_ statistics: ProgramBuildStatistics) {
        programs = statistics.programs
        fromCache = statistics.fromCache
        seconds = statistics.seconds
    }
}

extension LearningRateSchedule: ExpressibleByArgument {}
