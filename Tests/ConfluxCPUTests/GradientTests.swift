import Conflux
import TestSupport
import XCTest

/// Every differentiable op's gradient against central finite differences, on odd sizes.
final class GradientTests: XCTestCase {
    /// Every op with a gradient function, on the smallest of its parity cases, whatever op is added next: no
    /// differentiable op goes without a numeric check. (Cases of tied maxima are left out: a max has no gradient
    /// there.)
    func testEveryDifferentiableOpOnItsSmallestParityCase() throws {
        for (op, definition) in OpDefinition.all.sorted(by: { $0.key.rawValue < $1.key.rawValue })
        where definition.gradient != nil {
            let cases = ParityCases.all.filter { $0.op == op && $0.gradients && !$0.name.contains("ties") }
            let size = { (c: ParityCase) in c.inputs.map(\.shape.count).reduce(0, +) }
            guard let smallest = cases.min(by: { size($0) < size($1) }) else {
                XCTFail("\(op.rawValue) has a gradient but no parity case to check it on")
                continue
            }
            try GradientCheck.check(smallest.inputs, smallest.build)
        }
    }

    func testMatMulAllTransposes() throws {
        for (ta, tb) in [(false, false), (false, true), (true, false), (true, true)] {
            let a = randomTensor(ta ? [5, 3] : [3, 5], seed: 1)
            let b = randomTensor(tb ? [4, 5] : [5, 4], seed: 2)
            try GradientCheck.check([a, b]) { try matmul($0[0], $0[1], transposeA: ta, transposeB: tb) }
        }
    }

    func testAddAndBiasAdd() throws {
        try GradientCheck.check([randomTensor([3, 5], seed: 1), randomTensor([3, 5], seed: 2)]) {
            try add($0[0], $0[1])
        }
        try GradientCheck.check([randomTensor([2, 3, 3, 5], seed: 3), randomTensor([3], seed: 4)]) {
            try biasAdd($0[0], $0[1])
        }
    }

    func testConv2DEveryPadding() throws {
        let cases: [(Shape, Shape, Int, Padding)] = [
            ([2, 3, 7, 6], [4, 3, 3, 3], 1, .same),
            ([1, 2, 7, 9], [3, 2, 3, 2], 2, .valid),
            ([2, 1, 5, 5], [2, 1, 3, 3], 2, .explicit(top: 1, bottom: 0, left: 2, right: 1)),
        ]
        for (i, (xShape, wShape, stride, padding)) in cases.enumerated() {
            let x = randomTensor(xShape, seed: UInt64(10 + i))
            let w = randomTensor(wShape, seed: UInt64(20 + i))
            try GradientCheck.check([x, w]) { try conv2d($0[0], $0[1], stride: stride, padding: padding) }
        }
    }

    func testPooling() throws {
        let x = distinctTensor([2, 3, 7, 7], seed: 5)
        try GradientCheck.check([x]) { try maxPool2d($0[0], size: 2) }
        try GradientCheck.check([x]) { try maxPool2d($0[0], size: 3, stride: 2, padding: .same) }
        try GradientCheck.check([x]) { try avgPool2d($0[0], size: 2) }
        try GradientCheck.check([x]) { try avgPool2d($0[0], size: 3, stride: 2, padding: .same) }
    }

    func testActivations() throws {
        let x = distinctTensor([3, 7], seed: 6)
        try GradientCheck.check([x]) { try relu($0[0]) }
        try GradientCheck.check([x]) { try tanh($0[0]) }
        try GradientCheck.check([x]) { try sigmoid($0[0]) }
        try GradientCheck.check([randomTensor([3, 7], seed: 7, in: -3...3)]) { try softmax($0[0]) }
    }

    func testSoftmaxCrossEntropyAndReductions() throws {
        let logits = randomTensor([5, 7], seed: 8, in: -3...3)
        let labels = HostTensor(shape: [5], ints: [0, 6, 3, 3, 1])
        try GradientCheck.check([logits, labels], wrt: [0]) { try softmaxCrossEntropy(logits: $0[0], labels: $0[1]) }
        try GradientCheck.check([logits]) { try reshape(mean($0[0]), [1]) }
        try GradientCheck.check([logits]) { try reshape(sum($0[0]), [1]) }
    }

    func testReshape() throws {
        try GradientCheck.check([randomTensor([2, 3, 5], seed: 9)]) { try reshape($0[0], [Shape.unknown, 5]) }
    }
}
