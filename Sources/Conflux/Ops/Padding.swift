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
///
/// A convolution may be dilated (its taps `dilation` apart, so a window of k taps spans (k − 1)·dilation + 1
/// positions) and grouped (the channels split into `groups` groups, each output channel reading only its
/// group's: depthwise when there are as many groups as channels).
public struct WindowGeometry: Hashable, Sendable {
    public var batch: Int, channels: Int, height: Int, width: Int
    public var kernelHeight: Int, kernelWidth: Int
    public var strideHeight: Int, strideWidth: Int
    public var padTop: Int, padBottom: Int, padLeft: Int, padRight: Int
    public var dilationHeight = 1, dilationWidth = 1
    public var groups = 1
    /// The padding an average's divisor counts, [top, bottom, left, right]: none unless count_include_pad.
    public var countedPads = [0, 0, 0, 0]

    /// The positions a window spans: (k − 1)·dilation + 1.
    public var extentHeight: Int { (kernelHeight - 1) * dilationHeight + 1 }
    public var extentWidth: Int { (kernelWidth - 1) * dilationWidth + 1 }
    /// out = (in + padBefore + padAfter - extent) / stride + 1
    public var outHeight: Int { (height + padTop + padBottom - extentHeight) / strideHeight + 1 }
    public var outWidth: Int { (width + padLeft + padRight - extentWidth) / strideWidth + 1 }
    /// The input channels each output channel reads: C / groups.
    public var groupChannels: Int { channels / groups }
    /// Elements in one patch, the rows of an im2col matrix: (C / groups)·KH·KW.
    public var patchSize: Int { groupChannels * kernelHeight * kernelWidth }
    /// The positions the average of output (oy, ox) divides by: its window within the input and the counted
    /// padding.
    public func countedWindowSize(_ oy: Int, _ ox: Int) -> Int {
        let (top, left) = (oy * strideHeight - padTop, ox * strideWidth - padLeft)
        let rows = min(top + kernelHeight, height + countedPads[1]) - max(top, -countedPads[0])
        let columns = min(left + kernelWidth, width + countedPads[3]) - max(left, -countedPads[2])
        return rows * columns
    }

    /// Neither dilated nor grouped: the plain convolution every fast path handles.
    public var isDense: Bool { dilationHeight == 1 && dilationWidth == 1 && groups == 1 }
    /// 2×2 windows moving by 2 without padding, the pooling of most CNNs, which backends give a faster path.
    public var isHalving: Bool {
        kernelHeight == 2 && kernelWidth == 2 && strideHeight == 2 && strideWidth == 2 && dilationHeight == 1
            && dilationWidth == 1
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
        if case .ints(let dilations) = attributes["dilations"] {
            (dilationHeight, dilationWidth) = (dilations[0], dilations[1])
        }
        if case .int(let groups) = attributes["groups"] { self.groups = groups }
        if case .ints(let counted) = attributes["countedPads"] { countedPads = counted }
    }

    /// The window attributes for a `kernel` and `stride` with `padding` over an input of `height`×`width`.
    static func attributes(
        op: String, height: Int, width: Int, kernel: (Int, Int), stride: (Int, Int), padding: Padding,
        dilation: (Int, Int) = (1, 1)
    ) throws -> Attributes {
        guard height > 0, width > 0 else {
            throw ConfluxError.invalidArgument(
                op: op, reason: "spatial size must be known and positive, got \(height)×\(width)")
        }
        guard kernel.0 > 0, kernel.1 > 0, stride.0 > 0, stride.1 > 0, dilation.0 > 0, dilation.1 > 0 else {
            throw ConfluxError.invalidArgument(
                op: op, reason: "window \(kernel), stride \(stride) and dilation \(dilation) must be positive")
        }
        let extent = ((kernel.0 - 1) * dilation.0 + 1, (kernel.1 - 1) * dilation.1 + 1)
        let pads = padding.pads(height: height, width: width, kernel: extent, stride: stride)
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
            height + padTop + padBottom >= extentHeight, width + padLeft + padRight >= extentWidth
        else {
            throw c.mismatch(
                "a window spanning \(extentHeight)×\(extentWidth) does not fit a \(height)×\(width) input padded by "
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
