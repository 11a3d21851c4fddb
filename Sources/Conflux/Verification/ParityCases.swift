/// The cases every device is checked on: for each op, batch 1 and odd batches, odd spatial sizes (7×9, 13×13,
/// 31×29), channel counts that are not multiples of 4, every stride and padding mode, overlapping and disjoint
/// pooling windows, large magnitudes, and ties for max-pooling.
public enum ParityCases {
    public static var all: [ParityCase] {
        convolution + pooling + matrix + elementwise + softmax + reductions + fused + normalization + arithmetic
            + groupedConvolution + layout + composites + dropout + poolingModes + indexing
            + smallBatches + largeLogits + channelBlocks + collectives + elementwiseComposites + fusedEpilogues
    }

    /// Chains that `Fusion` runs as one kernel where the device has it: checked whole, output and gradients.
    static var fused: [ParityCase] {
        let convolutions: [(Shape, Shape, Int, Padding, Bool, String)] = [
            ([2, 1, 31, 29], [6, 1, 5, 5], 1, .same, true, "31×29, 1→6 channels, same, + bias, ReLU"),
            ([3, 6, 14, 14], [16, 6, 5, 5], 1, .valid, true, "14×14, 6→16 channels, valid, + bias, ReLU"),
            (
                [1, 3, 7, 9], [4, 3, 3, 3], 1, .explicit(top: 2, bottom: 0, left: 1, right: 2), false,
                "batch 1, 7×9, explicit padding 2/0/1/2, ReLU without a bias"
            ),
            ([3, 5, 13, 13], [7, 5, 5, 5], 2, .valid, true, "stride 2 (no direct kernel), + bias, ReLU"),
        ]
        var cases = convolutions.enumerated().map { i, c in
            let (x, w, stride, padding, hasBias, name) = c
            let bias = hasBias ? [ParityInputs.uniform([w[0]], seed: UInt64(90 + i))] : []
            return ParityCase(
                .fusedConv2D, name,
                inputs: [ParityInputs.uniform(x, seed: UInt64(80 + i)), ParityInputs.uniform(w, seed: UInt64(85 + i))]
                    + bias,
                tolerance: .summation
            ) {
                let y = try conv2d($0[0], $0[1], stride: stride, padding: padding)
                return try relu(hasBias ? biasAdd(y, $0[2]) : y)
            }
        }
        cases.append(
            ParityCase(
                .fusedMatMul, "7×13 · 13×9 + bias, ReLU",
                inputs: [
                    ParityInputs.uniform([7, 13], seed: 95), ParityInputs.uniform([13, 9], seed: 96),
                    ParityInputs.uniform([9], seed: 97),
                ],
                tolerance: .summation
            ) { try relu(biasAdd(matmul($0[0], $0[1]), $0[2])) })
        for (i, (shape, size, padding, name)) in [
            (Shape([2, 3, 12, 17]), 2, Padding.valid, "ReLU, 2×2 max-pool on 12×17 (a leftover column)"),
            ([1, 2, 9, 11], 3, .same, "ReLU, 3×3 stride-2 max-pool, same"),
        ].enumerated() {
            cases.append(
                ParityCase(
                    .fusedMaxPoolGrad, name, inputs: [ParityInputs.distinct(shape, seed: UInt64(98 + i))],
                    tolerance: .rounding
                ) { try maxPool2d(relu($0[0]), size: size, stride: 2, padding: padding) })
        }
        return cases
    }

    static var convolution: [ParityCase] {
        let cases: [(Shape, Shape, Int, Padding, Float, String)] = [
            ([1, 3, 7, 9], [4, 3, 3, 3], 1, .same, 1, "batch 1, 7×9, 3→4 channels, stride 1, same"),
            ([3, 5, 13, 13], [7, 5, 5, 5], 2, .valid, 1, "batch 3, 13×13, 5→7 channels, stride 2, valid"),
            ([2, 1, 31, 29], [6, 1, 5, 5], 1, .same, 1, "31×29, 1→6 channels (LeNet conv1), same"),
            ([2, 6, 14, 14], [16, 6, 5, 5], 1, .valid, 1, "14×14, 6→16 channels (LeNet conv2), valid"),
            (
                [3, 2, 9, 7], [5, 2, 3, 3], 3, .explicit(top: 2, bottom: 0, left: 1, right: 2), 1,
                "9×7, stride 3, explicit padding 2/0/1/2"
            ),
            ([2, 3, 7, 9], [4, 3, 3, 3], 1, .same, 100, "values ±100"),
        ]
        return cases.enumerated().map { i, c in
            let (x, w, stride, padding, scale, name) = c
            return ParityCase(
                .conv2D, name,
                inputs: [
                    ParityInputs.uniform(x, seed: UInt64(10 + i), -scale...scale),
                    ParityInputs.uniform(w, seed: UInt64(20 + i)),
                ],
                tolerance: .summation
            ) { try conv2d($0[0], $0[1], stride: stride, padding: padding) }
        }
    }

