import Conflux
import ConfluxNN

/// How each ONNX operator Conflux imports becomes Conflux ops, by op type: the operators of modern CNNs and the
/// shape arithmetic exporters emit around them, for the opsets in `ONNXModel.opsets`.
enum ONNXOperators {
    typealias Builder = (ONNXNodeContext) throws -> Tensor

    static let all: [String: Builder] = activations.merging(arithmetic) { $1 }.merging(windows) { $1 }
        .merging(layout) { $1 }.merging(constants) { $1 }

    static let activations: [String: Builder] = [
        "Relu": { try relu($0.input(0)) },
        "Sigmoid": { try sigmoid($0.input(0)) },
        "Tanh": { try Conflux.tanh($0.input(0)) },
        "LeakyRelu": { try leakyRelu($0.input(0), alpha: $0.float("alpha", 0.01)) },
        "HardSigmoid": { try hardSigmoid($0.input(0), alpha: $0.float("alpha", 0.2), beta: $0.float("beta", 0.5)) },
        "HardSwish": { try hardSwish($0.input(0)) },
        "PRelu": { c in
            let (x, slope) = (try c.input(0), try c.input(1))
            // Before opset 7 a slope of one dimension held one value per channel (dimension 1), not per last one.
            guard c.opset < 7, slope.shape.rank == 1, slope.shape.count > 1, x.shape.rank > 2 else {
                return try prelu(x, slope: slope)
            }
            return try prelu(
                x, slope: reshape(slope, Shape([slope.shape.count] + Array(repeating: 1, count: x.shape.rank - 2))))
        },
        "Clip": { c in
            // Opset 11 moved the bounds from attributes to optional inputs.
            let low = try c.opset < 11 ? c.float("min", -.infinity) : c.constantInput(1)?.floats[0] ?? -.infinity
            let high = try c.opset < 11 ? c.float("max", .infinity) : c.constantInput(2)?.floats[0] ?? .infinity
            return try clip(c.input(0), min: low, max: high)
        },
        "Softmax": { try softmaxLike($0, Conflux.softmax) },
        "LogSoftmax": { try softmaxLike($0, logSoftmax) },
        "Dropout": { c in
            guard let layer = c.layer, layer.mode == .training else { return try c.input(0) }
            // Opset 12 moved the ratio from an attribute to an optional input.
            let rate = try c.opset < 12 ? c.float("ratio", 0.5) : c.constantInput(1)?.floats.first ?? 0.5
            // The step counter that varies the mask, as ConfluxNN's Dropout layer keeps it; the node's place in
            // the file seeds it, so that two dropouts of one shape drop different elements.
            let step = try c.graph.variable(.scalar, name: "step")
            layer.addUpdate(try assignAdd(step, c.graph.constant(1)))
            return try dropout(c.input(0), rate: rate, step: step, seed: c.index)
        },
        "Identity": { try identity($0.input(0)) },
        "LRN": { c in
            try localResponseNormalization(
                c.input(0), size: c.int("size", 0), alpha: c.float("alpha", 1e-4), beta: c.float("beta", 0.75),
                bias: c.float("bias", 1))
        },
        "BatchNormalization": { c in
            // Opsets 6 to 8 said training with is_test = 0, and could normalize each element apart (spatial = 0).
            guard c.int("training_mode", 0) == 0, c.opset >= 7 || c.int("is_test", 0) != 0 else {
                throw c.error("is in training mode")
            }
            guard c.int("spatial", 1) != 0 else { throw c.error("normalizes each element apart (spatial = 0)") }
            let x = try c.input(0)
            guard x.shape.rank >= 2 else { throw c.error("has an input of rank \(x.shape.rank)") }
            // Conflux's batch norm is of [N, C, H, W]; any other rank runs as [N, C, everything else, 1].
            let planar =
                x.shape.rank == 4
                ? x : try reshape(x, Shape([x.shape[0], x.shape[1], x.shape.dims.dropFirst(2).reduce(1, *), 1]))
            let epsilon = c.float("epsilon", 1e-5)
            let y: Tensor
            if let layer = c.layer, layer.mode == .training {
                // The batch's statistics, and the running ones moved towards them. ONNX's momentum is the weight
                // of the running value, PyTorch's (and Conflux's) the weight of the batch's.
                y = try batchNorm(planar, scale: c.input(1), offset: c.input(2), epsilon: epsilon)
                layer.addUpdate(
                    try updateBatchNormStatistics(
                        runningMean: c.input(3), runningVariance: c.input(4), batch: planar,
                        momentum: 1 - c.float("momentum", 0.9)))
            } else {
                y = try batchNorm(
                    planar, scale: c.input(1), offset: c.input(2), mean: c.input(3), variance: c.input(4),
                    epsilon: epsilon)
            }
            return x.shape.rank == 4 ? y : try reshape(y, x.shape)
        },
    ]

