/// The dimensions of a tensor, outermost first; `Shape.unknown` (-1) marks a dimension known only at run time.
public struct Shape: Hashable, Sendable, CustomStringConvertible, ExpressibleByArrayLiteral {
    /// The marker for a dimension whose size is fed at run time, such as the batch.
    public static let unknown = -1

    public var dims: [Int]

    public init(_ dims: [Int]) { self.dims = dims }
    public init(arrayLiteral elements: Int...) { self.dims = elements }

    /// A shape with no dimensions: one element.
    public static let scalar = Shape([])

    public var rank: Int { dims.count }
    public subscript(_ i: Int) -> Int { dims[i] }

    /// True when every dimension is known.
    public var isFullyKnown: Bool { !dims.contains(Shape.unknown) }

    /// The number of elements; only meaningful for a fully known shape.
    public var count: Int { dims.reduce(1, *) }

    /// True when `other` can be the concrete value of this shape: same rank, equal wherever this is known.
    public func accepts(_ other: Shape) -> Bool {
        rank == other.rank && zip(dims, other.dims).allSatisfy { $0 == Shape.unknown || $0 == $1 }
    }

    /// True when two dimensions agree, treating an unknown dimension as agreeing with anything.
    public static func compatible(_ a: Int, _ b: Int) -> Bool { a == unknown || b == unknown || a == b }

    public var description: String {
        "[" + dims.map { $0 == Shape.unknown ? "?" : String($0) }.joined(separator: ", ") + "]"
    }
}
