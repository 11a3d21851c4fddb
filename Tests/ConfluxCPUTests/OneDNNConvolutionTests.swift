import TestSupport
import XCTest

@testable import Conflux
@testable import ConfluxCPU

/// The CPU device's forward convolutions through oneDNN (`OneDNNConvolution`) against the direct loops of
/// `Reference`, and the filters it keeps reordered against every way a weight changes.
final class OneDNNConvolutionTests: XCTestCase {
    /// Random shapes, odd sizes included, with strides, dilations, uneven padding, and the bias and ReLU of a fused
    /// chain, through a session (plain tensors in and out).
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
            var epilogue = ConvolutionEpilogue()
            (epilogue.bias, epilogue.activation) = (true, .relu)
            if OneDNNConvolution.plan(
                geometry, outChannels: o, epilogue: epilogue, layouts: (.plain, .plain, .plain), on: harness.device)
                != nil
            {
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
        guard
            OneDNNConvolution.plan(
                geometry, outChannels: 64, epilogue: ConvolutionEpilogue(), layouts: (.plain, .plain, .plain),
                on: harness.device) != nil
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

    /// The kernel itself on every layout of its input, output and residual, with a bias, a residual and a ReLU or a
    /// clip, dense and depthwise, split by images, by output rows (evenly and not) and by output channels, against
    /// the reference loops: random shapes, odd sizes included.
    func testLayoutsAndEpiloguesOnRandomShapesMatchTheReference() throws {
        let cpu = try CPUDevice()
        guard cpu.oneDNN != nil else { throw XCTSkip("this CPU device runs the vector kernels alone") }
        var generator = SeededGenerator(seed: 9)
        var throughOneDNN = 0
        for trial in 0..<36 {
            let depthwise = trial % 4 == 3
            let n = [1, 1, 3][trial % 3]
            let c =
                depthwise ? 16 * Int.random(in: 1...3, using: &generator) : Int.random(in: 16...40, using: &generator)
            let o = depthwise ? c : Int.random(in: 1...70, using: &generator)
            let (h, w) = (Int.random(in: 3...15, using: &generator), Int.random(in: 3...15, using: &generator))
            let (k, stride) = (Int.random(in: 1...3, using: &generator), Int.random(in: 1...2, using: &generator))
            let padding: Padding = [.valid, .same, .explicit(top: 1, bottom: 0, left: 2, right: 1)][trial % 3]
            let layouts = (0..<3).map { _ in Bool.random(using: &generator) ? TensorLayout.channelsLast : .plain }
            let epilogue = Self.epilogue(trial)
            let plan = try checkFusedConvolution(
                trial: trial, [n, c, h, w], [o, depthwise ? 1 : c, k, k], stride: stride, padding: padding,
                groups: depthwise ? c : 1, layouts: layouts, epilogue: epilogue, on: cpu)
            if plan != nil { throughOneDNN += 1 }
        }
        print("oneDNN ran \(throughOneDNN) of 36 convolutions; the vector kernels (converting layouts) the rest")
        if CPUDevice.instructionSets.contains("avx2") {
            XCTAssertGreaterThan(throughOneDNN, 18, "oneDNN should take the dense and channels-last depthwise ones")
        }
    }

    /// 3×3 convolutions of stride 1 large enough for Winograd's kernels (on AVX-512), with every epilogue and layout,
    /// split by images and by rows (evenly and not), channel counts that its kernels take and ones they do not.
    func testWinogradConvolutionsOnRandomShapesMatchTheReference() throws {
        let cpu = try CPUDevice()
        guard cpu.oneDNN != nil else { throw XCTSkip("this CPU device runs the vector kernels alone") }
        var generator = SeededGenerator(seed: 11)
        var winograd = 0
        for trial in 0..<12 {
            let n = [1, 2, 3][trial % 3]
            let c =
                trial % 4 == 3
                ? Int.random(in: 17...30, using: &generator) : 16 * Int.random(in: 1...2, using: &generator)
            let o =
                trial % 4 == 2
                ? Int.random(in: 1...40, using: &generator) : 16 * Int.random(in: 1...3, using: &generator)
            let (h, w) = (Int.random(in: 40...60, using: &generator), Int.random(in: 40...60, using: &generator))
            let padding: Padding = [.valid, .same, .explicit(top: 1, bottom: 0, left: 0, right: 1)][trial % 3]
            let layouts = (0..<3).map { _ in Bool.random(using: &generator) ? TensorLayout.channelsLast : .plain }
            let plan = try checkFusedConvolution(
                trial: trial, [n, c, h, w], [o, c, 3, 3], stride: 1, padding: padding, groups: 1, layouts: layouts,
                epilogue: Self.epilogue(trial), on: cpu)
            if let plan, plan.implementations.allSatisfy({ $0.contains("wino") }) { winograd += 1 }
        }
        print("Winograd's kernels ran \(winograd) of 12 convolutions")
        if CPUDevice.instructionSets.contains("avx512") {
            XCTAssertGreaterThan(
                winograd, 4, "oneDNN should run the ones of whole channel blocks by Winograd's kernels")
        }
    }

    /// Trial `trial`'s epilogue: a bias every other trial, a residual in four of five, no activation, a ReLU or a clip.
    private static func epilogue(_ trial: Int) -> ConvolutionEpilogue {
        var epilogue = ConvolutionEpilogue()
        epilogue.bias = trial % 2 == 0
        epilogue.residual = trial % 5 != 1
        epilogue.activation = [.none, .relu, .clip(-0.3, 0.4)][trial / 2 % 3]
        return epilogue
    }

    /// Runs the CPU's fused convolution kernel once on random tensors in `layouts` (input, output, residual) and
    /// checks it against the reference loops; returns oneDNN's plan for it, nil where the vector kernels ran it.
    private func checkFusedConvolution(
        trial: Int, _ inputShape: Shape, _ filterShape: Shape, stride: Int, padding: Padding, groups: Int,
        layouts: [TensorLayout], epilogue: ConvolutionEpilogue, on cpu: CPUDevice
    ) throws -> OneDNNConvolution? {
        let graph = Graph()
        let convolution = try conv2d(
            graph.placeholder(inputShape), graph.placeholder(filterShape), stride: stride, padding: padding,
            groups: groups)
        let (outShape, o) = (convolution.node.shape, filterShape[0])
        var attributes = convolution.node.attributes
        attributes["bias"] = .bool(epilogue.bias)
        attributes["residual"] = .bool(epilogue.residual)
        attributes["relu"] = .bool(epilogue.activation == .relu)
        attributes["clip"] = .bool(epilogue.activation == .clip(-0.3, 0.4))
        (attributes["min"], attributes["max"]) = (.float(-0.3), .float(0.4))
        let node = Node(
            id: 0, name: "trial \(trial)", op: .fusedConv2D, inputs: [], attributes: attributes, shape: outShape,
            dtype: .float32, requestedDevice: nil)
        let x = randomTensor(inputShape, seed: UInt64(300 + trial))
        let f = randomTensor(filterShape, seed: UInt64(400 + trial))
        let b = randomTensor([o], seed: UInt64(500 + trial))
        let r = randomTensor(outShape, seed: UInt64(600 + trial))
        var inputs = [try tensor(x, layouts[0], on: cpu), try tensor(f, .plain, on: cpu)]
        var inputLayouts = [layouts[0], .plain]
        if epilogue.bias {
            (inputs, inputLayouts) = (inputs + [try tensor(b, .plain, on: cpu)], inputLayouts + [.plain])
        }
        if epilogue.residual {
            (inputs, inputLayouts) = (inputs + [try tensor(r, layouts[2], on: cpu)], inputLayouts + [layouts[2]])
        }
        var context = KernelContext(
            node: node, inputs: inputs, output: try cpu.allocate(outShape, .float32, for: "y"), device: cpu)
        (context.inputLayouts, context.outputLayout) = (inputLayouts, layouts[1])
        CPUKernels.fusedConv2D(context)
        let actual = try cpu.download(ChannelsLast.plain(context.output, layouts[1], on: cpu)).floats
        let (plain, _) = Reference.conv2d(
            x.floats, x.shape, f.floats, f.shape, stride: (stride, stride),
            pads: convolution.node.attributes.ints("pads"), groups: groups)
        let plane = outShape[2] * outShape[3]
        let expected = plain.indices.map { i -> Float in
            let v = plain[i] + (epilogue.bias ? b.floats[i / plane % o] : 0) + (epilogue.residual ? r.floats[i] : 0)
            switch epilogue.activation {
            case .none: return v
            case .relu: return max(v, 0)
            case .clip(let low, let high): return min(max(v, low), high)
            }
        }
        assertClose(
            actual, expected, relative: 0, absolute: 1e-4,
            "trial \(trial) \(x.shape) \(f.shape) stride \(stride) \(padding) \(layouts) \(epilogue)")
        let geometry = WindowGeometry(input: x.shape, attributes: attributes)
        return OneDNNConvolution.plan(
            geometry, outChannels: o, epilogue: epilogue, layouts: (layouts[0], layouts[1], layouts[2]), on: cpu)
    }

    /// A device tensor holding `host` in `layout`.
    private func tensor(_ host: HostTensor, _ layout: TensorLayout, on cpu: CPUDevice) throws -> DeviceTensor {
        let plain = try cpu.allocate(host.shape, .float32, for: "input")
        try cpu.upload(host, to: plain)
        guard layout == .channelsLast else { return plain }
        let converted = try cpu.allocate(host.shape, .float32, for: "input")
        ChannelsLast.convert(plain, into: converted, toChannelsLast: true, on: cpu)
        return converted
    }
}
