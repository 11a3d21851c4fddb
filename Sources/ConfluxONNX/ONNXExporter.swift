import Conflux
import ConfluxNN
import Foundation
import SwiftProtobuf

/// Writes the part of a Conflux graph that computes one output from one input as an ONNX model (opset 17, which
/// onnxruntime and Conflux's importer run): every variable it reads becomes an initializer holding the value the
/// caller gives (the trained weights), every constant an initializer, every op one or two ONNX nodes. What it writes
/// is the inference computation: export a model's inference build (a `Classifier`'s logits), whose batch norm
/// reads the running statistics and whose dropout is the identity.
public enum ONNXExporter {
    /// The opset written: the first with HardSwish.
    public static let opset = 17

    /// Writes the model computing `output` from `input` to `path`.
    ///
    /// - Throws: `invalidArgument` listing every op on the way that ONNX export does not cover, or naming a
    ///   variable `values` has no value for; the error of writing the file.
    public static func write(
        input: Tensor, output: Tensor, values: [Tensor: HostTensor], to path: String, inputName: String = "input",
        outputName: String = "output"
    ) throws {
        let model = try model(
            input: input, output: output, values: values, inputName: inputName, outputName: outputName)
        try OutputFile.write(Data(try model.serializedBytes() as [UInt8]), to: path)
    }

    /// Writes a trained classifier's inference computation, images (`images`) to logits (`logits`), with the
    /// weights `session` holds.
    public static func write(_ classifier: Classifier, from session: Session, to path: String) throws {
        try write(classifier, weights: inferenceWeights(of: classifier, from: session), to: path)
    }

    /// Writes a classifier's inference computation with `weights` (`inferenceWeights`).
    public static func write(_ classifier: Classifier, weights: [Tensor: HostTensor], to path: String) throws {
        try write(
            input: classifier.images, output: classifier.logits, values: weights, to: path, inputName: "images",
            outputName: "logits")
    }

    /// The variables of a classifier's inference computation as `session` holds them. Across the tasks of a job,
    /// every task reads them together and one writes the model.
    public static func inferenceWeights(of classifier: Classifier, from session: Session) throws
        -> [Tensor: HostTensor]
    {
        let graph = classifier.graph
        let variables = graph.executionOrder(roots: [classifier.logits.id], fed: [classifier.images.id])
            .map(graph.tensor).filter { $0.node.role == .variable }
        return Dictionary(uniqueKeysWithValues: zip(variables, try session.run(variables)))
    }

    /// Throws unless every op from `input` to `output` has an ONNX form: the check to make before training.
    ///
    /// - Throws: `invalidArgument` listing every op on the way that ONNX export does not cover.
    public static func checkExportable(input: Tensor, output: Tensor) throws {
        let graph = input.graph
        let unsupported = graph.executionOrder(roots: [output.id], fed: [input.id]).map { graph.nodes[$0] }
            .filter { $0.role == .compute && converters[$0.op] == nil }
        guard unsupported.isEmpty else {
            throw ConfluxError.invalidArgument(
                op: "ONNX export",
                reason: "no ONNX form for "
                    + unsupported.map { "\($0.op.rawValue) '\($0.name)'" }.joined(separator: ", "))
        }
    }

