/// One attribute value of a node, as in TensorFlow's `AttrValue`.
public enum AttributeValue: Equatable, Sendable {
    case int(Int)
    case ints([Int])
    case float(Float)
    case bool(Bool)
    case shape(Shape)
    case tensor(HostTensor)
    case initializer(Initializer)
}

/// The attributes of a node, by name. A missing or mistyped attribute is a bug in an op builder, not a user error.
public struct Attributes: Equatable, Sendable {
    public private(set) var values: [String: AttributeValue] = [:]

    public init(_ values: [String: AttributeValue] = [:]) { self.values = values }

    public subscript(_ name: String) -> AttributeValue? {
        get { values[name] }
        set { values[name] = newValue }
    }

    public func int(_ name: String) -> Int {
        guard case .int(let v) = values[name] else { preconditionFailure("attribute \(name) is not an int") }
        return v
    }

    public func ints(_ name: String) -> [Int] {
        guard case .ints(let v) = values[name] else { preconditionFailure("attribute \(name) is not an int list") }
        return v
    }

    public func float(_ name: String) -> Float {
        guard case .float(let v) = values[name] else { preconditionFailure("attribute \(name) is not a float") }
        return v
    }

    public func bool(_ name: String) -> Bool {
        guard case .bool(let v) = values[name] else { preconditionFailure("attribute \(name) is not a bool") }
        return v
    }

    public func shape(_ name: String) -> Shape {
        guard case .shape(let v) = values[name] else { preconditionFailure("attribute \(name) is not a shape") }
        return v
    }
}
