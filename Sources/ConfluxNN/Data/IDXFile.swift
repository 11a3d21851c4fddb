import CZlib
import Conflux
import Foundation

/// An IDX file of unsigned bytes (the MNIST format): its dimensions and raw elements.
///
/// The file may be gzip-compressed or raw; zlib reads both.
public struct IDXFile {
    public let dims: [Int]
    public let bytes: [UInt8]

    /// Reads `path`, expecting `rank` dimensions.
    ///
    /// - Throws: `dataFile` if the file is missing, not IDX, of another rank or element type, corrupt, or shorter
    ///   than its header says.
    public init(path: String, rank: Int) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ConfluxError.dataFile(path: path, reason: "no such file")
        }
        guard let file = gzopen(path, "rb") else {
            throw ConfluxError.dataFile(path: path, reason: "cannot be opened: \(String(cString: strerror(errno)))")
        }
        defer { gzclose(file) }
        let header = try Self.read(file, count: 4, path: path, what: "magic number")
        guard header[0] == 0, header[1] == 0 else {
            throw ConfluxError.dataFile(
                path: path, reason: "not an IDX file (magic number \(header[0...3].map { $0 }))")
        }
        guard header[2] == 0x08 else {
            throw ConfluxError.dataFile(
                path: path, reason: "element type 0x\(String(header[2], radix: 16)) is not unsigned bytes (0x08)")
        }
        guard Int(header[3]) == rank else {
            throw ConfluxError.dataFile(path: path, reason: "has \(header[3]) dimensions, expected \(rank)")
        }
        let sizes = try Self.read(file, count: 4 * rank, path: path, what: "dimensions")
        dims = (0..<rank).map { i in sizes[4 * i..<4 * i + 4].reduce(0) { $0 << 8 | Int($1) } }
        let shape = dims.map(String.init).joined(separator: "×")
        var count = 1
        for dim in dims {
            let (product, overflow) = count.multipliedReportingOverflow(by: dim)
            guard !overflow else {
                throw ConfluxError.dataFile(path: path, reason: "declares \(shape) elements, more than any file holds")
            }
            count = product
        }
        bytes = try Self.read(file, count: count, path: path, what: "\(shape) elements")
        var extra: UInt8 = 0
        guard gzread(file, &extra, 1) == 0 else {
            throw ConfluxError.dataFile(path: path, reason: "has data after the \(count) elements its header declares")
        }
    }

    /// Reads exactly `count` bytes or throws, saying whether the file was truncated or corrupt. Memory grows
    /// with what the file holds, a chunk at a time, never with what its header claims.
    private static func read(_ file: gzFile, count: Int, path: String, what: String) throws -> [UInt8] {
        let chunkBytes = 16 << 20
        var buffer = [UInt8]()
        // One allocation for a file of up to 64 MiB (Fashion-MNIST's images are 47 MB), rather than growing by
        // doubling, which would hold twice the data for a moment; past that, growth follows what the file holds.
        buffer.reserveCapacity(min(count, 64 << 20))
        var done = 0
        while done < count {
            if done == buffer.count { buffer += [UInt8](repeating: 0, count: min(count - done, chunkBytes)) }
            let got = buffer.withUnsafeMutableBytes {
                gzread(file, $0.baseAddress! + done, UInt32($0.count - done))
            }
            if got < 0 {
                var code: Int32 = 0
                let message = String(cString: gzerror(file, &code))
                throw ConfluxError.dataFile(path: path, reason: "is corrupt while reading its \(what): \(message)")
            }
            if got == 0 {
                throw ConfluxError.dataFile(
                    path: path, reason: "is truncated: its \(what) need \(count) bytes but the file ends after \(done)")
            }
            done += Int(got)
        }
        return buffer
    }
}
