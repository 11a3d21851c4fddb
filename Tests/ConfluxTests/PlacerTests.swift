import Conflux
import TestSupport
import XCTest

/// The placer on hand-built graphs with synthetic device profiles: no device is measured or run here.
final class PlacerTests: XCTestCase {
    private let cpu = PlacementDevice(
        id: "cpu:0", kind: .cpu,
        profile: DeviceProfile(gflops: 50, memoryGBps: 10, transferGBps: 8, launchMicroseconds: 1))
    private func gpu(fast: Bool) -> PlacementDevice {
        PlacementDevice(
            id: "opencl:0", kind: .opencl,
            profile: fast
                ? DeviceProfile(gflops: 5000, memoryGBps: 500, transferGBps: 8, launchMicroseconds: 5)
                : DeviceProfile(gflops: 5, memoryGBps: 2, transferGBps: 8, launchMicroseconds: 20))
    }

    /// The CPU's kernels, registered for OpenCL too except for `missing`: the placer only asks which exist.
    private func kernels(missingOnOpenCL missing: [OpType] = []) throws -> KernelRegistry {
        var registry = try cpuDevices().kernels
        for op in OpDefinition.all.keys where !missing.contains(op) {
            if let kernel = registry.kernel(for: op, on: .cpu) { registry.register(op, on: .opencl, kernel) }
        }
        return registry
    }

    /// conv → relu → reshape → conv → relu on a batch of 64.
    private func convolutionGraph() throws -> (Graph, [Tensor]) {
        let g = Graph()
        let x = try g.placeholder([64, 8, 32, 32], name: "x")
        let a = try conv2d(x, g.variable([32, 8, 5, 5], name: "w1"), padding: .same)
        let b = try relu(a)
        let c = try reshape(b, [64, 32, 32, 32])
        let d = try conv2d(c, g.variable([32, 32, 5, 5], name: "w2"), padding: .same)
        return (g, [a, b, c, d, try relu(d)])
    }

    func testFastGPUProfileTakesTheConvolutions() throws {
        let (graph, ops) = try convolutionGraph()
        let placement = try Placer(devices: [cpu, gpu(fast: true)], kernels: kernels()).place(graph)
        XCTAssertEqual(placement.device(of: ops[0].id), "opencl:0", placement.reasons[ops[0].id] ?? "")
        XCTAssertEqual(placement.device(of: ops[3].id), "opencl:0", placement.reasons[ops[3].id] ?? "")
        XCTAssertTrue(placement.reasons[ops[0].id]!.hasPrefix("auto: finishes earliest"), placement.reasons[ops[0].id]!)
    }

    func testSlowGPUProfileKeepsEverythingOnTheCPU() throws {
        let (graph, _) = try convolutionGraph()
        let placement = try Placer(devices: [cpu, gpu(fast: false)], kernels: kernels()).place(graph)
        XCTAssertEqual(Set(graph.nodes.map { placement.device(of: $0.id)! }), ["cpu:0"])
    }

    func testDevicesOnOneProcessorAreOneQueue() throws {
        // Two independent convolutions of one input, and two devices as fast as each other.
        let g = Graph()
        let x = try g.placeholder([64, 8, 32, 32], name: "x")
        let branches = try (0..<2).map { _ in try conv2d(x, g.variable([32, 8, 5, 5]), padding: .same) }
        _ = try add(branches[0], branches[1])
        let profile = cpu.profile
        for shared in [false, true] {
            let opencl = PlacementDevice(
                id: "opencl:0", kind: .opencl, profile: profile, processor: shared ? "host" : nil)
            let host = PlacementDevice(id: "cpu:0", kind: .cpu, profile: profile, processor: "host")
            let placement = try Placer(devices: [host, opencl], kernels: kernels()).place(g)
            let used = Set(branches.map { placement.device(of: $0.id)! })
            // Apart, the second branch runs beside the first; on one processor that would gain nothing.
            XCTAssertEqual(used.count, shared ? 1 : 2, "shared processor: \(shared), \(used)")
        }
    }

    func testCheapOpBetweenHeavyOpsStaysWithThem() throws {
        let (graph, ops) = try convolutionGraph()
        let placement = try Placer(devices: [cpu, gpu(fast: true)], kernels: kernels()).place(graph)
        // relu and reshape are cheap; moving them to the idle CPU would cost a transfer each way.
        XCTAssertEqual(placement.device(of: ops[1].id), "opencl:0", placement.reasons[ops[1].id] ?? "")
        XCTAssertEqual(placement.device(of: ops[2].id), "opencl:0", placement.reasons[ops[2].id] ?? "")
        let order = graph.executionOrder(roots: [ops[4].id])
        XCTAssertTrue(Partition(graph: graph, nodes: order, placement: placement).transfers.isEmpty)
    }

