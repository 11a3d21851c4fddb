import Conflux

/// Netpbm grey and colour maps (PGM `P2`/`P5`, PPM `P3`/`P6`), decoded here rather than by stb_image, which has no
/// plain-text variants and fills a binary map cut short with whatever memory held.
enum Netpbm {
    /// A decoded map: `width`×`height` grey values scaled to [0, 1], row by row.
    struct Image {
        let width: Int
        let height: Int
        let pixels: [Float]
    }

    /// The largest side accepted; a header claiming more is corrupt or hostile, not a photo.
    static let maximumSide = 1 << 15

    /// Whether `bytes` start like a Netpbm file (`P1` … `P6`).
    static func recognises(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == UInt8(ascii: "P") && (UInt8(ascii: "1")...UInt8(ascii: "6")).contains(bytes[1])
    }

    /// Decodes a PGM or PPM file's `bytes`, converting colour to grey with the Rec. 601 weights.
    ///
    /// - Throws: `dataFile` naming `path` for a bitmap (`P1`/`P4`), a bad header, a value above the maximum, or
    ///   a file that ends before its pixels do.
    static func decode(_ bytes: [UInt8], path: String) throws -> Image {
        func fail(_ reason: String) -> ConfluxError { .dataFile(path: path, reason: reason) }
        let kind = bytes[1] - UInt8(ascii: "0")
        guard kind != 1 && kind != 4 else { throw fail("is a PBM bitmap (P\(kind)); save it as PGM or PNG") }
        let binary = kind >= 5
        let channels = kind == 3 || kind == 6 ? 3 : 1
        var reader = Reader(bytes: bytes, position: 2)
        guard let width = reader.integer(), let height = reader.integer(), let maximum = reader.integer() else {
            throw fail("has a broken P\(kind) header: it needs a width, a height and a maximum value")
        }
        guard (1...maximumSide).contains(width), (1...maximumSide).contains(height) else {
            throw fail("declares a \(width)×\(height) image; each side must be 1 to \(maximumSide)")
        }
        guard (1...65535).contains(maximum) else {
            throw fail("declares maximum value \(maximum); it must be 1 to 65535")
        }
        let samples = width * height * channels
        var values = [Int]()
        values.reserveCapacity(samples)
        if binary {
            // Exactly one whitespace byte separates the header from the pixels.
            let start = reader.position + 1
            let sampleBytes = maximum < 256 ? 1 : 2
            let needed = samples * sampleBytes
            guard start + needed <= bytes.count else {
                throw fail(
                    "is truncated: a \(width)×\(height) P\(kind) image needs \(needed) bytes of pixels but the file "
                        + "holds \(max(bytes.count - start, 0))")
            }
            for i in 0..<samples {
                values.append(
                    sampleBytes == 1
                        ? Int(bytes[start + i]) : Int(bytes[start + 2 * i]) << 8 | Int(bytes[start + 2 * i + 1]))
            }
        } else {
            for i in 0..<samples {
                guard let value = reader.integer() else {
                    throw fail("is truncated: a \(width)×\(height) P\(kind) image needs \(samples) values, found \(i)")
                }
                values.append(value)
            }
        }
        if let index = values.firstIndex(where: { $0 > maximum }) {
            throw fail("value \(values[index]) at sample \(index) is above the declared maximum \(maximum)")
        }
        let scale = Float(maximum)
        let pixels =
            channels == 1
            ? values.map { Float($0) / scale }
            : (0..<(width * height)).map { p in
                (0.299 * Float(values[3 * p]) + 0.587 * Float(values[3 * p + 1]) + 0.114 * Float(values[3 * p + 2]))
                    / scale
            }
        return Image(width: width, height: height, pixels: pixels)
    }

    /// Reads the decimal integers of a header or a plain-text map, skipping whitespace and `#` comments.
    private struct Reader {
        let bytes: [UInt8]
        var position: Int

        mutating func integer() -> Int? {
            while position < bytes.count {
                let byte = bytes[position]
                if byte == UInt8(ascii: "#") {
                    while position < bytes.count && bytes[position] != UInt8(ascii: "\n") { position += 1 }
                } else if byte == 0x20 || (0x09...0x0D).contains(byte) {
                    position += 1
                } else {
                    break
                }
            }
            var value = 0
            var digits = 0
            while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) {
                // Seven digits are more than any valid size or sample; stop before the value can overflow.
                guard digits < 7 else { return nil }
                value = value * 10 + Int(bytes[position] - UInt8(ascii: "0"))
                digits += 1
                position += 1
            }
            return digits > 0 ? value : nil
        }
    }
}
