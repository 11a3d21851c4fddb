/// How a variable gets its first value.
public enum Initializer: Equatable, Sendable {
    case zeros
    case constant(Float)
    /// Uniform in ±sqrt(6 / (fanIn + fanOut)) (Glorot & Bengio, 2010).
    case glorotUniform(fanIn: Int, fanOut: Int)
    /// Uniform in ±sqrt(6 / fanIn) (He et al., 2015), for ReLU networks.
    case heUniform(fanIn: Int)
    /// The given values, one per element (an imported model's weights).
    case values([Float])

    /// The initial values for a tensor of `count` elements, drawn from `generator`.
    public func values(count: Int, generator: inout SeededGenerator) -> [Float] {
        switch self {
        case .zeros: return [Float](repeating: 0, count: count)
        case .constant(let v): return [Float](repeating: v, count: count)
        case .glorotUniform(let fanIn, let fanOut):
            let limit = (6 / Float(fanIn + fanOut)).squareRoot()
            return (0..<count).map { _ in generator.uniform(-limit, limit) }
        case .heUniform(let fanIn):
            let limit = (6 / Float(fanIn)).squareRoot()
            return (0..<count).map { _ in generator.uniform(-limit, limit) }
        case .values(let values):
            precondition(values.count == count, "\(values.count) initial values for \(count) elements")
            return values
        }
    }
}
