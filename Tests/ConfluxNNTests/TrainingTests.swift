import Conflux
import ConfluxCPU
import ConfluxNN
import TestSupport
import XCTest

/// End to end: LeNet-5 learns real Fashion-MNIST images on the CPU device.
final class TrainingTests: XCTestCase {
    /// The 10,000-image test split loads faster than the training split and serves these short runs as well.
    private static let images = Result { try Dataset(directory: Dataset.defaultDirectory, split: .test) }

    private func losses(seed: UInt64, steps: Int, device: CPUDevice? = nil) throws -> [Float] {
        let data = try Self.images.get().prefix(steps * 32)
        let devices = try cpuDevices()
        let classifier = try Classifier(
            model: lenet5(), imageShape: data.imageShape, optimizer: SGD(learningRate: 0.05, momentum: 0.9), seed: seed)
        let trainer = Trainer(
            classifier: classifier, device: try device ?? CPUDevice(), kernels: devices.kernels, seed: seed)
        var losses: [Float] = []
        _ = try trainer.trainEpoch(data, batchSize: 32, epoch: 1) { losses.append($0.loss) }
        return losses
    }

    func testLeNetLossFalls() throws {
        let losses = try losses(seed: 3, steps: 40)
        let first = losses.prefix(5).reduce(0, +) / 5
        let last = losses.suffix(5).reduce(0, +) / 5
        XCTAssertGreaterThan(first, 2.0, "an untrained 10-class model starts near ln 10 = 2.3")
        XCTAssertLessThan(last, first * 0.6, "losses \(losses)")
    }

    func testSameSeedSameLosses() throws {
        XCTAssertEqual(try losses(seed: 9, steps: 4), try losses(seed: 9, steps: 4))
        XCTAssertNotEqual(try losses(seed: 9, steps: 4), try losses(seed: 10, steps: 4))
    }

    func testTrainingStepsAllocateNothingAfterTheFirst() throws {
        let device = try CPUDevice()
        let data = try Self.images.get().prefix(32 * 6)
        let classifier = try Classifier(model: lenet5(), imageShape: data.imageShape, optimizer: Adam(), seed: 1)
        let trainer = Trainer(classifier: classifier, device: device, kernels: try cpuDevices().kernels, seed: 1)
        var counts: [Int] = []
        _ = try trainer.trainEpoch(data, batchSize: 32, epoch: 1) { _ in counts.append(device.allocations) }
        XCTAssertGreaterThan(counts[0], 0)
        XCTAssertEqual(Set(counts).count, 1, "allocations per step: \(counts)")
    }

    /// Over a few hundred steps, after the first few, the process's resident memory stays where it is: every buffer
    /// of the step is planned once, batches are converted from the data set's bytes one at a time, and nothing
    /// accumulates per step.
    func testResidentMemoryStaysFlatOverHundredsOfSteps() throws {
        let data = try Self.images.get().prefix(32 * 300)
        let classifier = try Classifier(
            model: lenet5(), imageShape: data.imageShape, optimizer: SGD(learningRate: 0.01, momentum: 0.9), seed: 2)
        let trainer = Trainer(
            classifier: classifier, device: try CPUDevice(), kernels: try cpuDevices().kernels, seed: 2)
        var resident: [Int] = []
        _ = try trainer.trainEpoch(data, batchSize: 32, epoch: 1) { _ in resident.append(try! residentBytes()) }
        XCTAssertEqual(resident.count, 300)
        let growth = resident[299] - resident[20]
        XCTAssertLessThan(growth, 2 << 20, "resident memory grew by \(growth >> 10) KiB from step 20 to step 300")
    }

    func testEvaluationCountsEveryImage() throws {
        let data = try Self.images.get().prefix(250)
        let classifier = try Classifier(model: lenet5(), imageShape: data.imageShape, optimizer: Adam(), seed: 1)
        let trainer = Trainer(
            classifier: classifier, device: try CPUDevice(), kernels: try cpuDevices().kernels, seed: 1)
        let evaluation = try trainer.evaluate(data, batchSize: 100)
        XCTAssertEqual(evaluation.count, 250)
        XCTAssertTrue((0...1).contains(evaluation.accuracy))
        XCTAssertEqual(evaluation.loss, log(10), accuracy: 0.5, "an untrained model is close to uniform")
    }
}
