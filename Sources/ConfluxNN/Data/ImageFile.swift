import CStb
import Conflux
import Foundation

/// Grey images from PNG or PGM files (or any format stb_image reads), pixels scaled to [0, 1].
public enum ImageFile {
    /// The pixels of the image at `path`, converted to grey, which must be `rows`×`cols`.
    ///
    /// - Throws: `dataFile` if the file is missing, not an image, or another size.
    public static func load(_ path: String, rows: Int, cols: Int) throws -> [Float] {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ConfluxError.dataFile(path: path, reason: "no such file")
        }
        var (width, height, channels): (Int32, Int32, Int32) = (0, 0, 0)
        guard let pixels = stbi_load(path, &width, &height, &channels, 1) else {
            let why = stbi_failure_reason().map { String(cString: $0) } ?? "unknown reason"
            throw ConfluxError.dataFile(
                path: path, reason: "is not an image this build can read (\(why)); use PNG or PGM")
        }
        defer { stbi_image_free(pixels) }
        guard Int(width) == cols, Int(height) == rows else {
            throw ConfluxError.dataFile(
                path: path, reason: "is \(width)×\(height); the model expects \(cols)×\(rows) grey images")
        }
        return (0..<(rows * cols)).map { Float(pixels[$0]) / 255 }
    }
}
