/// The work of each op, and how long it takes on a device: the placer's estimate of a node's run time.
public enum CostModel {
    /// The batch assumed where a shape's batch is known only at run time.
    public static let nominalBatch = 64

    /// The arithmetic and the memory traffic of `node` at `batch` (where its shapes leave the batch open), in
    /// FLOPs and bytes.
    public static func work(of node: Node, in graph: Graph, batch: Int = nominalBatch) -> (flops: Double, bytes: Double)
    {
        let inputs = node.inputs.map { concrete(graph.nodes[$0].shape, batch: batch) }
        let output = concrete(node.shape, batch: batch)
        let bytes = Double(inputs.map(\.count).reduce(output.count, +) * 4)
        let count = Double(output.count)
        switch node.op {
        case .placeholder, .constant, .variable:
            return (0, 0)
        case .matMul:
            let a = inputs[0]
            let k = node.attributes.bool("transposeA") ? a[0] : a[1]
            return (2 * count * Double(k), bytes)
        case .conv2D:
            let w = inputs[1]
            return (2 * count * Double(w[1] * w[2] * w[3]), bytes)
        case .conv2DBackpropInput, .conv2DBackpropFilter:
            // The same multiply-adds as the forward convolution they differentiate.
            let filter = node.op == .conv2DBackpropInput ? inputs[0] : output
            let patch = filter[1] * filter[2] * filter[3]
            return (2 * Double(inputs[1].count) * Double(patch), bytes)
        case .maxPool, .avgPool, .maxPoolGrad, .avgPoolGrad:
            let window = node.attributes.ints("kernel").reduce(1, *)
            return (Double(max(output.count, inputs[0].count) * window), bytes)
        case .softmax, .softmaxGrad, .softmaxCrossEntropy, .softmaxCrossEntropyGrad:
            return (8 * Double(inputs[0].count), bytes)
        case .applyAdam:
            return (12 * Double(inputs[0].count), Double(inputs[0].count * 4 * 8))
        case .applyMomentum:
            return (3 * Double(inputs[0].count), Double(inputs[0].count * 4 * 5))
        default:
            return (max(count, Double(inputs.first?.count ?? 0)), bytes)
        }
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
