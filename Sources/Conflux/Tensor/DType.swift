/// The element type of a tensor.
public enum DType: String, Sendable, CustomStringConvertible {
    case float32
    case int32

    /// Bytes per element.
    public var size: Int { 4 }

    public var description: String { rawValue }
}
