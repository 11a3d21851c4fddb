import Conflux
import ConfluxCPU
import TestSupport
import XCTest

/// Every CPU kernel against the direct loops of `Reference`, on random shapes with odd sizes.
final class KernelTests: XCTestCase {
    /// Float32 sums of up to a few hundred products of values in [-1, 1], in a different order than the
    /// reference: rounding stays well below 1e-4 absolute.
    let sumTolerance: Float = 1e-4
    /// exp and log in Float32 against Double: a few ulps.
    let transcendentalTolerance: Float = 1e-5

    /// Every instruction set's vector kernels (the direct stride-1 convolutions): by position when there are
    /// fewer output channels than vector lanes, by channel otherwise (pairs of channel vectors and a last single
    /// one; one image's channels split across the cores), both with channel counts that do not fill a vector.
    func testConv2DForwardOnRandomShapes() throws {
        for instructionSet in CPUDevice.instructionSets {
            var generator = SeededGenerator(seed: 42)
            for trial in 0..<16 {
                let n = Int.random(in: 1...3, using: &generator)
                // Up to 24 input channels: the kernels go through them in chunks whose weights fit the L1 cache
                // (6 of 5×5 taps on AVX-512, 21 on the baseline).
                let c = Int.random(in: 1...24, using: &generator)
                let h = Int.random(in: 5...13, using: &generator)
                let w = Int.random(in: 5...13, using: &generator)
                let o = Int.random(in: 1...40, using: &generator)
                let k = Int.random(in: 1...5, using: &generator)
                let stride = trial % 4 == 3 ? Int.random(in: 2...3, using: &generator) : 1
                let padding: Padding = [.valid, .same, .explicit(top: 1, bottom: 2, left: 0, right: 1)][trial % 3]
                let x = randomTensor([n, c, h, w], seed: UInt64(trial))
                let f = randomTensor([o, c, k, k], seed: UInt64(100 + trial))
                let harness = try CPUHarness(instructionSet: instructionSet)
                let (px, pf) = (try harness.graph.placeholder(x.shape), try harness.graph.placeholder(f.shape))
                let y = try conv2d(px, pf, stride: stride, padding: padding)
                let pads = y.node.attributes.ints("pads")
                let (expected, shape) = Reference.conv2d(
                    x.floats, x.shape, f.floats, f.shape, stride: (stride, stride), pads: pads)
                XCTAssertEqual(y.shape, shape, "trial \(trial)")
                let actual = try harness.values([y], [px: x, pf: f])[0]
                assertClose(
                    actual, expected, relative: 0, absolute: sumTolerance,
                    "\(instructionSet) conv2d trial \(trial) \(x.shape) \(f.shape) stride \(stride) \(padding)")
            }
        }
    }

    /// Every instruction set's depthwise kernel: one group per input channel, channel multipliers 1 and 2,
    /// strides, dilations and uneven padding.
    func testDepthwiseConv2DOnRandomShapes() throws {
        for instructionSet in CPUDevice.instructionSets {
            var generator = SeededGenerator(seed: 7)
            for trial in 0..<12 {
                let (n, c, multiplier) = (
                    Int.random(in: 1...3, using: &generator), Int.random(in: 2...6, using: &generator),
                    Int.random(in: 1...2, using: &generator)
                )
                let (h, w, k) = (
                    Int.random(in: 5...21, using: &generator), Int.random(in: 5...21, using: &generator),
                    Int.random(in: 1...3, using: &generator)
                )
                let (stride, dilation) = (Int.random(in: 1...2, using: &generator), trial % 4 == 3 ? 2 : 1)
                let padding: Padding = [.valid, .same, .explicit(top: 1, bottom: 0, left: 2, right: 1)][trial % 3]
                let x = randomTensor([n, c, h, w], seed: UInt64(trial))
                let f = randomTensor([c * multiplier, 1, k, k], seed: UInt64(50 + trial))
                let harness = try CPUHarness(instructionSet: instructionSet)
                let (px, pf) = (try harness.graph.placeholder(x.shape), try harness.graph.placeholder(f.shape))
                let y = try conv2d(px, pf, stride: stride, padding: padding, dilation: dilation, groups: c)
                let (expected, shape) = Reference.conv2d(
                    x.floats, x.shape, f.floats, f.shape, stride: (stride, stride),
                    pads: y.node.attributes.ints("pads"), dilation: (dilation, dilation), groups: c)
                XCTAssertEqual(y.shape, shape, "trial \(trial)")
                assertClose(
                    try harness.values([y], [px: x, pf: f])[0], expected, relative: 0, absolute: sumTolerance,
                    "\(instructionSet) depthwise trial \(trial) \(x.shape) \(f.shape) stride \(stride) \(padding)")
            }
        }
    }

