import Conflux
import XCTest

/// `OpProfile`'s arithmetic on hand-made spans: nothing is run or timed here.
final class OpProfileTests: XCTestCase {
    func testTimesSharesAndThroughputPerOp() throws {
        let g = Graph()
        let a = try g.placeholder([Shape.unknown, 100])
        let w = try g.variable([100, 50], name: "w")
        let product = try matmul(a, w)
        let activated = try relu(product)
        let placement = Placement(
            devices: [a.id: "cpu:0", w.id: "cpu:0", product.id: "cpu:0", activated.id: "opencl:0"], reasons: [:])
        // Two steps: the product takes 3 ms a step, the ReLU 1 ms in two launches; a transfer does not count.
        var spans: [Tracer.Span] = []
        for step in [0.0, 1.0] {
            let relu = activated.name
            spans.append(Tracer.Span(stream: "c", kind: .kernel, name: product.name, start: step, end: step + 0.003))
            spans.append(Tracer.Span(stream: "o", kind: .kernel, name: relu, start: step, end: step + 0.0005))
            spans.append(Tracer.Span(stream: "o", kind: .kernel, name: relu, start: step + 0.5, end: step + 0.5005))
            spans.append(Tracer.Span(stream: "t", kind: .transfer, name: product.name, start: step, end: step + 1))
        }
        let peaks = [
            "cpu:0": DeviceProfile(gflops: 100, memoryGBps: 10, transferGBps: 1, launchMicroseconds: 1),
            "opencl:0": DeviceProfile(gflops: 1000, memoryGBps: 100, transferGBps: 1, launchMicroseconds: 1),
        ]
        let profile = OpProfile(spans: spans, graph: g, placement: placement, steps: 2, batch: 8, peaks: peaks)
        XCTAssertEqual(profile.millisecondsPerStep, 4, accuracy: 1e-9)
        XCTAssertEqual(profile.rows.map { $0.node }, [product.name, activated.name], "slowest first")
        let (matmulRow, reluRow) = (profile.rows[0], profile.rows[1])
        XCTAssertEqual(matmulRow.millisecondsPerStep, 3, accuracy: 1e-9)
        XCTAssertEqual(matmulRow.share, 0.75, accuracy: 1e-9)
        XCTAssertEqual(matmulRow.launchesPerStep, 1)
        // 2·8·100·50 FLOPs in 3 ms; the cost model counts the same for batch 8.
        let flops = CostModel.work(of: product.node, in: g, batch: 8).flops
        XCTAssertEqual(flops, 2 * 8 * 100 * 50)
        XCTAssertEqual(matmulRow.gflops, flops / 0.003 / 1e9, accuracy: 1e-9)
        XCTAssertEqual(matmulRow.fractionOfPeak, max(matmulRow.gflops / 100, matmulRow.gigabytesPerSecond / 10))
        XCTAssertEqual(reluRow.device, "opencl:0")
        XCTAssertEqual(reluRow.launchesPerStep, 2)
        XCTAssertEqual(
            reluRow.fractionOfPeak, max(reluRow.gflops / 1000, reluRow.gigabytesPerSecond / 100), accuracy: 1e-12)
    }
}
