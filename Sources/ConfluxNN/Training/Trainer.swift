import Conflux
import Foundation

/// What one training step reports, for a progress display.
public struct StepReport {
    public let step: Int
    public let steps: Int
    /// Steps taken before this one in the whole run, across epochs.
    public let globalStep: Int
    public let loss: Float
    /// The fraction of the batch classified correctly, before the step's update.
    public let accuracy: Float
    /// The learning rate of the step.
    public let learningRate: Float
    /// Throughput so far in this epoch.
    public let imagesPerSecond: Double
}

/// The summary of one epoch.
public struct EpochResult: Codable {
    public let epoch: Int
    /// The mean of the batch losses, weighted by batch size.
    public let loss: Double
    /// The loss of each step.
    public let stepLosses: [Float]
    /// The mean fraction of each batch classified correctly before its update, weighted by batch size.
    public let accuracy: Double
    /// The learning rate of the epoch's last step.
    public let learningRate: Float
    public let seconds: Double
    public let imagesPerSecond: Double
}

/// Loss and accuracy over a whole data set.
public struct Evaluation: Codable {
    public let loss: Double
    public let accuracy: Double
    public let count: Int
    /// confusion[true class][predicted class]: how many images of each class went to each prediction.
    public let confusion: [[Int]]

    /// The accuracy on the images of each class (nil for a class with no image).
    public var classAccuracy: [Double?] {
        confusion.indices.map { c in
            let total = confusion[c].reduce(0, +)
            return total == 0 ? nil : Double(confusion[c][c]) / Double(total)
        }
    }
}

/// Trains and evaluates a classifier in one session, on one device or placed across several. In a job of several
/// processes (`Collectives.group`, with a classifier built `dataParallel`), each process trains on its share of
/// every global batch and evaluates its share of a data set; the losses, accuracies and evaluations it reports are
/// the whole job's.
public final class Trainer {
    public let classifier: Classifier
    public let session: Session
    /// The seed of each epoch's shuffle (offset by the epoch number).
    public let seed: UInt64
    /// The learning rate of each step, from the optimizer's.
    public let schedule: LearningRateSchedule
    /// How many steps the whole run has, for the schedule; `trainEpoch` counts the steps taken.
    public let totalSteps: Int
    public private(set) var stepsTaken = 0
    /// Whether a NaN or infinite loss lets training go on; by default it stops training with `nonFiniteLoss`,
    /// since every later step would compute with the broken weights.
    public var allowsNonFiniteLoss = false
    /// In a job of several processes, whether to measure each process's speed over steps `balanceWindow` and give
    /// it a share of every later batch in proportion, so that a slow device does not hold back a fast one. The
    /// steps stay the whole batch's, but the split, and so the rounding, then depends on the timing: the run is no
    /// longer bit-reproducible.
    public var balancesShares = false
    /// The steps (counted over the whole run) whose speed `balancesShares` measures: after the first few, which
    /// build programs and fill caches.
    public static let balanceWindow = 5..<25
    /// Each process's fraction of every batch: equal until balanced.
    public private(set) var shares: [Double] = Array(
        repeating: 1 / Double(Collectives.group.size), count: Collectives.group.size)
    /// This process's rows and seconds of computation (waits for collectives excluded) in the balance window.
    private var measured = (rows: 0, seconds: 0.0)

    /// - Parameters:
    ///   - schedule, totalSteps: the learning rate of step t is
    ///     `schedule.rate(base: optimizer's rate, step: t, of: totalSteps)`.
    ///   - stepsTaken: steps already taken in an earlier run this one resumes.
    public init(
        classifier: Classifier, session: Session, seed: UInt64, schedule: LearningRateSchedule = .constant,
        totalSteps: Int = 1, stepsTaken: Int = 0
    ) {
        precondition(session.graph === classifier.graph, "the session must run the classifier's graph")
        self.classifier = classifier
        self.session = session
        self.seed = seed
        self.schedule = schedule
        self.totalSteps = totalSteps
        self.stepsTaken = stepsTaken
    }