    /// The model computing `output` from `input`, its nodes named as the graph names them.
    static func model(
        input: Tensor, output: Tensor, values: [Tensor: HostTensor], inputName: String = "input",
        outputName: String = "output"
    ) throws -> Onnx_ModelProto {
        try checkExportable(input: input, output: output)
        let graph = input.graph
        let order = graph.executionOrder(roots: [output.id], fed: [input.id])
        var writer = Writer(graph: graph)
        for id in order where id != input.id { for use in graph.nodes[id].inputs { writer.uses[use, default: 0] += 1 } }
        writer.uses[output.id, default: 0] += 1
        writer.names[input.id] = inputName
        for id in order where id != input.id {
            let node = graph.nodes[id]
            switch node.role {
            case .constant:
                guard let value = graph.tensor(id).constantValue else {
                    throw ConfluxError.invalidArgument(
                        op: "ONNX export", reason: "constant '\(node.name)' has no value")
                }
                writer.initializer(node.name, value)
            case .variable:
                guard let value = values[graph.tensor(id)] else {
                    throw ConfluxError.invalidArgument(
                        op: "ONNX export", reason: "no value for variable '\(node.name)'")
                }
                writer.initializer(node.name, value)
            case .placeholder:
                throw ConfluxError.invalidArgument(
                    op: "ONNX export", reason: "'\(output.name)' also reads placeholder '\(node.name)'")
            case .compute, .update:
                try converters[node.op]!(&writer, node)
            }
        }
        var model = Onnx_ModelProto()
        model.irVersion = 8
        model.producerName = "Conflux"
        var opsetImport = Onnx_OperatorSetIdProto()
        opsetImport.version = Int64(opset)
        model.opsetImport = [opsetImport]
        model.graph.name = "conflux"
        model.graph.initializer = writer.initializers
        model.graph.input = [valueInfo(inputName, input.shape)]
        writer.nodes.append(node("Identity", [writer.name(output.id)], [outputName]))
        model.graph.node = writer.nodes
        model.graph.output = [valueInfo(outputName, output.shape)]
        return model
    }

    /// A float input or output, its unknown dimensions (the batch) symbolic.
    private static func valueInfo(_ name: String, _ shape: Shape) -> Onnx_ValueInfoProto {
        var info = Onnx_ValueInfoProto()
        info.name = name
        info.type.tensorType.elemType = ONNXElementType.float.rawValue
        info.type.tensorType.shape.dim = shape.dims.map { size in
            var dim = Onnx_TensorShapeProto.Dimension()
            if size == Shape.unknown { dim.dimParam = "N" } else { dim.dimValue = Int64(size) }
            return dim
        }
        return info
    }

    static func node(
        _ type: String, _ inputs: [String], _ outputs: [String], _ attributes: [Onnx_AttributeProto] = []
    ) -> Onnx_NodeProto {
        var node = Onnx_NodeProto()
        (node.opType, node.input, node.output, node.attribute) = (type, inputs, outputs, attributes)
        node.name = outputs[0]
        return node
    }

    /// What the converters write into: nodes, initializers, and the ONNX name of each Conflux node's output.
    struct Writer {
        let graph: Graph
        var nodes: [Onnx_NodeProto] = []
        var initializers: [Onnx_TensorProto] = []
        var names: [Int: String] = [:]
        /// How many nodes read each node's output (the exported output counting as one).
        var uses: [Int: Int] = [:]

        init(graph: Graph) { self.graph = graph }

        func name(_ id: Int) -> String { names[id] ?? graph.nodes[id].name }

        /// The names of the node's inputs.
        func inputs(_ node: Node) -> [String] { node.inputs.map(name) }

        mutating func initializer(_ name: String, _ value: HostTensor) {
            var tensor = Onnx_TensorProto()
            tensor.name = name
            tensor.dims = value.shape.dims.map(Int64.init)
            if value.dtype == .float32 {
                tensor.dataType = ONNXElementType.float.rawValue
                tensor.rawData = value.floats.withUnsafeBytes { Data($0) }
            } else {
                tensor.dataType = ONNXElementType.int64.rawValue
                tensor.rawData = value.ints.map(Int64.init).withUnsafeBytes { Data($0) }
            }
            initializers.append(tensor)
        }

        /// An int64 initializer for a list ONNX takes as an input (shapes, axes), named after its node.
        mutating func integers(_ values: [Int], for node: Node, _ role: String) -> String {
            let name = "\(node.name)/\(role)"
            initializer(name, HostTensor(shape: [values.count], ints: values.map { Int32(clamping: $0) }))
            return name
        }

        mutating func add(_ type: String, _ inputs: [String], for node: Node, _ attributes: [Onnx_AttributeProto] = [])
        {
            nodes.append(ONNXExporter.node(type, inputs, [node.name], attributes))
        }
    }
}
