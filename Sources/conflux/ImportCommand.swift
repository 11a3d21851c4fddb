import ArgumentParser
import Conflux
import ConfluxCPU
import ConfluxONNX
import Foundation

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import an ONNX model and summarize it: inputs, outputs, operators, parameters and FLOPs.",
        discussion: """
            Float initializers become variables (trainable), constant shape arithmetic is folded on the CPU, and a \
            model with operators Conflux does not support is refused with the list of every such node.
            """)

    @Argument(help: "The ONNX model file.")
    var model: String

    @Flag(help: "Print machine-readable JSON instead of text.")
    var json = false

    func run() throws {
        let imported = try ONNXModel(contentsOf: model, evaluate: try cpuEvaluator())
        let summary = ImportSummary(imported)
        if json {
            print(try JSONText.encode(summary))
            return
        }
        print(
            "\(model): ONNX opset \(summary.opset), \(summary.parameters) parameters, "
                + String(format: "%.3g GFLOPs per example", summary.flopsPerExample / 1e9))
        for (label, values) in [("input", summary.inputs), ("output", summary.outputs)] {
            for value in values { print("  \(label) \(value.name): \(value.shape)") }
        }
        print("  ops: " + summary.ops.map { "\($0.key) \($0.value)" }.sorted().joined(separator: ", "))
    }
}

/// Runs a tensor whose inputs are all constants on the CPU: the folding an ONNX import asks for.
func cpuEvaluator() throws -> ONNXModel.Evaluator {
    let devices = try DeviceSet(backends: [CPUBackend.self])
    return ONNXModel.evaluator(on: try devices.device(named: "cpu:0"), kernels: devices.kernels)
}

/// What `conflux import` reports.
struct ImportSummary: Encodable {
    struct Value: Encodable {
        let name: String
        /// The dimensions, "?" where the model leaves one symbolic.
        let shape: String
    }

    let opset: Int
    let inputs: [Value]
    let outputs: [Value]
    /// Elements in the model's variables.
    let parameters: Int
    /// The Conflux ops the model runs, by type, with their counts.
    let ops: [String: Int]
    /// The arithmetic of one example through the model, from the cost model's count of each op's work.
    let flopsPerExample: Double

    init(_ model: ONNXModel) {
        opset = model.opset
        inputs = model.inputs.map { Value(name: $0.name, shape: "\($0.tensor.shape)") }
        outputs = model.outputs.map { Value(name: $0.name, shape: "\($0.tensor.shape)") }
        parameters = model.parameters.map(\.shape.count).reduce(0, +)
        let needed = model.graph.executionOrder(roots: model.outputs.map(\.tensor.id), fed: [])
        // An unknown batch counts as one example; a fixed batch divides the total.
        let batch = model.inputs.first.map { $0.tensor.shape.rank > 0 ? max($0.tensor.shape[0], 1) : 1 } ?? 1
        flopsPerExample =
            needed.map { CostModel.work(of: model.graph.nodes[$0], in: model.graph, batch: 1).flops }.reduce(0, +)
            / Double(batch)
        ops = Dictionary(
            needed.map { model.graph.nodes[$0] }.filter { $0.role == .compute }.map { ($0.op.rawValue, 1) },
            uniquingKeysWith: +)
    }
}