    static var pooling: [ParityCase] {
        let shapes: [(Shape, Int, Int, Padding, String)] = [
            ([2, 3, 7, 9], 2, 2, .valid, "2×2 stride 2 on 7×9 (disjoint windows, a leftover row and column)"),
            ([1, 5, 13, 13], 3, 2, .same, "3×3 stride 2 on 13×13, same (overlapping windows)"),
            ([3, 1, 31, 29], 3, 1, .valid, "3×3 stride 1 on 31×29 (heavily overlapping)"),
            ([1, 6, 28, 28], 2, 2, .valid, "2×2 stride 2 on 28×28 (LeNet pool1)"),
        ]
        var cases: [ParityCase] = []
        for (i, (shape, size, stride, padding, name)) in shapes.enumerated() {
            let x = ParityInputs.distinct(shape, seed: UInt64(30 + i))
            cases.append(
                ParityCase(.maxPool, name, inputs: [x], tolerance: .rounding) {
                    try maxPool2d($0[0], size: size, stride: stride, padding: padding)
                })
            cases.append(
                ParityCase(.avgPool, name, inputs: [x], tolerance: .rounding) {
                    try avgPool2d($0[0], size: size, stride: stride, padding: padding)
                })
        }
        let ties = HostTensor(shape: [1, 2, 4, 6], floats: [Float](repeating: 1, count: 48))
        cases.append(
            ParityCase(.maxPool, "ties: every window holds equal maxima", inputs: [ties], tolerance: .rounding) {
                try maxPool2d($0[0], size: 3, stride: 1, padding: .same)
            })
        let large = ParityInputs.distinct([2, 3, 8, 8], seed: 38, spacing: 50)
        cases.append(
            ParityCase(.maxPool, "values up to ±4800", inputs: [large], tolerance: .rounding) {
                try maxPool2d($0[0], size: 2)
            })
        return cases
    }

    static var matrix: [ParityCase] {
        var cases = [(false, false), (true, false), (false, true), (true, true)].map { ta, tb in
            ParityCase(
                .matMul, "7×13 · 13×9, transposeA \(ta), transposeB \(tb)",
                inputs: [
                    ParityInputs.uniform(ta ? [13, 7] : [7, 13], seed: 40),
                    ParityInputs.uniform(tb ? [9, 13] : [13, 9], seed: 41),
                ],
                tolerance: .summation
            ) { try matmul($0[0], $0[1], transposeA: ta, transposeB: tb) }
        }
        cases.append(
            ParityCase(
                .matMul, "batch 1: 1×400 · 400×120ᵀ (LeNet fc1)",
                inputs: [
                    ParityInputs.uniform([1, 400], seed: 42), ParityInputs.uniform([120, 400], seed: 43, -0.1...0.1),
                ],
                tolerance: .summation
            ) { try matmul($0[0], $0[1], transposeB: true) })
        cases.append(
            ParityCase(
                .biasAdd, "[3, 5, 7, 9] + [5]",
                inputs: [ParityInputs.uniform([3, 5, 7, 9], seed: 44), ParityInputs.uniform([5], seed: 45)],
                tolerance: .summation
            ) { try biasAdd($0[0], $0[1]) })
        cases.append(
            ParityCase(
                .biasAdd, "batch 1: [1, 7] + [7]",
                inputs: [ParityInputs.uniform([1, 7], seed: 46), ParityInputs.uniform([7], seed: 47)],
                tolerance: .rounding
            ) { try biasAdd($0[0], $0[1]) })
        return cases
    }

