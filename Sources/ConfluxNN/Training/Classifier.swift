import Conflux
import Foundation

/// A classification model built into a graph with everything training and evaluation need: image and label
/// placeholders with an unknown batch, logits, the mean cross-entropy loss, accuracy and the optimizer's updates.
///
/// A model whose layers compute differently in training (batch norm, dropout) is built twice on the same
/// variables, as Keras builds a training and an inference function: the loss, accuracy and updates read the
/// training build, the logits, predictions and evaluation loss the inference build.
public struct Classifier {
    public let graph: Graph
    /// [N, C, H, W] Float32 pixels.
    public let images: Tensor
    /// [N] Int32 class indices.
    public let labels: Tensor
    /// The logits of the inference build.
    public let logits: Tensor
    /// The mean softmax cross-entropy over the batch, of the training build: a scalar.
    public let loss: Tensor
    /// The same, of the inference build (`loss` when the model has one build).
    public let evaluationLoss: Tensor
    /// The fraction of the batch the training build classified correctly: a scalar.
    public let accuracy: Tensor
    public let parameters: [Tensor]
    /// The variables the model keeps besides its parameters: batch norm's running statistics.
    public let state: [Tensor]
    /// The most likely class of each image: Int32 [N].
    public let predictions: Tensor
    /// softmax(logits): [N, classes].
    public let probabilities: Tensor
    /// The name of every variable in a checkpoint: parameters as PyTorch's `state_dict` names them
    /// (`conv1.weight`), optimizer state under `optimizer.`.
    public let checkpointNames: [Tensor: String]
    /// The scalar learning rate of the updates, fed each step.
    public let learningRate: Tensor
    public let optimizer: any Optimizer
    /// The update ops, the optimizer's and the model's own (batch norm's running statistics); running them as
    /// targets is one training step.
    public let updates: [Tensor]
    /// With data parallelism, this process's share of the global batch (its rows / the global batch's), the
    /// weight of its gradients in their sum across processes, fed each step.
    public let batchShare: Tensor?

    /// Builds `model` on images of `imageShape` [C, H, W] in a new graph seeded with `seed`.
    ///
    /// - Parameter dataParallel: with a bucket size in bytes, each process of the job trains on its share of
    ///   every global batch, and the gradients are weighted by `batchShare` and summed across the processes
    ///   (`allReduce`) in buckets of that size before the update, so that every process takes the same step: the
    ///   step of the whole batch.
    public init(
        model: Sequential, imageShape: Shape, optimizer: any Optimizer, seed: UInt64,
        dataParallel bucketBytes: Int? = nil
    ) throws {
        graph = Graph(seed: seed)
        self.optimizer = optimizer
        let images = try graph.placeholder(Shape([Shape.unknown] + imageShape.dims), name: "images")
        let labels = try graph.placeholder([Shape.unknown], .int32, name: "labels")
        (self.images, self.labels) = (images, labels)
        let training = try model.build(images, mode: .training)
        let inference =
            if model.dependsOnMode {
                try graph.nameScope("inference") { try model.build(images, mode: .inference, reusing: training) }
            } else {
                training
            }
        let (logits, parameters) = (inference.output, training.parameters)
        let (loss, evaluationLoss) = try graph.nameScope("loss") {
            let loss = try mean(softmaxCrossEntropy(logits: training.output, labels: labels))
            guard model.dependsOnMode else { return (loss, loss) }
            return (loss, try mean(softmaxCrossEntropy(logits: logits, labels: labels)))
        }
        self.logits = logits
        self.parameters = parameters
        state = training.state
        (self.loss, self.evaluationLoss) = (loss, evaluationLoss)
        accuracy = try graph.nameScope("metrics") {
            try Conflux.accuracy(logits: training.output, labels: labels)
        }
        (predictions, probabilities) = try graph.nameScope("predictions") { (try argmax(logits), try softmax(logits)) }
        learningRate = try graph.placeholder(.scalar, name: "learning_rate")
        let scope = graph
        let batchShare = try bucketBytes.map { _ in try scope.placeholder(.scalar, name: "batch_share") }
        self.batchShare = batchShare
        updates =
            try optimizer.minimize(loss, parameters: parameters, learningRate: learningRate) { gradients in
                guard let batchShare, let bucketBytes else { return gradients }
                // The backward pass computes the last layer's gradients first: their buckets go first.
                return try scope.nameScope("DataParallel") {
                    try allReduce(gradients.reversed(), weight: batchShare, bucketBytes: bucketBytes).reversed()
                }
            } + training.updates
        let modelVariables = Set((training.parameters + training.state).map(\.id))
        checkpointNames = Dictionary(
            uniqueKeysWithValues: graph.variables.map { variable in
                guard modelVariables.contains(variable.id) else {
                    return (variable, "optimizer." + variable.name.replacingOccurrences(of: "/", with: "."))
                }
                var parts = variable.name.split(separator: "/").map(String.init)
                parts[0] = model.checkpointNames[parts[0]] ?? parts[0]
                if parts.last == "weights" { parts[parts.count - 1] = "weight" }
                return (variable, parts.joined(separator: "."))
            })
    }

    /// The feeds for evaluating one batch.
    public func feeds(_ batch: Batch) -> [Tensor: HostTensor] { [images: batch.images, labels: batch.labels] }

    /// The feeds for one training step on `batch` at `learningRate`; with data parallelism, `share` is the
    /// fraction of the global batch `batch` is.
    public func feeds(_ batch: Batch, learningRate rate: Float, share: Float = 1) -> [Tensor: HostTensor] {
        var feeds = [images: batch.images, labels: batch.labels, learningRate: .scalar(rate)]
        if let batchShare { feeds[batchShare] = .scalar(share) }
        return feeds
    }
}
