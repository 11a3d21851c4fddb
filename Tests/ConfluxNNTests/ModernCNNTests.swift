import Conflux
import ConfluxCPU
import ConfluxNN
import TestSupport
import XCTest

/// The layers of modern CNNs: batch norm's two modes, residual blocks, global pooling, depthwise convolutions, and
/// the classifier built twice on one set of variables.
final class ModernCNNTests: XCTestCase {
    private func classifier(_ model: Sequential = resnet(widths: [4, 8], blocks: 1)) throws -> (Classifier, Session) {
        let classifier = try Classifier(
            model: model, imageShape: [1, 28, 28], optimizer: SGD(learningRate: 0.05, momentum: 0.9), seed: 4)
        return (
            classifier, Session(graph: classifier.graph, device: try CPUDevice(), kernels: try cpuDevices().kernels)
        )
    }

    private var images: Dataset { get throws { try Dataset(directory: Dataset.defaultDirectory, split: .test) } }

    func testNamesFollowTorchvision() throws {
        let (classifier, _) = try classifier()
        let names = Set(classifier.checkpointNames.values.filter { !$0.hasPrefix("optimizer.") })
        for name in [
            "conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var", "layer1.0.conv1.weight",
            "layer1.0.bn2.running_var", "layer2.0.downsample.0.weight", "layer2.0.downsample.1.running_mean",
            "fc.weight", "fc.bias",
        ] {
            XCTAssertTrue(names.contains(name), "\(name) missing from \(names.sorted())")
        }
        XCTAssertFalse(names.contains("layer1.0.downsample.0.weight"), "an identity shortcut has no projection")
        XCTAssertFalse(names.contains("conv1.bias"), "a convolution before batch norm has no bias")
        let runningStatistics = classifier.graph.variables.filter { $0.name.hasSuffix("running_mean") }
        XCTAssertTrue(runningStatistics.allSatisfy { !classifier.parameters.contains($0) }, "state is not trained")
    }

    func testTrainingUsesTheBatchAndEvaluationTheRunningStatistics() throws {
        let (classifier, session) = try classifier()
        var batches = Batches(try images.prefix(32), size: 32, shuffleSeed: nil)
        let batch = try XCTUnwrap(batches.next())
        let feeds = classifier.feeds(batch)
        // Before any step the running statistics are 0 and 1, far from the batch's: the two builds differ.
        let before = try session.run([classifier.loss, classifier.evaluationLoss], feeds: feeds)
        XCTAssertNotEqual(before[0].scalarValue, before[1].scalarValue)
        let meanName = "bn1/running_mean"
        let runningMean = try XCTUnwrap(classifier.graph.variables.first { $0.name == meanName })
        XCTAssertEqual(try session.run(runningMean).floats, [0, 0, 0, 0])
        _ = try session.run(
            [classifier.loss], feeds: classifier.feeds(batch, learningRate: 0.05),
            targets: classifier.updates)
        let moved = try session.run(runningMean).floats
        XCTAssertTrue(moved.allSatisfy { $0 != 0 }, "one step moves the running mean 10% of the way: \(moved)")
        // Evaluation changes nothing.
        _ = try session.run([classifier.evaluationLoss, classifier.predictions], feeds: feeds)
        XCTAssertEqual(try session.run(runningMean).floats, moved)
    }

    func testOneBuildForAModelWithoutModes() throws {
        let (classifier, _) = try classifier(lenet5())
        XCTAssertEqual(classifier.loss, classifier.evaluationLoss)
        XCTAssertFalse(classifier.graph.nodes.contains { $0.name.hasPrefix("inference/") })
    }

    /// Trains for 40 steps of 32 images; the mean of the last five losses must be below 92% of the first five's.
    /// A ResNet four channels wide learns slowly: 2.4 to about 2.1.
    private func assertLossFalls(_ classifier: Classifier, _ session: Session) throws {
        let trainer = Trainer(classifier: classifier, session: session, seed: 2)
        var losses: [Float] = []
        _ = try trainer.trainEpoch(try images.prefix(40 * 32), batchSize: 32, epoch: 1) { losses.append($0.loss) }
        let first = losses.prefix(5).reduce(0, +) / 5
        let last = losses.suffix(5).reduce(0, +) / 5
        XCTAssertLessThan(last, first * 0.92, "losses \(losses)")
    }

    func testResNetLossFalls() throws {
        let (classifier, session) = try classifier()
        try assertLossFalls(classifier, session)
    }

