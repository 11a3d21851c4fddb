// Times inference of ONNX models at fixed batch sizes on one device: for each MODEL.onnx argument (exported with
// that batch), imports it, runs two untimed passes (planning, OpenCL program builds and tuning), then times
// `--runs` passes (default 10) and reports the median in milliseconds. Prints one JSON object
// {"MODEL.onnx": ms, …}. `ONNXBenchmark [--device D] [--runs N] [--trace PREFIX] MODEL.onnx …`; with --trace,
// one more pass of each model is traced into PREFIX-MODEL.json (a Chrome trace: where the time goes).
// `Benchmarks/run-onnx.sh` runs it beside onnxruntime.
import Conflux
import ConfluxCPU
import ConfluxONNX
import ConfluxOpenCL
import Foundation

let usage = """
    usage: ONNXBenchmark [--device D] [--runs N] [--trace PREFIX] MODEL.onnx ...
    Times inference of each model (exported at a fixed batch) on one device and prints {"MODEL.onnx": ms, ...}:
    the median of N passes (default 10) after two untimed ones. The device is cpu unless given. With --trace, one
    more pass of each model is written to PREFIX-MODEL.json as a Chrome trace.
    """
var arguments = Array(CommandLine.arguments.dropFirst())
if arguments.isEmpty || arguments.contains("--help") || arguments.contains("-h") {
    print(usage)
    exit(arguments.isEmpty ? 2 : 0)
}
OpenBLASCore.relaunchWithBetterCoreIfAvailable()
func option(_ name: String, _ fallback: String) -> String {
    guard let flag = arguments.firstIndex(of: name), flag + 1 < arguments.count else { return fallback }
    defer { arguments.removeSubrange(flag...flag + 1) }
    return arguments[flag + 1]
}
let deviceName = option("--device", "cpu")
let runs = max(Int(option("--runs", "10")) ?? 10, 1)
let tracePrefix = option("--trace", "")

/// Times every model of `paths` and returns the median milliseconds by file name.
func benchmark(_ paths: [String]) throws -> [String: Double] {
    let devices = try DeviceSet(
        backends: deviceName.hasPrefix("cpu") ? [CPUBackend.self] : [CPUBackend.self, OpenCLBackend.self])
    let device = try devices.device(named: deviceName)
    let cpu = try devices.device(named: "cpu:0")

    var results: [String: Double] = [:]
    for path in paths {
        let model = try ONNXModel(contentsOf: path, evaluate: ONNXModel.evaluator(on: cpu, kernels: devices.kernels))
        let input = model.inputs[0].tensor
        var generator = SeededGenerator(seed: 1)
        let images = HostTensor(
            shape: input.shape, floats: (0..<input.shape.count).map { _ in generator.uniform(0, 1) })
        let session = Session(graph: model.graph, device: device, kernels: devices.kernels)
        let outputs = model.outputs.map(\.tensor)
        for _ in 0..<2 { _ = try session.run(outputs, feeds: [input: images]) }
        var times: [Double] = []
        for _ in 0..<runs {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try session.run(outputs, feeds: [input: images])
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        let name = URL(fileURLWithPath: path).lastPathComponent
        results[name] = times.sorted()[times.count / 2]
        if !tracePrefix.isEmpty {
            let tracer = Tracer()
            session.tracer = tracer
            _ = try session.run(outputs, feeds: [input: images])
            session.tracer = nil
            try tracer.chromeTraceJSON().write(to: URL(fileURLWithPath: "\(tracePrefix)-\(name).json"))
        }
    }
    return results
}

do {
    let json = try JSONSerialization.data(withJSONObject: benchmark(arguments), options: [.sortedKeys])
    print(String(decoding: json, as: UTF8.self))
} catch {
    FileHandle.standardError.write(Data("ONNXBenchmark: \(error)\n".utf8))
    exit(1)
}
