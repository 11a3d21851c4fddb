import ArgumentParser
import Conflux
import ConfluxCPU
import ConfluxONNX
import Foundation

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract:
            "Import an ONNX model and summarize it: inputs, outputs, operators, parameters, FLOPs and placement.",
        discussion: """
            Float initializers become variables (trainable), constant shape arithmetic is folded on the CPU, and a \
            model with operators Conflux does not support is refused with the list of every such node. The \
            placement is where `conflux run` with the same --device and --place would run each op.
            """)

    @Argument(help: "The ONNX model file.")
    var model: String

    @OptionGroup var placementOptions: GraphPlacementOptions

    @Flag(help: "Print machine-readable JSON instead of text.")
    var json = false

    func run() throws {
        let imported = try ONNXModel(contentsOf: model, evaluate: try cpuEvaluator())
        let summary = ImportSummary(
            imported, placement: try placementOptions.placed(imported.graph).placement)
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
        print("  ops: " + Self.counts(summary.ops))
        for (device, ops) in summary.placement.sorted(by: { $0.key < $1.key }) {
            print("  on \(device): " + Self.counts(ops))
        }
    }

    /// "Conv2D 3, Relu 4", sorted by op.
    private static func counts(_ ops: [String: Int]) -> String {
        ops.map { "\($0.key) \($0.value)" }.sorted().joined(separator: ", ")
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
    /// The ops each device would run, by type, with their counts.
    let placement: [String: [String: Int]]
    /// The arithmetic of one example through the model, from the cost model's count of each op's work.
    let flopsPerExample: Double

    init(_ model: ONNXModel, placement: Placement) {
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
        let computed = needed.filter { model.graph.nodes[$0].role == .compute }
        ops = Dictionary(computed.map { (model.graph.nodes[$0].op.rawValue, 1) }, uniquingKeysWith: +)
        self.placement = Dictionary(grouping: computed) { placement.device(of: $0) ?? "?" }.mapValues { ids in
            Dictionary(ids.map { (model.graph.nodes[$0].op.rawValue, 1) }, uniquingKeysWith: +)
        }
    }
}
