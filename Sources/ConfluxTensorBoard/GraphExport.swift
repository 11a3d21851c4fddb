import Conflux
import Foundation

/// A Conflux graph as TensorFlow's `GraphDef` for TensorBoard, and as Graphviz DOT clustered by device.
public enum GraphExport {
    /// One `NodeDef` per node: its op, inputs, attributes (integers, floats, shapes; `_output_shapes` as
    /// TensorBoard expects) and the `device` the placement chose (`/device:cpu:0`; `/job:worker/task:1/device:cpu:0` for another task's). Where a tensor crosses devices,
    /// a `_Send` on the producer's device and a `_Recv` on the reader's stand between them, as in TensorFlow.
    public static func graphDef(_ graph: Graph, placement: Placement?) -> Tensorboard_GraphDef {
        let transfers =
            placement.map { Partition(graph: graph, nodes: graph.nodes.map(\.id), placement: $0).transfers } ?? []
        let received = Dictionary(
            uniqueKeysWithValues: transfers.map { pair in
                ("\(pair.tensor)@\(pair.to)", "\(graph.nodes[pair.tensor].name)/_Recv_on_\(pair.to)")
            })
        var nodes = graph.nodes.map { node in
            Tensorboard_NodeDef.with { def in
                let device = placement?.device(of: node.id)
                def.name = node.name
                def.op = node.op.rawValue
                def.input = node.inputs.map { received["\($0)@\(device ?? "")"] ?? graph.nodes[$0].name }
                if let device { def.device = TaskDeviceName.tensorFlow(device) }
                def.attr["_output_shapes"] = outputShapes(node.shape)
                def.attr["T"] = Tensorboard_AttrValue.with { $0.type = node.dtype == .float32 ? .dtFloat : .dtInt32 }
                for (name, value) in node.attributes.values {
                    if let attribute = attribute(value) { def.attr[name] = attribute }
                }
            }
        }
        for pair in transfers {
            let tensor = graph.nodes[pair.tensor]
            let send = "\(tensor.name)/_Send_to_\(pair.to)"
            nodes.append(
                .with {
                    $0.name = send
                    $0.op = "_Send"
                    $0.input = [tensor.name]
                    $0.device = TaskDeviceName.tensorFlow(pair.from)
                })
            nodes.append(
                .with {
                    $0.name = received["\(pair.tensor)@\(pair.to)"]!
                    $0.op = "_Recv"
                    $0.input = [send]
                    $0.device = TaskDeviceName.tensorFlow(pair.to)
                    $0.attr["_output_shapes"] = outputShapes(tensor.shape)
                })
        }
        return Tensorboard_GraphDef.with {
            $0.versions = Tensorboard_VersionDef.with { $0.producer = 1 }
            $0.node = nodes
        }
    }

    private static func outputShapes(_ shape: Shape) -> Tensorboard_AttrValue {
        Tensorboard_AttrValue.with { $0.list = Tensorboard_AttrValue.ListValue.with { $0.shape = [self.shape(shape)] } }
    }

    /// The graph in Graphviz DOT: one cluster per device, an edge per input, the edges that cross devices in red.
    public static func dot(_ graph: Graph, placement: Placement) -> String {
        var lines = ["digraph conflux {", "  rankdir=TB;", "  node [shape=box, fontsize=10];"]
        let byDevice = Dictionary(grouping: graph.nodes) { placement.device(of: $0.id) ?? "unplaced" }
        for (index, device) in byDevice.keys.sorted().enumerated() {
            lines.append("  subgraph cluster_\(index) {")
            lines.append("    label=\(quoted(device));")
            for node in byDevice[device]! {
                lines.append("    n\(node.id) [label=\(quoted("\(node.name)\n\(node.op) \(node.shape)"))];")
            }
            lines.append("  }")
        }
        for node in graph.nodes {
            for input in node.inputs {
                let crosses = placement.device(of: input) != placement.device(of: node.id)
                lines.append("  n\(input) -> n\(node.id)\(crosses ? " [color=red, penwidth=2]" : "");")
            }
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    private static func shape(_ shape: Shape) -> Tensorboard_TensorShapeProto {
        Tensorboard_TensorShapeProto.with { proto in
            proto.dim = shape.dims.map { size in Tensorboard_TensorShapeProto.Dim.with { $0.size = Int64(size) } }
        }
    }

    private static func attribute(_ value: AttributeValue) -> Tensorboard_AttrValue? {
        switch value {
        case .int(let v): return .with { $0.i = Int64(v) }
        case .ints(let v): return .with { $0.list = .with { $0.i = v.map(Int64.init) } }
        case .float(let v): return .with { $0.f = v }
        case .bool(let v): return .with { $0.b = v }
        case .shape(let v): return .with { $0.shape = shape(v) }
        case .tensor, .initializer: return nil
        }
    }

    private static func quoted(_ text: String) -> String {
        "\""
            + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n") + "\""
    }
}
