import Conflux
import ConfluxCPU
import ConfluxNN
import TestSupport
import XCTest

/// A narrow ResNet (batch norm, residual adds, strided projections, global pooling) trained for 50 steps on the
/// CPU and on each OpenCL device in lockstep: before each step the OpenCL session takes every variable (weights,
/// momentum, running statistics) from the CPU's, then both take the step on the same batch.
///
/// Why lockstep rather than two free runs, as `LeNetEndToEndParityTests` does: after batch norm, values are dense
/// around zero, so a rounding difference of 1e-7 flips a few ReLUs, and each flip passes or stops that element's
/// gradient. The flips make training with batch norm amplify any difference about tenfold per step: PyTorch's own
/// ResNet-14, started once from its weights and once from the same weights changed by 1e-7 relative, differs by
/// 1e-3 in loss by step 10 (SGD, lr 0.01), as do Conflux's AVX2 and AVX-512 kernels on one CPU. A free run would
/// measure that chaos; lockstep measures each step.
///
/// The CPU here runs its own vector kernels (`CPUDevice(instructionSet:)`), not oneDNN's convolutions: oneDNN sums
/// in another order, which at one step of these 50 (step 17) crosses such a ReLU edge within the step itself.
/// oneDNN's convolutions are checked against PyTorch and the reference loops on their own (`OneDNNConvolutionTests`,
/// `PyTorchReferenceTests`).
final class ResNetEndToEndParityTests: XCTestCase {
    func testFiftyStepsInLockstepMatchTheCPU() throws {
        let devices = try allDevices.get()
        let classifier = try Classifier(
            model: resnet(widths: [4, 8], blocks: 1), imageShape: [1, 28, 28],
            optimizer: SGD(learningRate: 0.05, momentum: 0.9), seed: 1)
        let data = try Dataset(directory: Dataset.defaultDirectory, split: .test).prefix(50 * 16)
        let variables = classifier.graph.variables
        let vectorKernels = try CPUDevice(instructionSet: CPUDevice.instructionSets[0])
        let cpu = Session(graph: classifier.graph, device: vectorKernels, kernels: devices.kernels)
        let stepState = Tolerance(relative: 1e-4, absolute: 1e-6, reason: "one step from the same state")
        for device in try openCLDevices() {
            let other = Session(graph: classifier.graph, device: device, kernels: devices.kernels)
            var largest: Float = 0
            for (step, batch) in Batches(data, size: 16, shuffleSeed: 0).enumerated() {
                for (variable, value) in zip(variables, try cpu.run(variables)) { try other.assign(variable, value) }
                let feeds = classifier.feeds(batch, learningRate: 0.05)
                let expected = try cpu.run([classifier.loss], feeds: feeds, targets: classifier.updates)[0]
                let actual = try other.run([classifier.loss], feeds: feeds, targets: classifier.updates)[0]
                let difference = abs(actual.scalarValue - expected.scalarValue) / expected.scalarValue
                largest = max(largest, difference)
                XCTAssertLessThan(difference, 1e-5, "loss of step \(step + 1) on \(device.id)")
                let state = ParityCase(.variable, "step \(step + 1)", inputs: [], tolerance: stepState) { $0[0] }
                for (variable, (a, e)) in zip(variables, zip(try other.run(variables), try cpu.run(variables))) {
                    let result = ParityCheck.compare(a, e, parityCase: state, device: device.id, fetch: variable.name)
                    XCTAssertTrue(
                        result.passed,
                        "\(variable.name) after step \(step + 1) on \(device.id) differs by \(result.maxAbsoluteError)")
                }
            }
            print("ResNet lockstep on \(device.id): largest relative loss difference \(largest) in 50 steps")
        }
    }
}
