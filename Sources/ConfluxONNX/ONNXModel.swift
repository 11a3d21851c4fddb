import Conflux
import Foundation
import SwiftProtobuf

/// An ONNX model imported into a Conflux graph: its inputs become placeholders (a dimension the file leaves
/// symbolic, such as the batch, unknown), its float initializers variables (so that the model can be trained),
/// its other initializers and Constant nodes constants, and each node the ops of Conflux's builders
/// (`ONNXOperators`).
///
/// A node whose inputs are all constants (the shape arithmetic exporters write around Reshape and Pad) is folded
/// into a constant as it is imported: by the builders themselves where they can (Shape, Gather, Cast,
/// ConstantOfShape), otherwise by `evaluate`, which runs it, on the CPU in practice. The core cannot run a kernel
/// itself, so the caller, which links a backend, supplies it.
public struct ONNXModel {
    /// Computes a tensor whose inputs are all constants.
    public typealias Evaluator = (Tensor) throws -> HostTensor

    /// The evaluator that runs each folded tensor on `device` (the CPU in practice) with `kernels`.
    public static func evaluator(on device: any Device, kernels: KernelRegistry) -> Evaluator {
        { tensor in try Session(graph: tensor.graph, device: device, kernels: kernels).run(tensor) }
    }

    /// The opsets of the default domain Conflux imports. Those before 9 (PyTorch's exports before 2019, much of
    /// onnx's own test data) with their older rules: arithmetic broadcasting by attribute, per-channel PRelu slopes,
    /// BatchNormalization's `is_test` and `spatial`.
    public static let opsets = 6...21

    public let graph: Graph
    /// The model's inputs, in the file's order, by their ONNX names.
    public let inputs: [(name: String, tensor: Tensor)]
    /// The model's outputs, in the file's order.
    public let outputs: [(name: String, tensor: Tensor)]
    /// The variables made from float initializers.
    public let parameters: [Tensor]
    /// The opset of the default domain the model was exported with.
    public let opset: Int

    /// Reads and imports the model at `path`.
    ///
    /// - Throws: `dataFile` naming the file: unreadable, not an ONNX model, an unsupported opset, every node whose
    ///   op or attributes Conflux does not support (all of them, with their names), a tensor name no node
    ///   produces; or the error of the op a node builds, naming it.
    public init(contentsOf path: String, seed: UInt64 = 0, evaluate: Evaluator? = nil) throws {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ConfluxError.dataFile(path: path, reason: "cannot be read (\(error.localizedDescription))")
        }
        let model: Onnx_ModelProto
        do {
            model = try Onnx_ModelProto(serializedBytes: data)
        } catch {
            throw ConfluxError.dataFile(path: path, reason: "is not an ONNX model (\(error))")
        }
        try self.init(model, file: path, seed: seed, evaluate: evaluate)
    }

    init(_ model: Onnx_ModelProto, file: String, seed: UInt64, evaluate: Evaluator?) throws {
        let defaultDomain = model.opsetImport.first { $0.domain.isEmpty || $0.domain == "ai.onnx" }
        guard let version = defaultDomain?.version, ONNXModel.opsets.contains(Int(version)) else {
            throw ConfluxError.dataFile(
                path: file,
                reason: "uses opset \(defaultDomain.map { String($0.version) } ?? "none") of ONNX's default domain; "
                    + "Conflux imports opsets \(ONNXModel.opsets.lowerBound) to \(ONNXModel.opsets.upperBound)")
        }
        opset = Int(version)
        let unsupported = model.graph.node.filter {
            !$0.domain.isEmpty && $0.domain != "ai.onnx" || ONNXOperators.all[$0.opType] == nil
        }
        guard unsupported.isEmpty else {
            let list = unsupported.map {
                "\($0.opType) '\($0.name)' (\($0.domain.isEmpty ? "opset \(version)" : $0.domain))"
            }
            throw ConfluxError.dataFile(
                path: file, reason: "has \(list.count) nodes Conflux cannot import: \(list.joined(separator: ", "))")
        }
        graph = Graph(seed: seed)
        var builder = ONNXGraphBuilder(graph: graph, file: file, opset: opset, evaluate: evaluate)
        try builder.addInitializers(model.graph.initializer)
        inputs = try model.graph.input.filter { builder.values[$0.name] == nil }.map { info in
            (info.name, try builder.addInput(info))
        }
        for node in model.graph.node { try builder.add(node) }
        outputs = try model.graph.output.map { info in
            (info.name, try builder.value(info.name, for: "the graph's output"))
        }
        parameters = builder.parameters
    }
}

/// The state of an import: every named value so far, and the file's name for errors.
struct ONNXGraphBuilder {
    let graph: Graph
    let file: String
    let opset: Int
    let evaluate: ONNXModel.Evaluator?
    private(set) var values: [String: Tensor] = [:]
    private(set) var parameters: [Tensor] = []

    init(graph: Graph, file: String, opset: Int, evaluate: ONNXModel.Evaluator?) {
        self.graph = graph
        self.file = file
        self.opset = opset
        self.evaluate = evaluate
    }

    /// Float initializers become variables, the others constants.
    mutating func addInitializers(_ tensors: [Onnx_TensorProto]) throws {
        for tensor in tensors {
            let value = try HostTensor(tensor, file: file)
            let name = Self.graphName(tensor.name)
            if value.dtype == .float32 {
                let variable = try graph.variable(value.shape, initializer: .values(value.floats), name: name)
                parameters.append(variable)
                values[tensor.name] = variable
            } else {
                values[tensor.name] = try graph.constant(value, name: name)
            }
        }
    }

    /// A placeholder for a graph input: float inputs as Float32, integer ones as Int32.
    mutating func addInput(_ info: Onnx_ValueInfoProto) throws -> Tensor {
        let type = info.type.tensorType
        let elementType = try ONNXElementType(type.elemType, for: info.name, in: file)
        let dims = type.shape.dim.map { $0.dimValue > 0 ? Int($0.dimValue) : Shape.unknown }
        let placeholder = try graph.placeholder(
            Shape(dims), elementType == .float ? .float32 : .int32, name: Self.graphName(info.name))
        values[info.name] = placeholder
        return placeholder
    }

    /// Builds `node` and names its first output; a later use of another output is an error naming it.
    mutating func add(_ node: Onnx_NodeProto) throws {
        let inputs = try node.input.map { name in name.isEmpty ? nil : try value(name, for: "node '\(node.name)'") }
        let context = ONNXNodeContext(node: node, inputs: inputs, opset: opset, file: file, graph: graph)
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
                path: file,
                reason: "\(user) reads '\(name)', which no input, initializer or earlier node produces "
                    + "(Conflux computes only the first output of a node)")
        }
        return tensor
    }

    /// ONNX names may hold any character; a graph's names are scopes joined by '/'.
    static func graphName(_ name: String) -> String { name.replacingOccurrences(of: "/", with: "_") }
}