    static var elementwise: [ParityCase] {
        let x = ParityInputs.distinct([3, 7, 9], seed: 50)
        let large = ParityInputs.distinct([3, 7, 9], seed: 51, spacing: 0.5)
        return [
            ParityCase(
                .add, "[3, 7, 9]", inputs: [x, ParityInputs.uniform([3, 7, 9], seed: 52)], tolerance: .rounding
            ) {
                try add($0[0], $0[1])
            },
            ParityCase(.relu, "[3, 7, 9]", inputs: [x], tolerance: .rounding) { try relu($0[0]) },
            ParityCase(.relu, "values ±47", inputs: [large], tolerance: .rounding) { try relu($0[0]) },
            ParityCase(.tanh, "[3, 7, 9]", inputs: [x], tolerance: .transcendental) { try tanh($0[0]) },
            ParityCase(.tanh, "values ±47 (saturated)", inputs: [large], tolerance: .transcendental) {
                try tanh($0[0])
            },
            ParityCase(.sigmoid, "[3, 7, 9]", inputs: [x], tolerance: .transcendental) { try sigmoid($0[0]) },
            ParityCase(.sigmoid, "values ±47 (saturated)", inputs: [large], tolerance: .transcendental) {
                try sigmoid($0[0])
            },
            // Every input lies at least 0.0125 from the kinks (0, -0.5, 0.6, ±3), beyond the gradient check's step.
            ParityCase(.leakyRelu, "[3, 7, 9], alpha 0.1", inputs: [x], tolerance: .rounding) {
                try leakyRelu($0[0], alpha: 0.1)
            },
            ParityCase(.clip, "[3, 7, 9] to -0.5...0.6", inputs: [x], tolerance: .rounding) {
                try clip($0[0], min: -0.5, max: 0.6)
            },
            ParityCase(.hardSwish, "values ±47", inputs: [large], tolerance: .rounding) { try hardSwish($0[0]) },
            ParityCase(
                .reshape, "[2, 3, 5] to [?, 5]", inputs: [ParityInputs.uniform([2, 3, 5], seed: 53)],
                tolerance: .rounding
            ) {
                try reshape($0[0], [Shape.unknown, 5])
            },
        ]
    }

    static var softmax: [ParityCase] {
        let logits = ParityInputs.uniform([37, 11], seed: 60, -20...20)
        let huge = ParityInputs.uniform([5, 10], seed: 61, -500...500)
        let labels = ParityInputs.labels(37, classes: 11, seed: 62)
        return [
            ParityCase(.softmax, "37 rows × 11 classes", inputs: [logits], tolerance: .transcendental) {
                try Conflux.softmax($0[0])
            },
            ParityCase(.softmax, "logits ±500", inputs: [huge], tolerance: .transcendental) {
                try Conflux.softmax($0[0])
            },
            ParityCase(
                .softmaxCrossEntropy, "37 rows × 11 classes", inputs: [logits, labels], tolerance: .transcendental
            ) {
                try softmaxCrossEntropy(logits: $0[0], labels: $0[1])
            },
            ParityCase(
                .softmaxCrossEntropy, "batch 1, logits ±500",
                inputs: [ParityInputs.uniform([1, 10], seed: 63, -500...500), HostTensor(shape: [1], ints: [3])],
                tolerance: .transcendental
            ) { try softmaxCrossEntropy(logits: $0[0], labels: $0[1]) },
            ParityCase(.argMax, "37 rows × 11 classes", inputs: [logits], tolerance: .rounding, gradients: false) {
                try argmax($0[0])
            },
            ParityCase(
                .accuracy, "37 rows × 11 classes", inputs: [logits, labels], tolerance: .rounding, gradients: false
            ) {
                try reshape(accuracy(logits: $0[0], labels: $0[1]), [1])
            },
        ]
    }

    static var reductions: [ParityCase] {
        let big = ParityInputs.uniform([1031, 3], seed: 70)
        return [
            ParityCase(.sum, "1031×3 (more than one work-group)", inputs: [big], tolerance: .summation) {
                try reshape(sum($0[0]), [1])
            },
            ParityCase(.mean, "1031×3 (more than one work-group)", inputs: [big], tolerance: .summation) {
                try reshape(mean($0[0]), [1])
            },
            ParityCase(.sum, "one element", inputs: [ParityInputs.uniform([1], seed: 71)], tolerance: .rounding) {
                try reshape(sum($0[0]), [1])
            },
        ]
    }

