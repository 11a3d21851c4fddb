import ArgumentParser
import Conflux
import ConfluxNN
import ConfluxOpenCL
import ConfluxTensorBoard
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

    @Flag(
        inversion: .prefixedNo,
        help: """
            Copy tensors between devices, and the next batch to its devices, while the devices compute. \
            --no-overlap runs each copy in its producer's stream instead, to compare.
            """)
    var overlap = true

    @Option(
        help: "Write TensorBoard event files to DIR: scalars per step and epoch, weight histograms, the placed graph.")
    var logdir: String?

    @Option(help: "Save every variable (weights and optimizer state) to FILE, a safetensors checkpoint, at the end.")
    var save: String?

    @Option(help: "Also save the checkpoint after every N epochs.")
    var saveEvery: Int?

    @Option(help: "Continue training from a checkpoint saved with --save (same model and optimizer).")
    var resume: String?

    func validate() throws {
        guard epochs > 0 else { throw ValidationError("--epochs must be at least 1") }
        guard batchSize > 0 else { throw ValidationError("--batch-size must be at least 1") }
        if let learningRate, !(learningRate > 0) { throw ValidationError("--lr must be positive") }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        if let saveEvery, saveEvery < 1 { throw ValidationError("--save-every must be at least 1") }
        if saveEvery != nil && save == nil { throw ValidationError("--save-every needs --save FILE") }
    }

    func run() throws {
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
        let run = try ModelSession(
            model, options: options, optimizer: optimizer, imageShape: train.imageShape, classes: max(train.classes, 10)
        )
        let (classifier, session) = (run.classifier, run.session)
        if trace != nil { session.tracer = Tracer() }
        session.overlapsTransfers = overlap
        let stepsPerEpoch = Batches(train, size: batchSize, shuffleSeed: nil).count
        var completed = 0
        if let resume {
            let metadata = try Checkpoint.load(resume, into: session, for: classifier, weightsOnly: false)
            completed = metadata["epochs"].flatMap { Int($0) } ?? 0
        }
        let trainer = Trainer(
            classifier: classifier, session: session, seed: options.seed, schedule: schedule,
            totalSteps: (completed + epochs) * stepsPerEpoch, stepsTaken: completed * stepsPerEpoch)
        let checkpoint = { (epochsDone: Int) in
            guard let save else { return }
            try Checkpoint.save(
                classifier, from: session, to: save,
                metadata: ["epochs": String(epochsDone), "model": model.rawValue, "optimizer": self.optimizer.rawValue])
        }

        let log = try logdir.map { try SummaryWriter(directory: $0) }
        try log?.graph(classifier.graph, placement: session.placement)
        let interrupt = log.map { log in FlushOnInterrupt { try? log.close() } }
        defer { interrupt?.cancel() }

        if !options.json {
            print(
                "Training \(model.rawValue) on \(run.description): \(train.count) images, "
                    + "batch \(batchSize), \(self.optimizer.rawValue) lr \(learningRate) (\(schedule.rawValue))"
                    + (completed > 0 ? ", resuming after epoch \(completed)" : ""))
        }
        var results: [EpochResult] = []
        for epoch in (completed + 1)...(completed + epochs) {
            var bar = ProgressBar(label: "epoch \(epoch)/\(completed + epochs)")
            let result = try trainer.trainEpoch(train, batchSize: batchSize, epoch: epoch) { report in
                bar.update(report)
                try? log?.scalars(report)
            }
            bar.finish()
            results.append(result)
            if let log {
                try log.scalar("epoch/loss", result.loss, step: trainer.stepsTaken)
                try log.scalar("epoch/images_per_second", result.imagesPerSecond, step: trainer.stepsTaken)
                try log.scalar("epoch/accuracy", result.accuracy, step: trainer.stepsTaken)
                try log.scalar("epoch/learning_rate", Double(result.learningRate), step: trainer.stepsTaken)
                for (parameter, value) in zip(classifier.parameters, try session.run(classifier.parameters)) {
                    try log.histogram(parameter.name, value.floats, step: trainer.stepsTaken)
                }
            }
            if !options.json {
                print(
                    String(
                        format: "epoch %d/%d  loss %.4f  %.0f images/s  %.1f s", epoch, completed + epochs, result.loss,
                        result.imagesPerSecond, result.seconds))
            }
            if let saveEvery, epoch % saveEvery == 0 { try checkpoint(epoch) }
        }
        try checkpoint(completed + epochs)
        let evaluation = try trainer.evaluate(test, batchSize: 1000)
        try log?.scalar("test/accuracy", evaluation.accuracy, step: trainer.stepsTaken)
        try log?.close()
        let build = run.used.compactMap { ($0 as? OpenCLDevice)?.buildStatistics }.first
        if let trace, let tracer = session.tracer {
            try tracer.chromeTraceJSON().write(to: URL(fileURLWithPath: trace))
        }
        if options.json {
            print(
                try JSONText.encode(
                    TrainingReport(
                        model: model.rawValue, devices: run.used.map(\.id), optimizer: self.optimizer.rawValue,
                        learningRate: learningRate, schedule: schedule.rawValue, batchSize: batchSize,
                        seed: options.seed, epochs: results,
                        test: evaluation, programBuild: build.map(ProgramBuildReport.init),
                        trace: session.tracer?.summary)))
        } else {
            if let build {
                print(
                    String(
                        format: "OpenCL programs: %d built in %.2f s (%d from the disk cache)", build.programs,
                        build.seconds,
                        build.fromCache))
            }
            print(
                String(
                    format: "test accuracy %.2f%%  (loss %.4f, %d images)", evaluation.accuracy * 100,
                    evaluation.loss, evaluation.count))
            if let save { print("saved \(save)") }
            if let trace, let summary = session.tracer?.summary {
                print(
                    String(
                        format: "trace %@: %d kernels, %d transfers taking %.3f s, %.0f%% of it hidden behind compute",
                        trace, summary.kernels, summary.transfers, summary.transferSeconds,
                        summary.hiddenFraction * 100))
            }
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
    /// With `--trace`: the time spent in transfers and the part of it hidden behind compute.
    let trace: TraceSummary?
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