    /// A trainer that runs everything on `device`.
    public convenience init(
        classifier: Classifier, device: any Device, kernels: KernelRegistry, seed: UInt64,
        schedule: LearningRateSchedule = .constant, totalSteps: Int = 1
    ) {
        self.init(
            classifier: classifier, session: Session(graph: classifier.graph, device: device, kernels: kernels),
            seed: seed, schedule: schedule, totalSteps: totalSteps)
    }

    /// One pass over `data` in shuffled batches of `batchSize`, updating the parameters after each. Each step
    /// begins with an `Interruption` stop point.
    ///
    /// - Throws: `nonFiniteLoss` naming the step (unless `allowsNonFiniteLoss`), `interrupted`, or whatever a
    ///   kernel raises, such as a label outside the model's classes.
    public func trainEpoch(
        _ data: Dataset, batchSize: Int, epoch: Int, progress: (StepReport) -> Void = { _ in }
    ) throws -> EpochResult {
        let batches = Prefetcher(Batches(data, size: batchSize, shuffleSeed: seed &+ UInt64(epoch)))
        let start = Date()
        var (lossSum, images, step) = (0.0, 0, 0)
        var stepLosses: [Float] = []
        var (correct, rate) = (0.0, Float(0))
        var upcoming = try stage(batches.next(), step: stepsTaken)
        while let (batch, feeds) = upcoming {
            try Interruption.check()
            rate = learningRate(step: stepsTaken)
            // The next batch goes to the devices while this one computes.
            upcoming = try stage(batches.next(), step: stepsTaken + 1)
            let values = try measuringSpeed(rows: Int((Double(feeds.share) * Double(batch.count)).rounded())) {
                try session.run(
                    [classifier.loss, classifier.accuracy], staged: feeds.staged, targets: classifier.updates)
            }
            let (loss, accuracy) = jobWide(values[0].scalarValue, values[1].scalarValue, share: feeds.share)
            guard loss.isFinite || allowsNonFiniteLoss else {
                throw ConfluxError.nonFiniteLoss(step: stepsTaken + 1, loss: loss)
            }
            lossSum += Double(loss) * Double(batch.count)
            images += batch.count
            step += 1
            stepLosses.append(loss)
            correct += Double(accuracy) * Double(batch.count)
            progress(
                StepReport(
                    step: step, steps: batches.count, globalStep: stepsTaken, loss: loss,
                    accuracy: accuracy,
                    learningRate: rate, imagesPerSecond: Double(images) / max(Date().timeIntervalSince(start), 1e-9)))
            stepsTaken += 1
        }
        try averageStateAcrossProcesses()
        let seconds = Date().timeIntervalSince(start)
        return EpochResult(
            epoch: epoch, loss: lossSum / Double(max(images, 1)), stepLosses: stepLosses,
            accuracy: correct / Double(max(images, 1)), learningRate: rate, seconds: seconds,
            imagesPerSecond: Double(images) / max(seconds, 1e-9))
    }

    /// Runs `step`, this process's `rows` of a batch; in the balance window of `balancesShares`, adds its time
    /// (waits for collectives left out) to the measurement, and balances the shares after the window's last step.
    private func measuringSpeed<R>(rows: Int, _ step: () throws -> R) rethrows -> R {
        guard balancesShares && Self.balanceWindow.contains(stepsTaken) else { return try step() }
        let (started, waited) = (Date(), Collectives.group.secondsWaited)
        let result = try step()
        measured.rows += rows
        measured.seconds += Date().timeIntervalSince(started) - (Collectives.group.secondsWaited - waited)
        if stepsTaken == Self.balanceWindow.upperBound - 1 { balanceShares() }
        return result
    }

    /// Gives each process a share of the batches in proportion to the rows per second it computed in the balance
    /// window. Every process computes the same shares from the same gathered speeds, at the same step.
    private func balanceShares() {
        let group = Collectives.group
        var speeds = [Float](repeating: 0, count: group.size)
        speeds[group.rank] = Float(Double(measured.rows) / max(measured.seconds, 1e-9))
        speeds.withUnsafeMutableBufferPointer { group.sum($0.baseAddress!, count: $0.count) }
        let total = speeds.reduce(0, +)
        guard total > 0 else { return }
        shares = speeds.map { Double($0 / total) }
    }