    /// Batch normalization with the batch's statistics (values centred away from zero, so that a one-pass variance
    /// would lose digits), with given ones, on rank 2 and 4, batch 1 and one channel; global average pooling.
    static var normalization: [ParityCase] {
        let training: [(Shape, ClosedRange<Float>, String)] = [
            ([3, 5, 7, 9], 2...4, "batch statistics, [3, 5, 7, 9], values 2...4"),
            ([1, 1, 13, 13], -1...1, "batch statistics, batch 1, one channel, 13×13"),
            ([7, 13], -3...3, "batch statistics, [7, 13] (after a dense layer)"),
        ]
        var cases = training.enumerated().map { i, c in
            let (shape, range, name) = c
            let channels = shape[1]
            return ParityCase(
                .batchNorm, name,
                inputs: [
                    ParityInputs.uniform(shape, seed: UInt64(110 + i), range),
                    ParityInputs.uniform([channels], seed: UInt64(113 + i), 0.5...1.5),
                    ParityInputs.uniform([channels], seed: UInt64(116 + i)),
                ],
                tolerance: .summation
            ) { try batchNorm($0[0], scale: $0[1], offset: $0[2]) }
        }
        // The running statistics are constants (state, not parameters: they have no gradient), written out so
        // that PyTorch's reference uses the same.
        cases.append(
            ParityCase(
                .batchNorm, "running statistics, [2, 3, 5, 5]",
                inputs: [
                    ParityInputs.uniform([2, 3, 5, 5], seed: 119), ParityInputs.uniform([3], seed: 120, 0.5...1.5),
                    ParityInputs.uniform([3], seed: 121),
                ],
                tolerance: .summation
            ) {
                let graph = $0[0].graph
                return try batchNorm(
                    $0[0], scale: $0[1], offset: $0[2],
                    mean: graph.constant(HostTensor(shape: [3], floats: [0.25, -0.5, 0.125])),
                    variance: graph.constant(HostTensor(shape: [3], floats: [0.5, 1, 2])))
            })
        for (size, name) in [
            (5, "size 5 (AlexNet) over 7 channels"), (4, "size 4 (an even window, as ONNX places it)"),
        ] {
            cases.append(
                ParityCase(
                    .lrn, name, inputs: [ParityInputs.uniform([2, 7, 3, 5], seed: UInt64(126 + size), -2...2)],
                    tolerance: .transcendental
                ) { try localResponseNormalization($0[0], size: size, alpha: 0.1, beta: 0.75, bias: 2) })
        }
        for (i, shape) in [Shape([2, 5, 7, 9]), [1, 3, 1, 1]].enumerated() {
            cases.append(
                ParityCase(
                    .avgPool, "global, \(shape)", inputs: [ParityInputs.uniform(shape, seed: UInt64(124 + i))],
                    tolerance: .summation
                ) { try globalAvgPool2d($0[0]) })
        }
        return cases
    }

    /// Add, Sub, Mul and RealDiv over every pattern of broadcasting: a per-channel [C, 1, 1], a last dimension,
    /// both inputs broadcast, a scalar, missing leading dimensions, dimensions alternating between the inputs.
    /// Divisors stay within 0.5...2.
    static var arithmetic: [ParityCase] {
        let patterns: [(OpType, Shape, Shape, String)] = [
            (.add, [2, 3, 4, 5], [3, 1, 1], "[2, 3, 4, 5] + [3, 1, 1] (per channel)"),
            (.sub, [2, 3, 4, 5], [5], "[2, 3, 4, 5] − [5] (last dimension)"),
            (.mul, [4, 1, 5], [1, 3, 1], "[4, 1, 5] · [1, 3, 1] (both broadcast)"),
            (.realDiv, [3, 7], [], "[3, 7] / scalar"),
            (.add, [], [2, 3], "scalar + [2, 3]"),
            (.mul, [2, 1, 3, 1], [1, 4, 1, 5], "[2, 1, 3, 1] · [1, 4, 1, 5] (alternating)"),
            (.realDiv, [1, 6], [5, 6], "[1, 6] / [5, 6] (rows)"),
            (.sub, [3, 7, 9], [3, 7, 9], "[3, 7, 9] (same shape)"),
        ]
        return patterns.enumerated().map { i, pattern in
            let (op, a, b, name) = pattern
            let divisor: ClosedRange<Float> = op == .realDiv ? 0.5...2 : -1...1
            return ParityCase(
                op, name,
                inputs: [
                    ParityInputs.uniform(a, seed: UInt64(130 + i)),
                    ParityInputs.uniform(b, seed: UInt64(140 + i), divisor),
                ],
                tolerance: .rounding
            ) { x in
                switch op {
                case .add: try add(x[0], x[1])
                case .sub: try subtract(x[0], x[1])
                case .mul: try multiply(x[0], x[1])
                default: try divide(x[0], x[1])
                }
            }
        }
    }

