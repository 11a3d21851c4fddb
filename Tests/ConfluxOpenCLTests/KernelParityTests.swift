import Conflux
import TestSupport
import XCTest

/// Every OpenCL kernel, forward and backward, against the CPU device on random shapes: odd sizes, and element
/// counts that are not multiples of any work-group size.
final class KernelParityTests: XCTestCase {
    /// Both devices sum the same Float32 products in different orders (CLBlast tiles, the CPU's OpenBLAS
    /// blocks): for the few hundred terms of these shapes the difference stays below 1e-4 absolute, 1e-4 relative.
    let summation: (relative: Float, absolute: Float) = (1e-4, 1e-4)
    /// exp, log and tanh differ by a few ulps between PoCL's and glibc's implementations.
    let transcendental: (relative: Float, absolute: Float) = (1e-5, 1e-6)

    func testConvolution() throws {
        let cases: [(Shape, Shape, Int, Padding)] = [
            ([3, 3, 13, 11], [5, 3, 3, 3], 1, .same), ([1, 1, 28, 28], [6, 1, 5, 5], 1, .same),
            ([2, 6, 14, 14], [16, 6, 5, 5], 1, .valid), ([2, 5, 31, 29], [7, 5, 3, 2], 2, .same),
            ([3, 2, 9, 7], [4, 2, 3, 3], 3, .explicit(top: 2, bottom: 0, left: 1, right: 2)),
        ]
        for device in try openCLDevices() {
            for (i, (x, w, stride, padding)) in cases.enumerated() {
                try DeviceParity.check(
                    [randomTensor(x, seed: UInt64(i)), randomTensor(w, seed: UInt64(10 + i))], on: device,
                    relative: summation.relative, absolute: summation.absolute,
                    "conv2d \(x) \(w) stride \(stride) \(padding)"
                ) { try conv2d($0[0], $0[1], stride: stride, padding: padding) }
            }
        }
    }

    func testPooling() throws {
        let cases: [(Shape, Int, Int, Padding)] = [
            ([2, 3, 7, 9], 2, 2, .valid), ([1, 5, 13, 13], 3, 2, .same), ([3, 1, 31, 29], 3, 1, .valid),
            ([2, 6, 28, 28], 2, 2, .valid),
        ]
        for device in try openCLDevices() {
            for (i, (shape, size, stride, padding)) in cases.enumerated() {
                let x = distinctTensor(shape, seed: UInt64(i))
                try DeviceParity.check([x], on: device, relative: 0, absolute: 0, "max-pool \(shape) \(size)/\(stride)")
                {
                    try maxPool2d($0[0], size: size, stride: stride, padding: padding)
                }
                try DeviceParity.check(
                    [x], on: device, relative: 1e-5, absolute: 1e-5, "avg-pool \(shape) \(size)/\(stride)"
                ) {
                    try avgPool2d($0[0], size: size, stride: stride, padding: padding)
                }
            }
            // Ties: every window holds equal maxima; both devices must route the gradient to the first.
            let ties = HostTensor(shape: [1, 2, 4, 6], floats: [Float](repeating: 1, count: 48))
            try DeviceParity.check([ties], on: device, relative: 0, absolute: 0, "max-pool ties") {
                try maxPool2d($0[0], size: 3, stride: 1, padding: .same)
            }
        }
    }

