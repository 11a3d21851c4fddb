import ArgumentParser
import Conflux
import ConfluxNN
import Foundation

struct ProfileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract:
            "Time each op of a model's training step: time per step, share, throughput against the device's peak.",
        discussion: """
            Trains with the reference recipe (sgd, lr 0.01, momentum 0.9) for a few untimed warm-up steps, then \
            traces --steps steps and prints, for every op, its kernel time per step, its share of the step, its \
            launches per step, and the GFLOP/s and GB/s it achieves (from the cost model's count of its work) as a \
            fraction of what its device reached when calibrated (a GEMM and a memory pass; see `conflux devices`).
            """)

    @Argument(help: "The model to profile.")
    var model: ModelName

    @OptionGroup var options: CommonOptions

    @Option(parsing: .unconditional, help: "Training steps to time.")
    var steps = 50

    @Option(parsing: .unconditional, help: "Untimed steps first, so that programs are built and buffers planned.")
    var warmup = 5

    @Option(parsing: .unconditional, help: "Images per training step.")
    var batchSize = 64

    func validate() throws {
        guard steps > 0 else { throw ValidationError("--steps must be at least 1") }
        guard warmup >= 0 else { throw ValidationError("--warmup must be 0 or more") }
        guard batchSize > 0 else { throw ValidationError("--batch-size must be at least 1") }
    }

    func run() throws {
        let data = try Dataset(directory: options.data, split: .train)
        guard data.count >= steps * batchSize else {
            throw ValidationError(
                "--steps \(steps) at --batch-size \(batchSize) needs \(steps * batchSize) images; the data set has "
                    + "\(data.count)")
        }
        try data.checkLabels(below: 10)
        let run = try ModelSession(
            model, options: options, optimizer: SGD(learningRate: 0.01, momentum: 0.9), imageShape: data.imageShape)
        let trainer = Trainer(classifier: run.classifier, session: run.session, seed: options.seed)
        let profile = try Interruption.whileStoppable {
            if warmup > 0 {
                _ = try trainer.trainEpoch(data.prefix(warmup * batchSize), batchSize: batchSize, epoch: 0)
            }
            let tracer = Tracer()
            run.session.tracer = tracer
            _ = try trainer.trainEpoch(data.prefix(steps * batchSize), batchSize: batchSize, epoch: 1)
            run.session.tracer = nil
            let peaks = try Dictionary(
                uniqueKeysWithValues: run.used.map {
                    ($0.id, try Calibration.profile(of: $0, kernels: run.devices.kernels))
                })
            return OpProfile(
                spans: tracer.spans, graph: run.classifier.graph, placement: run.session.placement, steps: steps,
                batch: batchSize, peaks: peaks)
        }
        if options.json {
            print(try JSONText.encode(profile))
        } else {
            print(table(profile, on: run.description))
        }
    }

    private func table(_ profile: OpProfile, on devices: String) -> String {
        var lines = [
            String(
                format: "%@ training step on %@, batch %d, %d steps: %.3f ms of kernels per step (%.0f images/s)",
                model.name, devices, profile.batch, profile.steps, profile.millisecondsPerStep,
                Double(profile.batch) / profile.millisecondsPerStep * 1000),
            " ms/step   share  launches  GFLOP/s    GB/s  of peak  op",
        ]
        for row in profile.rows {
            lines.append(
                String(
                    format: "%8.3f  %5.1f%%  %8.1f  %7.1f  %6.1f  %6.0f%%  %@ (%@)%@", row.millisecondsPerStep,
                    row.share * 100, row.launchesPerStep, row.gflops, row.gigabytesPerSecond, row.fractionOfPeak * 100,
                    row.node, row.op, profile.peaks.count > 1 ? " on \(row.device)" : ""))
        }
        for (device, peak) in profile.peaks.sorted(by: { $0.key < $1.key }) {
            lines.append(
                String(
                    format: "peak of %@ (calibrated): %.1f GFLOP/s, %.1f GB/s", device, peak.gflops, peak.memoryGBps))
        }
        return lines.joined(separator: "\n")
    }
}
