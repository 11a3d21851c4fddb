/// How a convolution or pooling window treats the border of its input.
public enum Padding: Equatable, Sendable {
    /// No padding: windows lie entirely inside the input; out = (in - k) / stride + 1.
    case valid
    /// Zero padding so that out = ceil(in / stride); the extra row or column goes after, as in TensorFlow.
    case same
    /// The given zeros before and after each spatial axis.
    case explicit(top: Int, bottom: Int, left: Int, right: Int)

    /// The pads [top, bottom, left, right] for an input of `height`×`width` and a window of `kernel`.
    func pads(height: Int, width: Int, kernel: (Int, Int), stride: (Int, Int)) -> [Int] {
        switch self {
        case .valid: return [0, 0, 0, 0]
        case .explicit(let top, let bottom, let left, let right): return [top, bottom, left, right]
        case .same:
            func split(_ size: Int, _ k: Int, _ s: Int) -> (Int, Int) {
                let out = (size + s - 1) / s
                let total = max((out - 1) * s + k - size, 0)
                return (total / 2, total - total / 2)
            }
            let (top, bottom) = split(height, kernel.0, stride.0)
            let (left, right) = split(width, kernel.1, stride.1)
            return [top, bottom, left, right]
        }
    }
}

/// The sizes of a windowed op (convolution or pooling) on an NCHW input; kernels on every device share it.
public struct WindowGeometry: Equatable, Sendable {
    public var batch: Int, channels: Int, height: Int, width: Int
    public var kernelHeight: Int, kernelWidth: Int
    public var strideHeight: Int, strideWidth: Int
    public var padTop: Int, padBottom: Int, padLeft: Int, padRight: Int

    /// out = (in + padBefore + padAfter - kernel) / stride + 1
    public var outHeight: Int { (height + padTop + padBottom - kernelHeight) / strideHeight + 1 }
    public var outWidth: Int { (width + padLeft + padRight - kernelWidth) / strideWidth + 1 }
    /// Elements in one patch, the rows of an im2col matrix: C·KH·KW.
    public var patchSize: Int { channels * kernelHeight * kernelWidth }
    /// 2×2 windows moving by 2 without padding, the pooling of most CNNs, which backends give a faster path.
    public var isHalving: Bool {
        kernelHeight == 2 && kernelWidth == 2 && strideHeight == 2 && strideWidth == 2
            && padTop == 0 && padBottom == 0 && padLeft == 0 && padRight == 0
    }

    /// The geometry of a node's window attributes (`kernel`, `strides`, `pads`) over an input of shape `input`.
    public init(input: Shape, attributes: Attributes) {
        let kernel = attributes.ints("kernel")
        let strides = attributes.ints("strides")
        let pads = attributes.ints("pads")
        (batch, channels, height, width) = (input[0], input[1], input[2], input[3])
        (kernelHeight, kernelWidth) = (kernel[0], kernel[1])
        (strideHeight, strideWidth) = (strides[0], strides[1])
        (padTop, padBottom, padLeft, padRight) = (pads[0], pads[1], pads[2], pads[3])
    }

    /// The window attributes for a `kernel` and `stride` with `padding` over an input of `height`×`width`.
    static func attributes(
        op: String, height: Int, width: Int, kernel: (Int, Int), stride: (Int, Int), padding: Padding
    ) throws -> Attributes {
        guard height > 0, width > 0 else {
            throw ConfluxError.invalidArgument(
                op: op, reason: "spatial size must be known and positive, got \(height)×\(width)")
        }
        guard kernel.0 > 0, kernel.1 > 0, stride.0 > 0, stride.1 > 0 else {
            throw ConfluxError.invalidArgument(op: op, reason: "window \(kernel) and stride \(stride) must be positive")
        }
        let pads = padding.pads(height: height, width: width, kernel: kernel, stride: stride)
        guard pads.allSatisfy({ $0 >= 0 }) else {
            throw ConfluxError.invalidArgument(op: op, reason: "padding \(pads) must not be negative")
        }
        return Attributes([
            "kernel": .ints([kernel.0, kernel.1]), "strides": .ints([stride.0, stride.1]), "pads": .ints(pads),
        ])
    }

    /// Throws unless every window fits: the output is at least 1×1.
    func validate(_ c: ShapeContext) throws {
        guard outHeight >= 1, outWidth >= 1,
            height + padTop + padBottom >= kernelHeight, width + padLeft + padRight >= kernelWidth
        else {
            throw c.mismatch(
                "a \(kernelHeight)×\(kernelWidth) window does not fit a \(height)×\(width) input padded by "
                    + "\([padTop, padBottom, padLeft, padRight])")
        }
    }
}

extension Shape {
    /// This shape with its batch dimension replaced by `batch`.
    func withBatch(_ batch: Int) -> Shape {
        var dims = self.dims
        dims[0] = batch
        return Shape(dims)
    }
}
