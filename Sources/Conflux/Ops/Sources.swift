extension Graph {
    /// A value fed at run time; dimensions given as `Shape.unknown` take their size from the feed (the batch).
    public func placeholder(_ shape: Shape, _ dtype: DType = .float32, name: String = "Placeholder") throws -> Tensor {
        try addNode(
            .placeholder, attributes: Attributes(["shape": .shape(shape), "dtype": .int(dtype.code)]), name: name)
    }

    /// A value fixed when the graph is built.
    public func constant(_ value: HostTensor, name: String = "Const") throws -> Tensor {
        try addNode(.constant, attributes: Attributes(["value": .tensor(value)]), name: name)
    }

    /// A Float32 scalar constant.
    public func constant(_ value: Float, name: String = "Const") throws -> Tensor {
        try constant(.scalar(value), name: name)
    }

    /// State that persists across runs of a session, initialised once from the graph's seed.
    ///
    /// - Throws: `invalidArgument` if the shape has an unknown dimension.
    public func variable(_ shape: Shape, initializer: Initializer = .zeros, name: String = "Variable") throws -> Tensor
    {
        guard shape.isFullyKnown else {
            throw ConfluxError.invalidArgument(
                op: "Variable", reason: "variable '\(name)' needs a fully known shape, got \(shape)")
        }
        if case .values(let values) = initializer, values.count != shape.count {
            throw ConfluxError.invalidArgument(
                op: "Variable", reason: "variable '\(name)' of shape \(shape) given \(values.count) values")
        }
        return try addNode(
            .variable, attributes: Attributes(["shape": .shape(shape), "initializer": .initializer(initializer)]),
            name: name)
    }
}

extension DType {
    /// A stable number for storing the type in attributes.
    var code: Int { self == .float32 ? 0 : 1 }
    init(code: Int) { self = code == 0 ? .float32 : .int32 }
}

let sourceOps: [OpDefinition] = [
    OpDefinition(.placeholder, OpSignature([], attributes: ["shape": .shape, "dtype": .int]), role: .placeholder) {
        c in
        (c.attributes.shape("shape"), DType(code: c.attributes.int("dtype")))
    },
    OpDefinition(.constant, OpSignature([], attributes: ["value": .tensor]), role: .constant) { c in
        guard case .tensor(let value) = c.attributes["value"] else { preconditionFailure("Const without a value") }
        return (value.shape, value.dtype)
    },
    OpDefinition(
        .variable, OpSignature([], attributes: ["shape": .shape, "initializer": .initializer]), role: .variable
    ) { c in
        (c.attributes.shape("shape"), .float32)
    },
]
