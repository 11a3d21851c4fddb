import Conflux
import Foundation

/// Appends TensorFlow records to a file: each is the payload's length (8 bytes, little-endian), the masked CRC-32C
/// of those 8 bytes, the payload, and the masked CRC-32C of the payload. A record cut short by a crash leaves every
/// earlier record readable.
final class RecordWriter {
    private let path: String
    private var descriptor: Int32
    private var buffer = Data()

    /// Creates the file, which must not exist.
    ///
    /// - Throws: `outputFile` saying why it cannot be created.
    init(path: String) throws {
        self.path = path
        descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0o666)
        guard descriptor >= 0 else {
            throw ConfluxError.outputFile(path: path, reason: String(cString: strerror(errno)))
        }
    }

    deinit { if descriptor >= 0 { Foundation.close(descriptor) } }

    /// Frames `payload` into the buffer; `flush` writes it.
    func append(_ payload: Data) {
        var length = Data(count: 8)
        length.withUnsafeMutableBytes { $0.storeBytes(of: UInt64(payload.count).littleEndian, as: UInt64.self) }
        buffer.append(length)
        append(CRC32C.masked(length))
        buffer.append(payload)
        append(CRC32C.masked(payload))
    }

    private func append(_ value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { buffer.append(contentsOf: $0) }
    }

    /// Writes the buffered records; a signal never stops the process in the middle of one.
    func flush() throws {
        guard !buffer.isEmpty, descriptor >= 0 else { return }
        try Interruption.critical {
            try buffer.withUnsafeBytes { try OutputFile.writeAll($0, to: descriptor, path: path) }
        }
        buffer.removeAll(keepingCapacity: true)
    }

    func close() throws {
        try flush()
        if descriptor >= 0 { Foundation.close(descriptor) }
        descriptor = -1
    }
}
