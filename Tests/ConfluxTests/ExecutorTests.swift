import Conflux
import ConfluxCPU
import Foundation
import TestSupport
import XCTest

/// A test double: a device of its own kind whose kernels are the CPU's, each delayed, so that concurrency shows.
/// Like an accelerator, its memory is not the host's: transfers go through its (slow) `read` and `write`.
private final class DelayedDevice: Device, @unchecked Sendable {
    static let delayedKind = DeviceKind(rawValue: "delayed")
    let id: String
    let kind = DelayedDevice.delayedKind
    let name = "delayed test device"
    let properties: [(String, String)] = []
    let inner: CPUDevice
    var allocations: Int { inner.allocations }

    init(index: Int) throws {
        id = "delayed:\(index)"
        inner = try CPUDevice()
    }

    func allocate(byteCount: Int, for tensor: String) throws -> any DeviceStorage {
        try inner.allocate(byteCount: byteCount, for: tensor)
    }
    func upload(_ host: HostTensor, to tensor: DeviceTensor) throws { try inner.upload(host, to: tensor) }
    func download(_ tensor: DeviceTensor) throws -> HostTensor { try inner.download(tensor) }
    var viewAlignment: Int { inner.viewAlignment }
    func view(of tensor: DeviceTensor, offset: Int, shape: Shape) throws -> DeviceTensor {
        try inner.view(of: tensor, offset: offset, shape: shape)
    }

    /// A slow link: every copy to or from the host takes a while.
    func read(
        _ tensor: DeviceTensor, bytes: Range<Int>, into host: UnsafeMutableRawPointer, after event: (any DeviceEvent)?
    ) throws {
        Thread.sleep(forTimeInterval: 0.02)
        try inner.read(tensor, bytes: bytes, into: host, after: event)
    }

    func write(
        _ host: UnsafeRawPointer, to tensor: DeviceTensor, bytes: Range<Int>, after event: (any DeviceEvent)?
    ) throws -> (any DeviceEvent)? {
        Thread.sleep(forTimeInterval: 0.02)
        return try inner.write(host, to: tensor, bytes: bytes, after: event)
    }

    /// The CPU kernels, each after `delay` seconds, registered for this kind.
    static func register(into registry: inout KernelRegistry, delay: Double) {
        for op in OpDefinition.all.keys {
            guard let kernel = registry.kernel(for: op, on: .cpu) else { continue }
            registry.register(op, on: delayedKind) { context in
                Thread.sleep(forTimeInterval: delay)
                let device = (context.device as! DelayedDevice).inner
                try kernel(
                    KernelContext(node: context.node, inputs: context.inputs, output: context.output, device: device))
            }
        }
    }
}

final class ExecutorTests: XCTestCase {
    /// Two branches of delayed ops on two devices, joined on the CPU; the second branch starts from the first
    /// op of the first, so that tensor crosses while its producer goes on computing.
    private func branches() throws -> (Graph, Tensor, Tensor, Tensor) {
        let g = Graph()
        let x = try g.placeholder([64, 33])
        let first = try g.device("delayed:0") { try sigmoid(x) }
        let left = try g.device("delayed:0") { try tanh(relu(first)) }
        let right = try g.device("delayed:1") { try sigmoid(tanh(relu(first))) }
        let joined = try g.device("cpu:0") { try add(left, right) }
        return (g, x, left, joined)
    }

    /// A traced session over cpu:0 and two delayed devices, placed as the graph's device scopes ask.
    private func placedSession(_ graph: Graph, delay: Double) throws -> (Session, Tracer) {
        var kernels = try cpuDevices().kernels
        DelayedDevice.register(into: &kernels, delay: delay)
        let session = try requestedPlacementSession(
            graph, devices: [try CPUDevice(), try DelayedDevice(index: 0), try DelayedDevice(index: 1)],
            kernels: kernels)
        let tracer = Tracer()
        session.tracer = tracer
        return (session, tracer)
    }

    /// What cpu:0 alone computes.
    private func onTheCPU(_ graph: Graph, _ fetches: [Tensor], feeds: [Tensor: HostTensor]) throws -> [HostTensor] {
        try Session(graph: graph, device: try CPUDevice(), kernels: cpuDevices().kernels).run(fetches, feeds: feeds)
    }

