import Conflux
import Foundation

/// An ONNX model imported into a Conflux graph of its own: its inputs become placeholders (a dimension the file
/// leaves symbolic, such as the batch, unknown), its float initializers variables (so that the model can be
/// trained), its other initializers and Constant nodes constants, and each node the ops of Conflux's builders
/// (`ONNXOperators`). `ONNXNetwork` imports a model into a ConfluxNN model instead, to train it.
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
        try self.init(ONNXFile(contentsOf: path), seed: seed, evaluate: evaluate)
    }

    init(_ file: ONNXFile, seed: UInt64, evaluate: Evaluator?) throws {
        let graph = Graph(seed: seed)
        var builder = ONNXGraphBuilder(file: file, graph: graph, evaluate: evaluate, layer: nil) { name, value, _ in
            try graph.variable(value.shape, initializer: .values(value.floats), name: name)
        }
        try builder.addInitializers()
        inputs = try file.inputs.map { info in (info.name, try builder.addPlaceholder(info)) }
        try builder.addNodes()
        outputs = try file.proto.graph.output.map { info in
            (info.name, try builder.value(info.name, for: "the graph's output"))
        }
        (self.graph, parameters, opset) = (graph, builder.variables, file.opset)
    }
}

/// An ONNX model file, read and checked before anything is built: an opset Conflux imports, and no node it
/// cannot.
struct ONNXFile {
    let path: String
    let proto: Onnx_ModelProto
    /// The opset of the default domain the model was exported with.
    let opset: Int

    init(contentsOf path: String) throws {
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
        try self.init(model, path: path)
    }

    init(_ model: Onnx_ModelProto, path: String) throws {
        let defaultDomain = model.opsetImport.first { $0.domain.isEmpty || $0.domain == "ai.onnx" }
        guard let version = defaultDomain?.version, ONNXModel.opsets.contains(Int(version)) else {
            throw ConfluxError.dataFile(
                path: path,
                reason: "uses opset \(defaultDomain.map { String($0.version) } ?? "none") of ONNX's default domain; "
                    + "Conflux imports opsets \(ONNXModel.opsets.lowerBound) to \(ONNXModel.opsets.upperBound)")
        }
        let unsupported = model.graph.node.filter {
            !$0.domain.isEmpty && $0.domain != "ai.onnx" || ONNXOperators.all[$0.opType] == nil
        }
        guard unsupported.isEmpty else {
            let list = unsupported.map {
                "\($0.opType) '\($0.name)' (\($0.domain.isEmpty ? "opset \(version)" : $0.domain))"
            }
            throw ConfluxError.dataFile(
                path: path, reason: "has \(list.count) nodes Conflux cannot import: \(list.joined(separator: ", "))")
        }
        (self.path, proto, opset) = (path, model, Int(version))
    }

    /// The graph inputs that are not initializers: what a caller feeds.
    var inputs: [Onnx_ValueInfoProto] {
        let initializers = Set(proto.graph.initializer.map(\.name))
        return proto.graph.input.filter { !initializers.contains($0.name) }
    }

    /// The initializers batch normalization reads as running statistics: state, not trained by gradients.
    var runningStatistics: Set<String> {
        Set(proto.graph.node.filter { $0.opType == "BatchNormalization" }.flatMap { $0.input.dropFirst(3) })
    }
}
