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

    func validate() throws {
        guard epochs > 0 else { throw ValidationError("--epochs must be at least 1") }
        guard batchSize > 0 else { throw ValidationError("--batch-size must be at least 1") }
        if let learningRate, !(learningRate > 0) { throw ValidationError("--lr must be positive") }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() throws {
        let devices = try DeviceSet(backends: backends)
        let device = try devices.device(named: options.device)
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
        let trainer = Trainer(
            classifier: classifier, device: device, kernels: devices.kernels, seed: options.seed, schedule: schedule,
            totalSteps: epochs * Batches(train, size: batchSize, shuffleSeed: nil).count)

        if !options.json {
            print("Training \(model.rawValue) on \(device.id) (\(device.name)): \(train.count) images, "
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
        let build = (device as? OpenCLDevice)?.buildStatistics
        if options.json {
            print(try JSONText.encode(TrainingReport(
                model: model.rawValue, device: device.id, optimizer: self.optimizer.rawValue,
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
    let device: String
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
