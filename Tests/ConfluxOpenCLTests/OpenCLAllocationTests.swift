import Conflux
import ConfluxNN
import TestSupport
import XCTest

/// Training on an OpenCL device allocates device memory in its first step only: the plan's buffers serve every
/// later one. (That LeNet-5 trains there as it does on the CPU is `LeNetEndToEndParityTests`.)
final class OpenCLAllocationTests: XCTestCase {
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