    func testSoftPlacementFallsBackAndHardPlacementExplains() throws {
        let g = Graph()
        let x = try g.placeholder([4, 4])
        let y = try g.device("opencl:0") { try tanh(x) }
        let registry = try kernels(missingOnOpenCL: [.tanh])
        let soft = try Placer(devices: [cpu, gpu(fast: true)], kernels: registry).place(g)
        XCTAssertEqual(soft.device(of: y.id), "cpu:0")
        XCTAssertTrue(
            soft.reasons[y.id]!.contains("requested opencl:0, which has no Tanh kernel; soft placement chose cpu:0"),
            soft.reasons[y.id]!)
        XCTAssertThrowsError(
            try Placer(devices: [cpu, gpu(fast: true)], kernels: registry, softPlacement: false).place(g)
        ) {
            XCTAssertEqual("\($0)", "Tanh 'Tanh' asked for opencl:0, which cannot run it; devices that can: cpu:0")
        }
    }

    func testRequestsScopesAndPartialSpecs() throws {
        let g = Graph()
        let x = try g.placeholder([4, 4])
        let (a, b) = try g.device("opencl") { (try relu(x), try g.device("cpu:0") { try relu(x) }) }
        let c = try relu(x)
        g.requestDevice("opencl:0", for: c)
        let placement = try Placer(devices: [cpu, gpu(fast: false)], kernels: kernels()).place(g)
        XCTAssertEqual(placement.device(of: a.id), "opencl:0", "a kind alone matches any device of the kind")
        XCTAssertEqual(placement.device(of: b.id), "cpu:0", "the inner scope wins")
        XCTAssertEqual(placement.device(of: c.id), "opencl:0", "a per-op request")
        XCTAssertEqual(placement.reasons[c.id], "requested opencl:0")
        XCTAssertEqual(placement.reasons[a.id], "requested opencl: opencl:0")
    }

    func testVariablesStayWithTheirReaderAndTheirUpdates() throws {
        let g = Graph()
        let x = try g.placeholder([8, 3, 6, 6])
        let w = try g.variable([4, 3, 3, 3], name: "conv1/weights")
        let y = try g.nameScope("conv1") { try conv2d(x, w) }
        let v = try g.variable([4, 64], name: "dense1/weights")
        let logits = try g.nameScope("dense1") { try matmul(reshape(y, [8, 64]), v, transposeB: true) }
        let loss = try mean(logits)
        let grads = try gradients(of: loss, wrt: [w, v])
        let rate = try g.constant(0.1)
        let slots = [
            try g.variable(w.shape, name: "conv1/weights/momentum"),
            try g.variable(v.shape, name: "dense1/weights/momentum"),
        ]
        let updates = try zip([w, v], zip(grads, slots)).map { p, gs in
            try applyMomentum(p, accumulator: gs.1, gradient: gs.0, learningRate: rate, momentum: 0.9)
        }
        let rules = try PlacementRule.parse("conv=opencl:0,dense=cpu")
        let placement = try Placer(devices: [cpu, gpu(fast: false)], kernels: kernels(), rules: rules).place(g)
        for tensor in [w, y, slots[0], updates[0], grads[0]] {
            XCTAssertEqual(
                placement.device(of: tensor.id), "opencl:0", "\(tensor.name): \(placement.reasons[tensor.id] ?? "")")
        }
        for tensor in [v, logits, slots[1], updates[1]] {
            XCTAssertEqual(
                placement.device(of: tensor.id), "cpu:0", "\(tensor.name): \(placement.reasons[tensor.id] ?? "")")
        }
        // Weights never cross: no transfer carries a variable.
        let order = g.executionOrder(roots: [loss.id] + updates.map(\.id), fed: [x.id])
        let transfers = Partition(graph: g, nodes: order, placement: placement).transfers
        XCTAssertFalse(transfers.contains { g.nodes[$0.tensor].op == .variable }, "\(transfers)")
    }

    func testOneSendRecvPairPerTensorAndDestination() throws {
        let g = Graph()
        let x = try g.placeholder([4, 4])
        let shared = try g.device("opencl:0") { try relu(x) }
        let readers = try g.device("cpu:0") { [try tanh(shared), try sigmoid(shared), try add(shared, shared)] }
        let back = try g.device("opencl:0") { try relu(readers[0]) }
        let placement = try Placer(devices: [cpu, gpu(fast: true)], kernels: kernels()).place(g)
        let order = g.executionOrder(roots: readers.map(\.id) + [back.id], fed: [x.id])
        let transfers = Partition(graph: g, nodes: order, placement: placement).transfers
        XCTAssertEqual(
            transfers.filter { $0.tensor == shared.id },
            [SendRecvPair(tensor: shared.id, from: "opencl:0", to: "cpu:0")])
        XCTAssertEqual(transfers.count, 2, "\(transfers)")
    }

