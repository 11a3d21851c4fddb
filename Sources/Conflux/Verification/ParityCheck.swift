/// The outcome of one fetch of one parity case on one device.
public struct ParityResult: Codable, Sendable {
    public let op: String
    public let name: String
    public let device: String
    /// `output`, or `gradient 0` for the gradient with respect to the first input.
    public let fetch: String
    public let maxAbsoluteError: Float
    public let maxRelativeError: Float
    public let passed: Bool
}

/// Runs parity cases on a device and on the reference device, and compares every output and gradient.
public struct ParityCheck {
    public let reference: any Device
    public let kernels: KernelRegistry

    public init(reference: any Device, kernels: KernelRegistry) {
        self.reference = reference
        self.kernels = kernels
    }

    /// The results of `parityCase` on `device`: the output, then the gradient for each Float32 input.
    public func run(_ parityCase: ParityCase, on device: any Device) throws -> [ParityResult] {
        let projected = try Self.build(parityCase)
        let (graph, fetches) = (projected.graph, projected.fetches)
        let feeds = projected.feeds(parityCase.inputs)
        let expected = try Session(graph: graph, device: reference, kernels: kernels).run(fetches, feeds: feeds)
        let actual = try Session(graph: graph, device: device, kernels: kernels).run(fetches, feeds: feeds)
        return zip(projected.labels, zip(actual, expected)).map { label, pair in
            Self.compare(pair.0, pair.1, parityCase: parityCase, device: device.id, fetch: label)
        }
    }

    /// The ops that update variables, each checked by `runUpdates`.
    public static let updateOps: [OpType] = [.applyMomentum, .applyAdam, .batchNormStatisticsUpdate, .assignAdd]

    /// The update ops: three steps of momentum SGD, of Adam, of batch norm's running statistics and of a counter
    /// on the same state on every device, the variables compared after the last.
    public func runUpdates(on device: any Device) throws -> [ParityResult] {
        let (expected, actual) = (try updatedState(on: reference), try updatedState(on: device))
        let cases = [
            ParityCase(.applyMomentum, "301 weights, 3 steps", inputs: [], tolerance: .rounding) { $0[0] },
            ParityCase(.applyAdam, "301 weights, 3 steps", inputs: [], tolerance: .transcendental) { $0[0] },
            ParityCase(.batchNormStatisticsUpdate, "[5, 3, 7, 9], 3 steps", inputs: [], tolerance: .summation) {
                $0[0]
            },
            ParityCase(.assignAdd, "a step counter, 3 steps", inputs: [], tolerance: .rounding) { $0[0] },
        ]
        let fetches = [
            (0, "weights"), (1, "weights"), (2, "running mean"), (2, "running variance"), (3, "counter"),
        ]
        return fetches.enumerated().map { i, fetch in
            Self.compare(actual[i], expected[i], parityCase: cases[fetch.0], device: device.id, fetch: fetch.1)
        }
    }

    /// After three runs of each update op on `device`, from the same state and inputs on every device: the weights
    /// of momentum SGD and of Adam, the running mean and variance of a batch norm, and a counter.
    public func updatedState(on device: any Device) throws -> [HostTensor] {
        let graph = Graph(seed: 8)
        let (w, v) = (
            try graph.variable([301], initializer: .glorotUniform(fanIn: 10, fanOut: 10)),
            try graph.variable([301], initializer: .glorotUniform(fanIn: 10, fanOut: 10))
        )
        let grad = try graph.constant(ParityInputs.uniform([301], seed: 9))
        let rate = try graph.constant(0.05)
        let momentum = try applyMomentum(
            w, accumulator: graph.variable([301]), gradient: grad, learningRate: rate, momentum: 0.9)
        let adam = try applyAdam(
            v, m: graph.variable([301]), v: graph.variable([301]), step: graph.variable(.scalar), gradient: grad,
            learningRate: rate, beta1: 0.9, beta2: 0.999, epsilon: 1e-8)
        let (mean, variance) = (try graph.variable([3]), try graph.variable([3], initializer: .constant(1)))
        let statistics = try updateBatchNormStatistics(
            runningMean: mean, runningVariance: variance,
            batch: graph.constant(ParityInputs.uniform([5, 3, 7, 9], seed: 10, 1...3)))
        let counter = try graph.variable(.scalar)
        let count = try assignAdd(counter, graph.constant(1))
        let session = Session(graph: graph, device: device, kernels: kernels)
        for _ in 0..<3 { try session.run([], targets: [momentum, adam, statistics, count]) }
        return try session.run([w, v, mean, variance, counter])
    }

    /// The graph of a case; see `ProjectedGraph`. `projection` overrides r (an external reference's).
    public static func build(_ parityCase: ParityCase, projection: HostTensor? = nil) throws -> ProjectedGraph {
        try ProjectedGraph(
            parityCase.inputs, gradients: parityCase.gradients, projection: projection, build: parityCase.build)
    }

    /// Compares `actual` with `expected` under the case's tolerance.
    public static func compare(
        _ actual: HostTensor, _ expected: HostTensor, parityCase: ParityCase, device: String, fetch: String
    ) -> ParityResult {
        let (a, e) = (actual.floats, expected.floats)
        let scale = max(1, e.map(abs).max() ?? 0)
        var (maxAbsolute, maxRelative, passed) = (Float(0), Float(0), actual.shape == expected.shape)
        for (x, y) in zip(a, e) {
            let error = abs(x - y)
            maxAbsolute = max(maxAbsolute, error.isNaN ? .infinity : error)
            maxRelative = max(maxRelative, error == 0 ? 0 : error / max(abs(y), Float.leastNormalMagnitude))
            if !(error <= parityCase.tolerance.relative * abs(y) + parityCase.tolerance.absolute * scale) {
                passed = false
            }
        }
        return ParityResult(
            op: parityCase.op.rawValue, name: parityCase.name, device: device, fetch: fetch,
            maxAbsoluteError: maxAbsolute, maxRelativeError: maxRelative, passed: passed)
    }
}
