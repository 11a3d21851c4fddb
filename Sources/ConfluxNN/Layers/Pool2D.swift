import Conflux

/// Max- or average-pooling over `size`×`size` windows moving by `stride` (default `size`), with `padding`;
/// input [N, C, H, W].
public struct Pool2D: Layer {
    public enum Reduction: Sendable {
        case max, average
    }

    public let name: String
    public let reduction: Reduction
    public let size: Int
    public let stride: Int
    public let padding: Padding

    public init(_ name: String, _ reduction: Reduction, size: Int, stride: Int? = nil, padding: Padding = .valid) {
        self.name = name
        self.reduction = reduction
        self.size = size
        self.stride = stride ?? size
        self.padding = padding
    }

    public func apply(_ x: Tensor, in context: LayerContext) throws -> Tensor {
        switch reduction {
        case .max: try maxPool2d(x, size: size, stride: stride, padding: padding)
        case .average: try avgPool2d(x, size: size, stride: stride, padding: padding)
        }
    }
}
