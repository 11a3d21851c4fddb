import Conflux

/// How each Conflux op the exporter covers becomes ONNX nodes, by op type.
extension ONNXExporter {
    typealias Converter = (inout Writer, Node) throws -> Void

    static func attribute(_ name: String, ints: [Int]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        (a.name, a.type, a.ints) = (name, .ints, ints.map(Int64.init))
        return a
    }

    static func attribute(_ name: String, int: Int) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        (a.name, a.type, a.i) = (name, .int, Int64(int))
        return a
    }

    static func attribute(_ name: String, float: Float) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        (a.name, a.type, a.f) = (name, .float, float)
        return a
    }

    /// A window's kernel, strides and pads as ONNX writes them: Conflux keeps pads as [top, bottom, left, right],
    /// ONNX as [top, left, bottom, right].
    static func window(_ node: Node) -> [Onnx_AttributeProto] {
        let pads = node.attributes.ints("pads")
        return [
            attribute("kernel_shape", ints: node.attributes.ints("kernel")),
            attribute("strides", ints: node.attributes.ints("strides")),
            attribute("pads", ints: [pads[0], pads[2], pads[1], pads[3]]),
        ]
    }

    /// One ONNX node of the same inputs per op, by Conflux op type.
    static func same(_ type: String) -> Converter { { w, node in w.add(type, w.inputs(node), for: node) } }

    static let converters: [OpType: Converter] = [
        .relu: same("Relu"), .tanh: same("Tanh"), .sigmoid: same("Sigmoid"), .hardSwish: same("HardSwish"),
        .add: same("Add"), .sub: same("Sub"), .mul: same("Mul"), .realDiv: same("Div"), .identity: same("Identity"),
        .leakyRelu: { w, node in
            w.add("LeakyRelu", w.inputs(node), for: node, [attribute("alpha", float: node.attributes.float("alpha"))])
        },
        .clip: { w, node in
            let bounds = ["min", "max"].map { bound in
                let name = "\(node.name)/\(bound)"
                w.initializer(name, HostTensor(shape: [], floats: [node.attributes.float(bound)]))
                return name
            }
            w.add("Clip", w.inputs(node) + bounds, for: node)
        },
        .softmax: { w, node in w.add("Softmax", w.inputs(node), for: node, [attribute("axis", int: -1)]) },
        .logSoftmax: { w, node in w.add("LogSoftmax", w.inputs(node), for: node, [attribute("axis", int: -1)]) },
        .conv2D: { w, node in
            w.add(
                "Conv", w.inputs(node), for: node,
                window(node) + [
                    attribute("dilations", ints: node.attributes.ints("dilations")),
                    attribute("group", int: node.attributes.int("groups")),
                ])
        },
        .biasAdd: { w, node in
            // A convolution's bias is its third input, when nothing else reads the convolution's output.
            let producer = node.inputs[0]
            if w.graph.nodes[producer].op == .conv2D, w.uses[producer] == 1,
                let conv = w.nodes.lastIndex(where: { $0.output == [w.name(producer)] })
            {
                w.nodes[conv].input.append(w.name(node.inputs[1]))
                (w.nodes[conv].output, w.nodes[conv].name) = ([node.name], node.name)
                return
            }
            // The bias runs along dimension 1; ONNX's Add broadcasts along the last: unsqueeze it to [C, 1, …].
            let rank = w.graph.nodes[node.inputs[0]].shape.rank
            var bias = w.name(node.inputs[1])
            if rank > 2 {
                let axes = w.integers(Array(1..<(rank - 1)), for: node, "axes")
                w.nodes.append(ONNXExporter.node("Unsqueeze", [bias, axes], ["\(node.name)/bias"]))
                bias = "\(node.name)/bias"
            }
            w.add("Add", [w.name(node.inputs[0]), bias], for: node)
        },
        .maxPool: { w, node in
            w.add(
                "MaxPool", w.inputs(node), for: node,
                window(node) + [attribute("dilations", ints: node.attributes.ints("dilations"))])
        },
        .avgPool: { w, node in
            // Conflux's pads hold ceil mode's overhang too; `countedPads` says which of them the divisor counts.
            let (pads, counted) = (node.attributes.ints("pads"), node.attributes.ints("countedPads"))
            guard counted.allSatisfy({ $0 == 0 }) || counted == pads else {
                throw ConfluxError.invalidArgument(
                    op: "ONNX export", reason: "'\(node.name)' counts part of its padding, which ONNX cannot say")
            }
            w.add(
                "AveragePool", w.inputs(node), for: node,
                window(node) + [
                    attribute("count_include_pad", int: counted == pads && pads.contains { $0 > 0 } ? 1 : 0)
                ])
        },
        .reshape: { w, node in
            // The unknown dimension (the batch) is ONNX's −1, inferred.
            let target = node.attributes.shape("shape").dims.map { $0 == Shape.unknown ? -1 : $0 }
            w.add("Reshape", w.inputs(node) + [w.integers(target, for: node, "shape")], for: node)
        },
        .matMul: { w, node in
            let (a, b) = (node.attributes.bool("transposeA"), node.attributes.bool("transposeB"))
            guard a || b else { return w.add("MatMul", w.inputs(node), for: node) }
            w.add(
                "Gemm", w.inputs(node), for: node,
                [attribute("transA", int: a ? 1 : 0), attribute("transB", int: b ? 1 : 0)])
        },
        .batchNorm: { w, node in
            guard node.inputs.count == 5 else {
                throw ConfluxError.invalidArgument(
                    op: "ONNX export",
                    reason: "'\(node.name)' normalizes by the batch's statistics: export the model's inference build")
            }
            w.add(
                "BatchNormalization", w.inputs(node), for: node,
                [attribute("epsilon", float: node.attributes.float("epsilon"))])
        },
        .concat: { w, node in
            w.add("Concat", w.inputs(node), for: node, [attribute("axis", int: node.attributes.int("axis"))])
        },
        .transpose: { w, node in
            w.add(
                "Transpose", w.inputs(node), for: node, [attribute("perm", ints: node.attributes.ints("permutation"))])
        },
    ]
}
