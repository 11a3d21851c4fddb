import Conflux
import ConfluxNN

/// An ONNX model as a layer of a ConfluxNN model, to train it: the model's one input is the layer's input, its
/// float initializers the layer's variables (batch norm's running statistics as state), and its first output the
/// layer's output. A final Softmax or LogSoftmax is left out, so that the output is the logits a `Classifier`
/// trains. In training, batch normalization uses the batch's statistics and moves the running ones, and dropout
/// drops, as in the framework the model came from; in inference both are as imported.
public struct ONNXNetwork: Layer {
    public let name: String
    let file: ONNXFile
    let evaluate: ONNXModel.Evaluator?

    /// Reads and checks the model at `path` (see `ONNXModel`); it is built when the layer is applied.
    public init(contentsOf path: String, name: String = "onnx", evaluate: ONNXModel.Evaluator?) throws {
        file = try ONNXFile(contentsOf: path)
        guard file.inputs.count == 1, file.proto.graph.output.count >= 1 else {
            throw ConfluxError.dataFile(
                path: path,
                reason: "has \(file.inputs.count) inputs; a network Conflux trains takes one (the images)")
        }
        self.name = name
        self.evaluate = evaluate
    }

    public var dependsOnMode: Bool {
        file.proto.graph.node.contains { ["BatchNormalization", "Dropout"].contains($0.opType) }
    }

    /// The shape of one example the model takes, [C, H, W] for images, as the file declares it.
    public var exampleShape: Shape { Shape(Array(ONNXGraphBuilder.declaredShape(file.inputs[0]).dims.dropFirst())) }

    public func apply(_ x: Tensor, in context: LayerContext) throws -> Tensor {
        var builder = ONNXGraphBuilder(file: file, graph: x.graph, evaluate: evaluate, layer: context) {
            name, value, trainable in
            try context.variable(value.shape, initializer: .values(value.floats), name: name, trainable: trainable)
        }
        try builder.addInitializers()
        try builder.bind(file.inputs[0], to: x)
        try builder.addNodes()
        var output = file.proto.graph.output[0].name
        if let last = file.proto.graph.node.last(where: { $0.output.first == output }),
            ["Softmax", "LogSoftmax"].contains(last.opType)
        {
            output = last.input[0]
        }
        return try builder.value(output, for: "the network's output")
    }
}
