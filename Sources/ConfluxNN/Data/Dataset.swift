import Conflux
import Foundation

/// Labelled images in memory: the MNIST family of data sets.
///
/// Pixels stay the bytes the file holds (Fashion-MNIST's 60,000 training images are 47 MB so, 188 MB as floats)
/// and are scaled to [0, 1] a batch at a time.
public struct Dataset {
    /// Every image's pixels, 0...255, one image after another: [count, rows, cols] in row-major order.
    public let bytes: [UInt8]
    public let labels: [Int32]
    public let rows: Int
    public let cols: Int
    /// Where the labels came from (the labels file), for messages; "memory" for a data set built in memory.
    public let source: String

    public var count: Int { labels.count }
    /// [1, rows, cols]: the shape of one image.
    public var imageShape: Shape { [1, rows, cols] }
    /// Pixels in one image.
    public var imageSize: Int { rows * cols }

    /// Appends the pixels of image `index`, scaled to [0, 1], to `pixels`.
    public func appendPixels(of index: Int, to pixels: inout [Float]) {
        for byte in bytes[(index * imageSize)..<((index + 1) * imageSize)] { pixels.append(Float(byte) / 255) }
    }

    /// Throws unless every label is in 0..<classes: a label outside them would otherwise build a model of the
    /// wrong size, or index past a confusion matrix.
    ///
    /// - Throws: `dataFile` naming the labels file, the first bad label and its index.
    public func checkLabels(below classes: Int) throws {
        guard let index = labels.firstIndex(where: { $0 < 0 || Int($0) >= classes }) else { return }
        throw ConfluxError.dataFile(
            path: source,
            reason: "label \(labels[index]) of example \(index) is outside the model's \(classes) classes "
                + "(0...\(classes - 1)); pass --classes N if the data set has more")
    }

    public enum Split: String, Sendable {
        case train
        case test = "t10k"
    }

    /// Where Debian's `dataset-fashion-mnist` package installs Fashion-MNIST.
    public static let defaultDirectory = "/usr/share/datasets/fashion-mnist"

    /// Loads a split from `directory`, which holds `train-images-idx3-ubyte[.gz]`, `train-labels-idx1-ubyte[.gz]`
    /// and the `t10k-` pair.
    ///
    /// - Throws: `dataFile` if a file is missing, corrupt or truncated, or the images and labels disagree.
    public init(directory: String, split: Split) throws {
        let images = try IDXFile(path: Self.locate(directory, "\(split.rawValue)-images-idx3-ubyte"), rank: 3)
        let labelPath = try Self.locate(directory, "\(split.rawValue)-labels-idx1-ubyte")
        let labels = try IDXFile(path: labelPath, rank: 1)
        guard images.dims[0] == labels.dims[0] else {
            throw ConfluxError.dataFile(
                path: labelPath, reason: "has \(labels.dims[0]) labels but the images file has \(images.dims[0]) images"
            )
        }
        self.init(
            bytes: images.bytes, labels: labels.bytes.map(Int32.init), rows: images.dims[1], cols: images.dims[2],
            source: labelPath)
    }

    /// A data set from memory; `bytes` holds `labels.count` images of `rows`×`cols` pixels, 0...255.
    public init(bytes: [UInt8], labels: [Int32], rows: Int, cols: Int, source: String = "memory") {
        precondition(bytes.count == labels.count * rows * cols, "pixel count does not match the labels")
        self.bytes = bytes
        self.labels = labels
        self.rows = rows
        self.cols = cols
        self.source = source
    }

    /// The first `count` examples.
    public func prefix(_ count: Int) -> Dataset { slice(0..<min(count, self.count)) }

    /// The examples `range`.
    public func slice(_ range: Range<Int>) -> Dataset {
        Dataset(
            bytes: Array(bytes[(range.lowerBound * imageSize)..<(range.upperBound * imageSize)]),
            labels: Array(labels[range]), rows: rows, cols: cols, source: source)
    }

    /// The gzip file if present, else the raw one.
    private static func locate(_ directory: String, _ name: String) throws -> String {
        let base = URL(fileURLWithPath: directory).appendingPathComponent(name).path
        for candidate in [base + ".gz", base] where FileManager.default.fileExists(atPath: candidate) {
            return candidate
        }
        throw ConfluxError.dataFile(
            path: base + "[.gz]", reason: "no such file; --data must name a directory of IDX files")
    }
}
