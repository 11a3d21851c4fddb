// Shape, Gather, Cast and ConstantOfShape: the ops ONNX graphs use to compute shapes. Each folds into a constant
// when its inputs are constants (or, for Shape, when the shape is known), as TensorFlow's constant folding would:
// an imported graph's shape arithmetic then leaves no node behind, and a Reshape or ConstantOfShape that needs a
// constant gets one.

extension Tensor {
    /// The value of a `Const` node; nil for any other node.
    public var constantValue: HostTensor? {
        guard node.op == .constant, case .tensor(let value) = node.attributes["value"] else { return nil }
        return value
    }
}

/// The shape of `x` as an Int32 vector (ONNX's Shape): a constant when every dimension is known, else a node that
/// reads it at run time.
public func shape(_ x: Tensor) throws -> Tensor {
    guard x.shape.isFullyKnown else { return try x.graph.addNode(.shape, [x]) }
    return try x.graph.constant(HostTensor(shape: [x.shape.rank], ints: x.shape.dims.map { Int32($0) }))
}

/// The slices of `data` along `axis` at `indices` (Int32; negative ones count from the end): ONNX's Gather,
/// TensorFlow's GatherV2. The result is data's dimensions before `axis`, then the indices', then data's after.
///
/// - Throws: `invalidValue` naming the op for an index outside the axis (when folding; a kernel reports it when
///   the graph runs).
public func gather(_ data: Tensor, _ indices: Tensor, axis: Int = 0) throws -> Tensor {
    let rank = data.shape.rank
    guard (-rank..<rank).contains(axis) else {
        throw ConfluxError.invalidArgument(op: "GatherV2", reason: "axis \(axis) is outside a tensor of rank \(rank)")
    }
    let attributes = Attributes(["axis": .int(axis < 0 ? axis + rank : axis)])
    guard let values = data.constantValue, let positions = indices.constantValue, positions.dtype == .int32 else {
        return try data.graph.addNode(.gather, [data, indices], attributes: attributes)
    }
    let gathering = Gathering(data: values.shape, indices: positions.shape, attributes: attributes)
    let check = DataCheck.indices(op: "GatherV2", node: "\(data.name)[\(indices.name)]", bound: gathering.axisSize)
    var bits = [UInt32](repeating: 0, count: gathering.outer * gathering.indexCount * gathering.inner)
    try values.withUnsafeBytes { source in
        try positions.withUnsafeBytes { positions in
            try bits.withUnsafeMutableBytes { destination in
                try gathering.run(
                    source.baseAddress!, positions.baseAddress!.assumingMemoryBound(to: Int32.self),
                    into: destination.baseAddress!, check: check)
            }
        }
    }
    let shape = gatheredShape(values.shape, positions.shape, axis: attributes.int("axis"))
    return try data.graph.constant(
        values.dtype == .float32
            ? HostTensor(shape: shape, floats: bits.map(Float.init(bitPattern:)))
            : HostTensor(shape: shape, ints: bits.map(Int32.init(bitPattern:))))
}

/// A Gather's result: `data`'s dimensions before `axis`, then `indices`', then `data`'s after.
private func gatheredShape(_ data: Shape, _ indices: Shape, axis: Int) -> Shape {
    Shape(Array(data.dims[..<axis]) + indices.dims + data.dims[(axis + 1)...])
}

/// `x` converted to `dtype` (ONNX's Cast): Float32 to Int32 rounds toward zero. Folds a constant.
public func cast(_ x: Tensor, to dtype: DType) throws -> Tensor {
    guard x.dtype != dtype else { return x }
    guard let value = x.constantValue else {
        return try x.graph.addNode(.cast, [x], attributes: Attributes(["dtype": .int(dtype.code)]))
    }
    return try x.graph.constant(
        dtype == .int32
            ? HostTensor(shape: value.shape, ints: value.floats.map { Int32($0.rounded(.towardZero)) })
            : HostTensor(shape: value.shape, floats: value.ints.map { Float($0) }))
}

/// A tensor of shape `shape`, a constant Int32 vector (a folded Shape or Gather will do), every element `value`:
/// ONNX's ConstantOfShape.
///
/// - Throws: `invalidArgument` unless `shape` is a constant Int32 vector of non-negative sizes.
public func constantOfShape(_ shape: Tensor, value: Float = 0, dtype: DType = .float32) throws -> Tensor {
    guard let dims = shape.constantValue, dims.dtype == .int32, dims.shape.rank == 1, dims.ints.allSatisfy({ $0 >= 0 })
    else {
        throw ConfluxError.invalidArgument(
            op: "ConstantOfShape", reason: "the shape must be a constant Int32 vector of sizes, not '\(shape.name)'")
    }
    let target = Shape(dims.ints.map(Int.init))
    return try shape.graph.constant(
        dtype == .int32
            ? HostTensor(shape: target, ints: [Int32](repeating: Int32(value), count: target.count))
            : HostTensor(shape: target, floats: [Float](repeating: value, count: target.count)))
}

/// How a Gather moves elements: for each of the `outer` blocks before the axis and each index, `inner`
/// contiguous elements (of 4 bytes, Float32 or Int32 alike) from the indexed slice.
public struct Gathering: Sendable {
    public let outer: Int
    public let axisSize: Int
    public let inner: Int
    public let indexCount: Int

    public init(data: Shape, indices: Shape, attributes: Attributes) {
        let axis = attributes.int("axis")
        outer = data.dims[..<axis].reduce(1, *)
        axisSize = data[axis]
        inner = data.dims[(axis + 1)...].reduce(1, *)
        indexCount = indices.count
    }

    /// Copies the gathered elements of `data` into `output`; throws `check`'s error for an index outside the axis.
    public func run(
        _ data: UnsafeRawPointer, _ indices: UnsafePointer<Int32>, into output: UnsafeMutableRawPointer,
        check: DataCheck
    ) throws {
        let (source, destination) = (
            data.assumingMemoryBound(to: UInt32.self), output.assumingMemoryBound(to: UInt32.self)
        )
        for j in 0..<indexCount {
            let index = Int(indices[j])
            guard (-axisSize..<axisSize).contains(index) else { throw check.error(position: j, value: index) }
            let slice = index < 0 ? index + axisSize : index
            for o in 0..<outer {
                (destination + (o * indexCount + j) * inner).update(
                    from: source + (o * axisSize + slice) * inner, count: inner)
            }
        }
    }
}

extension DataCheck {
    /// The indices of a Gather: each must lie in −bound..<bound.
    public static func indices(op: String, node: String, bound: Int) -> DataCheck {
        DataCheck(op: op, node: node) { position, index in
            "index \(index) at position \(position) is outside −\(bound)..<\(bound)"
        }
    }
}

let indexingOps: [OpDefinition] = [
    OpDefinition(.shape, OpSignature(["input"])) { c in ([c.shapes[0].rank], .int32) },
    OpDefinition(.gather, OpSignature(["data", "indices"], attributes: ["axis": .int])) { c in
        let (data, indices, axis) = (c.shapes[0], c.shapes[1], c.attributes.int("axis"))
        guard (0..<data.rank).contains(axis) else { throw c.mismatch("axis \(axis) is outside rank \(data.rank)") }
        try c.requireType(1, .int32, "indices")
        return (gatheredShape(data, indices, axis: axis), c.dtypes[0])
    },
    OpDefinition(.cast, OpSignature(["input"], attributes: ["dtype": .int])) { c in
        (c.shapes[0], DType(code: c.attributes.int("dtype")))
    },
]