    func testMismatchedResidualAndReusedNamesAreErrors() throws {
        let graph = Graph()
        let x = try graph.placeholder([Shape.unknown, 3, 8, 8])
        let widening = Sequential([Residual("block", body: [Conv2D("conv", filters: 5, kernelSize: 1)])])
        XCTAssertThrowsError(try widening.build(x, mode: .training)) {
            XCTAssertTrue("\($0)".contains("give the shortcut a projection"), "\($0)")
        }
        let twice = Sequential([Conv2D("conv", filters: 3, kernelSize: 1), Conv2D("conv", filters: 3, kernelSize: 1)])
        XCTAssertThrowsError(try twice.build(x, mode: .training)) {
            XCTAssertTrue("\($0)".contains("two layers create 'conv/weights'"), "\($0)")
        }
    }

    /// A MobileNet-style depthwise-separable block (depthwise 3×3 and pointwise 1×1, each with batch norm) learns.
    func testDepthwiseSeparableConvolutionsTrain() throws {
        let model = Sequential([
            Conv2D("stem", filters: 8, kernelSize: 3, stride: 2, padding: .same, bias: false),
            BatchNorm("stem_bn", activation: .relu),
            Conv2D("depthwise", filters: 8, kernelSize: 3, padding: .same, groups: 8, bias: false),
            BatchNorm("depthwise_bn", activation: .relu),
            Conv2D("pointwise", filters: 16, kernelSize: 1, bias: false), BatchNorm("pointwise_bn", activation: .relu),
            GlobalAveragePool(), Dense("fc", units: 10),
        ])
        let (classifier, session) = try classifier(model)
        XCTAssertEqual(classifier.parameters[3].shape, [8, 1, 3, 3], "one 3×3 filter per channel")
        try assertLossFalls(classifier, session)
    }

    func testDropoutDrawsANewMaskEachStepAndIsTheIdentityInInference() throws {
        let graph = Graph()
        let x = try graph.placeholder([Shape.unknown, 1000])
        let model = Sequential([Dropout("drop", rate: 0.25, seed: 3)])
        let training = try model.build(x, mode: .training)
        XCTAssertEqual(try model.build(x, mode: .inference, reusing: training).output, x)
        let session = Session(graph: graph, device: try CPUDevice(), kernels: try cpuDevices().kernels)
        let ones = HostTensor(shape: [2, 1000], floats: [Float](repeating: 1, count: 2000))
        let steps = try (0..<2).map { _ in
            try session.run([training.output], feeds: [x: ones], targets: training.updates)[0].floats
        }
        for values in steps {
            let kept = values.filter { $0 != 0 }
            XCTAssertEqual(Double(kept.count) / 2000, 0.75, accuracy: 0.03)
            XCTAssertTrue(kept.allSatisfy { $0 == 1 / Float(0.75) }, "kept elements are scaled by 1 / (1 − rate)")
        }
        XCTAssertNotEqual(steps[0], steps[1], "each step draws a new mask")
        XCTAssertThrowsError(try Sequential([Dropout("bad", rate: 1)]).build(x, mode: .training)) {
            XCTAssertTrue("\($0)".contains("rate 1.0 must be at least 0 and below 1"), "\($0)")
        }
    }

    /// A DenseNet layer (the input beside a convolution of it) and an Inception module (branches of different
    /// windows) join along the channels; the branches' variables are named apart.
    func testConcatenateJoinsBranchesAlongTheChannels() throws {
        let graph = Graph()
        let x = try graph.placeholder([Shape.unknown, 3, 8, 8])
        let dense = Concatenate("dense", branches: [[], [Conv2D("conv", filters: 4, kernelSize: 3, padding: .same)]])
        let inception = Concatenate(
            "inception",
            branches: [
                [Conv2D("conv", filters: 2, kernelSize: 1)],
                [Conv2D("conv", filters: 5, kernelSize: 3, padding: .same)],
                [Pool2D("pool", .max, size: 3, stride: 1, padding: .same), Conv2D("conv", filters: 1, kernelSize: 1)],
            ])
        let built = try Sequential([dense, inception]).build(x, mode: .training)
        XCTAssertEqual(built.output.shape, [Shape.unknown, 8, 8, 8])
        let shrinking = Concatenate("bad", branches: [[], [Pool2D("pool", .max, size: 3, stride: 1)]])
        XCTAssertThrowsError(try Sequential([shrinking]).build(x, mode: .training)) {
            XCTAssertTrue("\($0)".contains("must match input 0 in every dimension but 1"), "\($0)")
        }
        XCTAssertEqual(
            built.parameters.map(\.name).filter { $0.hasSuffix("weights") },
            [
                "dense/branch1/conv/weights", "inception/branch0/conv/weights", "inception/branch1/conv/weights",
                "inception/branch2/conv/weights",
            ])
    }
}
