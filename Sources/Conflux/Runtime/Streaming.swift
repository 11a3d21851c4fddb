/// How a tensor moving to another device is cut into chunks of rows, and how its consumer runs chunk by chunk:
/// the consumer starts once the first chunk has arrived, while the others are still in flight.
enum Streaming {
    /// The row ranges a tensor of `shape` moves in, chunks of about `chunkBytes`; nil when it moves whole, being
    /// smaller than two chunks. Chunks start on a multiple of `alignment` / 4 rows, so that a view of any tensor of
    /// 4-byte elements at a chunk's first row is aligned for the device (`Device.viewAlignment`).
    static func rows(of shape: Shape, dtype: DType, chunkBytes: Int, alignment: Int) -> [Range<Int>]? {
        guard shape.rank > 0, shape[0] > 1, shape.count > 0 else { return nil }
        let rows = shape[0]
        let rowBytes = shape.count / rows * dtype.size
        let step = max(alignment / 4, 1)
        let chunkRows = (max(chunkBytes / rowBytes, 1) + step - 1) / step * step
        guard chunkRows * 2 <= rows else { return nil }
        return stride(from: 0, to: rows, by: chunkRows).map { $0..<min($0 + chunkRows, rows) }
    }

    /// Whether `reader` can run chunk by chunk on `tensor` streamed into `device`: the op maps rows one to one,
    /// `tensor` enters only through such inputs, it is the reader's only input from another device, and the
    /// device can make views.
    static func canStream(
        _ tensor: Int, into reader: Node, on device: any Device, deviceOf: (Int) -> String
    ) -> Bool {
        let rowwise = OpDefinition.all[reader.op]!.rowwiseInputs(reader.attributes)
        return device.viewAlignment > 0
            && reader.inputs.indices.allSatisfy { reader.inputs[$0] != tensor || rowwise.contains($0) }
            && Set(reader.inputs.filter { deviceOf($0) != device.id }) == [tensor]
    }

    /// The kernel context of each chunk of `rows`: views of those rows of the row-wise inputs and of the output,
    /// the other inputs whole. Nil when a row-wise input or the output does not have exactly those rows.
    static func pieces(of context: KernelContext, rows: [Range<Int>]) throws -> [KernelContext]? {
        let total = rows.last!.upperBound
        let rowwise = OpDefinition.all[context.node.op]!.rowwiseInputs(context.node.attributes)
        let sliced = rowwise.map { context.inputs[$0] } + [context.output]
        guard sliced.allSatisfy({ $0.shape.rank > 0 && $0.shape[0] == total }) else { return nil }
        func slice(_ tensor: DeviceTensor, _ range: Range<Int>) throws -> DeviceTensor {
            let rowBytes = tensor.shape.count / total * tensor.dtype.size
            return try context.device.view(
                of: tensor, offset: range.lowerBound * rowBytes, shape: tensor.shape.withBatch(range.count))
        }
        return try rows.map { range in
            var inputs = context.inputs
            for index in rowwise { inputs[index] = try slice(inputs[index], range) }
            var piece = KernelContext(
                node: context.node, inputs: inputs, output: try slice(context.output, range), device: context.device)
            piece.persistentInputs = context.persistentInputs
            piece.inputLayouts = context.inputLayouts
            piece.outputLayout = context.outputLayout
            return piece
        }
    }
}
