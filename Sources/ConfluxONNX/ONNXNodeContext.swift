import Conflux
import ConfluxNN
import Foundation

/// One ONNX node as an operator's builder sees it: its inputs (nil where the node leaves an optional one out),
/// its attributes with ONNX's defaults, the opset, and errors that name the node.
struct ONNXNodeContext {
    let node: Onnx_NodeProto
    /// The node's place in the file's graph.
    let index: Int
    let inputs: [Tensor?]
    let opset: Int
    let file: String
    let graph: Graph
    /// The ConfluxNN build this import is part of; nil for inference on its own.
    let layer: LayerContext?

    /// Whether the node builds for training: batch statistics, dropout.
    var training: Bool { layer?.mode == .training }

    /// Input `index`, which the operator requires.
    func input(_ index: Int) throws -> Tensor {
        guard index < inputs.count, let tensor = inputs[index] else { throw error("needs input \(index)") }
        return tensor
    }

    /// Input `index` if the node gives it.
    func optionalInput(_ index: Int) -> Tensor? { index < inputs.count ? inputs[index] : nil }

    /// The value of input `index`, which must be a constant (an initializer, a Constant node or folded shape
    /// arithmetic); nil when the node leaves it out.
    func constantInput(_ index: Int) throws -> HostTensor? {
        guard let tensor = optionalInput(index) else { return nil }
        if let value = tensor.constantValue { return value }
        if tensor.node.op == .variable, case .initializer(.values(let values)) = tensor.node.attributes["initializer"] {
            return HostTensor(shape: tensor.shape, floats: values)
        }
        throw error("needs input \(index) ('\(node.input[index])') to be a constant")
    }

    private func attribute(_ name: String) -> Onnx_AttributeProto? { node.attribute.first { $0.name == name } }

    func int(_ name: String, _ fallback: Int) -> Int { attribute(name).map { Int($0.i) } ?? fallback }
    func float(_ name: String, _ fallback: Float) -> Float { attribute(name)?.f ?? fallback }
    func ints(_ name: String) -> [Int]? { attribute(name).map { $0.ints.map { Int($0) } } }
    func string(_ name: String, _ fallback: String) -> String {
        attribute(name).map { String(decoding: $0.s, as: UTF8.self) } ?? fallback
    }
    func tensor(_ name: String) throws -> HostTensor? { try attribute(name).map { try HostTensor($0.t, file: file) } }

    /// The error for a node Conflux cannot build as it stands.
    func error(_ reason: String) -> ConfluxError {
        .dataFile(path: file, reason: "node '\(node.name)' (\(node.opType), opset \(opset)) \(reason)")
    }
}
