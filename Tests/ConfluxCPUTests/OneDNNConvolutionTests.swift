import Conflux
import TestSupport
import XCTest

@testable import ConfluxCPU

/// The CPU device's forward convolutions through oneDNN (`OneDNNConvolution`) against the direct loops of
/// `Reference`, and the filters it keeps reordered against every way a weight changes.
final class OneDNNConvolutionTests: XCTestCase {
    /// Random shapes, odd sizes included, with strides, dilations, uneven padding, and the bias and ReLU of a fused
    /// chain; split across the workers by images, by output channels (in blocks of 16, the last share short), or
    /// not at all.
    func testForwardOnRandomShapesMatchesTheReference() throws {
        var generator = SeededGenerator(seed: 5)
        var throughOneDNN = 0
        for trial in 0..<24 {
            // Every third trial one image of whole channel blocks: the input reordered in slices across the workers.
            let n = trial % 3 == 0 ? 1 : Int.random(in: 1...3, using: &generator)
            let c =
                trial % 3 == 0
                ? 16 * Int.random(in: 2...3, using: &generator) : Int.random(in: 1...40, using: &generator)
            let (h, w) = (Int.random(in: 5...17, using: &generator), Int.random(in: 5...17, using: &generator))
            let o =
                trial % 2 == 0
                ? 32 * Int.random(in: 1...3, using: &generator) : Int.random(in: 1...50, using: &generator)
            let k = Int.random(in: 1...5, using: &generator)
            let stride = Int.random(in: 1...2, using: &generator)
            let dilation = trial % 5 == 4 ? 2 : 1
            let padding: Padding = [.valid, .same, .explicit(top: 1, bottom: 2, left: 0, right: 1)][trial % 3]
            let x = randomTensor([n, c, h, w], seed: UInt64(trial))
            let f = randomTensor([o, c, k, k], seed: UInt64(100 + trial))
            let b = randomTensor([o], seed: UInt64(200 + trial))
            let harness = try CPUHarness()
            let g = harness.graph
            let (px, pf, pb) = (try g.placeholder(x.shape), try g.placeholder(f.shape), try g.placeholder(b.shape))
            let convolution = try conv2d(px, pf, stride: stride, padding: padding, dilation: dilation)
            // Conv2D + BiasAdd + Relu become one fused convolution on the CPU.
            let y = try relu(biasAdd(convolution, pb))
            let pads = convolution.node.attributes.ints("pads")
            let (plain, shape) = Reference.conv2d(
                x.floats, x.shape, f.floats, f.shape, stride: (stride, stride), pads: pads,
                dilation: (dilation, dilation))
            let plane = shape[2] * shape[3]
            let expected = plain.indices.map { max(plain[$0] + b.floats[$0 / plane % o], 0) }
            let actual = try harness.values([y], [px: x, pf: f, pb: b])[0]
            assertClose(
                actual, expected, relative: 0, absolute: 1e-4,
                "trial \(trial) \(x.shape) \(f.shape) stride \(stride) dilation \(dilation) \(padding)")
            let geometry = WindowGeometry(input: x.shape, attributes: convolution.node.attributes)
            if OneDNNConvolution.plan(geometry, outChannels: o, bias: true, relu: true, on: harness.device) != nil {
                throughOneDNN += 1
            }
        }
        print("oneDNN ran \(throughOneDNN) of 24 random convolutions; the vector kernels the rest")
        // oneDNN has JIT convolutions for AVX2 and AVX-512; on older processors it may take few or none.
        if CPUDevice.instructionSets.contains("avx2") {
            XCTAssertGreaterThan(throughOneDNN, 8, "oneDNN should take the larger and the strided convolutions here")
        }
    }

    /// The filters' reorder is kept between runs only while nothing writes the weights: a new value assigned, and
    /// an update op's step, are both seen by the next run.
    func testKeptFiltersFollowAssignmentsAndUpdates() throws {
        let harness = try CPUHarness()
        let g = harness.graph
        let x = randomTensor([1, 32, 9, 9], seed: 1)
        let first = randomTensor([64, 32, 3, 3], seed: 2)
        let images = try g.placeholder(x.shape)
        let weights = try g.variable(first.shape, initializer: .constant(0))
        let y = try conv2d(images, weights, padding: .same)
        let step = try g.placeholder(first.shape)
        let update = try assignAdd(weights, step)
        func expected(_ filters: HostTensor) -> [Float] {
            Reference.conv2d(x.floats, x.shape, filters.floats, filters.shape, stride: (1, 1), pads: [1, 1, 1, 1]).0
        }
        let geometry = WindowGeometry(input: x.shape, attributes: y.node.attributes)
        guard OneDNNConvolution.plan(geometry, outChannels: 64, bias: false, relu: false, on: harness.device) != nil
        else { throw XCTSkip("oneDNN has no JIT convolution for this shape on this processor") }
        try harness.session.assign(weights, first)
        for _ in 0..<2 {
            assertClose(try harness.values([y], [images: x])[0], expected(first), relative: 0, absolute: 1e-4, "first")
        }
        let second = randomTensor(first.shape, seed: 3)
        try harness.session.assign(weights, second)
        assertClose(try harness.values([y], [images: x])[0], expected(second), relative: 0, absolute: 1e-4, "assigned")
        let delta = randomTensor(first.shape, seed: 4)
        try harness.session.run([], feeds: [step: delta], targets: [update])
        let third = HostTensor(shape: first.shape, floats: zip(second.floats, delta.floats).map(+))
        assertClose(try harness.values([y], [images: x])[0], expected(third), relative: 0, absolute: 1e-4, "updated")
    }
}
