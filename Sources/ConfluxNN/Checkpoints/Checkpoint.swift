import Conflux

/// Saving and restoring a classifier's variables as a safetensors file, named as `Classifier.checkpointNames`.
public enum Checkpoint {
    /// The prefix of optimizer state in a checkpoint; a weights-only load ignores it.
    public static let optimizerPrefix = "optimizer."

    /// Writes every variable of `classifier` (weights and optimizer state) as `session` holds them.
    public static func save(
        _ classifier: Classifier, from session: Session, to path: String, metadata: [String: String] = [:]
    ) throws {
        try SafeTensors.write(tensors(of: classifier, from: session), metadata: metadata, to: path)
    }

    /// Every variable of `classifier` as `session` holds them, by checkpoint name: what `save` writes. Across the
    /// tasks of a job, every task reads them together and one writes them.
    public static func tensors(of classifier: Classifier, from session: Session) throws -> [String: HostTensor] {
        let variables = classifier.graph.variables
        let values = try session.run(variables)
        return Dictionary(uniqueKeysWithValues: zip(variables, values).map { (classifier.checkpointNames[$0]!, $1) })
    }

    /// Loads the file at `path` into `session`'s variables: the weights alone (`weightsOnly`, ignoring any
    /// optimizer state) or everything, to resume training. Returns the file's metadata.
    ///
    /// - Throws: `dataFile` naming the file and the tensor for a missing tensor, one the model does not have, or
    ///   a shape that differs from the model's; or what reading the file throws.
    @discardableResult
    public static func load(_ path: String, into session: Session, for classifier: Classifier, weightsOnly: Bool) throws
        -> [String: String]
    {
        let (tensors, metadata) = try SafeTensors.read(path)
        let wanted = classifier.graph.variables.filter {
            !weightsOnly || !classifier.checkpointNames[$0]!.hasPrefix(optimizerPrefix)
        }
        let known = Set(classifier.checkpointNames.values)
        for name in tensors.keys.sorted()
        where !known.contains(name) && !(weightsOnly && name.hasPrefix(optimizerPrefix)) {
            throw ConfluxError.dataFile(path: path, reason: "has a tensor '\(name)' that the model does not have")
        }
        for variable in wanted {
            let name = classifier.checkpointNames[variable]!
            guard let value = tensors[name] else {
                let hint =
                    name.hasPrefix(optimizerPrefix) ? " (optimizer state: resume needs the same --optimizer)" : ""
                throw ConfluxError.dataFile(path: path, reason: "has no tensor '\(name)'\(hint)")
            }
            guard value.shape == variable.shape else {
                throw ConfluxError.dataFile(
                    path: path, reason: "tensor '\(name)' has shape \(value.shape) but the model's is \(variable.shape)"
                )
            }
        }
        for variable in wanted { try session.assign(variable, tensors[classifier.checkpointNames[variable]!]!) }
        return metadata
    }
}
