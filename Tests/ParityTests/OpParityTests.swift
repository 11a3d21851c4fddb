import Conflux
import TestSupport
import XCTest

/// Every op registered on more than one device kind, on every device found besides the CPU, against the CPU device:
/// the table of `ParityCases`, forward and every gradient. (The CPU itself is checked against PyTorch in
/// `PyTorchReferenceTests`.)
final class OpParityTests: XCTestCase {
    /// Ops checked through the gradient of another op's cases rather than cases of their own.
    static let checkedThroughGradients: [OpType: OpType] = [
        .biasAddGrad: .biasAdd, .conv2DBackpropInput: .conv2D, .conv2DBackpropFilter: .conv2D, .maxPoolGrad: .maxPool,
        .avgPoolGrad: .avgPool, .reluGrad: .relu, .tanhGrad: .tanh, .sigmoidGrad: .sigmoid, .softmaxGrad: .softmax,
        .softmaxCrossEntropyGrad: .softmaxCrossEntropy, .reduceGrad: .sum, .leakyReluGrad: .leakyRelu,
        .clipGrad: .clip, .hardSwishGrad: .hardSwish, .batchNormGrad: .batchNorm, .batchNormScaleGrad: .batchNorm,
        .sumToShape: .add, .sliceGrad: .slice, .logSoftmaxGrad: .logSoftmax, .dropoutGrad: .dropout, .lrnGrad: .lrn,
    ]

    func testEveryOpOnEveryOtherDeviceMatchesTheCPU() throws {
        let devices = try allDevices.get()
        let check = ParityCheck(reference: try devices.device(named: "cpu:0"), kernels: devices.kernels)
        var table: [ParityResult] = []
        for device in try devicesBesideTheCPU() {
            for parityCase in ParityCases.all {
                table += try check.run(parityCase, on: device)
            }
            table += try check.runUpdates(on: device)
        }
        print("\nop parity against cpu:0 (max absolute / relative error over the output and every gradient)")
        let rows = Dictionary(grouping: table) { "\($0.device)  \($0.op) \($0.name)" }
        for key in rows.keys.sorted() {
            let results = rows[key]!
            let status = results.allSatisfy(\.passed) ? "pass" : "FAIL"
            let absolute = results.map(\.maxAbsoluteError).max()!
            let relative = results.map(\.maxRelativeError).max()!
            print(String(format: "%@  %@  %.2e / %.2e  (%d fetches)", status, key, absolute, relative, results.count))
        }
        for result in table where !result.passed {
            XCTFail(
                "\(result.op) \(result.name) on \(result.device): \(result.fetch) differs by \(result.maxAbsoluteError)"
            )
        }
    }

    func testEveryOpOnSeveralKindsHasCases() throws {
        let kernels = try allDevices.get().kernels
        let shared = Set(OpDefinition.all.keys.filter { kernels.kinds(for: $0).count > 1 })
        let covered = Set(ParityCases.all.map(\.op) + ParityCheck.updateOps)
            .union(
                Self.checkedThroughGradients.filter { covered in ParityCases.all.contains { $0.op == covered.value } }
                    .keys)
        XCTAssertEqual(
            shared.subtracting(covered).map(\.rawValue).sorted(), [], "ops on several device kinds without a case")
    }

    /// Every op that computes has a kernel on some backend; every op on several kinds of device has parity cases
    /// (above); and every differentiable op has a case whose gradients are compared with PyTorch's
    /// (`PyTorchReferenceTests`), directly or through the gradient op it builds.
    func testEveryDifferentiableOpHasAGradientCheckedAgainstPyTorch() throws {
        let kernels = try allDevices.get().kernels
        for (op, definition) in OpDefinition.all where !definition.role.isSource {
            XCTAssertFalse(kernels.kinds(for: op).isEmpty, "\(op.rawValue) has no kernel on any backend")
            guard definition.gradient != nil else { continue }
            let checked = ParityCases.all.contains {
                $0.op == op && $0.gradients && PyTorchReferenceTests.withoutReference[$0.label] == nil
            }
            XCTAssertTrue(checked, "\(op.rawValue) has a gradient but no case checks it against PyTorch")
        }
    }

    func testAWrongKernelFailsAndIsNamed() throws {
        let devices = try allDevices.get()
        for device in try devicesBesideTheCPU() {
            let broken = devices.kernels.injectingFault(into: .maxPool, on: device.kind)
            let check = ParityCheck(reference: try devices.device(named: "cpu:0"), kernels: broken)
            let results = try ParityCases.all.filter { $0.op == .maxPool }.flatMap { try check.run($0, on: device) }
            let failures = results.filter { !$0.passed }
            XCTAssertFalse(failures.isEmpty)
            XCTAssertTrue(failures.allSatisfy { $0.op == "MaxPool" })
            XCTAssertTrue(
                failures.contains { $0.name.hasPrefix("2×2 stride 2 on 7×9") && $0.fetch == "output" }, "\(failures)")
        }
    }
}