    /// Depthwise (groups equal to channels, with a channel multiplier), grouped and dilated convolutions, with
    /// strides and asymmetric padding, and one with a fused bias and ReLU.
    static var groupedConvolution: [ParityCase] {
        let cases: [(Shape, Shape, (Int, Int), Padding, (Int, Int), Int, String)] = [
            ([2, 6, 9, 11], [6, 1, 3, 3], (1, 1), .same, (1, 1), 6, "depthwise 3×3, 6 channels, same"),
            ([1, 3, 7, 9], [6, 1, 3, 3], (2, 2), .valid, (1, 1), 3, "depthwise, multiplier 2, stride 2, batch 1"),
            (
                [2, 6, 8, 8], [9, 2, 3, 3], (1, 1), .explicit(top: 1, bottom: 0, left: 2, right: 1), (1, 1), 3,
                "3 groups, 6→9 channels, padding 1/0/2/1"
            ),
            ([2, 3, 13, 13], [4, 3, 3, 3], (1, 1), .same, (2, 2), 1, "dilation 2, same"),
            ([3, 4, 11, 9], [4, 2, 3, 2], (2, 1), .valid, (2, 3), 2, "2 groups, dilation 2×3, stride 2×1"),
        ]
        var all = cases.enumerated().map { i, c in
            let (x, w, strides, padding, dilations, groups, name) = c
            return ParityCase(
                .conv2D, name,
                inputs: [
                    ParityInputs.uniform(x, seed: UInt64(150 + i)), ParityInputs.uniform(w, seed: UInt64(160 + i)),
                ],
                tolerance: .summation
            ) { try conv2d($0[0], $0[1], strides: strides, padding: padding, dilations: dilations, groups: groups) }
        }
        all.append(
            ParityCase(
                .fusedConv2D, "depthwise 3×3 stride 2, + bias, ReLU",
                inputs: [
                    ParityInputs.uniform([2, 8, 10, 10], seed: 170), ParityInputs.uniform([8, 1, 3, 3], seed: 171),
                    ParityInputs.uniform([8], seed: 172),
                ],
                tolerance: .summation
            ) { try relu(biasAdd(conv2d($0[0], $0[1], stride: 2, padding: .same, groups: 8), $0[2])) })
        return all
    }

    /// Transpose, Slice (negative indices, steps, a backward step, ends past the end), Pad and Concat.
    static var layout: [ParityCase] {
        let x = ParityInputs.uniform([2, 3, 4, 5], seed: 180)
        return [
            ParityCase(.transpose, "[2, 3, 4, 5] to NHWC", inputs: [x], tolerance: .rounding) {
                try transpose($0[0], [0, 2, 3, 1])
            },
            ParityCase(
                .transpose, "[3, 7] transposed", inputs: [ParityInputs.uniform([3, 7], seed: 181)], tolerance: .rounding
            ) {
                try transpose($0[0], [1, 0])
            },
            ParityCase(
                .slice, "[3, 7, 9], rows 1..<3, every second column from −5",
                inputs: [ParityInputs.uniform([3, 7, 9], seed: 182)], tolerance: .rounding
            ) { try slice($0[0], starts: [1, -5], ends: [3, sliceToEnd], axes: [0, 2], steps: [1, 2]) },
            ParityCase(
                .slice, "[4, 6] backwards by 2 from the last column",
                inputs: [ParityInputs.uniform([4, 6], seed: 183)], tolerance: .rounding
            ) { try slice($0[0], starts: [-1], ends: [-7], axes: [1], steps: [-2]) },
            ParityCase(
                .pad, "[2, 3, 4, 5] padded 0/1/2/0 before, 0/0/1/3 after, with 0.5", inputs: [x], tolerance: .rounding
            ) {
                try pad($0[0], [0, 1, 2, 0, 0, 0, 1, 3], value: 0.5)
            },
            ParityCase(
                .concat, "[2, 3, 4] + [2, 5, 4] + [2, 1, 4] along axis 1",
                inputs: [
                    ParityInputs.uniform([2, 3, 4], seed: 184), ParityInputs.uniform([2, 5, 4], seed: 185),
                    ParityInputs.uniform([2, 1, 4], seed: 186),
                ],
                tolerance: .rounding
            ) { try concat($0, axis: 1) },
            ParityCase(
                .concat, "[3, 2] + [3, 7] along axis −1",
                inputs: [ParityInputs.uniform([3, 2], seed: 187), ParityInputs.uniform([3, 7], seed: 188)],
                tolerance: .rounding
            ) { try concat($0, axis: -1) },
        ]
    }

