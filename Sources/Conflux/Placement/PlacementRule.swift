/// One `pattern=device` rule of `--place`: nodes of a layer (`conv` matches `conv1/…` and its gradients) or of
/// an op type (`MatMul`) go to the device.
public struct PlacementRule: Equatable, Sendable, CustomStringConvertible {
    public let pattern: String
    public let device: String

    public init(pattern: String, device: String) {
        self.pattern = pattern
        self.device = device
    }

    /// Parses `conv=opencl:0,pool=opencl:0,dense=cpu`.
    ///
    /// - Throws: `invalidArgument` for an entry that is not `pattern=device`.
    public static func parse(_ text: String) throws -> [PlacementRule] {
        try text.split(separator: ",").map { entry in
            let parts = entry.split(separator: "=", maxSplits: 1).map { $0.trimmingWhitespace }
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw ConfluxError.invalidArgument(
                    op: "--place", reason: "'\(entry)' is not pattern=device (e.g. conv=opencl:0,dense=cpu)")
            }
            return PlacementRule(pattern: parts[0], device: parts[1])
        }
    }

    /// True when a component of the node's name, less trailing digits, or its op type equals the pattern
    /// (ignoring case).
    public func matches(_ node: Node) -> Bool {
        let wanted = pattern.lowercased()
        if node.op.rawValue.lowercased() == wanted { return true }
        return node.name.split(separator: "/").contains { component in
            String(component.lowercased().reversed().drop { $0.isNumber || $0 == "_" }.reversed()) == wanted
        }
    }

    public var description: String { "\(pattern)=\(device)" }
}

extension Substring {
    fileprivate var trimmingWhitespace: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
