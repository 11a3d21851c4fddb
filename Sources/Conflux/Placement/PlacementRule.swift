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
        return node.op.rawValue.lowercased() == wanted || Self.layerNames(of: node).contains(wanted)
    }

    /// Throws unless every rule matches some node of `graph` and no pattern is given twice: a rule that places
    /// nothing is a typo, and of two rules for one pattern only the first could ever apply.
    ///
    /// - Throws: `invalidArgument` naming the rule, with the patterns the graph does have.
    public static func check(_ rules: [PlacementRule], against graph: Graph) throws {
        var seen: [String: PlacementRule] = [:]
        for rule in rules {
            if let earlier = seen[rule.pattern.lowercased()] {
                throw ConfluxError.invalidArgument(
                    op: "--place",
                    reason: "'\(rule.pattern)' is given twice (\(earlier) and \(rule)); give each pattern once")
            }
            seen[rule.pattern.lowercased()] = rule
        }
        for rule in rules where !graph.nodes.contains(where: rule.matches) {
            let layers = Set(graph.nodes.compactMap { layerNames(of: $0).first }).sorted()
            let ops = Set(graph.nodes.map(\.op.rawValue)).sorted()
            throw ConfluxError.invalidArgument(
                op: "--place",
                reason:
                    "'\(rule.pattern)' matches no node of the graph; patterns are layers (\(layers.joined(separator: ", "))) "
                    + "or op types (\(ops.joined(separator: ", ")))")
        }
    }

    /// The components of a node's name, lower-cased, less trailing digits and underscores (`conv1/Conv2D` gives
    /// `conv`, `conv2d`).
    private static func layerNames(of node: Node) -> [String] {
        node.name.split(separator: "/").map { component in
            String(component.lowercased().reversed().drop { $0.isNumber || $0 == "_" }.reversed())
        }
    }

    public var description: String { "\(pattern)=\(device)" }
}

extension Substring {
    fileprivate var trimmingWhitespace: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
