/// What a node of an op must be given, checked by `Graph.addNode` before anything reads it: the op's inputs, in
/// order (the last `optional` of them may be left out; a `variadic` op takes one or more of its one input), and
/// the attributes every node carries, each of one kind
/// (as TensorFlow's `REGISTER_OP` declares `Input` and `Attr`). A wrong call is a `ConfluxError` naming the op and
/// what is wrong, never a trap inside a shape function or a kernel.
public struct OpSignature: Sendable {
    public let inputs: [String]
    public let optional: Int
    public let variadic: Bool
    public let attributes: [String: AttributeKind]

    public init(
        _ inputs: [String], optional: Int = 0, variadic: Bool = false, attributes: [String: AttributeKind] = [:]
    ) {
        precondition(!variadic || inputs.count == 1, "a variadic op has one input, repeated")
        self.inputs = inputs
        self.optional = optional
        self.variadic = variadic
        self.attributes = attributes
    }

    /// The attributes of a convolution's or pooling's window (`WindowGeometry`).
    public static let window: [String: AttributeKind] = ["kernel": .ints(2), "strides": .ints(2), "pads": .ints(4)]
    /// A max pooling's: its window's and its dilations.
    public static let maxWindow = window.merging(["dilations": .ints(2)]) { $1 }
    /// An average pooling's: its window's and the padding its divisor counts (`countedPads`).
    public static let averageWindow = window.merging(["countedPads": .ints(4)]) { $1 }
    /// A convolution's: its window's, its dilations and its group count (`WindowGeometry`).
    public static let convolution = window.merging(["dilations": .ints(2), "groups": .int]) { $1 }

    /// Throws `invalidArgument` unless `count` inputs and `attributes` fit the signature of `op`.
    func check(_ op: OpType, inputs count: Int, attributes: Attributes) throws {
        let fewest = inputs.count - optional
        if variadic {
            guard count >= 1 else {
                throw ConfluxError.invalidArgument(op: op.rawValue, reason: "takes one or more inputs (\(inputs[0]))")
            }
        } else if !(fewest...inputs.count).contains(count) {
            let expected = optional == 0 ? "\(inputs.count)" : "\(fewest) to \(inputs.count)"
            throw ConfluxError.invalidArgument(
                op: op.rawValue,
                reason: "takes \(expected) inputs (\(inputs.joined(separator: ", "))), got \(count)")
        }
        for (name, kind) in self.attributes.sorted(by: { $0.key < $1.key }) {
            guard let value = attributes[name] else {
                throw ConfluxError.invalidArgument(op: op.rawValue, reason: "needs the attribute '\(name)' (\(kind))")
            }
            guard kind.accepts(value) else {
                throw ConfluxError.invalidArgument(
                    op: op.rawValue, reason: "attribute '\(name)' must be \(kind), not \(value)")
            }
        }
    }
}

/// The kind of value an attribute holds.
public enum AttributeKind: Sendable, CustomStringConvertible {
    case int, float, bool, shape, tensor, initializer
    /// A list of integers, of exactly `count` when it is given.
    case ints(Int?)

    func accepts(_ value: AttributeValue) -> Bool {
        switch (self, value) {
        case (.int, .int), (.float, .float), (.bool, .bool), (.shape, .shape), (.tensor, .tensor),
            (.initializer, .initializer):
            return true
        case (.ints(let count), .ints(let list)): return count.map { list.count == $0 } ?? true
        default: return false
        }
    }

    public var description: String {
        switch self {
        case .int: "an integer"
        case .float: "a float"
        case .bool: "a boolean"
        case .shape: "a shape"
        case .tensor: "a tensor"
        case .initializer: "an initializer"
        case .ints(let count): count.map { "a list of \($0) integers" } ?? "a list of integers"
        }
    }
}
