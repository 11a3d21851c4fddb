import Conflux
import XCTest

final class ShapeInferenceTests: XCTestCase {
    func testConvolutionAndPoolingOutputSizes() throws {
        let g = Graph()
        let x = try g.placeholder([Shape.unknown, 3, 28, 28])
        let w = try g.variable([6, 3, 5, 5])
        XCTAssertEqual(try conv2d(x, w, padding: .same).shape, [Shape.unknown, 6, 28, 28])
        XCTAssertEqual(try conv2d(x, w, padding: .valid).shape, [Shape.unknown, 6, 24, 24])
        XCTAssertEqual(try conv2d(x, w, stride: 2, padding: .same).shape, [Shape.unknown, 6, 14, 14])
        XCTAssertEqual(
            try conv2d(x, w, stride: 3, padding: .explicit(top: 1, bottom: 0, left: 2, right: 2)).shape,
            [Shape.unknown, 6, 9, 10])
        XCTAssertEqual(try maxPool2d(x, size: 2).shape, [Shape.unknown, 3, 14, 14])
        XCTAssertEqual(try avgPool2d(x, size: 3, stride: 2, padding: .same).shape, [Shape.unknown, 3, 14, 14])
    }

    func testSamePaddingPutsTheExtraAfter() throws {
        let g = Graph()
        let x = try g.placeholder([1, 1, 6, 6])
        let y = try conv2d(x, try g.variable([1, 1, 4, 4]), padding: .same)
        XCTAssertEqual(y.node.attributes.ints("pads"), [1, 2, 1, 2])
    }

    func testChannelMismatchNamesOpAndShapes() throws {
        let g = Graph()
        let x = try g.placeholder([Shape.unknown, 3, 28, 28], name: "images")
        let w = try g.variable([6, 1, 5, 5])
        XCTAssertThrowsError(try conv2d(x, w)) { error in
            XCTAssertEqual(
                "\(error)",
                "Conv2D 'Conv2D': input has 3 channels but the filter expects 1 (input shapes [?, 3, 28, 28], [6, 1, 5, 5])"
            )
        }
    }

    func testMatMulInnerDimensionMismatch() throws {
        let g = Graph()
        let a = try g.placeholder([4, 3])
        let b = try g.placeholder([4, 5])
        XCTAssertThrowsError(try matmul(a, b)) { error in
            guard case .shapeMismatch(let op, _, let shapes, let reason) = error as? ConfluxError else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(op, "MatMul")
            XCTAssertEqual(shapes, [[4, 3], [4, 5]])
            XCTAssertTrue(reason.contains("3 and 4"), reason)
        }
        XCTAssertEqual(try matmul(a, b, transposeA: true).shape, [3, 5])
    }

    func testWindowLargerThanInputIsAnError() throws {
        let g = Graph()
        let x = try g.placeholder([1, 1, 4, 4])
        XCTAssertThrowsError(try conv2d(x, try g.variable([1, 1, 5, 5])))
        XCTAssertThrowsError(try maxPool2d(x, size: 2, stride: 0))
    }

    func testReshapeInfersOneDimension() throws {
        let g = Graph()
        let x = try g.placeholder([Shape.unknown, 16, 5, 5])
        XCTAssertEqual(try reshape(x, [Shape.unknown, 400]).shape, [Shape.unknown, 400])
        XCTAssertThrowsError(try reshape(x, [10, 40]), "an unknown batch needs an unknown target dimension")
        let y = try g.placeholder([2, 6])
        XCTAssertEqual(try reshape(y, [3, Shape.unknown]).shape, [3, 4])
        XCTAssertThrowsError(try reshape(y, [5, Shape.unknown]))
    }

    func testBiasAndLossShapes() throws {
        let g = Graph()
        let logits = try g.placeholder([Shape.unknown, 10])
        XCTAssertThrowsError(try biasAdd(logits, try g.variable([9])))
        let labels = try g.placeholder([Shape.unknown], .int32)
        XCTAssertEqual(try softmaxCrossEntropy(logits: logits, labels: labels).shape, [Shape.unknown])
        XCTAssertThrowsError(try softmaxCrossEntropy(logits: logits, labels: logits), "labels must be Int32 [N]")
        XCTAssertEqual(try mean(logits).shape, .scalar)
        XCTAssertEqual(try argmax(logits).dtype, .int32)
    }

    func testNamesFollowScopesAndStayUnique() throws {
        let g = Graph()
        let x = try g.placeholder([1, 2])
        let names = try g.nameScope("fc1") { [try relu(x).name, try relu(x).name] }
        XCTAssertEqual(names, ["fc1/Relu", "fc1/Relu_1"])
    }
}
