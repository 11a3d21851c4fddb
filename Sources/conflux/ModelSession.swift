import ArgumentParser
import Conflux
import ConfluxNN
import Foundation

/// A model built into a classifier graph, with a session placed as `--device` and `--place` say.
struct ModelSession {
    let devices: DeviceSet
    let classifier: Classifier
    let session: Session
    /// The devices the placement uses.
    let used: [any Device]

    init(
        _ model: ModelName, options: CommonOptions, optimizer: any Optimizer = Adam(), imageShape: Shape = [1, 28, 28],
        classes: Int = 10
    ) throws {
        devices = try DeviceSet(backends: backends)
        let network: Sequential =
            switch model {
            case .lenet: lenet5(classes: classes)
            }
        classifier = try Classifier(model: network, imageShape: imageShape, optimizer: optimizer, seed: options.seed)
        let placement = try devices.placement(for: classifier.graph, device: options.device, rules: options.rules) {
            FileHandle.standardError.write(
                Data("measuring \($0.id) for the placer (once; the profile is cached)\n".utf8))
        }
        used = devices.devices(of: placement)
        session = Session(graph: classifier.graph, placement: placement, devices: used, kernels: devices.kernels)
    }

    /// "cpu:0 (name) + opencl:0 (name)"
    var description: String { used.map { "\($0.id) (\($0.name))" }.joined(separator: " + ") }
}

/// The `--weights` option of the commands that run saved models.
struct WeightsOptions: ParsableArguments {
    @Option(help: "A safetensors checkpoint from `conflux train --save`, or a PyTorch state_dict saved as safetensors.")
    var weights: String

    /// Loads the weights (ignoring any optimizer state) into `run`'s variables.
    func load(into run: ModelSession) throws {
        try Checkpoint.load(weights, into: run.session, for: run.classifier, weightsOnly: true)
    }
}
