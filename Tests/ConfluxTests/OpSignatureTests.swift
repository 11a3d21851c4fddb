import Conflux
import TestSupport
import XCTest

/// `Graph.addNode` checks a node's inputs and attributes against its op's signature before any shape function or
/// kernel reads them: a wrong call is an error naming the op and what is wrong, never a trap.
final class OpSignatureTests: XCTestCase {
    private func reason(_ body: () throws -> Tensor) -> String {
        do {
            _ = try body()
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    func testAWrongNumberOfInputsIsAnError() throws {
        let graph = Graph()
        let x = try graph.placeholder([2, 3])
        XCTAssertTrue(reason { try graph.addNode(.add, [x]) }.contains("takes 2 inputs (a, b), got 1"))
        XCTAssertTrue(reason { try graph.addNode(.relu, [x, x]) }.contains("takes 1 inputs (input), got 2"))
        XCTAssertTrue(
            reason { try graph.addNode(.fusedMatMul, [x]) }.contains("takes 2 to 3 inputs (a, b, bias), got 1"))
    }

    func testBatchNormTakesBothStatisticsOrNeither() throws {
        let graph = Graph()
        let x = try graph.placeholder([2, 3, 4, 4])
        let c = try graph.placeholder([3])
        let epsilon = Attributes(["epsilon": .float(1e-5)])
        XCTAssertTrue(
            reason { try graph.addNode(.batchNorm, [x, c, c, c], attributes: epsilon) }
                .contains("give both mean and variance, or neither"))
        XCTAssertTrue(
            reason { try batchNorm(x, scale: c, offset: c, mean: c) }.contains("give both mean and variance"))
        let wrong = try graph.placeholder([4])
        XCTAssertTrue(
            reason { try batchNorm(x, scale: wrong, offset: c) }.contains("input 1 must be [3], one value per channel"))
    }

    func testShapesThatDoNotBroadcastAreAnErrorNamingTheOp() throws {
        let graph = Graph()
        let x = try graph.placeholder([Shape.unknown, 3, 4])
        let message = reason { try multiply(x, graph.placeholder([2, 4])) }
        XCTAssertTrue(message.contains("Mul") && message.contains("do not broadcast"), message)
        XCTAssertEqual(try add(x, graph.placeholder([5, 1, 1, 4])).shape, [5, Shape.unknown, 3, 4])
        XCTAssertEqual(try addN([x, x, graph.placeholder([4])]).shape, [Shape.unknown, 3, 4])
        XCTAssertTrue(reason { try addN([]) }.contains("AddN"))
    }

    /// Rows stream one to one only through an input that has the output's rows, not through one broadcast along
    /// them ([4] against [4, 4] has four rows too, but they are the output's columns).
    func testOnlyInputsWithTheOutputsRowsAreRowwise() throws {
        let graph = Graph()
        let (matrix, row) = (try graph.placeholder([4, 4]), try graph.placeholder([4]))
        for (y, expected) in [
            (try add(matrix, row), [0]), (try add(row, matrix), [1]), (try add(matrix, matrix), [0, 1]),
        ] {
            XCTAssertEqual(OpDefinition.all[.add]!.rowwiseInputs(y.node.attributes), expected)
        }
    }

    func testLayoutOpsRejectWrongArgumentsByName() throws {
        let graph = Graph()
        let x = try graph.placeholder([Shape.unknown, 3, 4])
        XCTAssertTrue(reason { try transpose(x, [0, 0, 1]) }.contains("must order every dimension once"))
        XCTAssertTrue(
            reason { try slice(x, starts: [0], ends: [2], axes: [1], steps: [0]) }.contains("step must not be 0"))
        XCTAssertTrue(
            reason { try slice(x, starts: [0], ends: [2], axes: [3]) }.contains("axis 3 is outside a tensor of rank 3"))
        XCTAssertTrue(reason { try pad(x, [1, 1]) }.contains("needs 6 pads"))
        XCTAssertTrue(reason { try tile(x, [1, 2]) }.contains("one count of at least 1 per dimension"))
        XCTAssertTrue(reason { try tile(x, [1, 0, 1]) }.contains("one count of at least 1 per dimension"))
        XCTAssertTrue(reason { try graph.addNode(.concat, []) }.contains("takes one or more inputs"))
        let message = reason { try concat([x, graph.placeholder([Shape.unknown, 3, 5])], axis: 1) }
        XCTAssertTrue(message.contains("ConcatV2") && message.contains("every dimension but 1"), message)
        // The batch stays unknown through them.
        XCTAssertEqual(try slice(x, starts: [1], ends: [sliceToEnd], axes: [2]).shape, [Shape.unknown, 3, 3])
        XCTAssertEqual(try concat([x, x], axis: -1).shape, [Shape.unknown, 3, 8])
        XCTAssertEqual(try pad(x, [0, 1, 0, 0, 1, 2]).shape, [Shape.unknown, 5, 6])
        XCTAssertEqual(try tile(x, [1, 2, 3]).shape, [Shape.unknown, 6, 12])
    }

    func testCompositesRejectWrongArgumentsByName() throws {
        let graph = Graph()
        let x = try graph.placeholder([Shape.unknown, 3, 1, 4])
        XCTAssertTrue(reason { try squeeze(x, axes: [1]) }.contains("only dimensions of size 1"))
        XCTAssertTrue(reason { try unsqueeze(x, axes: [0, 0]) }.contains("must be distinct places"))
        XCTAssertTrue(reason { try flatten(x, axis: 5) }.contains("Flatten"))
        XCTAssertTrue(reason { try Conflux.softmax(x, axis: 4) }.contains("axis 4 is outside a tensor of rank 4"))
        XCTAssertEqual(try squeeze(x).shape, [Shape.unknown, 3, 4])
        XCTAssertEqual(try unsqueeze(x, axes: [-1]).shape, [Shape.unknown, 3, 1, 4, 1])
        XCTAssertEqual(try flatten(x).shape, [Shape.unknown, 12])
        XCTAssertEqual(try logSoftmax(x, axis: 1).shape, x.shape)
    }

    func testAMissingOrMistypedAttributeIsAnError() throws {
        let graph = Graph()
        let x = try graph.placeholder([1, 1, 5, 5])
        let w = try graph.placeholder([2, 1, 3, 3])
        XCTAssertTrue(
            reason { try graph.addNode(.conv2D, [x, w]) }.contains(
                "needs the attribute 'dilations' (a list of 2 integers)"))
        let shortPads = Attributes([
            "kernel": .ints([3, 3]), "strides": .ints([1, 1]), "pads": .ints([0, 0, 0]), "dilations": .ints([1, 1]),
            "groups": .int(1),
        ])
        XCTAssertTrue(
            reason { try graph.addNode(.conv2D, [x, w], attributes: shortPads) }
                .contains("attribute 'pads' must be a list of 4 integers"))
        var floatGroups = shortPads
        (floatGroups["pads"], floatGroups["groups"]) = (.ints([0, 0, 0, 0]), .float(1))
        XCTAssertTrue(
            reason { try graph.addNode(.conv2D, [x, w], attributes: floatGroups) }
                .contains("attribute 'groups' must be an integer"))
        XCTAssertTrue(
            reason { try conv2d(x, graph.placeholder([3, 1, 3, 3]), groups: 2) }
                .contains("the filter's 3 output channels do not split into 2 groups"))
        XCTAssertTrue(
            reason { try conv2d(x, w, groups: 0) }.contains("groups must be positive"))
        XCTAssertTrue(
            reason { try graph.addNode(.matMul, [x, w], attributes: Attributes(["transposeA": .int(1)])) }
                .contains("attribute 'transposeA' must be a boolean"))
        XCTAssertTrue(reason { try graph.addNode(.constant) }.contains("needs the attribute 'value' (a tensor)"))
    }

    func testAClipWithMinAboveMaxIsAnError() throws {
        let graph = Graph()
        let x = try graph.placeholder([2, 3])
        XCTAssertTrue(reason { try clip(x, min: 1, max: 0) }.contains("min 1.0 is above max 0.0"))
    }

    /// Every op the builders make passes its own signature (the rest of the suite builds them all); and every op
    /// declares one, with names for its inputs.
    func testEveryOpDeclaresItsInputs() {
        for (op, definition) in OpDefinition.all {
            XCTAssertEqual(definition.type, op)
            XCTAssertTrue(definition.signature.inputs.allSatisfy { !$0.isEmpty }, "\(op)")
            XCTAssertLessThanOrEqual(definition.signature.optional, definition.signature.inputs.count, "\(op)")
        }
    }

    /// The runtime reads what a node is from its op's record: sources have no kernel, updates write variables.
    func testRolesComeFromTheRecordAndSourcesHaveNoKernel() throws {
        let graph = Graph()
        let x = try graph.placeholder([2])
        let c = try graph.constant(HostTensor(shape: [2], floats: [1, 2]))
        let v = try graph.variable([2])
        XCTAssertEqual([x, c, v].map(\.node.role), [.placeholder, .constant, .variable])
        XCTAssertEqual(OpDefinition.all[.applyMomentum]?.role, .update)
        XCTAssertEqual(OpDefinition.all[.conv2D]?.role, .compute)
        let kernels = try cpuDevices().kernels
        for (op, definition) in OpDefinition.all {
            XCTAssertEqual(kernels.kernel(for: op, on: .cpu) == nil, definition.role.isSource, "\(op)")
        }
    }
}