    /// In a job of several processes, replaces the model's state (batch norm's running statistics, which each
    /// process moved by its own share of the batches) by its mean over the processes, so that every process
    /// evaluates, and saves, the same model.
    private func averageStateAcrossProcesses() throws {
        let group = Collectives.group
        guard group.size > 1, !classifier.state.isEmpty else { return }
        let values = try session.run(classifier.state)
        var flat = values.flatMap(\.floats)
        flat.withUnsafeMutableBufferPointer { group.sum($0.baseAddress!, count: $0.count) }
        var offset = 0
        for (variable, value) in zip(classifier.state, values) {
            let mean = flat[offset..<(offset + value.shape.count)].map { $0 / Float(group.size) }
            try session.assign(variable, HostTensor(shape: value.shape, floats: mean))
            offset += value.shape.count
        }
    }

    private func learningRate(step: Int) -> Float {
        schedule.rate(base: classifier.optimizer.learningRate, step: step, of: totalSteps)
    }

    /// Sends the feeds of training step `step` on `batch` (this process's share of it, in a job of several) ahead
    /// to the devices.
    private func stage(_ batch: Batch?, step: Int) throws -> (Batch, (staged: StagedFeeds, share: Float))? {
        guard let batch else { return nil }
        let rate = learningRate(step: step)
        let group = Collectives.group
        guard group.size > 1 else {
            return (batch, (try session.stage(classifier.feeds(batch, learningRate: rate)), 1))
        }
        let mine = batch.share(rank: group.rank, of: shares)
        let share = Float(mine.count) / Float(batch.count)
        return (batch, (try session.stage(classifier.feeds(mine, learningRate: rate, share: share)), share))
    }

    /// A step's loss and accuracy over the whole batch: this process's, or in a job of several, the sum of every
    /// process's weighted by its share of the batch.
    private func jobWide(_ loss: Float, _ accuracy: Float, share: Float) -> (Float, Float) {
        let group = Collectives.group
        guard group.size > 1 else { return (loss, accuracy) }
        var values = [loss * share, accuracy * share]
        values.withUnsafeMutableBufferPointer { group.sum($0.baseAddress!, count: 2) }
        return (values[0], values[1])
    }

    /// The loss, accuracy and confusion matrix over all of `data`, in batches of `batchSize`, without changing
    /// the parameters. Each batch begins with an `Interruption` stop point.
    ///
    /// - Throws: `dataFile` for a label outside the model's classes, `interrupted`, or what a kernel raises.
    public func evaluate(_ data: Dataset, batchSize: Int) throws -> Evaluation {
        let classes = classifier.logits.shape[1]
        try data.checkLabels(below: classes)
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
        var lossSum = 0.0
        // In a job of several processes, each evaluates a contiguous share of the data; the sums are the job's.
        let group = Collectives.isDistributed ? Collectives.group : nil
        let share = group.map { data.slice(($0.rank * data.count / $0.size)..<(($0.rank + 1) * data.count / $0.size)) }
        var batches = Batches(share ?? data, size: batchSize, shuffleSeed: nil)
        var upcoming = try batches.next().map { ($0, try session.stage(classifier.feeds($0))) }
        while let (batch, feeds) = upcoming {
            try Interruption.check()
            upcoming = try batches.next().map { ($0, try session.stage(classifier.feeds($0))) }
            let values = try session.run([classifier.evaluationLoss, classifier.predictions], staged: feeds)
            lossSum += Double(values[0].scalarValue) * Double(batch.count)
            for (label, predicted) in zip(batch.labels.ints, values[1].ints) {
                confusion[Int(label)][Int(predicted)] += 1
            }
        }
        if let group {
            var sums = [Float(lossSum)] + confusion.joined().map(Float.init)
            sums.withUnsafeMutableBufferPointer { group.sum($0.baseAddress!, count: $0.count) }
            lossSum = Double(sums[0])
            confusion = (0..<classes).map { c in (0..<classes).map { Int(sums[1 + c * classes + $0]) } }
        }
        let count = max(data.count, 1)
        let correct = confusion.indices.map { confusion[$0][$0] }.reduce(0, +)
        return Evaluation(
            loss: lossSum / Double(count), accuracy: Double(correct) / Double(count), count: data.count,
            confusion: confusion)
    }
}