    /// Softmax and LogSoftmax: along `axis` from opset 13 (default −1); before, over the input flattened to a
    /// matrix at `axis` (default 1).
    private static func softmaxLike(_ c: ONNXNodeContext, _ along: (Tensor, Int) throws -> Tensor) throws -> Tensor {
        let x = try c.input(0)
        let rank = x.shape.rank
        guard c.opset < 13 else { return try along(x, c.int("axis", -1)) }
        let axis = c.int("axis", 1) < 0 ? c.int("axis", 1) + rank : c.int("axis", 1)
        guard axis != rank - 1 else { return try along(x, -1) }
        return try reshape(along(flatten(x, axis: axis), 1), x.shape)
    }

    static let arithmetic: [String: Builder] = [
        "Add": binary(&+, add),
        "Sub": binary(&-, subtract),
        "Mul": binary(&*, multiply),
        "Div": binary(/, divides: true, divide),
        "Sum": { c in try addN(c.inputs.compactMap { $0 }) },
        "Neg": { try negate($0.input(0)) },
        "Abs": { try absolute($0.input(0)) },
        "Max": { c in try variadic(c, maximum) },
        "Min": { c in try variadic(c, minimum) },
        "MatMul": { try matmul($0.input(0), $0.input(1)) },
        "Gemm": { c in
            try gemm(
                c.input(0), c.input(1), c.optionalInput(2), alpha: c.float("alpha", 1), beta: c.float("beta", 1),
                transposeA: c.int("transA", 0) != 0, transposeB: c.int("transB", 0) != 0)
        },
        "ReduceMean": { c in try reduction(c, opsetWithAxesInput: 18, reduceMean) },
        "ReduceSum": { c in try reduction(c, opsetWithAxesInput: 13, reduceSum) },
    ]

    /// ReduceMean and ReduceSum: over the given axes, every axis by default; the opset that moved the axes from
    /// an attribute to an optional input differs between the two (18 and 13).
    private static func reduction(
        _ c: ONNXNodeContext, opsetWithAxesInput: Int, _ reduce: (Tensor, [Int], Bool) throws -> Tensor
    ) throws -> Tensor {
        let axes = try c.opset < opsetWithAxesInput ? c.ints("axes") : c.constantInput(1)?.ints.map(Int.init)
        let x = try c.input(0)
        return try reduce(x, axes ?? Array(0..<x.shape.rank), c.int("keepdims", 1) != 0)
    }

    /// Max and Min of any number of inputs, pairwise.
    private static func variadic(_ c: ONNXNodeContext, _ pair: (Tensor, Tensor) throws -> Tensor) throws -> Tensor {
        let inputs = c.inputs.compactMap { $0 }
        guard let first = inputs.first else { throw c.error("needs an input") }
        return try inputs.dropFirst().reduce(first, pair)
    }

