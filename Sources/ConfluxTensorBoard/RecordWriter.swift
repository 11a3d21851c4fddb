import Foundation

/// Appends TensorFlow records to a file: each is the payload's length (8 bytes, little-endian), the masked CRC-32C
/// of those 8 bytes, the payload, and the masked CRC-32C of the payload. A record cut short by a crash leaves every
/// earlier record readable.
final class RecordWriter {
    private let handle: FileHandle
    private var buffer = Data()

    init(path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil),
            let handle = FileHandle(forWritingAtPath: path)
        else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        self.handle = handle
    }

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

    func flush() throws {
        guard !buffer.isEmpty else { return }
        try handle.write(contentsOf: buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    func close() throws {
        try flush()
        try handle.close()
    }
}
