import Conflux
import TestSupport
import XCTest

/// Shape, Gather, Cast and ConstantOfShape fold into constants when their inputs are constants: the shape
/// arithmetic of an imported graph leaves no node behind.
final class ConstantFoldingTests: XCTestCase {
    func testShapeArithmeticOnKnownShapesFoldsToConstants() throws {
        let graph = Graph()
        let x = try graph.placeholder([2, 3, 4, 5])
        let dims = try shape(x)
        XCTAssertEqual(dims.constantValue?.ints, [2, 3, 4, 5])
        // ONNX's flatten of the spatial dimensions: Gather the first two sizes, concatenate with -1.
        let leading = try gather(dims, graph.constant(HostTensor(shape: [2], ints: [0, -3])))
        XCTAssertEqual(leading.constantValue?.ints, [2, 3])
        XCTAssertEqual(try cast(leading, to: .float32).constantValue?.floats, [2, 3])
        let zeros = try constantOfShape(leading, value: 0.5)
        XCTAssertEqual(zeros.constantValue?.shape, [2, 3])
        XCTAssertEqual(zeros.constantValue?.floats, [Float](repeating: 0.5, count: 6))
        XCTAssertEqual(
            try cast(graph.constant(HostTensor(shape: [3], floats: [-2.7, 0.5, 3.9])), to: .int32).constantValue?.ints,
            [-2, 0, 3], "toward zero")
        XCTAssertFalse(graph.nodes.contains { [.shape, .gather, .cast].contains($0.op) }, "nothing left to run")
    }

    func testAnUnknownBatchLeavesAShapeNodeThatTheCPUEvaluates() throws {
        let harness = try CPUHarness()
        let x = try harness.graph.placeholder([Shape.unknown, 3])
        let dims = try shape(x)
        XCTAssertNil(dims.constantValue)
        XCTAssertEqual(try harness.session.run(dims, feeds: [x: .zeros([7, 3])]).ints, [7, 3])
    }

    func testBadFoldsAreErrorsNamingTheOp() throws {
        let graph = Graph()
        let sizes = try graph.constant(HostTensor(shape: [2], ints: [4, 5]))
        XCTAssertThrowsError(try gather(sizes, graph.constant(HostTensor(shape: [1], ints: [2])))) {
            XCTAssertTrue("\($0)".contains("GatherV2") && "\($0)".contains("index 2 at position 0 is outside −2..<2"))
        }
        XCTAssertThrowsError(try constantOfShape(graph.placeholder([2], .int32))) {
            XCTAssertTrue("\($0)".contains("ConstantOfShape") && "\($0)".contains("must be a constant"), "\($0)")
        }
        XCTAssertThrowsError(try gather(sizes, sizes, axis: 1)) {
            XCTAssertTrue("\($0)".contains("axis 1 is outside a tensor of rank 1"), "\($0)")
        }
    }
}
