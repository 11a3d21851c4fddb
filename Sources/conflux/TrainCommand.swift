import ArgumentParser
import Conflux
import ConfluxMPI
import ConfluxNN
import ConfluxONNX
import ConfluxOpenCL
import ConfluxTensorBoard
import Foundation

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

            Every destination (--save, --trace, --logdir, --export) and the data are checked before training \
            starts. Ctrl-C stops at the end of the current step: logs are closed, no file is left half-written, and \
            the exit status is 130 (143 for SIGTERM).

            Under mpirun (`mpirun -np N conflux train …`) the ranks train data-parallel: each takes its share of \
            every batch of --batch-size, the gradients are summed across them before each update, and rank 0 alone \
            prints and writes. When --device or --place names a device of a task (`--device task:0/cpu:0 --place \
            dense=task:1/cpu:0`), the ranks train one model together instead: rank 0 places the graph over every \
            rank's devices, each rank runs its part, and tensors cross between the ranks as MPI messages.
            """)

    @Argument(help: "The model to train: lenet, resnet, or an ONNX file (MODEL.onnx) whose outputs are the logits.")
    var model: ModelName

    @OptionGroup var options: CommonOptions

    @Option(parsing: .unconditional, help: "Passes over the training set.")
    var epochs = 1

    @Option(parsing: .unconditional, help: "Images per training step.")
    var batchSize = 64

    @Option(help: "The optimizer.")
    var optimizer = OptimizerName.adam

    @Option(
        name: .customLong("lr"), parsing: .unconditional,
        help: "The learning rate (default: 0.003 for adam, 0.01 for sgd).")
    var learningRate: Float?

    @Option(help: "How the learning rate changes: constant, or cosine decay to zero over the run.")
    var schedule = LearningRateSchedule.cosine

    @Option(parsing: .unconditional, help: "The momentum of sgd, at least 0 and below 1 (default: 0.9).")
    var momentum: Float?

    @Option(
        parsing: .unconditional,
        help:
            "How many classes the model tells apart; every label must be below it (default: 10, or the resumed checkpoint's)."
    )
    var classes: Int?

    @Option(parsing: .unconditional, help: "Use only the first N training and N test examples (for quick checks).")
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

    @Option(
        help: "Write the trained network (images to logits, as in inference) to FILE as an ONNX model, at the end.")
    var export: String?

    @Flag(
        help: """
            Under mpirun: measure each rank's speed over steps 5 to 24 and give it a share of every later batch in \
            proportion, so that a slow device does not hold back a fast one (the split then depends on the timing: \
            the run is no longer bit-reproducible).
            """)
    var balance = false

    @Option(
        name: .customLong("bucket-mb"), parsing: .unconditional,
        help: "Under mpirun: gradients are summed across the ranks in buckets of up to this many megabytes.")
    var bucketMB = 4.0

    @Option(parsing: .unconditional, help: "Also save the checkpoint after every N epochs.")
    var saveEvery: Int?

    @Option(help: "Continue training from a checkpoint saved with --save (same model and optimizer).")
    var resume: String?

    @Flag(help: "Keep training when the loss becomes NaN or infinite; by default training stops with an error.")
    var allowNonfinite = false

    func validate() throws {
        guard epochs > 0 else { throw ValidationError("--epochs must be at least 1") }
        guard batchSize > 0 else { throw ValidationError("--batch-size must be at least 1") }
        if let learningRate, !(learningRate.isFinite && learningRate > 0) {
            throw ValidationError("--lr must be a positive finite number, not \(learningRate)")
        }
        if let momentum {
            guard optimizer == .sgd else {
                throw ValidationError("--momentum applies to --optimizer sgd; adam keeps its own moment estimates")
            }
            guard momentum.isFinite, momentum >= 0, momentum < 1 else {
                throw ValidationError("--momentum must be at least 0 and below 1, not \(momentum)")
            }
        }
        if let classes, classes < 2 { throw ValidationError("--classes must be at least 2") }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        if let saveEvery, saveEvery < 1 { throw ValidationError("--save-every must be at least 1") }
        if saveEvery != nil && save == nil { throw ValidationError("--save-every needs --save FILE") }
        guard bucketMB.isFinite, bucketMB > 0 else {
            throw ValidationError("--bucket-mb must be a positive number of megabytes, not \(bucketMB)")
        }
        if balance && options.taskWorld != nil {
            throw ValidationError("--balance shares batches between data-parallel ranks, not one graph across tasks")
        }
    }

    func run() throws {
        guard speaksForTheJob else {
            // The other ranks of an mpirun job train in step with rank 0 and write nothing; ranks that run one
            // graph together also trace, and read the weights to save, export and log, with rank 0, which writes.
            var rank = self
            if options.taskWorld == nil { (rank.save, rank.trace, rank.export, rank.logdir) = (nil, nil, nil, nil) }
            return try rank.train()
        }
        try train()
    }

    private func train() throws {
        // Everything that can be checked is checked before the first step, so a mistake costs seconds, not a run.
        if speaksForTheJob {
            for file in [save, trace, export].compactMap({ $0 }) { try OutputFile.check(file) }
            if let logdir { try OutputDirectory.prepare(logdir) }
        }
        let resumed = try resume.map { try ResumedCheckpoint(path: $0, model: model, optimizer: self.optimizer) }
        let classes = try self.classes(resuming: resumed)
        let (train, test) = try loadData(classes: classes)

        let learningRate = learningRate ?? optimizer.defaultLearningRate
        let optimizer: any Optimizer =
            switch self.optimizer {
            case .sgd: SGD(learningRate: learningRate, momentum: momentum ?? 0.9)
            case .adam: Adam(learningRate: learningRate)
            }
        let run = try ModelSession(
            model, options: options, optimizer: optimizer, imageShape: train.imageShape, classes: classes,
            dataParallelBucketBytes: MPIWorld.shared != nil && options.taskWorld == nil
                ? Int(bucketMB * 1_048_576) : nil)
        let (classifier, session) = (run.classifier, run.session)
        if export != nil { try ONNXExporter.checkExportable(input: classifier.images, output: classifier.logits) }
        if trace != nil { session.tracer = Tracer() }
        session.overlapsTransfers = overlap
        let completed = try resumed?.load(into: run) ?? 0
        if let world = MPIWorld.shared, run.job == nil {
            try run.checkIdenticalWeights(across: world)
            _ = world.takeCommunicationTime()  // the report counts the training's collectives only
        }
        let stepsPerEpoch = Batches(train, size: batchSize, shuffleSeed: nil).count
        let trainer = Trainer(
            classifier: classifier, session: session, seed: options.seed, schedule: schedule,
            totalSteps: (completed + epochs) * stepsPerEpoch, stepsTaken: completed * stepsPerEpoch)
        trainer.allowsNonFiniteLoss = allowNonfinite
        trainer.balancesShares = balance

        if speaksForTheJob && !options.json {
            print(
                "Training \(model.name) on \(run.description)"
                    + (MPIWorld.shared.map { run.job == nil ? " (rank 0 of \($0.size) processes)" : "" } ?? "")
                    + ": \(train.count) images, "
                    + "batch \(batchSize), \(self.optimizer.rawValue) lr \(learningRate) (\(schedule.rawValue))"
                    + (completed > 0 ? ", resuming after epoch \(completed)" : ""))
        }
        // From here on a signal stops the run between steps, after the log and files below are closed.
        var communication = CommunicationTime()  // while training
        let (results, evaluation) = try Interruption.whileStoppable {
            let log = speaksForTheJob ? try logdir.map { try SummaryWriter(directory: $0) } : nil
            defer { try? log?.close() }
            try log?.graph(classifier.graph, placement: run.placement)
            let results = try trainEpochs(trainer, train, completed: completed, classes: classes, log: log)
            communication = MPIWorld.shared?.takeCommunicationTime() ?? CommunicationTime()
            let evaluation = try trainer.evaluate(test, batchSize: 1000)
            try log?.scalar("test/accuracy", evaluation.accuracy, step: trainer.stepsTaken)
            try log?.close()
            if let trace, let tracer = session.tracer {
                let timeline = try run.job.map { try $0.world.gatherTrace(tracer) } ?? tracer.chromeTraceJSON()
                if speaksForTheJob { try OutputFile.write(timeline, to: trace) }
            }
            if let export {
                let weights = try ONNXExporter.inferenceWeights(of: classifier, from: session)
                if speaksForTheJob { try ONNXExporter.write(classifier, weights: weights, to: export) }
            }
            return (results, evaluation)
        }
        let ranks = try MPIWorld.shared.map { try RankTiming.gathered(by: $0, results, communication, run) }
        guard speaksForTheJob else { return }
        try report(results, evaluation, run: run, learningRate: learningRate, ranks: ranks, shares: trainer.shares)
    }

    /// The class count: `--classes`, else the resumed checkpoint's, else 10; the two must agree.
    private func classes(resuming resumed: ResumedCheckpoint?) throws -> Int {
        if let classes, let saved = resumed?.classes, saved != classes {
            throw ValidationError(
                "--classes \(classes) differs from the \(saved) classes of the checkpoint being resumed")
        }
        return classes ?? resumed?.classes ?? 10
    }

    /// The training and test sets, limited by `--limit` and checked against each other and the class count.
    private func loadData(classes: Int) throws -> (train: Dataset, test: Dataset) {
        var train = try Dataset(directory: options.data, split: .train)
        var test = try Dataset(directory: options.data, split: .test)
        if let limit {
            train = train.prefix(limit)
            test = test.prefix(limit)
        }
        for (split, data) in [("training", train), ("test", test)] where data.count == 0 {
            throw ConfluxError.dataFile(path: data.source, reason: "the \(split) set holds no images")
        }
        guard test.rows == train.rows, test.cols == train.cols else {
            throw ConfluxError.dataFile(
                path: options.data,
                reason: "the test images are \(test.cols)×\(test.rows) but the training images are "
                    + "\(train.cols)×\(train.rows); both sets must have one image size")
        }
        try train.checkLabels(below: classes)
        try test.checkLabels(below: classes)
        return (train, test)
    }

    /// Trains the epochs of this run, logging and saving as asked; returns each epoch's result.
    private func trainEpochs(
        _ trainer: Trainer, _ train: Dataset, completed: Int, classes: Int, log: SummaryWriter?
    ) throws -> [EpochResult] {
        let (classifier, session) = (trainer.classifier, trainer.session)
        var results: [EpochResult] = []
        for epoch in (completed + 1)...(completed + epochs) {
            var bar = ProgressBar(label: "epoch \(epoch)/\(completed + epochs)")
            let result = try trainer.trainEpoch(train, batchSize: batchSize, epoch: epoch) { report in
                if speaksForTheJob { bar.update(report) }
                try? log?.scalars(report)
            }
            if speaksForTheJob { bar.finish() }
            results.append(result)
            if logdir != nil {
                // Every rank that runs part of the graph reads the weights with the one that logs them.
                let values = try session.run(classifier.parameters)
                try log?.epoch(result, step: trainer.stepsTaken)
                for (parameter, value) in zip(classifier.parameters, values) {
                    try log?.histogram(parameter.name, value.floats, step: trainer.stepsTaken)
                }
            }
            if speaksForTheJob && !options.json {
                print(
                    String(
                        format: "epoch %d/%d  loss %.4f  %.0f images/s  %.1f s", epoch, completed + epochs, result.loss,
                        result.imagesPerSecond, result.seconds))
            }
            if let save, epoch == completed + epochs || saveEvery.map({ epoch % $0 == 0 }) ?? false {
                let tensors = try Checkpoint.tensors(of: classifier, from: session)
                let metadata = [
                    "epochs": String(epoch), "model": model.name, "optimizer": optimizer.rawValue,
                    "classes": String(classes),
                ]
                if speaksForTheJob { try SafeTensors.write(tensors, metadata: metadata, to: save) }
            }
        }
        return results
    }

    private func report(
        _ results: [EpochResult], _ evaluation: Evaluation, run: ModelSession, learningRate: Float,
        ranks: [RankTiming]?, shares: [Double]
    ) throws {
        let build = run.used.compactMap { ($0 as? OpenCLDevice)?.buildStatistics }.first
        let tracer = run.session.tracer
        if options.json {
            print(
                try JSONText.encode(
                    TrainingReport(
                        model: model.name, parameters: run.classifier.parameters.map(\.shape.count).reduce(0, +),
                        devices: run.usedNames, optimizer: optimizer.rawValue,
                        learningRate: learningRate, schedule: schedule.rawValue, batchSize: batchSize,
                        seed: options.seed, epochs: results, test: evaluation,
                        programBuild: build.map(ProgramBuildReport.init), trace: tracer?.summary, ranks: ranks,
                        shares: ranks.map { _ in shares })))
            return
        }
        if let build {
            print(
                String(
                    format: "OpenCL programs: %d built in %.2f s (%d from the disk cache)", build.programs,
                    build.seconds, build.fromCache))
        }
        print(
            String(
                format: "test accuracy %.2f%%  (loss %.4f, %d images)", evaluation.accuracy * 100, evaluation.loss,
                evaluation.count))
        if let save { print("saved \(save)") }
        if let export { print("exported \(export)") }
        if let trace, let summary = tracer?.summary {
            print(
                String(
                    format: "trace %@: %d kernels, %d transfers taking %.3f s, %.0f%% of it hidden behind compute",
                    trace, summary.kernels, summary.transfers, summary.transferSeconds, summary.hiddenFraction * 100))
        }
    }
}

/// What `conflux train --json` prints.
struct TrainingReport: Encodable {
    let model: String
    /// Elements in the trained variables: the gradients a data-parallel step sums.
    let parameters: Int
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
    /// Under mpirun: each rank's training time and its part in collectives.
    let ranks: [RankTiming]?
    /// Under mpirun: each rank's fraction of every batch at the end (equal unless `--balance`).
    let shares: [Double]?
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