    func testMatMulBiasAndActivations() throws {
        for device in try openCLDevices() {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                let a = randomTensor(ta ? [13, 7] : [7, 13], seed: 1)
                let b = randomTensor(tb ? [9, 13] : [13, 9], seed: 2)
                try DeviceParity.check(
                    [a, b], on: device, relative: summation.relative, absolute: summation.absolute,
                    "matmul \(ta) \(tb)"
                ) { try matmul($0[0], $0[1], transposeA: ta, transposeB: tb) }
            }
            let x = distinctTensor([3, 5, 7, 9], seed: 3)
            let bias = randomTensor([5], seed: 4)
            try DeviceParity.check(
                [x, bias], on: device, relative: summation.relative, absolute: summation.absolute, "bias-add"
            ) {
                try biasAdd($0[0], $0[1])
            }
            try DeviceParity.check([x, x], on: device, relative: 0, absolute: 0, "add") { try add($0[0], $0[1]) }
            try DeviceParity.check([x], on: device, relative: 0, absolute: 0, "relu") { try relu($0[0]) }
            try DeviceParity.check(
                [x], on: device, relative: transcendental.relative, absolute: transcendental.absolute, "tanh"
            ) {
                try tanh($0[0])
            }
            try DeviceParity.check(
                [x], on: device, relative: transcendental.relative, absolute: transcendental.absolute, "sigmoid"
            ) {
                try sigmoid($0[0])
            }
            try DeviceParity.check([x], on: device, relative: 0, absolute: 0, "reshape") {
                try reshape($0[0], [15, Shape.unknown])
            }
        }
    }

    func testSoftmaxLossesAndReductions() throws {
        for device in try openCLDevices() {
            let logits = randomTensor([37, 11], seed: 5, in: -20...20)
            let labels = HostTensor(shape: [37], ints: (0..<37).map { Int32($0 * 7 % 11) })
            try DeviceParity.check(
                [logits], on: device, relative: transcendental.relative, absolute: transcendental.absolute,
                "softmax"
            ) { try softmax($0[0]) }
            try DeviceParity.check([logits, labels], on: device, relative: 1e-5, absolute: 1e-5, "cross-entropy") {
                try softmaxCrossEntropy(logits: $0[0], labels: $0[1])
            }
            // A reduction over more elements than one work-group, and an odd count.
            let big = randomTensor([1031, 3], seed: 6)
            try DeviceParity.check([big], on: device, relative: 1e-5, absolute: 1e-4, "sum") {
                try reshape(sum($0[0]), [1])
            }
            try DeviceParity.check([big], on: device, relative: 1e-5, absolute: 1e-6, "mean") {
                try reshape(mean($0[0]), [1])
            }
            try DeviceParity.check(
                [logits, labels], on: device, gradients: false, relative: 0, absolute: 0, "accuracy"
            ) {
                try reshape(accuracy(logits: $0[0], labels: $0[1]), [1])
            }
            try DeviceParity.check([logits], on: device, gradients: false, relative: 0, absolute: 0, "argmax") {
                try argmax($0[0])
            }
        }
    }

    func testOptimizerUpdates() throws {
        let devices = try allDevices.get()
        let check = ParityCheck(reference: try devices.device(named: "cpu:0"), kernels: devices.kernels)
        let expected = try check.optimizerState(on: check.reference).flatMap(\.floats)
        for device in try openCLDevices() {
            let actual = try check.optimizerState(on: device).flatMap(\.floats)
            assertClose(actual, expected, relative: 1e-6, absolute: 1e-6, "optimizer updates on \(device.id)")
        }
    }

    func testOutOfRangeLabelIsReportedAtTheFetch() throws {
        for device in try openCLDevices() {
            let devices = try allDevices.get()
            let graph = Graph()
            let logits = try graph.placeholder([2, 3])
            let labels = try graph.placeholder([2], .int32)
            let loss = try mean(softmaxCrossEntropy(logits: logits, labels: labels))
            let session = Session(graph: graph, device: device, kernels: devices.kernels)
            XCTAssertThrowsError(
                try session.run(loss, feeds: [logits: .zeros([2, 3]), labels: HostTensor(shape: [2], ints: [0, 5])])
            ) {
                XCTAssertTrue("\($0)".contains("label 5 at row 1 is outside"), "\($0)")
            }
            let fine = try session.run(
                loss, feeds: [logits: .zeros([2, 3]), labels: HostTensor(shape: [2], ints: [0, 2])])
            XCTAssertEqual(fine.scalarValue, log(3), accuracy: 1e-6, "the error is cleared after it is reported")
        }
    }
}

extension KernelParityTests {
    func testOutOfMemoryNamesTheTensorAndItsSize() throws {
        for device in try openCLDevices() {
            XCTAssertThrowsError(try device.allocate(byteCount: 1 << 42, for: "conv1/Conv2D")) {
                XCTAssertEqual(
                    "\($0)",
                    "\(device.id) is out of memory allocating 4398046511104 bytes for 'conv1/Conv2D'; try a smaller batch size"
                )
            }
        }
    }
}
