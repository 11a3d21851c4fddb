/// Where the time of a run goes, op by op: the kernel spans of a traced run, set against the work the cost model
/// counts for each node and the peak its device reached when calibrated.
public struct OpProfile: Encodable, Sendable {
    /// One node of the graph, or a chain of them fused into one kernel.
    public struct Row: Encodable, Sendable {
        public let node: String
        public let op: String
        public let device: String
        public let millisecondsPerStep: Double
        /// The fraction of all kernel time of a step.
        public let share: Double
        public let launchesPerStep: Double
        /// Achieved arithmetic and memory throughput, from the cost model's FLOPs and bytes for the node.
        public let gflops: Double
        public let gigabytesPerSecond: Double
        /// The larger of the two, each as a fraction of the device's calibrated peak: how close the kernel runs
        /// to what bounds it.
        public let fractionOfPeak: Double
    }

    public let steps: Int
    public let batch: Int
    /// Kernel time per step, summed over devices.
    public let millisecondsPerStep: Double
    /// Slowest first.
    public let rows: [Row]
    /// The peak each device reached when calibrated (`Calibration`): GEMM FLOP/s and memory bandwidth.
    public let peaks: [String: DeviceProfile]

    /// Summarises the kernel spans of `steps` traced steps of `graph` at `batch`, run as `placement` says, on
    /// devices whose calibrated profiles are `peaks`. Spans are matched to nodes by name.
    public init(
        spans: [Tracer.Span], graph: Graph, placement: Placement, steps: Int, batch: Int,
        peaks: [String: DeviceProfile]
    ) {
        var seconds: [String: Double] = [:]
        var launches: [String: Int] = [:]
        for span in spans where span.kind == .kernel {
            seconds[span.name, default: 0] += span.end - span.start
            launches[span.name, default: 0] += 1
        }
        let total = seconds.values.reduce(0, +)
        let perStep = 1 / Double(max(steps, 1))
        let nodes = Dictionary(graph.nodes.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        rows = seconds.compactMap { name, time -> Row? in
            // A fused chain (`Fusion`) runs as one kernel named after its nodes joined by "+".
            let members = nodes[name].map { [$0] } ?? name.split(separator: "+").compactMap { nodes[String($0)] }
            guard let last = members.last, let device = placement.device(of: last.id) else { return nil }
            let work = members.map { CostModel.work(of: $0, in: graph, batch: batch) }
            let (flops, bytes) = (work.map(\.flops).reduce(0, +), work.map(\.bytes).reduce(0, +))
            let stepSeconds = time * perStep
            let (gflops, gbps) = stepSeconds > 0 ? (flops / stepSeconds / 1e9, bytes / stepSeconds / 1e9) : (0, 0)
            let peak = peaks[device]
            let fraction = max(gflops / (peak?.gflops ?? .infinity), gbps / (peak?.memoryGBps ?? .infinity))
            return Row(
                node: name, op: members.map(\.op.rawValue).joined(separator: "+"), device: device,
                millisecondsPerStep: stepSeconds * 1000, share: total > 0 ? time / total : 0,
                launchesPerStep: Double(launches[name] ?? 0) * perStep, gflops: gflops, gigabytesPerSecond: gbps,
                fractionOfPeak: fraction)
        }.sorted { $0.millisecondsPerStep > $1.millisecondsPerStep }
        self.steps = steps
        self.batch = batch
        millisecondsPerStep = total * perStep * 1000
        self.peaks = peaks
    }
}
