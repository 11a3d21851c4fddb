/// A tensor whose elements live in host memory, in row-major order.
public struct HostTensor: Equatable, Sendable, CustomStringConvertible {
    /// The elements, stored in the array of the tensor's element type.
    public enum Storage: Equatable, Sendable {
        case float32([Float])
        case int32([Int32])
    }

    public let shape: Shape
    public var storage: Storage

    public var dtype: DType {
        switch storage {
        case .float32: .float32
        case .int32: .int32
        }
    }

    /// A Float32 tensor; `values.count` must equal `shape.count`.
    public init(shape: Shape, floats values: [Float]) {
        precondition(shape.isFullyKnown && values.count == shape.count, "\(values.count) values for shape \(shape)")
        self.shape = shape
        self.storage = .float32(values)
    }

    /// An Int32 tensor; `values.count` must equal `shape.count`.
    public init(shape: Shape, ints values: [Int32]) {
        precondition(shape.isFullyKnown && values.count == shape.count, "\(values.count) values for shape \(shape)")
        self.shape = shape
        self.storage = .int32(values)
    }

    /// A Float32 tensor of zeros.
    public static func zeros(_ shape: Shape) -> HostTensor {
        HostTensor(shape: shape, floats: [Float](repeating: 0, count: shape.count))
    }

    /// A Float32 scalar.
    public static func scalar(_ value: Float) -> HostTensor { HostTensor(shape: .scalar, floats: [value]) }

    /// The elements as Float32; Int32 elements are converted.
    public var floats: [Float] {
        switch storage {
        case .float32(let values): values
        case .int32(let values): values.map(Float.init)
        }
    }

    /// The elements as Int32; Float32 elements are truncated.
    public var ints: [Int32] {
        switch storage {
        case .float32(let values): values.map { Int32($0) }
        case .int32(let values): values
        }
    }

    /// The single element of a one-element tensor, as Float.
    public var scalarValue: Float { floats[0] }

    /// Calls `body` with the raw bytes of the elements.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch storage {
        case .float32(let values): try values.withUnsafeBytes(body)
        case .int32(let values): try values.withUnsafeBytes(body)
        }
    }

    public var description: String { "HostTensor(\(dtype) \(shape))" }
}