    /// LogSoftmax, softmax and log-softmax along other axes than the last, and the ops built from others
    /// (`Composites.swift`), each under the op doing most of its work.
    static var composites: [ParityCase] {
        let x = ParityInputs.uniform([2, 3, 4, 5], seed: 190, -3...3)
        return [
            ParityCase(
                .logSoftmax, "37 rows × 11 classes, logits ±20",
                inputs: [ParityInputs.uniform([37, 11], seed: 191, -20...20)], tolerance: .transcendental
            ) { try logSoftmax($0[0]) },
            ParityCase(.logSoftmax, "[2, 3, 4, 5] along axis 1", inputs: [x], tolerance: .transcendental) {
                try logSoftmax($0[0], axis: 1)
            },
            ParityCase(.softmax, "[2, 3, 4, 5] along axis 0", inputs: [x], tolerance: .transcendental) {
                try Conflux.softmax($0[0], axis: 0)
            },
            // Distinct values 0.05 apart, none within a finite-difference step of the kinks at ±3.
            ParityCase(
                .clip, "HardSigmoid, alpha 1/6, beta 1/2", inputs: [ParityInputs.distinct([2, 3, 4, 5], seed: 196)],
                tolerance: .rounding
            ) {
                try hardSigmoid($0[0], alpha: 1.0 / 6, beta: 0.5)
            },
            ParityCase(
                .mul, "PRelu, a slope per channel",
                inputs: [x, ParityInputs.uniform([3, 1, 1], seed: 192, 0...0.5)], tolerance: .rounding
            ) { try prelu($0[0], slope: $0[1]) },
            ParityCase(
                .matMul, "Gemm, 0.5·Aᵀ·B + 2·c[9]",
                inputs: [
                    ParityInputs.uniform([13, 7], seed: 193), ParityInputs.uniform([13, 9], seed: 194),
                    ParityInputs.uniform([9], seed: 195),
                ],
                tolerance: .summation
            ) { try gemm($0[0], $0[1], $0[2], alpha: 0.5, beta: 2, transposeA: true) },
            ParityCase(.reshape, "Flatten at 2, Unsqueeze at 0, Squeeze", inputs: [x], tolerance: .rounding) {
                try squeeze(unsqueeze(flatten($0[0], axis: 2), axes: [0]))
            },
            ParityCase(.identity, "[2, 3, 4, 5]", inputs: [x], tolerance: .rounding) { try identity($0[0]) },
            ParityCase(.matMul, "ReduceMean over [2, 3], kept", inputs: [x], tolerance: .summation) {
                try reduceMean($0[0], axes: [2, 3])
            },
            ParityCase(.matMul, "ReduceSum over [0, 2], dropped", inputs: [x], tolerance: .summation) {
                try reduceSum($0[0], axes: [0, -2], keepDimensions: false)
            },
        ]
    }

    /// Dropout at a fixed step: the mask is a function of index, step and seed, the same on every device and in
    /// the PyTorch reference, which computes it with the same hash.
    static var dropout: [ParityCase] {
        [
            ParityCase(
                .dropout, "rate 0.3 on [3, 7, 9], step 3, seed 7",
                inputs: [ParityInputs.uniform([3, 7, 9], seed: 197)],
                tolerance: .rounding
            ) { try Conflux.dropout($0[0], rate: 0.3, step: $0[0].graph.constant(3), seed: 7) }
        ]
    }

