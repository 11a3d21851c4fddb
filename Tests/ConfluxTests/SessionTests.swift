import Conflux
import Foundation
import TestSupport
import XCTest

final class SessionTests: XCTestCase {
    func testVariablesPersistAndInitialiseReproducibly() throws {
        func initial(seed: UInt64) throws -> [Float] {
            let harness = try CPUHarness(seed: seed)
            let w = try harness.graph.variable([4, 3], initializer: .glorotUniform(fanIn: 3, fanOut: 4))
            return try harness.values([w])[0]
        }
        XCTAssertEqual(try initial(seed: 5), try initial(seed: 5))
        XCTAssertNotEqual(try initial(seed: 5), try initial(seed: 6))
        let limit = (6.0 / 7.0).squareRoot()
        XCTAssertTrue(try initial(seed: 5).allSatisfy { abs(Double($0)) <= limit })

        let harness = try CPUHarness()
        let w = try harness.graph.variable([2], initializer: .constant(1))
        let update = try applyMomentum(
            w, accumulator: harness.graph.variable([2]),
            gradient: harness.graph.constant(HostTensor(shape: [2], floats: [1, 2])),
            learningRate: harness.graph.constant(1), momentum: 0)
        for _ in 0..<3 { try harness.session.run([], targets: [update]) }
        XCTAssertEqual(try harness.values([w])[0], [-2, -5])
    }

    func testRunsOnlyWhatTheFetchesNeed() throws {
        let harness = try CPUHarness()
        let g = harness.graph
        let unfed = try g.placeholder([3], name: "unfed")
        _ = try relu(unfed)
        let c = try g.constant(HostTensor(shape: [3], floats: [-1, 0, 2]))
        XCTAssertEqual(try harness.values([try relu(c)])[0], [0, 0, 2], "the unfed placeholder is not needed")
        XCTAssertThrowsError(try harness.session.run(try relu(unfed))) { error in
            XCTAssertEqual(error as? ConfluxError, .missingFeed(placeholder: "unfed", shape: [3]))
        }
    }

    /// Two plans of one session (two fetch sets) take their buffers from the same pool: the second allocates
    /// nothing the first already has, and neither disturbs the other's results.
    func testPlansOfOneSessionShareTheirBuffers() throws {
        let devices = try cpuDevices()
        let cpu = try devices.device(named: "cpu")
        let g = Graph()
        let x = try g.placeholder([Shape.unknown, 64])
        let hidden = try relu(x)
        let (first, second) = (try tanh(hidden), try sigmoid(hidden))
        let session = Session(graph: g, device: cpu, kernels: devices.kernels)
        let input = randomTensor([100, 64], seed: 3)
        let expected = try session.run(first, feeds: [x: input]).floats
        let allocated = cpu.allocations
        let other = try session.run(second, feeds: [x: input]).floats
        XCTAssertEqual(cpu.allocations, allocated, "the second plan's buffers are the first plan's")
        XCTAssertEqual(try session.run(first, feeds: [x: input]).floats, expected)
        // exp differs by an ulp or two between the kernel's vectorised form and Foundation's.
        assertClose(other, input.floats.map { 1 / (1 + exp(-max($0, 0))) }, relative: 1e-6, absolute: 1e-6)
    }

