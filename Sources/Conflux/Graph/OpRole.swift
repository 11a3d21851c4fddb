/// What a node of an op is to the runtime. The placer, partitioner, plan and session read it from the op's
/// definition instead of comparing op types, so a new source or update op needs no change there.
public enum OpRole: Sendable {
    /// Fed by the caller on every run (`Placeholder`).
    case placeholder
    /// A fixed value the session holds (`Const`).
    case constant
    /// State the session holds and update ops write (`Variable`).
    case variable
    /// Writes variables; a run executes it after every op that only reads them (`ApplyMomentum`, `ApplyAdam`).
    case update
    /// Computes its output from its inputs with a kernel.
    case compute

    /// No kernel runs for it: the caller or the session provides its value.
    public var isSource: Bool { self == .placeholder || self == .constant || self == .variable }
    /// Its value lives in the session from run to run.
    public var isPersistent: Bool { self == .constant || self == .variable }
}

extension Node {
    /// The role of the node's op.
    public var role: OpRole { OpDefinition.all[op]?.role ?? .compute }
}