    /// Across tasks, a tensor crosses to each other task once: a second device there that reads it gets it from
    /// the first. A fetched value also goes to every other task's first CPU.
    func testATensorCrossesToEachTaskOnceAndFetchesReachEveryTask() throws {
        let g = Graph()
        let x = try g.placeholder([4, 4])
        let remote = try g.device("task:1/cpu:0") { try relu(x) }
        let local = try g.device("cpu:0") { try tanh(remote) }
        let readers = [
            try g.device("task:1/cpu:0") { try sigmoid(local) }, try g.device("task:1/opencl:0") { try relu(local) },
        ]
        let devices = [
            cpu, PlacementDevice(id: "task:1/cpu:0", kind: .cpu, profile: cpu.profile, task: 1),
            PlacementDevice(id: "task:1/opencl:0", kind: .opencl, profile: gpu(fast: true).profile, task: 1),
        ]
        let placement = try Placer(devices: devices, kernels: kernels()).place(g)
        let order = g.executionOrder(roots: readers.map(\.id) + [remote.id], fed: [x.id])
        let transfers = Partition(
            graph: g, nodes: order, placement: placement, fetches: [local.id, remote.id],
            tasks: TaskSpan(own: 0, count: 3)
        ).transfers
        XCTAssertEqual(
            Set(transfers),
            [
                SendRecvPair(tensor: remote.id, from: "task:1/cpu:0", to: "cpu:0"),
                SendRecvPair(tensor: remote.id, from: "task:1/cpu:0", to: "task:2/cpu:0"),
                SendRecvPair(tensor: local.id, from: "cpu:0", to: "task:1/cpu:0"),
                SendRecvPair(tensor: local.id, from: "cpu:0", to: "task:2/cpu:0"),
                SendRecvPair(tensor: local.id, from: "task:1/cpu:0", to: "task:1/opencl:0"),
            ])
        XCTAssertEqual(transfers.count, 5, "\(transfers)")
    }

    /// A fast device of another task takes a convolution of a tensor computed here when the link between the
    /// tasks is fast, not when moving the tensor over it costs more than the convolution saves. (Placeholders cost
    /// nothing to move: every task feeds its own devices.)
    func testTheLinkBetweenTasksKeepsWorkWhereItsTensorsAre() throws {
        let graph = Graph()
        let x = try graph.placeholder([64, 8, 32, 32])
        let computedHere = try graph.device("cpu:0") { try relu(x) }
        let convolution = try conv2d(computedHere, graph.variable([32, 8, 5, 5]), padding: .same)
        let remote = gpu(fast: true)
        let devices = [
            cpu,
            PlacementDevice(id: "task:1/opencl:0", kind: .opencl, profile: remote.profile, task: 1),
        ]
        for (link, expected) in [
            (TaskLink(latencySeconds: 1e-6, bytesPerSecond: 1e11), "task:1/opencl:0"),
            (TaskLink(latencySeconds: 1e-3, bytesPerSecond: 1e7), "cpu:0"),
        ] {
            let placement = try Placer(devices: devices, kernels: kernels(), link: link).place(graph)
            XCTAssertEqual(
                placement.device(of: convolution.id), expected,
                "\(link): \(placement.reasons[convolution.id] ?? "")")
        }
    }

    func testRulesMatchLayersTheirGradientsAndOpTypes() throws {
        let rules = try PlacementRule.parse("conv=opencl:0, pool=opencl:0,MatMul=cpu")
        XCTAssertEqual(rules.map(\.description), ["conv=opencl:0", "pool=opencl:0", "MatMul=cpu"])
        let g = Graph()
        let x = try g.placeholder([1, 2])
        let names = [
            "conv1/Conv2D", "gradients/conv12/Conv2D_grad/Conv2DBackpropFilter", "pool2/MaxPool", "convex/Relu",
        ]
        for name in names { try g.addNode(.relu, [x], name: name) }
        XCTAssertEqual(g.nodes.dropFirst().map { rules[0].matches($0) }, [true, true, false, false])
        XCTAssertTrue(rules[2].matches(try matmul(x, x, transposeB: true).node))
        XCTAssertThrowsError(try PlacementRule.parse("conv:opencl")) {
            XCTAssertTrue("\($0)".contains("is not pattern=device"), "\($0)")
        }
    }

    func testRulesThatPlaceNothingOrRepeatAPatternAreRefused() throws {
        let (g, _) = try convolutionGraph()
        let placer = { (text: String) in
            Placer(
                devices: [self.cpu, self.gpu(fast: true)], kernels: try self.kernels(),
                rules: try PlacementRule.parse(text))
        }
        XCTAssertNoThrow(try placer("Conv2D=opencl:0").place(g))
        XCTAssertThrowsError(try placer("xyz=opencl:0").place(g)) {
            XCTAssertTrue(
                "\($0)".hasPrefix("--place: 'xyz' matches no node of the graph; patterns are layers"), "\($0)")
            XCTAssertTrue("\($0)".contains("op types (Conv2D, Placeholder, Relu, Reshape, Variable)"), "\($0)")
        }
        XCTAssertThrowsError(try placer("relu=opencl:0,Relu=cpu").place(g)) {
            XCTAssertEqual(
                "\($0)", "--place: 'Relu' is given twice (relu=opencl:0 and Relu=cpu); give each pattern once")
        }
    }
}