    func testIndependentKernelsAndTransfersOverlapAndResultsStayCorrect() throws {
        let (graph, x, left, joined) = try branches()
        let (session, tracer) = try placedSession(graph, delay: 0.03)
        let input = randomTensor([64, 33], seed: 4)
        let values = try session.run([joined, left], feeds: [x: input])

        let reference = try onTheCPU(graph, [joined, left], feeds: [x: input])
        XCTAssertEqual(values, reference, "the placed run computes exactly what one device computes")

        let spans = tracer.spans
        let left0 = spans.filter { $0.stream == "delayed:0 compute" && $0.kind == .kernel }
        let right1 = spans.filter { $0.stream == "delayed:1 compute" && $0.kind == .kernel }
        XCTAssertEqual(left0.map(\.name), ["Sigmoid", "Relu", "Tanh"])
        XCTAssertEqual(right1.map(\.name), ["Relu_1", "Tanh_1", "Sigmoid_1"])
        func overlap(_ a: Tracer.Span, _ b: Tracer.Span) -> Bool { a.start < b.end && b.start < a.end }
        XCTAssertTrue(
            left0.contains { a in right1.contains { overlap(a, $0) } }, "the two devices compute at the same time")
        let transfers = spans.filter { $0.kind == .transfer }
        XCTAssertEqual(
            Set(transfers.map(\.stream)),
            ["delayed:0 → delayed:1 transfer", "delayed:0 → cpu:0 transfer", "delayed:1 → cpu:0 transfer"])
        // The first op's output travels to delayed:1 on delayed:0's transfer stream while delayed:0 computes Relu.
        let copy = try XCTUnwrap(transfers.first { $0.stream == "delayed:0 → delayed:1 transfer" })
        XCTAssertEqual(copy.name, "Sigmoid")
        XCTAssertTrue(overlap(copy, left0[1]), "\(copy) vs \(left0[1])")
        XCTAssertGreaterThan(tracer.summary.hiddenSeconds, 0)
    }

