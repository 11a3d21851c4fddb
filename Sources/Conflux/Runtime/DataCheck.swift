/// A check a kernel makes of its input data, such as a label inside the logits' classes: which op and node, and
/// how to describe the value that failed at a position. Every backend reports a failure through it, so the message
/// is the same on every device: a kernel that runs synchronously throws `error` at once; an asynchronous device
/// has its kernels record the position and value in device memory and throws `error` at its next fetch.
public struct DataCheck: Sendable {
    public let op: String
    public let node: String
    private let describe: @Sendable (_ position: Int, _ value: Int) -> String

    public init(op: String, node: String, describe: @escaping @Sendable (_ position: Int, _ value: Int) -> String) {
        self.op = op
        self.node = node
        self.describe = describe
    }

    /// The error for `value` found at `position`.
    public func error(position: Int, value: Int) -> ConfluxError {
        .invalidValue(op: op, node: node, reason: describe(position, value))
    }

    /// Labels of a classifier's loss: each must lie in 0..<classes.
    public static func labels(of node: Node, classes: Int) -> DataCheck {
        DataCheck(op: node.op.rawValue, node: node.name) { row, label in
            "label \(label) at row \(row) is outside the \(classes) classes 0..<\(classes)"
        }
    }
}