    /// Conv2D → BiasAdd → ReLU and MatMul → BiasAdd → ReLU, fetched at the end only, run as one fused kernel
    /// (`Fusion`); the bias and ReLU are applied by the direct kernels of every instruction set (stride 1) and after
    /// the GEMM (stride 2).
    func testFusedConvolutionAndMatMulOnRandomShapes() throws {
        for instructionSet in CPUDevice.instructionSets {
            var generator = SeededGenerator(seed: 11)
            for trial in 0..<8 {
                let (n, c, o) = (
                    Int.random(in: 1...3, using: &generator), Int.random(in: 1...4, using: &generator),
                    Int.random(in: 1...40, using: &generator)
                )
                let (h, w, k) = (
                    Int.random(in: 5...11, using: &generator), Int.random(in: 5...11, using: &generator),
                    Int.random(in: 1...4, using: &generator)
                )
                let stride = trial % 3 == 2 ? 2 : 1
                let x = randomTensor([n, c, h, w], seed: UInt64(trial))
                let f = randomTensor([o, c, k, k], seed: UInt64(30 + trial))
                let b = randomTensor([o], seed: UInt64(60 + trial))
                let harness = try CPUHarness(instructionSet: instructionSet)
                let (px, pf, pb) = try (
                    harness.graph.placeholder(x.shape), harness.graph.placeholder(f.shape),
                    harness.graph.placeholder(b.shape)
                )
                let conv = try conv2d(px, pf, stride: stride, padding: trial % 2 == 0 ? .same : .valid)
                let y = try relu(biasAdd(conv, pb))
                let (convolved, shape) = Reference.conv2d(
                    x.floats, x.shape, f.floats, f.shape, stride: (stride, stride),
                    pads: conv.node.attributes.ints("pads"))
                let plane = shape[2] * shape[3]
                let expected = convolved.indices.map { max(convolved[$0] + b.floats[$0 / plane % o], 0) }
                let actual = try harness.values([y], [px: x, pf: f, pb: b])[0]
                assertClose(
                    actual, expected, relative: 0, absolute: sumTolerance,
                    "\(instructionSet) fused conv trial \(trial) \(x.shape) \(f.shape) stride \(stride)")
            }
        }
        let harness = try CPUHarness()
        let (a, w, bias) = (
            randomTensor([13, 7], seed: 1), randomTensor([9, 13], seed: 2), randomTensor([9], seed: 3)
        )
        let (pa, pw, pb) = try (
            harness.graph.placeholder(a.shape), harness.graph.placeholder(w.shape), harness.graph.placeholder([9])
        )
        let y = try relu(biasAdd(matmul(pa, pw, transposeA: true, transposeB: true), pb))
        let product = Reference.matmul(a.floats, [13, 7], w.floats, [9, 13], true, true)
        let expected = product.indices.map { max(product[$0] + bias.floats[$0 % 9], 0) }
        assertClose(
            try harness.values([y], [pa: a, pw: w, pb: bias])[0], expected, relative: 0, absolute: sumTolerance,
            "fused matmul")
    }