    /// An arithmetic node: integer constants folded as they are imported, anything else by `float`.
    private static func binary(
        _ integer: @escaping (Int32, Int32) -> Int32, divides: Bool = false,
        _ float: @escaping (Tensor, Tensor) throws -> Tensor
    ) -> Builder {
        { c in
            if let folded = try integerConstants(c, divides: divides, integer) { return folded }
            let (a, b) = try operands(c)
            return try float(a, b)
        }
    }

    /// The two operands of an arithmetic node. Before opset 7, `broadcast=1` aligned B with A's dimensions from
    /// `axis` (by default A's trailing ones): numpy's rule, once B has trailing dimensions of 1 up to A's end.
    private static func operands(_ c: ONNXNodeContext) throws -> (Tensor, Tensor) {
        let (a, b) = (try c.input(0), try c.input(1))
        guard c.opset < 7, c.int("broadcast", 0) != 0 else { return (a, b) }
        let axis = c.int("axis", a.shape.rank - b.shape.rank)
        let trailing = a.shape.rank - axis - b.shape.rank
        guard axis >= 0, trailing >= 0 else { throw c.error("broadcasts B of rank \(b.shape.rank) from axis \(axis)") }
        return (a, try reshape(b, Shape(b.shape.dims + Array(repeating: 1, count: trailing))))
    }

    /// Integer arithmetic on two constants, computed as it is imported: shape arithmetic (ShuffleNet's channel
    /// split adds sizes). Conflux's arithmetic ops are Float32; nil when an input is not an integer constant.
    private static func integerConstants(
        _ c: ONNXNodeContext, divides: Bool = false, _ operation: (Int32, Int32) -> Int32
    ) throws -> Tensor? {
        guard let a = try c.input(0).constantValue, let b = try c.input(1).constantValue, a.dtype == .int32,
            b.dtype == .int32
        else { return nil }
        guard !divides || !b.ints.contains(0) else { throw c.error("divides by 0") }
        guard let shape = Shape.broadcast(a.shape, b.shape) else { throw c.error("has shapes that do not broadcast") }
        let layout = BroadcastLayout(output: shape, inputs: [a.shape, b.shape])
        let (x, y) = (a.ints, b.ints)
        let values = (0..<shape.count).map { i in
            operation(x[layout.offset(0, element: i)], y[layout.offset(1, element: i)])
        }
        return try c.graph.constant(HostTensor(shape: shape, ints: values))
    }

    static let windows: [String: Builder] = [
        "Conv": { c in
            try spatial(c) { x, window in
                var w = try c.input(1)
                if window.lifted { w = try unsqueeze(w, axes: [2]) }
                let y = try conv2d(
                    x, w, strides: window.strides, padding: window.padding, dilations: window.dilations,
                    groups: c.int("group", 1))
                return try c.optionalInput(2).map { try biasAdd(y, $0) } ?? y
            }
        },
        "MaxPool": { c in
            guard c.node.output.count < 2 || c.node.output[1].isEmpty else { throw c.error("asks for its indices") }
            return try spatial(c) { x, window in
                try maxPool2d(
                    x, kernel: window.kernel(), strides: window.strides, padding: window.padding,
                    dilations: window.dilations, ceilMode: c.int("ceil_mode", 0) != 0)
            }
        },
        "AveragePool": { c in
            try spatial(c) { x, window in
                try avgPool2d(
                    x, kernel: window.kernel(), strides: window.strides, padding: window.padding,
                    countIncludePad: c.int("count_include_pad", 0) != 0, ceilMode: c.int("ceil_mode", 0) != 0)
            }
        },
        "GlobalAveragePool": { try globalAvgPool2d($0.input(0)) },
        "GlobalMaxPool": { c in
            let x = try c.input(0)
            guard x.shape.rank == 4 else { throw c.error("is not 2-D") }
            return try maxPool2d(x, kernel: (x.shape[2], x.shape[3]), strides: (1, 1))
        },
    ]

