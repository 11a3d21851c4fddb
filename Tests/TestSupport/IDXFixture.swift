import Conflux
import Foundation

/// MNIST-format (IDX) files and data-set directories for tests.
public enum IDXFixture {
    /// An IDX file of unsigned bytes declaring `dims`, followed by `bytes` (which may disagree with `dims`, to make
    /// a broken file).
    public static func file(dims: [Int], bytes: [UInt8]) -> Data {
        var data = Data([0, 0, 0x08, UInt8(dims.count)])
        for d in dims { data += [UInt8(d >> 24 & 255), UInt8(d >> 16 & 255), UInt8(d >> 8 & 255), UInt8(d & 255)] }
        return data + bytes
    }

    /// Writes `SPLIT-images-idx3-ubyte` (`count` random `rows`×`cols` images) and `SPLIT-labels-idx1-ubyte`
    /// (`labels`, or `i % 10`) into `directory`; `split` is `train` or `t10k`.
    public static func writeSplit(
        _ split: String, in directory: URL, count: Int, rows: Int = 28, cols: Int = 28, labels: [UInt8]? = nil,
        seed: UInt64 = 0
    ) throws {
        var generator = SeededGenerator(seed: seed)
        let pixels = (0..<(count * rows * cols)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        try file(dims: [count, rows, cols], bytes: pixels)
            .write(to: directory.appendingPathComponent("\(split)-images-idx3-ubyte"))
        try file(dims: [count], bytes: labels ?? (0..<count).map { UInt8($0 % 10) })
            .write(to: directory.appendingPathComponent("\(split)-labels-idx1-ubyte"))
    }
}