    func testConv2DBackwardAgainstAdjoint() throws {
        // <conv(x, w), dy> = <x, backpropInput(w, dy)> = <w, backpropFilter(x, dy)>: both backward kernels
        // must be the exact adjoints of the reference forward.
        for instructionSet in CPUDevice.instructionSets {
            try checkConv2DBackwardAgainstAdjoint(instructionSet)
        }
    }

    private func checkConv2DBackwardAgainstAdjoint(_ instructionSet: String) throws {
        var generator = SeededGenerator(seed: 7)
        for trial in 0..<10 {
            let c = Int.random(in: 1...4, using: &generator)
            let o = Int.random(in: 1...19, using: &generator)
            let k = Int.random(in: 1...4, using: &generator)
            let stride = Int.random(in: 1...2, using: &generator)
            let x = randomTensor([2, c, 9, 7], seed: UInt64(trial))
            let f = randomTensor([o, c, k, k], seed: UInt64(50 + trial))
            let harness = try CPUHarness(instructionSet: instructionSet)
            let (px, pf) = (try harness.graph.placeholder(x.shape), try harness.graph.placeholder(f.shape))
            let y = try conv2d(px, pf, stride: stride, padding: trial % 2 == 0 ? .same : .valid)
            let dy = randomTensor(y.shape, seed: UInt64(90 + trial))
            let pdy = try harness.graph.placeholder(dy.shape)
            let dx = try conv2DBackpropInput(pf, pdy, inputShape: x.shape, like: y.node)
            let dw = try conv2DBackpropFilter(px, pdy, filterShape: f.shape, like: y.node)
            let values = try harness.values([dx, dw], [px: x, pf: f, pdy: dy])
            let pads = y.node.attributes.ints("pads")
            // Each element of dx is d<conv(x, w), dy>/dx: check it by the reference forward on unit vectors.
            for (index, probe) in [(0, 0), (x.shape.count / 2, 1), (x.shape.count - 1, 2)] {
                var unit = [Float](repeating: 0, count: x.shape.count)
                unit[index] = 1
                let (y1, _) = Reference.conv2d(unit, x.shape, f.floats, f.shape, stride: (stride, stride), pads: pads)
                let expected = zip(y1, dy.floats).map(*).reduce(0, +)
                assertClose(
                    [values[0][index]], [expected], relative: 0, absolute: sumTolerance,
                    "\(instructionSet) trial \(trial) dx probe \(probe)")
            }
            for index in [0, f.shape.count - 1] {
                var unit = [Float](repeating: 0, count: f.shape.count)
                unit[index] = 1
                let (y1, _) = Reference.conv2d(x.floats, x.shape, unit, f.shape, stride: (stride, stride), pads: pads)
                let expected = zip(y1, dy.floats).map(*).reduce(0, +)
                assertClose(
                    [values[1][index]], [expected], relative: 0, absolute: 10 * sumTolerance,
                    "\(instructionSet) trial \(trial) dw[\(index)]")
            }
        }
    }

    func testPoolingForwardOnOddShapes() throws {
        for (trial, (shape, size, stride, padding)) in [
            (Shape([2, 3, 7, 9]), 2, 2, Padding.valid), ([1, 5, 13, 13], 3, 2, .same), ([3, 1, 31, 29], 3, 1, .valid),
            // A window wider than the input: some of its taps fall outside it for every output.
            ([1, 2, 6, 5], 2, 2, .same), ([1, 2, 3, 2], 5, 1, .same),
        ].enumerated() {
            let x = randomTensor(shape, seed: UInt64(trial))
            let harness = try CPUHarness()
            let px = try harness.graph.placeholder(shape)
            let maxY = try maxPool2d(px, size: size, stride: stride, padding: padding)
            let avgY = try avgPool2d(px, size: size, stride: stride, padding: padding)
            let pads = maxY.node.attributes.ints("pads")
            let values = try harness.values([maxY, avgY], [px: x])
            let (expectedMax, outShape) = Reference.pool(
                x.floats, shape, size: size, stride: stride, pads: pads, max: true)
            let (expectedAvg, _) = Reference.pool(x.floats, shape, size: size, stride: stride, pads: pads, max: false)
            XCTAssertEqual(maxY.shape, outShape)
            assertClose(values[0], expectedMax, relative: 0, absolute: 0, "max-pool \(shape)")
            assertClose(values[1], expectedAvg, relative: 0, absolute: sumTolerance, "avg-pool \(shape)")
        }
    }

