import Conflux
import Foundation

/// The safetensors format (as written by Hugging Face's `safetensors`): an 8-byte little-endian header length, a
/// JSON header giving each tensor's dtype, shape and data offsets, then the raw little-endian data.
///
/// Conflux reads and writes F32 tensors. Reading checks everything the header claims against the file before
/// using it: no offset, length or shape is trusted.
public enum SafeTensors {
    /// The largest header accepted; real headers are a few kilobytes per hundred tensors.
    static let maximumHeaderBytes = 100 << 20

    /// Writes `tensors` (Float32) and string `metadata` to `path` through `OutputFile`: the file is whole or not there.
    ///
    /// - Throws: `outputFile` if the file cannot be written.
    public static func write(_ tensors: [String: HostTensor], metadata: [String: String] = [:], to path: String) throws
    {
        var header: [String: Any] = [:]
        var data = Data()
        for name in tensors.keys.sorted() {
            let tensor = tensors[name]!
            precondition(tensor.dtype == .float32, "safetensors export of \(name) expects Float32")
            let begin = data.count
            tensor.withUnsafeBytes { data.append(contentsOf: $0) }
            header[name] = ["dtype": "F32", "shape": tensor.shape.dims, "data_offsets": [begin, data.count]]
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Pad the header with spaces so the data starts 8-byte aligned, as the reference writer does.
        json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))
        var file = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(json)
        file.append(data)
        try OutputFile.write(file, to: path)
    }

    /// Reads every tensor of the file at `path`, and its metadata.
    ///
    /// - Throws: `dataFile` naming the file and the tensor for a missing, truncated or corrupt file, an
    ///   unsupported dtype, or offsets that overlap, leave gaps or run past the end.
    public static func read(_ path: String) throws -> (tensors: [String: HostTensor], metadata: [String: String]) {
        func fail(_ reason: String) -> ConfluxError { .dataFile(path: path, reason: reason) }
        guard FileManager.default.fileExists(atPath: path) else { throw fail("no such file") }
        let file: Data
        do { file = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw fail("cannot be read: \(error.localizedDescription)")
        }
        guard file.count >= 8 else {
            throw fail("is truncated: \(file.count) bytes, shorter than the 8-byte header length")
        }
        let claimed = file.prefix(8).enumerated().reduce(UInt64(0)) {
            $0 | UInt64($1.element) << (8 * UInt64($1.offset))
        }
        guard claimed <= UInt64(min(file.count - 8, maximumHeaderBytes)) else {
            throw fail("header length \(claimed) runs past the end of the \(file.count)-byte file")
        }
        let headerEnd = 8 + Int(claimed)
        guard let header = try? JSONSerialization.jsonObject(with: file.subdata(in: 8..<headerEnd)) as? [String: Any]
        else {
            throw fail("header is not a JSON object")
        }
        let dataLength = file.count - headerEnd
        var metadata: [String: String] = [:]
        var entries: [(name: String, shape: Shape, begin: Int, end: Int)] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let values = value as? [String: String] else {
                    throw fail("__metadata__ must map strings to strings")
                }
                metadata = values
                continue
            }
            guard let entry = value as? [String: Any] else {
                throw fail("tensor '\(name)' has no dtype, shape and offsets")
            }
            guard let dtype = entry["dtype"] as? String else { throw fail("tensor '\(name)' has no dtype") }
            guard dtype == "F32" else {
                let known = [
                    "F16", "BF16", "F64", "I8", "I16", "I32", "I64", "U8", "U16", "U32", "U64", "BOOL", "F8_E4M3",
                    "F8_E5M2",
                ]
                throw fail(
                    known.contains(dtype)
                        ? "tensor '\(name)' is \(dtype); Conflux loads F32 tensors only"
                        : "tensor '\(name)' has unknown dtype '\(dtype)'")
            }
            guard let dims = integers(entry["shape"]), dims.allSatisfy({ $0 >= 0 }) else {
                throw fail("tensor '\(name)' has no valid shape")
            }
            guard let offsets = integers(entry["data_offsets"]), offsets.count == 2, offsets[0] >= 0,
                offsets[0] <= offsets[1]
            else { throw fail("tensor '\(name)' has no valid data_offsets") }
            guard offsets[1] <= dataLength else {
                throw fail(
                    "tensor '\(name)' data ends at \(offsets[1]), past the \(dataLength) bytes of data (truncated?)")
            }
            let count = dims.reduce((1, false)) { acc, d in
                let (product, overflow) = acc.0.multipliedReportingOverflow(by: d)
                return (product, acc.1 || overflow)
            }
            guard !count.1, count.0 <= dataLength / 4, count.0 * 4 == offsets[1] - offsets[0] else {
                throw fail(
                    "tensor '\(name)' of shape \(Shape(dims)) needs \(count.1 ? "more" : String(count.0 * 4)) bytes "
                        + "but its offsets span \(offsets[1] - offsets[0])")
            }
            entries.append((name, Shape(dims), offsets[0], offsets[1]))
        }
        entries.sort { $0.begin < $1.begin }
        var position = 0
        for entry in entries {
            guard entry.begin == position else {
                throw fail(
                    entry.begin < position
                        ? "tensor '\(entry.name)' overlaps the tensor before it"
                        : "there is a gap before tensor '\(entry.name)'")
            }
            position = entry.end
        }
        guard position == dataLength else {
            throw fail("\(dataLength - position) bytes after the last tensor belong to none")
        }
        var tensors: [String: HostTensor] = [:]
        for entry in entries {
            let bytes = file.subdata(in: (headerEnd + entry.begin)..<(headerEnd + entry.end))
            let values = bytes.withUnsafeBytes { raw in
                (0..<entry.shape.count).map {
                    Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)))
                }
            }
            tensors[entry.name] = HostTensor(shape: entry.shape, floats: values)
        }
        return (tensors, metadata)
    }

    /// A JSON array of integers, or nil.
    private static func integers(_ value: Any?) -> [Int]? {
        guard let array = value as? [Any] else { return nil }
        let numbers = array.compactMap { ($0 as? NSNumber).flatMap { Int(exactly: $0.doubleValue) } }
        return numbers.count == array.count ? numbers : nil
    }
}
