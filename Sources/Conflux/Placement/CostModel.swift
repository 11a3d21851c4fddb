/// The FLOPs and bytes of an op's node, given its shapes with the batch filled in (`OpDefinition.cost`).
public typealias CostFunction = (WorkContext) -> (flops: Double, bytes: Double)

/// What an op's cost function sees of one node.
public struct WorkContext {
    public let node: Node
    public let inputs: [Shape]
    public let output: Shape

    /// Every input read and the output written once, four bytes an element.
    public var bytes: Double { Double(inputs.map(\.count).reduce(output.count, +) * 4) }
    /// The larger of the output's and the first input's elements: the element-wise default's operations.
    public var elements: Double { Double(max(output.count, inputs.first?.count ?? 0)) }
}

/// How long a node takes on a device: the placer's estimate of its run time, from its op's work.
public enum CostModel {
    /// The batch assumed where a shape's batch is known only at run time.
    public static let nominalBatch = 64

    /// The arithmetic and the memory traffic of `node` at `batch` (where its shapes leave the batch open), in
    /// FLOPs and bytes: its op's `cost`, or one operation per element and every tensor moved once.
    public static func work(of node: Node, in graph: Graph, batch: Int = nominalBatch) -> (flops: Double, bytes: Double)
    {
        guard !node.role.isSource else { return (0, 0) }
        let context = WorkContext(
            node: node, inputs: node.inputs.map { concrete(graph.nodes[$0].shape, batch: batch) },
            output: concrete(node.shape, batch: batch))
        return OpDefinition.all[node.op]?.cost?(context) ?? (context.elements, context.bytes)
    }

    /// Seconds `node` takes on a device of `profile`: a launch, then whichever of compute and memory is slower.
    public static func seconds(_ node: Node, in graph: Graph, on profile: DeviceProfile) -> Double {
        let (flops, bytes) = work(of: node, in: graph)
        if flops == 0 && bytes == 0 { return 0 }
        return profile.launchMicroseconds * 1e-6
            + max(flops / (profile.gflops * 1e9), bytes / (profile.memoryGBps * 1e9))
    }

    /// Seconds to move `bytes` from one device to another through the host.
    public static func transferSeconds(bytes: Int, from: DeviceProfile, to: DeviceProfile) -> Double {
        let bandwidth = min(from.transferGBps, to.transferGBps) * 1e9
        return (from.launchMicroseconds + to.launchMicroseconds) * 1e-6 + Double(bytes) / bandwidth
    }

    /// The shape with every unknown dimension taken as `batch`.
    public static func concrete(_ shape: Shape, batch: Int = nominalBatch) -> Shape {
        Shape(shape.dims.map { $0 == Shape.unknown ? batch : $0 })
    }
}