    /// Where no free buffer has a tensor's size, it takes the closest larger one: a network that narrows holds
    /// only the buffers its widest tensors need, and its results are those of the reference.
    func testANarrowerTensorTakesAWiderFreeBuffer() throws {
        let devices = try cpuDevices()
        let cpu = try devices.device(named: "cpu")
        let g = Graph()
        let x = try g.placeholder([100, 64])
        let (a, b) = (randomTensor([64, 256], seed: 1), randomTensor([256, 16], seed: 2))
        let wide = try relu(matmul(x, g.constant(a)))
        let narrow = try tanh(matmul(wide, g.constant(b)))
        let session = Session(graph: g, device: cpu, kernels: devices.kernels)
        let input = randomTensor([100, 64], seed: 3)
        let allocated = cpu.allocations
        let actual = try session.run(narrow, feeds: [x: input]).floats
        // The feed, the two constants and the wide product (fused with its ReLU): the narrow product takes the
        // feed's buffer once read, and its tanh the wide product's. Reusing only buffers of a tensor's own size,
        // both took new ones.
        XCTAssertEqual(cpu.allocations - allocated, 4)
        func product(_ x: [Float], _ w: [Float], k: Int, n: Int) -> [Float] {
            (0..<100 * n).map { i in (0..<k).reduce(Float(0)) { $0 + x[i / n * k + $1] * w[$1 * n + i % n] } }
        }
        let hidden = product(input.floats, a.floats, k: 64, n: 256).map { max($0, 0) }
        let expected = product(hidden, b.floats, k: 256, n: 16).map { Foundation.tanh($0) }
        assertClose(actual, expected, relative: 1e-5, absolute: 1e-5)
    }

    /// A feed never takes the buffer of a tensor whose last reader ran before the feed is first read: every feed is
    /// written before the run starts.
    func testAFeedReadLateHasABufferOfItsOwn() throws {
        let harness = try CPUHarness()
        let g = harness.graph
        let early = try g.placeholder([3], name: "early")
        let activated = try tanh(relu(early))
        // Planned after the ReLU, the early feed's last reader.
        let late = try g.placeholder([3], name: "late")
        let y = try add(activated, late)
        let values = try harness.values([y], [early: HostTensor(shape: [3], floats: [-1, 0, 2]), late: .zeros([3])])
        assertClose(values[0], [0, 0, Foundation.tanh(2)], relative: 1e-6, absolute: 1e-6)
    }

    func testFeedsAreCheckedAgainstTheirPlaceholder() throws {
        let harness = try CPUHarness()
        let x = try harness.graph.placeholder([Shape.unknown, 3], name: "x")
        let y = try relu(x)
        XCTAssertEqual(try harness.session.run(y, feeds: [x: .zeros([5, 3])]).shape, [5, 3])
        XCTAssertEqual(try harness.session.run(y, feeds: [x: .zeros([2, 3])]).shape, [2, 3], "a new batch size works")
        XCTAssertThrowsError(try harness.session.run(y, feeds: [x: .zeros([2, 4])])) { error in
            XCTAssertEqual("\(error)", "placeholder 'x' expects float32 [?, 3] but was fed float32 [2, 4]")
        }
    }

    func testUnknownDeviceListsTheDevicesThatExist() throws {
        let devices = try cpuDevices()
        XCTAssertEqual(try devices.device(named: "cpu").id, "cpu:0")
        XCTAssertEqual(try devices.device(named: "CPU:0").id, "cpu:0")
        XCTAssertThrowsError(try devices.device(named: "opencl:3")) { error in
            XCTAssertEqual("\(error)", "no device named 'opencl:3'; devices found: cpu:0")
        }
    }

    func testGradientOfUnrelatedVariableIsAnError() throws {
        let g = Graph()
        let w = try g.variable([2])
        let unrelated = try g.variable([2], name: "unrelated")
        let loss = try sum(relu(w))
        XCTAssertThrowsError(try gradients(of: loss, wrt: [unrelated])) { error in
            XCTAssertTrue("\(error)".contains("does not depend on it"), "\(error)")
        }
        XCTAssertThrowsError(try gradients(of: relu(w), wrt: [w]), "the loss must be a scalar")
    }

    func testGradientsAccumulateOverEveryPath() throws {
        // loss = Σ (x + x) has gradient 2 everywhere: both paths must be summed.
        let harness = try CPUHarness()
        let x = try harness.graph.placeholder([3])
        let dx = try gradients(of: try sum(add(x, x)), wrt: [x])[0]
        XCTAssertEqual(try harness.values([dx], [x: .zeros([3])])[0], [2, 2, 2])
    }
}
