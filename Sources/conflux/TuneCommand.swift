import ArgumentParser
import Conflux
import ConfluxNN
import ConfluxOpenCL
import Foundation

struct TuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tune",
        abstract: "Choose the fastest configuration of each tuned OpenCL kernel of a model ahead of time.",
        discussion: """
            Runs two training steps at --batch-size, one evaluation batch at --eval-batch-size and one single-image \
            prediction, so that every kernel the model needs is built, and its candidate configurations (outputs \
            per work-item, vector width) are timed on the device and the fastest cached beside the compiled \
            programs. Training and prediction then start without timing anything. Prints each kernel's choice and \
            what every candidate took. Tuning also happens on first use when this was not run; a cached choice is \
            reused until the driver, the device or Conflux changes.
            """)

    @Argument(help: "The model to tune.")
    var model: ModelName = .lenet

    @OptionGroup var options: CommonOptions

    @Option(parsing: .unconditional, help: "Images per training step, as `train` will use.")
    var batchSize = 64

    @Option(parsing: .unconditional, help: "Images per evaluation batch, as `train` and `eval` will use.")
    var evalBatchSize = 1000

    func validate() throws {
        guard batchSize > 0, evalBatchSize > 0 else { throw ValidationError("batch sizes must be at least 1") }
    }

    func run() throws {
        let data = try Dataset(directory: options.data, split: .test)
        guard data.count >= max(2 * batchSize, evalBatchSize) else {
            throw ValidationError("the data set's \(data.count) test images are fewer than the batches asked for")
        }
        try data.checkLabels(below: 10)
        let run = try ModelSession(
            model, options: options, optimizer: SGD(learningRate: 0.01, momentum: 0.9), imageShape: data.imageShape)
        let trainer = Trainer(classifier: run.classifier, session: run.session, seed: options.seed)
        try Interruption.whileStoppable {
            _ = try trainer.trainEpoch(data.prefix(2 * batchSize), batchSize: batchSize, epoch: 1)
            _ = try trainer.evaluate(data.prefix(evalBatchSize), batchSize: evalBatchSize)
            _ = try trainer.evaluate(data.prefix(1), batchSize: 1)
        }
        let tuned = run.used.compactMap { $0 as? OpenCLDevice }.map { ($0, $0.tuningRecords) }
        if options.json {
            let report = tuned.map { device, records in
                DeviceReport(
                    device: device.id,
                    kernels: records.map { record in
                        KernelReport(
                            kernel: record.kernel, choice: record.choice, cached: record.timings.isEmpty,
                            timings: Dictionary(
                                uniqueKeysWithValues: record.timings.map { ($0.candidate, $0.milliseconds) }))
                    })
            }
            print(try JSONText.encode(report))
            return
        }
        guard !tuned.isEmpty else {
            print("nothing to tune on \(run.description): only OpenCL kernels have tuned configurations")
            return
        }
        for (device, records) in tuned {
            print("\(device.id) (\(device.name)): \(records.count) tuned kernels")
            for record in records {
                let how =
                    record.timings.isEmpty
                    ? "cached"
                    : record.timings.map { String(format: "%@ %.3f ms", $0.candidate, $0.milliseconds) }
                        .joined(separator: ", ")
                print("  \(record.kernel)\n    → \(record.choice)  (\(how))")
            }
        }
    }
}

/// `conflux tune --json`: per device, each kernel's choice and, when it was timed, every candidate's milliseconds.
private struct DeviceReport: Encodable {
    let device: String
    let kernels: [KernelReport]
}

private struct KernelReport: Encodable {
    let kernel: String
    let choice: String
    let cached: Bool
    let timings: [String: Double]
}