    /// The max-pooling gradient alone and fused with the gradient of the ReLU whose output was pooled (`Fusion`
    /// plans ReluGrad(r, MaxPoolGrad(r, dy)) as one kernel when only the ReluGrad is fetched): 2×2 windows with
    /// stride 2 (the vector kernel, with rows of 4 windows and more, and leftover windows and rows) and 3×3 windows
    /// with stride 2 and padding (the general loops).
    func testMaxPoolGradientAloneAndFusedWithReLUGradient() throws {
        for (trial, (shape, size, padding)) in [
            (Shape([2, 3, 12, 17]), 2, Padding.valid), ([1, 2, 28, 28], 2, .valid), ([1, 4, 5, 7], 2, .valid),
            ([2, 3, 9, 11], 3, .same),
        ].enumerated() {
            let x = ParityInputs.distinct(shape, seed: UInt64(trial))
            let harness = try CPUHarness()
            let px = try harness.graph.placeholder(shape)
            let r = try relu(px)
            let pooled = try maxPool2d(r, size: size, stride: 2, padding: padding)
            let dy = randomTensor(pooled.shape, seed: UInt64(40 + trial))
            let pdy = try harness.graph.placeholder(pooled.shape)
            let routed = try maxPoolGrad(r, pdy, like: pooled.node)
            let masked = try harness.graph.addNode(.reluGrad, [r, routed])
            let fused = try harness.values([masked], [px: x, pdy: dy])[0]
            let separate = try harness.values([masked, routed], [px: x, pdy: dy])
            // Reference: every window's gradient to its maximum (the values are distinct), masked where r ≤ 0.
            let (h, w, oh, ow) = (shape[2], shape[3], pooled.shape[2], pooled.shape[3])
            let pads = pooled.node.attributes.ints("pads")
            let activations = x.floats.map { max($0, 0) }
            var expectedRouted = [Float](repeating: 0, count: shape.count)
            for plane in 0..<(shape[0] * shape[1]) {
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        var best: Int?
                        for i in (oy * 2 - pads[0])..<(oy * 2 - pads[0] + size) where i >= 0 && i < h {
                            for j in (ox * 2 - pads[2])..<(ox * 2 - pads[2] + size) where j >= 0 && j < w {
                                let at = (plane * h + i) * w + j
                                if best.map({ activations[at] > activations[$0] }) ?? true { best = at }
                            }
                        }
                        expectedRouted[best!] += dy.floats[(plane * oh + oy) * ow + ox]
                    }
                }
            }
            let expectedMasked = expectedRouted.indices.map { activations[$0] > 0 ? expectedRouted[$0] : 0 }
            assertClose(separate[1], expectedRouted, relative: 0, absolute: 1e-6, "MaxPoolGrad trial \(trial)")
            assertClose(separate[0], expectedMasked, relative: 0, absolute: 1e-6, "unfused ReluGrad trial \(trial)")
            assertClose(fused, expectedMasked, relative: 0, absolute: 1e-6, "fused trial \(trial)")
        }
    }

    func testMaxPoolGradientGoesToFirstOfTiedMaxima() throws {
        let harness = try CPUHarness()
        let x = HostTensor(shape: [1, 1, 2, 4], floats: [3, 3, 1, 2, 3, 0, 2, 2])
        let px = try harness.graph.placeholder(x.shape)
        let y = try maxPool2d(px, size: 2)
        let dx = try maxPoolGrad(
            px, harness.graph.constant(HostTensor(shape: [1, 1, 1, 2], floats: [5, 7])), like: y.node)
        XCTAssertEqual(try harness.values([dx], [px: x])[0], [5, 0, 0, 7, 0, 0, 0, 0])
    }

    func testMatMulEveryTransposeOnOddSizes() throws {
        for (trial, (ta, tb)) in [(false, false), (true, false), (false, true), (true, true)].enumerated() {
            let (m, k, n) = (7, 13, 5)
            let a = randomTensor(ta ? [k, m] : [m, k], seed: UInt64(trial))
            let b = randomTensor(tb ? [n, k] : [k, n], seed: UInt64(10 + trial))
            let harness = try CPUHarness()
            let (pa, pb) = (try harness.graph.placeholder(a.shape), try harness.graph.placeholder(b.shape))
            let y = try matmul(pa, pb, transposeA: ta, transposeB: tb)
            XCTAssertEqual(y.shape, [m, n])
            assertClose(
                try harness.values([y], [pa: a, pb: b])[0],
                Reference.matmul(a.floats, a.shape, b.floats, b.shape, ta, tb),
                relative: 0, absolute: sumTolerance, "matmul transposeA \(ta) transposeB \(tb)")
        }
    }

    func testElementwiseAndBias() throws {
        let harness = try CPUHarness()
        let x = randomTensor([3, 5, 3, 7], seed: 1, in: -4...4)
        let b = randomTensor([5], seed: 2)
        let px = try harness.graph.placeholder(x.shape)
        let pb = try harness.graph.placeholder(b.shape)
        let fetches = [
            try relu(px), try tanh(px), try sigmoid(px), try add(px, px), try biasAdd(px, pb), try biasAddGrad(px),
            try reshape(px, [15, Shape.unknown]),
        ]
        let v = try harness.values(fetches, [px: x, pb: b])
        let xs = x.floats
        assertClose(v[0], xs.map { max($0, 0) }, relative: 0, absolute: 0, "relu")
        assertClose(
            v[1], xs.map { Float(Foundation.tanh(Double($0))) }, relative: 0, absolute: transcendentalTolerance, "tanh")
        assertClose(
            v[2], xs.map { Float(1 / (1 + Foundation.exp(-Double($0)))) }, relative: 0,
            absolute: transcendentalTolerance, "sigmoid")
        assertClose(v[3], xs.map { 2 * $0 }, relative: 0, absolute: 0, "add")
        let channel = { (i: Int) in (i / 21) % 5 }
        assertClose(v[4], xs.indices.map { xs[$0] + b.floats[channel($0)] }, relative: 0, absolute: 0, "biasAdd")
        let sums = (0..<5).map { c in xs.indices.filter { channel($0) == c }.map { xs[$0] }.reduce(0, +) }
        assertClose(v[5], sums, relative: 0, absolute: sumTolerance * 10, "biasAddGrad")
        XCTAssertEqual(v[6], xs, "reshape keeps the elements in order")
    }

    func testSoftmaxLossAndMetrics() throws {
        let harness = try CPUHarness()
        let (rows, classes) = (5, 7)
        let logits = randomTensor([rows, classes], seed: 3, in: -30...30)
        let labelValues: [Int32] = [0, 6, 3, 3, 1]
        let pl = try harness.graph.placeholder(logits.shape)
        let plab = try harness.graph.placeholder([rows], .int32)
        let loss = try softmaxCrossEntropy(logits: pl, labels: plab)
        let fetches = [try softmax(pl), loss, try sum(loss), try mean(loss), try accuracy(logits: pl, labels: plab)]
        let labels = HostTensor(shape: [rows], ints: labelValues)
        let v = try harness.values(fetches, [pl: logits, plab: labels])
        let argmaxes = try harness.session.run(argmax(pl), feeds: [pl: logits]).ints
        var expectedSoftmax: [Float] = []
        var expectedLoss: [Float] = []
        var correct = 0
        for r in 0..<rows {
            let row = logits.floats[(r * classes)..<((r + 1) * classes)]
            let p = Reference.softmax(row)
            expectedSoftmax += p
            expectedLoss.append(-Float(Foundation.log(Double(p[Int(labelValues[r])]))))
            let best = row.indices.max { row[$0] < row[$1] }! - r * classes
            XCTAssertEqual(argmaxes[r], Int32(best))
            if best == Int(labelValues[r]) { correct += 1 }
        }
        assertClose(v[0], expectedSoftmax, relative: 1e-5, absolute: 1e-7, "softmax")
        assertClose(v[1], expectedLoss, relative: 1e-5, absolute: transcendentalTolerance, "cross-entropy")
        assertClose(v[2], [expectedLoss.reduce(0, +)], relative: 1e-5, absolute: 0, "sum")
        assertClose(v[3], [expectedLoss.reduce(0, +) / Float(rows)], relative: 1e-5, absolute: 0, "mean")
        XCTAssertEqual(v[4], [Float(correct) / Float(rows)])
    }

    func testCrossEntropyRejectsAnOutOfRangeLabel() throws {
        let harness = try CPUHarness()
        let pl = try harness.graph.placeholder([2, 3])
        let plab = try harness.graph.placeholder([2], .int32)
        let loss = try softmaxCrossEntropy(logits: pl, labels: plab)
        XCTAssertThrowsError(
            try harness.session.run(loss, feeds: [pl: .zeros([2, 3]), plab: HostTensor(shape: [2], ints: [1, 3])])
        ) { error in
            XCTAssertTrue("\(error)".contains("label 3 at row 1 is outside the 3 classes"), "\(error)")
        }
    }

    func testMomentumAndAdamUpdates() throws {
        let harness = try CPUHarness()
        let g = harness.graph
        let w = try g.variable([3], initializer: .constant(1))
        let accum = try g.variable([3])
        let grad = try g.constant(HostTensor(shape: [3], floats: [0.5, -1, 2]))
        let step = try applyMomentum(
            w, accumulator: accum, gradient: grad, learningRate: g.constant(0.1), momentum: 0.9)
        try harness.session.run([], targets: [step])
        try harness.session.run([], targets: [step])
        // accum: g, then 1.9·g; w = 1 - 0.1·g - 0.19·g = 1 - 0.29·g
        assertClose(try harness.values([w])[0], [0.855, 1.29, 0.42], relative: 1e-6, absolute: 1e-6, "momentum")

        let v = try g.variable([3], initializer: .constant(1))
        let (m, s, t) = (try g.variable([3]), try g.variable([3]), try g.variable(.scalar))
        let adam = try applyAdam(
            v, m: m, v: s, step: t, gradient: grad, learningRate: g.constant(0.01), beta1: 0.9, beta2: 0.999,
            epsilon: 1e-8)
        try harness.session.run([], targets: [adam])
        // With bias correction the first step moves every weight by lr·sign(g).
        assertClose(try harness.values([v])[0], [0.99, 1.01, 0.99], relative: 1e-5, absolute: 1e-6, "adam")
        XCTAssertEqual(try harness.values([t])[0], [1])
    }

    func testBatchNormStatisticsUpdateMovesTowardsTheUnbiasedBatchStatistics() throws {
        let harness = try CPUHarness()
        let g = harness.graph
        // Channel 0 holds 1, 2, 3, 4 over two images of 1×2 planes; channel 1 holds 5 everywhere.
        let x = try g.constant(HostTensor(shape: [2, 2, 1, 2], floats: [1, 2, 5, 5, 3, 4, 5, 5]))
        let (mean, variance) = (try g.variable([2]), try g.variable([2], initializer: .constant(1)))
        let update = try updateBatchNormStatistics(
            runningMean: mean, runningVariance: variance, batch: x, momentum: 0.5)
        try harness.session.run([], targets: [update])
        // Batch means 2.5 and 5; unbiased variances 5/3 and 0.
        assertClose(try harness.values([mean])[0], [1.25, 2.5], relative: 1e-6, absolute: 1e-6, "running mean")
        assertClose(
            try harness.values([variance])[0], [0.5 + 5.0 / 6, 0.5], relative: 1e-6, absolute: 1e-6,
            "running variance")
    }
}