    /// ceil_mode (a last window past the input) and count_include_pad (padding in the divisor), apart and together;
    /// a dilated max-pool.
    static var poolingModes: [ParityCase] {
        let x = ParityInputs.distinct([1, 2, 8, 9], seed: 198)
        let padded = Padding.explicit(top: 1, bottom: 1, left: 1, right: 1)
        return [
            ParityCase(.maxPool, "3×3 stride 2 on 8×9, ceil mode", inputs: [x], tolerance: .rounding) {
                try maxPool2d($0[0], size: 3, stride: 2, ceilMode: true)
            },
            ParityCase(.avgPool, "2×2 stride 2 on 8×9, ceil mode", inputs: [x], tolerance: .rounding) {
                try avgPool2d($0[0], size: 2, stride: 2, ceilMode: true)
            },
            ParityCase(
                .avgPool, "3×3 stride 2, padding 1, counting the padding",
                inputs: [ParityInputs.distinct([2, 3, 7, 9], seed: 199)], tolerance: .rounding
            ) { try avgPool2d($0[0], size: 3, stride: 2, padding: padded, countIncludePad: true) },
            ParityCase(.avgPool, "3×3 stride 2, padding 1, counting it, ceil mode", inputs: [x], tolerance: .rounding) {
                try avgPool2d($0[0], size: 3, stride: 2, padding: padded, countIncludePad: true, ceilMode: true)
            },
            ParityCase(
                .maxPool, "3×3 dilated by 2, stride 2, padding 1",
                inputs: [ParityInputs.distinct([2, 3, 9, 11], seed: 203)],
                tolerance: .rounding
            ) { try maxPool2d($0[0], kernel: (3, 3), strides: (2, 2), padding: padded, dilations: (2, 2)) },
        ]
    }

    /// Gather (negative indices, a matrix of them), Cast both ways and Shape, as kernels: built on placeholders,
    /// so that nothing folds.
    static var indexing: [ParityCase] {
        [
            ParityCase(
                .gather, "[3, 5, 4] along axis 1 at [[4, −1], [0, 2]]",
                inputs: [
                    ParityInputs.uniform([3, 5, 4], seed: 200), HostTensor(shape: [2, 2], ints: [4, -1, 0, 2]),
                ],
                tolerance: .rounding, gradients: false
            ) { try gather($0[0], $0[1], axis: 1) },
            ParityCase(
                .cast, "[3, 7] within ±5 to Int32 and back", inputs: [ParityInputs.uniform([3, 7], seed: 201, -5...5)],
                tolerance: .rounding, gradients: false
            ) { try cast(cast($0[0], to: .int32), to: .float32) },
            ParityCase(
                .shape, "of [2, 3, 4, 5]", inputs: [ParityInputs.uniform([2, 3, 4, 5], seed: 202)],
                tolerance: .rounding, gradients: false
            ) { try cast($0[0].graph.addNode(.shape, [$0[0]]), to: .float32) },
        ]
    }

    /// A strided convolution of one image, which the CPU splits by output columns instead of by images.
    static var smallBatches: [ParityCase] {
        [
            ParityCase(
                .conv2D, "batch 1, 13×11, 5→6 channels, stride 2, padding 1",
                inputs: [
                    ParityInputs.uniform([1, 5, 13, 11], seed: 204), ParityInputs.uniform([6, 5, 3, 3], seed: 205),
                ],
                tolerance: .summation
            ) { try conv2d($0[0], $0[1], stride: 2, padding: .explicit(top: 1, bottom: 1, left: 1, right: 1)) }
        ]
    }

    /// Logits near 10⁶, where the sum's logarithm is far below the spacing of the floats around the maximum: the
    /// maximum must come off first (adding it back to log Σ exp rounds away the digits that matter).
    static var largeLogits: [ParityCase] {
        let logits = ParityInputs.uniform([4, 100], seed: 206, 999_990...1_000_010)
        let labels = ParityInputs.labels(4, classes: 100, seed: 207)
        return [
            ParityCase(.softmax, "logits near 1e6", inputs: [logits], tolerance: .transcendental) {
                try Conflux.softmax($0[0])
            },
            ParityCase(.logSoftmax, "logits near 1e6", inputs: [logits], tolerance: .transcendental) {
                try logSoftmax($0[0])
            },
            ParityCase(
                .softmaxCrossEntropy, "logits near 1e6", inputs: [logits, labels], tolerance: .transcendental
            ) { try softmaxCrossEntropy(logits: $0[0], labels: $0[1]) },
        ]
    }

    /// Stride-1 convolutions with output channels enough for the CPU's pairs of channel vectors and a last single
    /// one (40 = 2·16 + 8 on AVX-512), of one image (its channels split across the cores) and of three.
    static var channelBlocks: [ParityCase] {
        [1, 3].map { batch in
            ParityCase(
                .conv2D, "batch \(batch), 9×11, 5→40 channels, same",
                inputs: [
                    ParityInputs.uniform([batch, 5, 9, 11], seed: 208), ParityInputs.uniform([40, 5, 3, 3], seed: 209),
                ],
                tolerance: .summation
            ) { try conv2d($0[0], $0[1], padding: .same) }
        }
    }

