import ArgumentParser
import Conflux
import ConfluxNN
import ConfluxONNX
import Foundation

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run an ONNX model on NumPy inputs and write its outputs as NumPy files.",
        discussion: """
            Inputs are .npy files of float32 (int32 or int64 where the model takes integers). A bare FILE feeds the \
            model's inputs in order; NAME=FILE feeds the input NAME. With one output, --output is the file to write; \
            with several, a directory that receives NAME.npy for each.
            """)

    @Argument(help: "The ONNX model file.")
    var model: String

    @Option(name: .customLong("input"), help: "An input: FILE.npy, or NAME=FILE.npy.")
    var inputs: [String] = []

    @Option(help: "Where to write the outputs: a .npy file for one, a directory for several.")
    var output: String

    @OptionGroup var placementOptions: GraphPlacementOptions

    @Option(help: "Write the run's timeline (kernels and transfers per device stream) to FILE as a Chrome trace.")
    var trace: String?

    @Flag(help: "Print the outputs' names, shapes and the run's timing as JSON.")
    var json = false

    func run() throws {
        if let trace { try OutputFile.check(trace) }
        let imported = try ONNXModel(contentsOf: model, evaluate: try cpuEvaluator())
        let feeds = try readInputs(for: imported)
        let (devices, placement) = try placementOptions.placed(imported.graph)
        let session = Session(
            graph: imported.graph, placement: placement, devices: devices.devices(of: placement),
            kernels: devices.kernels)
        if trace != nil { session.tracer = Tracer() }
        let start = Date()
        let values = try session.run(imported.outputs.map(\.tensor), feeds: feeds)
        let seconds = Date().timeIntervalSince(start)
        if let trace, let tracer = session.tracer { try OutputFile.write(tracer.chromeTraceJSON(), to: trace) }
        let paths = try outputPaths(imported.outputs.map(\.name))
        for (path, value) in zip(paths, values) {
            try OutputFile.write(NumPyFile.encode(value), to: path)
        }
        let report = RunReport(
            outputs: zip(imported.outputs, zip(paths, values)).map { output, written in
                .init(name: output.name, shape: written.1.shape.dims, file: written.0)
            },
            seconds: seconds)
        if json {
            print(try JSONText.encode(report))
        } else {
            for output in report.outputs { print("\(output.name) \(Shape(output.shape)) → \(output.file)") }
        }
    }

    /// The feeds of every model input, from the --input options.
    private func readInputs(for model: ONNXModel) throws -> [Tensor: HostTensor] {
        var feeds: [Tensor: HostTensor] = [:]
        var unnamed = model.inputs.makeIterator()
        for option in inputs {
            let parts = option.split(separator: "=", maxSplits: 1).map(String.init)
            let (name, file) = parts.count == 2 ? (parts[0], parts[1]) : (nil, parts[0])
            let input =
                try name.map { name in
                    guard let input = model.inputs.first(where: { $0.name == name }) else {
                        throw ValidationError(
                            "the model has no input '\(name)'; its inputs: \(model.inputs.map(\.name).joined(separator: ", "))"
                        )
                    }
                    return input
                } ?? unnamed.next()
            guard let input else {
                throw ValidationError("more --input files than the model's \(model.inputs.count) inputs")
            }
            var value = try NumPyFile.read(file)
            if value.dtype != input.tensor.dtype {
                value =
                    input.tensor.dtype == .int32
                    ? HostTensor(shape: value.shape, ints: value.ints)
                    : HostTensor(shape: value.shape, floats: value.floats)
            }
            feeds[input.tensor] = value
        }
        let missing = model.inputs.filter { feeds[$0.tensor] == nil }.map(\.name)
        guard missing.isEmpty else { throw ValidationError("no --input for \(missing.joined(separator: ", "))") }
        return feeds
    }

    /// One file per output: --output itself for one, NAME.npy inside the --output directory for several.
    private func outputPaths(_ names: [String]) throws -> [String] {
        guard names.count > 1 else { return [output] }
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        return names.map { URL(fileURLWithPath: output).appendingPathComponent("\($0).npy").path }
    }
}

/// What `conflux run --json` prints.
struct RunReport: Encodable {
    struct Output: Encodable {
        let name: String
        let shape: [Int]
        let file: String
    }

    let outputs: [Output]
    let seconds: Double
}