    /// Builds a window op on input 0 in 2-D: a 1-D one (input [N, C, L], as PyTorch's Conv1d and MaxPool1d export)
    /// as a 2-D one of height 1, its result squeezed back.
    private static func spatial(
        _ c: ONNXNodeContext, _ build: (Tensor, WindowAttributes) throws -> Tensor
    ) throws -> Tensor {
        let x = try c.input(0)
        switch x.shape.rank {
        case 4: return try build(x, WindowAttributes(c, lifted: false))
        case 3: return try squeeze(build(unsqueeze(x, axes: [2]), WindowAttributes(c, lifted: true)), axes: [2])
        default: throw c.error("is \(x.shape.rank - 2)-D; Conflux's windows are 1-D and 2-D")
        }
    }

    /// A window's attributes in 2-D; `lifted` when the node is 1-D and runs as 2-D of height 1.
    private struct WindowAttributes {
        let c: ONNXNodeContext
        let lifted: Bool
        let strides: (Int, Int)
        let dilations: (Int, Int)
        let padding: Padding

        init(_ c: ONNXNodeContext, lifted: Bool) throws {
            self.c = c
            self.lifted = lifted
            let spatialRank = lifted ? 1 : 2
            func pair(_ name: String) throws -> (Int, Int) {
                let values = c.ints(name) ?? Array(repeating: 1, count: spatialRank)
                guard values.count == spatialRank else {
                    throw c.error("has \(values.count) \(name) for a \(spatialRank)-D window")
                }
                return lifted ? (1, values[0]) : (values[0], values[1])
            }
            strides = try pair("strides")
            dilations = try pair("dilations")
            switch c.string("auto_pad", "NOTSET") {
            case "VALID": padding = .valid
            case "SAME_UPPER": padding = .same  // the extra row or column after, as TensorFlow's 'same'
            case "NOTSET":
                // ONNX's pads: every dimension's start, then every dimension's end.
                let pads = c.ints("pads") ?? Array(repeating: 0, count: 2 * spatialRank)
                guard pads.count == 2 * spatialRank else {
                    throw c.error("has \(pads.count) pads for a \(spatialRank)-D window")
                }
                padding =
                    lifted
                    ? .explicit(top: 0, bottom: 0, left: pads[0], right: pads[1])
                    : .explicit(top: pads[0], bottom: pads[2], left: pads[1], right: pads[3])
            case let other: throw c.error("has auto_pad \(other), which Conflux does not support")
            }
        }

        /// A pooling's window, which the node must give.
        func kernel() throws -> (Int, Int) {
            guard let kernel = c.ints("kernel_shape"), kernel.count == (lifted ? 1 : 2) else {
                throw c.error("has no kernel_shape for its \(lifted ? 1 : 2)-D window")
            }
            return lifted ? (1, kernel[0]) : (kernel[0], kernel[1])
        }
    }

