import Conflux
import ConfluxNN

/// The state of an import: every named value so far, and how variables are made.
struct ONNXGraphBuilder {
    /// Makes the variable for a float initializer, by its graph name; the flag says whether it is trained.
    typealias VariableMaker = (String, HostTensor, Bool) throws -> Tensor

    let file: ONNXFile
    let graph: Graph
    let evaluate: ONNXModel.Evaluator?
    /// The build of a ConfluxNN model this import is part of (its mode and updates); nil for inference on its own.
    let layer: LayerContext?
    let makeVariable: VariableMaker
    private(set) var values: [String: Tensor] = [:]
    /// The variables made from initializers, in the file's order.
    private(set) var variables: [Tensor] = []

    init(
        file: ONNXFile, graph: Graph, evaluate: ONNXModel.Evaluator?, layer: LayerContext?,
        makeVariable: @escaping VariableMaker
    ) {
        (self.file, self.graph, self.evaluate, self.layer, self.makeVariable) = (
            file, graph, evaluate, layer, makeVariable
        )
    }

    /// Float initializers become variables (running statistics untrained), the others constants.
    mutating func addInitializers() throws {
        let statistics = file.runningStatistics
        for tensor in file.proto.graph.initializer {
            let value = try HostTensor(tensor, file: file.path)
            let name = Self.graphName(tensor.name)
            if value.dtype == .float32 {
                let variable = try makeVariable(name, value, !statistics.contains(tensor.name))
                variables.append(variable)
                values[tensor.name] = variable
            } else {
                values[tensor.name] = try graph.constant(value, name: name)
            }
        }
    }

    /// A placeholder for a graph input: float inputs as Float32, integer ones as Int32.
    mutating func addPlaceholder(_ info: Onnx_ValueInfoProto) throws -> Tensor {
        let type = info.type.tensorType
        let elementType = try ONNXElementType(type.elemType, for: info.name, in: file.path)
        let placeholder = try graph.placeholder(
            Self.declaredShape(info), elementType == .float ? .float32 : .int32, name: Self.graphName(info.name))
        values[info.name] = placeholder
        return placeholder
    }

    /// Makes `tensor` the value of the graph input `info`, whose declared shape it must match.
    mutating func bind(_ info: Onnx_ValueInfoProto, to tensor: Tensor) throws {
        let declared = Self.declaredShape(info)
        guard declared.rank == tensor.shape.rank,
            zip(declared.dims, tensor.shape.dims).allSatisfy({ $0 == Shape.unknown || $1 == Shape.unknown || $0 == $1 })
        else {
            throw ConfluxError.dataFile(
                path: file.path, reason: "takes '\(info.name)' as \(declared), not \(tensor.shape)")
        }
        values[info.name] = tensor
    }

    /// Builds every node, in the file's order.
    mutating func addNodes() throws {
        for (index, node) in file.proto.graph.node.enumerated() { try add(node, index: index) }
    }

    /// Builds `node` and names its first output; a later use of another output is an error naming it.
    private mutating func add(_ node: Onnx_NodeProto, index: Int) throws {
        let inputs = try node.input.map { name in name.isEmpty ? nil : try value(name, for: "node '\(node.name)'") }
        let context = ONNXNodeContext(
            node: node, index: index, inputs: inputs, opset: file.opset, file: file.path, graph: graph, layer: layer)
        var output = try graph.nameScope(Self.graphName(node.name.isEmpty ? node.opType : node.name)) {
            try ONNXOperators.all[node.opType]!(context)
        }
        let constantInputs = inputs.allSatisfy { $0?.constantValue != nil }
        if constantInputs, output.constantValue == nil, output.node.role == .compute, let evaluate {
            output = try graph.constant(evaluate(output), name: output.name + "_folded")
        }
        if let name = node.output.first { values[name] = output }
    }

    /// The tensor named `name`, which some initializer, input or earlier node must have produced.
    func value(_ name: String, for user: String) throws -> Tensor {
        guard let tensor = values[name] else {
            throw ConfluxError.dataFile(
                path: file.path,
                reason: "\(user) reads '\(name)', which no input, initializer or earlier node produces "
                    + "(Conflux computes only the first output of a node)")
        }
        return tensor
    }

    /// An input's shape as the file declares it, a symbolic dimension unknown.
    static func declaredShape(_ info: Onnx_ValueInfoProto) -> Shape {
        Shape(info.type.tensorType.shape.dim.map { $0.dimValue > 0 ? Int($0.dimValue) : Shape.unknown })
    }

    /// ONNX names may hold any character; a graph's names are scopes joined by '/'.
    static func graphName(_ name: String) -> String { name.replacingOccurrences(of: "/", with: "_") }
}
