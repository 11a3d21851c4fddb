import Conflux
import ConfluxNN
import TestSupport
import XCTest

/// LeNet-5 trained on an OpenCL device follows the CPU device step for step.
final class LeNetParityTests: XCTestCase {
    /// The per-step losses of the two devices drift apart only by summation-order rounding, amplified by 50
    /// steps of training: the contract is 1e-3 relative.
    let lossTolerance: Float = 1e-3

    /// The per-step losses of the reference recipe over 50 batches, on `device` or as `rules` place it.
    private func losses(device: String, rules: String? = nil) throws -> [Float] {
        let data = try Dataset(directory: Dataset.defaultDirectory, split: .test).prefix(50 * 64)
        let devices = try allDevices.get()
        let classifier = try Classifier(
            model: lenet5(), imageShape: data.imageShape, optimizer: SGD(learningRate: 0.01, momentum: 0.9), seed: 0)
        let placement = try devices.placement(
            for: classifier.graph, device: device, rules: rules.map(PlacementRule.parse) ?? [])
        let session = Session(
            graph: classifier.graph, placement: placement, devices: devices.devices(of: placement),
            kernels: devices.kernels)
        let trainer = Trainer(classifier: classifier, session: session, seed: 0)
        var losses: [Float] = []
        _ = try trainer.trainEpoch(data, batchSize: 64, epoch: 1) { losses.append($0.loss) }
        return losses
    }

    func testFirstFiftyLossesMatchTheCPU() throws {
        let reference = try losses(device: "cpu:0")
        XCTAssertEqual(reference.count, 50)
        for device in try openCLDevices() {
            assertClose(
                try losses(device: device.id), reference, relative: lossTolerance, absolute: 0, "losses on \(device.id)"
            )
        }
    }

    func testMixedPlacementFollowsTheCPU() throws {
        let reference = try losses(device: "cpu:0")
        for device in try openCLDevices() {
            let mixed = try losses(device: "cpu", rules: "conv=\(device.id),pool=\(device.id),dense=cpu")
            assertClose(
                mixed, reference, relative: lossTolerance, absolute: 0, "convolutions and pools on \(device.id)")
        }
    }
}

extension LeNetParityTests {
    func testTrainingStepsAllocateNothingAfterTheFirst() throws {
        let data = try Dataset(directory: Dataset.defaultDirectory, split: .test).prefix(32 * 5)
        for device in try openCLDevices() {
            let classifier = try Classifier(model: lenet5(), imageShape: data.imageShape, optimizer: Adam(), seed: 1)
            let trainer = Trainer(
                classifier: classifier, device: device, kernels: try allDevices.get().kernels, seed: 1)
            var counts: [Int] = []
            _ = try trainer.trainEpoch(data, batchSize: 32, epoch: 1) { _ in counts.append(device.allocations) }
            XCTAssertEqual(Set(counts).count, 1, "allocations per step on \(device.id): \(counts)")
        }
    }
}
