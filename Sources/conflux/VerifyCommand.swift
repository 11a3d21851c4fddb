import ArgumentParser
import Conflux
import ConfluxNN
import Foundation

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check that a device computes what the CPU computes: every op on every case, forward and backward.",
        discussion: """
            Run it after installing a new OpenCL driver. Each op runs on a table of cases (odd shapes, every stride \
            and padding, large magnitudes, ties) on the device and on cpu:0; every output and gradient must agree \
            within the op's tolerance. With --model, one training step of the model runs on both devices side by \
            side and the first op whose outputs differ is reported with its inputs.
            """)

    @Option(help: "The device to check (default: every device but cpu:0).")
    var device: String?

    @Option(help: "Instead of the op table, run a model's training step and report the first op that diverges.")
    var model: ModelName?

    @Option(help: "The reference device.")
    var against = "cpu:0"

    @Flag(help: "Print machine-readable JSON instead of text.")
    var json = false

    @Option(
        help: ArgumentHelp(
            "Break one op's kernel on the checked devices (proves the check catches it).", visibility: .hidden))
    var injectFault: String?

    func run() throws {
        let devices = try DeviceSet(backends: backends)
        let reference = try devices.device(named: against)
        let targets =
            try device.map { [try devices.device(named: $0)] } ?? devices.devices.filter { $0.id != reference.id }
        guard !targets.isEmpty else {
            throw ValidationError("no device to check against \(reference.id); see `conflux devices`")
        }
        var kernels = devices.kernels
        if let injectFault {
            for kind in Set(targets.map(\.kind.rawValue)) {
                kernels = kernels.injectingFault(into: OpType(rawValue: injectFault), on: DeviceKind(rawValue: kind))
            }
        }
        if let model {
            try divergence(model, targets: targets, reference: reference, kernels: kernels)
            return
        }
        let check = ParityCheck(reference: reference, kernels: kernels)
        var results: [ParityResult] = []
        for target in targets {
            for parityCase in ParityCases.all where kernels.kernel(for: parityCase.op, on: target.kind) != nil {
                let caseResults = try check.run(parityCase, on: target)
                results += caseResults
                if !json { caseResults.forEach(Self.print) }
            }
            let updates = try check.runUpdates(on: target)
            results += updates
            if !json { updates.forEach(Self.print) }
        }
        let failed = results.filter { !$0.passed }
        if json {
            Swift.print(
                try JSONText.encode(VerifyReport(reference: reference.id, results: results, failed: failed.count)))
        } else {
            Swift.print("\n\(results.count - failed.count) passed, \(failed.count) failed")
        }
        if !failed.isEmpty { throw ExitCode.failure }
    }

    private static func print(_ result: ParityResult) {
        Swift.print(
            String(
                format: "%@  %@  %@ %@: %@  max abs %.2e  max rel %.2e", result.passed ? "pass" : "FAIL", result.device,
                result.op, result.name, result.fetch, result.maxAbsoluteError, result.maxRelativeError))
    }

    /// One training step of `model` on each target beside the reference, from the same weights and batch.
    private func divergence(_ model: ModelName, targets: [any Device], reference: any Device, kernels: KernelRegistry)
        throws
    {
        let data = try Dataset(directory: Dataset.defaultDirectory, split: .test).prefix(64)
        let classifier = try Classifier(
            model: try model.network(), imageShape: data.imageShape, optimizer: SGD(learningRate: 0.01), seed: 0)
        var batches = Batches(data, size: 64, shuffleSeed: nil)
        guard let batch = batches.next() else { throw ValidationError("the test set is empty") }
        let step = try gradients(of: classifier.loss, wrt: classifier.parameters)
        var diverged = false
        for target in targets {
            let found = try Divergence.first(
                in: classifier.graph, roots: [classifier.loss] + step, feeds: classifier.feeds(batch),
                reference: reference,
                device: target, kernels: kernels)
            guard let found else {
                Swift.print("\(target.id) agrees with \(reference.id) on every op of a \(model.name) training step")
                continue
            }
            diverged = true
            Swift.print(
                "\(target.id) first differs from \(reference.id) at \(found.node) (\(found.op)): max abs error \(found.maxAbsoluteError)"
            )
            for (name, statistics) in found.inputs { Swift.print("    input \(name): \(statistics)") }
        }
        if diverged { throw ExitCode.failure }
    }
}

/// What `conflux verify --json` prints.
struct VerifyReport: Encodable {
    let reference: String
    let results: [ParityResult]
    let failed: Int
}
