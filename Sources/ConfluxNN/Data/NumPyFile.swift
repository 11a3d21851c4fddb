import Conflux
import Foundation

/// NumPy's `.npy` format, version 1 to 3: a magic string, a header (a Python dict literal with the element type,
/// the order and the shape), then the elements. Conflux reads little-endian float32, and int32 and int64 as
/// Int32 (an int64 must fit), in C order; it writes float32 and int32.
public enum NumPyFile {
    private static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    /// The array in the file at `path`.
    ///
    /// - Throws: `dataFile` naming the file and what is wrong with it.
    public static func read(_ path: String) throws -> HostTensor {
        let bytes: [UInt8]
        do {
            bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw ConfluxError.dataFile(path: path, reason: "cannot be read (\(error.localizedDescription))")
        }
        func fail(_ reason: String) -> ConfluxError { .dataFile(path: path, reason: reason) }
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic, (1...3).contains(bytes[6]) else {
            throw fail("is not a NumPy .npy file")
        }
        let lengthBytes = bytes[6] == 1 ? 2 : 4
        let headerLength = (0..<lengthBytes).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
        let start = 8 + lengthBytes + headerLength
        guard start <= bytes.count, let header = String(bytes: bytes[(8 + lengthBytes)..<start], encoding: .utf8) else {
            throw fail("has a header of \(headerLength) bytes that the file does not hold")
        }
        guard let descr = value(of: "descr", in: header), let shapeText = value(of: "shape", in: header) else {
            throw fail("has no 'descr' or 'shape' in its header \(header)")
        }
        guard value(of: "fortran_order", in: header) != "True" else {
            throw fail("is in Fortran order; save it in C order")
        }
        let dims = shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "()")).split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let sizes = dims.compactMap { Int($0) }
        guard sizes.count == dims.count, sizes.allSatisfy({ (0...Int(Int32.max)).contains($0) }) else {
            throw fail("has shape \(shapeText)")
        }
        let (count, overflow) = sizes.reduce((1, false)) { partial, size in
            let (product, flag) = partial.0.multipliedReportingOverflow(by: size)
            return (product, partial.1 || flag)
        }
        let shape = Shape(sizes)
        let elementSize = ["'<f4'": 4, "'<i4'": 4, "'<i8'": 8][descr]
        guard let elementSize else { throw fail("holds \(descr); Conflux reads float32 ('<f4'), int32 and int64") }
        guard !overflow, bytes.count - start == count * elementSize else {
            throw fail("holds \(bytes.count - start) bytes of data for shape \(shape) of \(descr)")
        }
        return bytes[start...].withUnsafeBytes { raw in
            switch descr {
            case "'<f4'":
                return HostTensor(
                    shape: shape, floats: (0..<count).map { raw.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self) })
            case "'<i4'":
                return HostTensor(
                    shape: shape, ints: (0..<count).map { raw.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self) })
            default:
                return HostTensor(
                    shape: shape,
                    ints: (0..<count).map { Int32(clamping: raw.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self)) }
                )
            }
        }
    }

    /// The .npy bytes of `tensor`: version 1, float32 or int32, C order.
    public static func encode(_ tensor: HostTensor) -> Data {
        let descr = tensor.dtype == .float32 ? "<f4" : "<i4"
        let dims = tensor.shape.dims.map(String.init)
        let shape = dims.count == 1 ? "(\(dims[0]),)" : "(\(dims.joined(separator: ", ")))"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }"
        // The data starts at a multiple of 64 bytes; the header ends with a newline.
        header += String(repeating: " ", count: (64 - (10 + header.count + 1) % 64) % 64) + "\n"
        var data = Data(magic + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)])
        data.append(contentsOf: Array(header.utf8))
        tensor.withUnsafeBytes { data.append(contentsOf: $0) }
        return data
    }

    /// The text after `'key':` in a header dict, up to the next top-level comma.
    private static func value(of key: String, in header: String) -> String? {
        guard let range = header.range(of: "'\(key)':") else { return nil }
        var depth = 0
        var result = ""
        for character in header[range.upperBound...] {
            if character == "(" { depth += 1 }
            if character == ")" { depth -= 1 }
            if (character == "," || character == "}") && depth == 0 { break }
            result.append(character)
        }
        return result.trimmingCharacters(in: .whitespaces)
    }
}