    func testTheSummaryCountsTransferTimeHiddenBehindAnyKernel() {
        let spans = [
            Tracer.Span(stream: "a compute", kind: .kernel, name: "k1", start: 0, end: 2),
            Tracer.Span(stream: "b compute", kind: .kernel, name: "k2", start: 1, end: 3),
            Tracer.Span(stream: "b compute", kind: .wait, name: "receive t", start: 3, end: 5),
            // 1 s of it under k1 and k2, the rest after them; the second copy overlaps the first.
            Tracer.Span(stream: "a → b transfer", kind: .transfer, name: "t1", start: 2, end: 4.5),
            Tracer.Span(stream: "b → a transfer", kind: .transfer, name: "t2", start: 4, end: 5),
        ]
        let summary = TraceSummary(spans)
        XCTAssertEqual(summary.transferSeconds, 3, accuracy: 1e-12)
        XCTAssertEqual(summary.hiddenSeconds, 1, accuracy: 1e-12)
        XCTAssertEqual(summary.computeSeconds, 3, accuracy: 1e-12)
        XCTAssertEqual(summary.hiddenFraction, 1.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(summary.transfers, 2)
        XCTAssertEqual(summary.kernels, 2)
    }

    func testWithoutOverlapEachCopyHoldsUpItsProducer() throws {
        let (graph, x, left, joined) = try branches()
        let (session, tracer) = try placedSession(graph, delay: 0.03)
        session.overlapsTransfers = false
        let input = randomTensor([64, 33], seed: 4)
        let reference = try onTheCPU(graph, [joined, left], feeds: [x: input])
        XCTAssertEqual(try session.run([joined, left], feeds: [x: input]), reference)

        let spans = tracer.spans
        let copy = try XCTUnwrap(spans.first { $0.stream == "delayed:0 → delayed:1 transfer" })
        let relu = try XCTUnwrap(spans.first { $0.stream == "delayed:0 compute" && $0.name == "Relu" })
        XCTAssertLessThanOrEqual(copy.end, relu.start, "delayed:0 computes Relu only after the copy of Sigmoid")
    }

    func testALargeTensorStreamsAndItsConsumerStartsOnTheFirstChunk() throws {
        let g = Graph()
        let x = try g.placeholder([256, 64])
        let y = try g.device("delayed:0") { try sigmoid(x) }
        let z = try g.device("delayed:1") { try relu(y) }
        let (session, tracer) = try placedSession(g, delay: 0.02)
        // y is 64 KiB: four chunks of 64 rows.
        session.streamingChunkBytes = 16 << 10
        let input = randomTensor([256, 64], seed: 6)
        let reference = try onTheCPU(g, [z], feeds: [x: input])
        XCTAssertEqual(try session.run([z], feeds: [x: input]), reference)

        let pieces = tracer.spans.filter { $0.stream == "delayed:1 compute" && $0.kind == .kernel }
        XCTAssertEqual(
            pieces.map(\.name),
            ["Relu rows 0..<64", "Relu rows 64..<128", "Relu rows 128..<192", "Relu rows 192..<256"])
        let copy = try XCTUnwrap(tracer.spans.first { $0.kind == .transfer })
        XCTAssertLessThan(pieces[0].start, copy.end, "the consumer starts before the last chunk has arrived")
    }

    func testOnlyReadersThatKeepRowsRunInPieces() throws {
        let g = Graph()
        let x = try g.placeholder([256, 64])
        let (first, second) = try g.device("delayed:0") { (try sigmoid(x), try tanh(x)) }
        let (kept, mixed) = try g.device("delayed:1") {
            // Row i of `first` makes row i of the product; with transposeA every output row reads every input row.
            (
                try matmul(first, g.constant(randomTensor([64, 16], seed: 1))),
                try matmul(second, g.constant(randomTensor([256, 8], seed: 2)), transposeA: true)
            )
        }
        let (session, tracer) = try placedSession(g, delay: 0.001)
        session.streamingChunkBytes = 16 << 10
        let input = randomTensor([256, 64], seed: 3)
        let reference = try onTheCPU(g, [kept, mixed], feeds: [x: input])
        for (actual, expected) in zip(try session.run([kept, mixed], feeds: [x: input]), reference) {
            assertClose(actual.floats, expected.floats, relative: 1e-6, absolute: 1e-6, "streamed products")
        }
        let names = tracer.spans.filter { $0.stream == "delayed:1 compute" && $0.kind == .kernel }.map(\.name)
        XCTAssertEqual(names.filter { $0.hasPrefix("MatMul rows") }.count, 4, "\(names)")
        XCTAssertTrue(names.contains("MatMul_1"), "\(names)")
    }

    func testAKernelErrorStopsEveryLane() throws {
        let g = Graph()
        let logits = try g.placeholder([2, 3])
        let labels = try g.placeholder([2], .int32)
        let loss = try g.device("delayed:0") { try softmaxCrossEntropy(logits: logits, labels: labels) }
        let other = try g.device("delayed:1") { try relu(logits) }
        let total = try g.device("cpu:0") { try add(sum(loss), sum(other)) }
        let (session, _) = try placedSession(g, delay: 0.001)
        XCTAssertThrowsError(
            try session.run(total, feeds: [logits: .zeros([2, 3]), labels: HostTensor(shape: [2], ints: [0, 9])])
        ) {
            XCTAssertTrue("\($0)".contains("label 9 at row 1"), "\($0)")
        }
        XCTAssertEqual(
            try session.run(total, feeds: [logits: .zeros([2, 3]), labels: HostTensor(shape: [2], ints: [0, 1])]).shape,
            .scalar)
    }

    func testStatefulUpdatesWaitForTheirOutgoingCopies() throws {
        // The variable is sent to the CPU and updated on its own device in the same run: the CPU must see the
        // value from before the update.
        let g = Graph()
        let w = try g.device("delayed:0") { try g.variable([3], initializer: .constant(1)) }
        let read = try g.device("cpu:0") { try relu(w) }
        let update = try g.device("delayed:0") {
            try applyMomentum(
                w, accumulator: g.variable([3]), gradient: g.constant(HostTensor(shape: [3], floats: [1, 1, 1])),
                learningRate: g.constant(0.5), momentum: 0)
        }
        let (session, _) = try placedSession(g, delay: 0.01)
        XCTAssertEqual(try session.run([read], targets: [update])[0].floats, [1, 1, 1])
        XCTAssertEqual(try session.run([read], targets: [update])[0].floats, [0.5, 0.5, 0.5])
    }
}