    /// A collective in a process on its own (the test suite's): two tensors in one bucket, each weighted, the
    /// sum over a group of one.
    static var collectives: [ParityCase] {
        let inputs = [ParityInputs.uniform([3, 7], seed: 210), ParityInputs.uniform([5], seed: 211), .scalar(0.375)]
        return [OpType.allReduceStart, .allReduceWait].map { op in
            ParityCase(
                op, "one process, two tensors, weight 0.375", inputs: inputs, tolerance: .rounding, gradients: false
            ) {
                try concat(
                    allReduce([$0[0], $0[1]], weight: $0[2], bucketBytes: 1 << 20).map {
                        try reshape($0, [$0.shape.count])
                    },
                    axis: 0)
            }
        }
    }

    /// The element-wise ops ONNX imports as compositions of others: Neg, Abs, Max, Min, Tile. Distinct inputs
    /// keep every value and difference away from the kinks at 0 by more than a finite-difference step.
    static var elementwiseComposites: [ParityCase] {
        let x = ParityInputs.distinct([3, 4, 5], seed: 212)
        let y = ParityInputs.distinct([4, 5], seed: 213, spacing: 0.07)
        return [
            ParityCase(.mul, "Neg", inputs: [x], tolerance: .rounding) { try negate($0[0]) },
            ParityCase(.add, "Abs", inputs: [x], tolerance: .rounding) { try absolute($0[0]) },
            ParityCase(.add, "Max, [3, 4, 5] and [4, 5] broadcast", inputs: [x, y], tolerance: .rounding) {
                try maximum($0[0], $0[1])
            },
            ParityCase(.sub, "Min, [3, 4, 5] and [4, 5] broadcast", inputs: [x, y], tolerance: .rounding) {
                try minimum($0[0], $0[1])
            },
            ParityCase(.concat, "Tile [3, 4, 5] by [2, 1, 3]", inputs: [x], tolerance: .rounding) {
                try tile($0[0], [2, 1, 3])
            },
        ]
    }

    /// Convolutions whose residual `Add` and `Clip` (ReLU6) `Fusion` runs inside the kernel where the device has
    /// it: ResNet's shortcut with its ReLU, MobileNet's ReLU6, a 1×1 convolution's residual under a narrow clip, and
    /// a projection shortcut (a residual computed in the run, whose buffer the output takes over).
    static var fusedEpilogues: [ParityCase] {
        [
            ParityCase(
                .fusedConv2D, "3×3 same + bias + residual, ReLU",
                inputs: [
                    ParityInputs.uniform([2, 6, 9, 11], seed: 220), ParityInputs.uniform([6, 6, 3, 3], seed: 221),
                    ParityInputs.uniform([6], seed: 222), ParityInputs.uniform([2, 6, 9, 11], seed: 223),
                ],
                tolerance: .summation
            ) { try relu(add(biasAdd(conv2d($0[0], $0[1], padding: .same), $0[2]), $0[3])) },
            ParityCase(
                .fusedConv2D, "3×3 stride 2 + bias, ReLU6",
                inputs: [
                    ParityInputs.uniform([1, 5, 7, 9], seed: 224, -3...3),
                    ParityInputs.uniform([7, 5, 3, 3], seed: 225), ParityInputs.uniform([7], seed: 226),
                ],
                tolerance: .summation
            ) { try clip(biasAdd(conv2d($0[0], $0[1], stride: 2, padding: .same), $0[2]), min: 0, max: 6) },
            ParityCase(
                .fusedConv2D, "1×1 + residual, clip to ±0.5",
                inputs: [
                    ParityInputs.uniform([3, 4, 8, 8], seed: 227), ParityInputs.uniform([4, 4, 1, 1], seed: 228),
                    ParityInputs.uniform([3, 4, 8, 8], seed: 229),
                ],
                tolerance: .summation
            ) { try clip(add($0[2], conv2d($0[0], $0[1])), min: -0.5, max: 0.5) },
            ParityCase(
                .fusedConv2D, "3×3 + a 1×1 projection of the same input as residual, ReLU",
                inputs: [
                    ParityInputs.uniform([2, 4, 7, 9], seed: 230), ParityInputs.uniform([5, 4, 3, 3], seed: 231),
                    ParityInputs.uniform([5, 4, 1, 1], seed: 232),
                ],
                tolerance: .summation
            ) { try relu(add(conv2d($0[0], $0[1], padding: .same), conv2d($0[0], $0[2]))) },
        ]
    }
}
