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
    /// The job this rank runs one graph with, when the placement spans tasks (`--device task:0/cpu:0 …`).
    let job: TaskJob?

    init(
        _ model: ModelName, options: CommonOptions, optimizer: any Optimizer = Adam(), imageShape: Shape = [1, 28, 28],
        classes: Int = 10, dataParallelBucketBytes: Int? = nil
    ) throws {
        let needed = options.backendsNeeded
        job = try options.taskWorld.map { try TaskJob(world: $0, willCalibrate: Self.announceCalibration) }
        devices = try job?.devices ?? DeviceSet(backends: needed)
        classifier = try Classifier(
            model: try model.network(classes: classes), imageShape: imageShape, optimizer: optimizer,
            seed: options.seed,
            dataParallel: dataParallelBucketBytes)
        let logits = classifier.logits.shape
        guard logits.rank == 2, logits[1] == classes else {
            throw ValidationError(
                "\(model.name) gives logits of shape \(logits); a classifier of \(classes) classes gives [N, \(classes)] "
                    + "(--classes sets the count)")
        }
        let placement: Placement
        do {
            placement =
                try job?.placement(for: classifier.graph, device: options.device, rules: options.rules)
                ?? devices.placement(
                    for: classifier.graph, device: options.device, rules: options.rules,
                    willCalibrate: Self.announceCalibration)
        } catch ConfluxError.unknownDevice(let requested, _) where job == nil && needed.count < backends.count {
            // The error lists every device there is, not only those of the backends this run looked at.
            let every = try DeviceSet(backends: backends).devices.map(\.id)
            throw ConfluxError.unknownDevice(requested: requested, available: every)
        }
        used = devices.devices(of: placement)
        session = Session(
            graph: classifier.graph, placement: placement, devices: job?.withHomes(used) ?? used,
            kernels: devices.kernels)
    }

    private static func announceCalibration(_ device: any Device) {
        FileHandle.standardError.write(
            Data("measuring \(device.id) for the placer (once; the profile is cached)\n".utf8))
    }

    /// The placement as users name its devices: qualified by their tasks when it spans several.
    var placement: Placement { job?.qualified(session.placement) ?? session.placement }

    /// "cpu:0 (name) + opencl:0 (name)", each qualified by its task when the placement spans several.
    var description: String { zip(usedNames, used).map { "\($0) (\($1.name))" }.joined(separator: " + ") }

    /// The ids of the devices the placement uses, each qualified by its task when the placement spans several.
    var usedNames: [String] {
        used.map { device in job.map { TaskDeviceName.qualified(device.id, task: $0.world.rank) } ?? device.id }
    }
}

/// The `--weights` option of the commands that run saved models.
struct WeightsOptions: ParsableArguments {
    @Option(help: "A safetensors checkpoint from `conflux train --save`, or a PyTorch state_dict saved as safetensors.")
    var weights: String

    /// The class count the weights were trained for: the checkpoint's `classes` metadata, else 10 (a PyTorch
    /// state_dict, or a checkpoint from before the count was recorded).
    func classes() throws -> Int {
        try SafeTensors.read(weights).metadata["classes"].flatMap { Int($0) } ?? 10
    }

    /// Loads the weights (ignoring any optimizer state) into `run`'s variables.
    func load(into run: ModelSession) throws {
        try Checkpoint.load(weights, into: run.session, for: run.classifier, weightsOnly: true)
    }
}

/// A checkpoint `train --resume` continues from, read and checked against the command line before any work starts.
struct ResumedCheckpoint {
    let path: String
    /// The class count it was trained for, when it says.
    let classes: Int?
    /// The epochs it has been trained for.
    let epochs: Int

    /// - Throws: `ValidationError` when the checkpoint was saved for another model or optimizer, saying which
    ///   option resumes it; `dataFile` when it cannot be read.
    init(path: String, model: ModelName, optimizer: OptimizerName) throws {
        let metadata = try SafeTensors.read(path).metadata
        if let saved = metadata["model"], saved != model.name {
            throw ValidationError("\(path) holds a \(saved) model, not \(model.name)")
        }
        if let saved = metadata["optimizer"], saved != optimizer.rawValue {
            throw ValidationError(
                "\(path) was trained with --optimizer \(saved); pass --optimizer \(saved) to resume it")
        }
        self.path = path
        classes = metadata["classes"].flatMap { Int($0) }
        epochs = metadata["epochs"].flatMap { Int($0) } ?? 0
    }

    /// Loads the weights and optimizer state into `run`; returns the epochs already trained.
    func load(into run: ModelSession) throws -> Int {
        try Checkpoint.load(path, into: run.session, for: run.classifier, weightsOnly: false)
        return epochs
    }
}
