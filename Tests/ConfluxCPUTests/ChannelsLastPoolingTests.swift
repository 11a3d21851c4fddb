import TestSupport
import XCTest

@testable import Conflux
@testable import ConfluxCPU

/// The CPU's pooling kernels on channels-last tensors (`LayoutAssignment` hands them some) against the same
/// kernels on plain ones: random shapes, odd sizes and channel counts on both sides of the kernels' blocks of 64
/// and 4 channels included.
final class ChannelsLastPoolingTests: XCTestCase {
    func testMaxPoolingOfChannelsLastTensorsMatchesPlain() throws {
        let cpu = try CPUDevice()
        var generator = SeededGenerator(seed: 21)
        for trial in 0..<24 {
            let channels = [1, 3, 16, 64, 70, 131][trial % 6]
            let (n, h, w) = (
                Int.random(in: 1...3, using: &generator), Int.random(in: 3...13, using: &generator),
                Int.random(in: 3...13, using: &generator)
            )
            let kernel = (Int.random(in: 2...3, using: &generator), Int.random(in: 2...3, using: &generator))
            let strides = (Int.random(in: 1...2, using: &generator), Int.random(in: 1...2, using: &generator))
            let dilations = trial % 4 == 3 ? (2, 1) : (1, 1)
            let padding: Padding = [.valid, .same, .explicit(top: 1, bottom: 0, left: 0, right: 1)][trial % 3]
            let graph = Graph()
            let pooled = try maxPool2d(
                graph.placeholder([n, channels, h, w]), kernel: kernel, strides: strides, padding: padding,
                dilations: dilations, ceilMode: trial % 5 == 4)
            let x = randomTensor([n, channels, h, w], seed: UInt64(700 + trial))
            assertClose(
                try pool(pooled.node, x, channelsLast: true, on: cpu),
                try pool(pooled.node, x, channelsLast: false, on: cpu),
                relative: 0, absolute: 0, "trial \(trial) \(x.shape) kernel \(kernel) strides \(strides) \(padding)")
        }
    }

    func testGlobalAveragePoolingOfAChannelsLastTensorMatchesPlain() throws {
        let cpu = try CPUDevice()
        for (trial, shape) in [Shape([1, 1280, 7, 7]), [3, 70, 5, 3], [2, 3, 1, 1], [1, 64, 9, 9]].enumerated() {
            let graph = Graph()
            let pooled = try globalAvgPool2d(graph.placeholder(shape))
            XCTAssertEqual(
                cpu.channelsLastUse(for: pooled.node, inputs: [shape]), .independent(inputs: [0], output: false))
            let x = randomTensor(shape, seed: UInt64(800 + trial))
            assertClose(
                try pool(pooled.node, x, channelsLast: true, on: cpu),
                try pool(pooled.node, x, channelsLast: false, on: cpu),
                relative: 1e-6, absolute: 1e-6, "\(shape)")
        }
    }

    /// `node`'s kernel on `x`, its input (and for a max pooling its output) channels-last or plain; the output
    /// back in plain NCHW.
    private func pool(_ node: Node, _ x: HostTensor, channelsLast: Bool, on cpu: CPUDevice) throws -> [Float] {
        var input = try cpu.allocate(x.shape, .float32, for: "x")
        try cpu.upload(x, to: input)
        if channelsLast {
            let converted = try cpu.allocate(x.shape, .float32, for: "x")
            ChannelsLast.convert(input, into: converted, toChannelsLast: true, on: cpu)
            input = converted
        }
        let output = try cpu.allocate(node.shape, .float32, for: "y")
        var context = KernelContext(node: node, inputs: [input], output: output, device: cpu)
        context.inputLayouts = [channelsLast ? .channelsLast : .plain]
        // A max pooling writes its input's layout; a global average pooling writes plain.
        context.outputLayout = channelsLast && node.op == .maxPool ? .channelsLast : .plain
        node.op == .maxPool ? CPUKernels.maxPool(context) : CPUKernels.avgPool(context)
        return try cpu.download(ChannelsLast.plain(output, context.outputLayout, on: cpu)).floats
    }
}