    static let layout: [String: Builder] = [
        "Flatten": { try flatten($0.input(0), axis: $0.int("axis", 1)) },
        "Reshape": { c in
            let x = try c.input(0)
            guard let target = try c.constantInput(1) else { throw c.error("needs a shape") }
            return try reshape(
                x, resolvedShape(target.ints.map(Int.init), of: x.shape, allowZero: c.int("allowzero", 0) != 0))
        },
        "Transpose": { c in
            let x = try c.input(0)
            return try transpose(x, c.ints("perm") ?? Array((0..<x.shape.rank).reversed()))
        },
        "Squeeze": { c in try squeeze(c.input(0), axes: try axes(c)) },
        "Unsqueeze": { c in
            guard let axes = try axes(c) else { throw c.error("needs axes") }
            return try unsqueeze(c.input(0), axes: axes)
        },
        "Concat": { c in try concat(c.inputs.compactMap { $0 }, axis: c.int("axis", 0)) },
        "Tile": { c in
            guard let repeats = try c.constantInput(1) else { throw c.error("needs repeats") }
            return try tile(c.input(0), repeats.ints.map(Int.init))
        },
        "Slice": { c in
            let x = try c.input(0)
            // Opset 10 moved starts, ends, axes and steps from attributes to inputs.
            guard c.opset >= 10 else {
                return try slice(x, starts: c.ints("starts") ?? [], ends: c.ints("ends") ?? [], axes: c.ints("axes"))
            }
            let lists = try (1...4).map { try c.constantInput($0)?.ints.map(Int.init) }
            guard let starts = lists[0], let ends = lists[1] else { throw c.error("needs starts and ends") }
            return try slice(x, starts: starts, ends: ends, axes: lists[2], steps: lists[3])
        },
        "Pad": { c in
            guard c.string("mode", "constant") == "constant" else {
                throw c.error("pads by \(c.string("mode", "")) mode")
            }
            // Opset 11 moved the pads and the value from attributes to inputs.
            let pads = try c.opset < 11 ? c.ints("pads") : c.constantInput(1)?.ints.map(Int.init)
            let value = try c.opset < 11 ? c.float("value", 0) : c.constantInput(2)?.floats.first ?? 0
            guard let pads else { throw c.error("needs pads") }
            return try pad(c.input(0), pads, value: value)
        },
    ]

    /// Squeeze's and Unsqueeze's axes: an attribute before opset 13, an input from it.
    private static func axes(_ c: ONNXNodeContext) throws -> [Int]? {
        c.opset < 13 ? c.ints("axes") : try c.constantInput(1)?.ints.map(Int.init)
    }

    /// Reshape's target with ONNX's conventions resolved: 0 copies the input's dimension (unless `allowZero`), −1
    /// is inferred. When 0 copies an unknown batch, the −1 is computed from the other dimensions, so that the
    /// target keeps a single unknown.
    static func resolvedShape(_ target: [Int], of input: Shape, allowZero: Bool) -> Shape {
        var dims = target.enumerated().map { d, size in
            size == 0 && !allowZero && d < input.rank ? input[d] : size == -1 ? Shape.unknown : size
        }
        let unknowns = dims.indices.filter { dims[$0] == Shape.unknown }
        let copiedUnknown = unknowns.filter { target[$0] == 0 }
        if unknowns.count == 2, copiedUnknown.count == 1, input.dims.filter({ $0 == Shape.unknown }).count == 1,
            let inferred = unknowns.first(where: { target[$0] == -1 })
        {
            let known = input.dims.filter { $0 != Shape.unknown }.reduce(1, *)
            let others = dims.enumerated().filter { $0.offset != inferred && $0.element != Shape.unknown }
            dims[inferred] = known / max(others.map(\.element).reduce(1, *), 1)
        }
        return Shape(dims)
    }

    static let constants: [String: Builder] = [
        "Constant": { c in
            if let value = try c.tensor("value") { return try c.graph.constant(value) }
            if let ints = c.ints("value_ints") {
                return try c.graph.constant(HostTensor(shape: [ints.count], ints: ints.map { Int32(clamping: $0) }))
            }
            throw c.error("holds a kind of value Conflux does not read")
        },
        "Shape": { try shape($0.input(0)) },
        "Gather": { c in try gather(c.input(0), c.input(1), axis: c.int("axis", 0)) },
        "Cast": { c in
            switch c.int("to", 0) {
            case 1: return try cast(c.input(0), to: .float32)
            case 6, 7: return try cast(c.input(0), to: .int32)
            case let other: throw c.error("casts to element type \(other)")
            }
        },
        "ConstantOfShape": { c in
            guard let shape = c.optionalInput(0) else { throw c.error("needs a shape") }
            let value = try c.tensor("value")
            return try constantOfShape(
                shape, value: value?.floats.first ?? 0, dtype: value?.dtype ?? .float32)
        },
    ]
}
