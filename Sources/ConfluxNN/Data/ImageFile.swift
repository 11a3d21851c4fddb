import CStb
import Conflux
import Foundation

/// Grey images from PNG or PGM files (or any format stb_image reads), pixels scaled to [0, 1].
public enum ImageFile {
    /// The largest image file read; a 28×28 digit is a few hundred bytes.
    static let maximumBytes = 64 << 20

    /// The pixels of the image at `path`, converted to grey, which must be `rows`×`cols`.
    ///
    /// Netpbm maps (PGM `P2`/`P5`, PPM `P3`/`P6`) are decoded by `Netpbm`, every other format by stb_image.
    ///
    /// - Throws: `dataFile` if the file is missing, not a regular file, not an image, cut short, or another size.
    public static func load(_ path: String, rows: Int, cols: Int) throws -> [Float] {
        let bytes = try read(path)
        let image: Netpbm.Image
        if Netpbm.recognises(bytes) {
            image = try Netpbm.decode(bytes, path: path)
        } else {
            image = try decodeWithStb(bytes, path: path)
        }
        guard image.width == cols, image.height == rows else {
            throw ConfluxError.dataFile(
                path: path, reason: "is \(image.width)×\(image.height); the model expects \(cols)×\(rows) grey images")
        }
        return image.pixels
    }

    private static func read(_ path: String) throws -> [UInt8] {
        func fail(_ reason: String) -> ConfluxError { .dataFile(path: path, reason: reason) }
        var info = stat()
        guard stat(path, &info) == 0 else { throw fail("cannot be read (\(String(cString: strerror(errno))))") }
        guard info.st_mode & S_IFMT == S_IFREG else { throw fail("is not a regular file; give an image file") }
        guard Int(info.st_size) <= maximumBytes else {
            throw fail("is \(info.st_size) bytes, larger than the \(maximumBytes >> 20) MiB an image may be")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw fail("cannot be read (\(String(cString: strerror(errno))))")
        }
        return [UInt8](data)
    }

    /// PNG, JPEG, BMP and the other formats stb_image reads.
    private static func decodeWithStb(_ bytes: [UInt8], path: String) throws -> Netpbm.Image {
        var (width, height, channels): (Int32, Int32, Int32) = (0, 0, 0)
        let decoded = bytes.withUnsafeBufferPointer {
            stbi_load_from_memory($0.baseAddress, Int32($0.count), &width, &height, &channels, 1)
        }
        guard let decoded else {
            let why = stbi_failure_reason().map { String(cString: $0) } ?? "unknown reason"
            throw ConfluxError.dataFile(
                path: path, reason: "is not an image this build can read (\(why)); use PNG or PGM (P2 or P5)")
        }
        defer { stbi_image_free(decoded) }
        let count = Int(width) * Int(height)
        return Netpbm.Image(
            width: Int(width), height: Int(height), pixels: (0..<count).map { Float(decoded[$0]) / 255 })
    }
}
