import Conflux
import ConfluxNN
import TestSupport
import XCTest

/// LeNet-5 trained on an OpenCL device follows the CPU device step for step.
final class LeNetParityTests: XCTestCase {
    /// The per-step losses of the two devices drift apart only by summation-order rounding, amplified by 50
    /// steps of training: the contract is 1e-3 relative.
    let lossTolerance: Float = 1e-3

    func testFirstFiftyLossesMatchTheCPU() throws {
        let data = try Dataset(directory: Dataset.defaultDirectory, split: .test).prefix(50 * 64)
        let devices = try allDevices.get()
        func losses(on device: any Device) throws -> [Float] {
            let classifier = try Classifier(
                model: lenet5(), imageShape: data.imageShape, optimizer: SGD(learningRate: 0.01, momentum: 0.9), seed: 0)
            let trainer = Trainer(classifier: classifier, device: device, kernels: devices.kernels, seed: 0)
            var losses: [Float] = []
            _ = try trainer.trainEpoch(data, batchSize: 64, epoch: 1) { losses.append($0.loss) }
            return losses
        }
        let reference = try losses(on: devices.device(named: "cpu:0"))
        XCTAssertEqual(reference.count, 50)
        for device in try openCLDevices() {
            assertClose(try losses(on: device), reference, relative: lossTolerance, absolute: 0, "losses on \(device.id)")
        }
    }
}

extension LeNetParityTests {
    func testTrainingStepsAllocateNothingAfterTheFirst() throws {
        let data = try Dataset(directory: Dataset.defaultDirectory, split: .test).prefix(32 * 5)
        for device in try openCLDevices() {
            let classifier = try Classifier(model: lenet5(), imageShape: data.imageShape, optimizer: Adam(), seed: 1)
            let trainer = Trainer(classifier: classifier, device: device, kernels: try allDevices.get().kernels, seed: 1)
            var counts: [Int] = []
            _ = try trainer.trainEpoch(data, batchSize: 32, epoch: 1) { _ in counts.append(device.allocations) }
            XCTAssertEqual(Set(counts).count, 1, "allocations per step on \(device.id): \(counts)")
        }
    }
}
