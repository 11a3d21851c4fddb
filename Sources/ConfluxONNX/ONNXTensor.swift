import Conflux
import Foundation

/// ONNX's element types Conflux reads, and their codes in `TensorProto.data_type`.
enum ONNXElementType: Int32 {
    case float = 1
    case int32 = 6
    case int64 = 7

    init(_ code: Int32, for name: String, in file: String) throws {
        guard let type = ONNXElementType(rawValue: code) else {
            throw ConfluxError.dataFile(
                path: file, reason: "tensor '\(name)' has element type \(code); Conflux reads float32, int32 and int64")
        }
        self = type
    }
}

extension HostTensor {
    /// The values of an ONNX tensor: float32 as Float32, int32 and int64 as Int32, an int64 beyond 32 bits
    /// saturating (ONNX's Slice ends at INT64_MAX, "to the end"; no size or index Conflux can hold is larger). Data
    /// stored outside the file, or shorter than its dimensions say, is an error naming the tensor.
    init(_ tensor: Onnx_TensorProto, file: String) throws {
        let name = tensor.name
        guard tensor.externalData.isEmpty else {
            throw ConfluxError.dataFile(path: file, reason: "tensor '\(name)' keeps its data in another file")
        }
        guard tensor.dims.allSatisfy({ (0...Int64(Int32.max)).contains($0) }) else {
            throw ConfluxError.dataFile(path: file, reason: "tensor '\(name)' has dimensions \(tensor.dims)")
        }
        let shape = Shape(tensor.dims.map { Int($0) })
        guard shape.count <= 1 << 31 else {
            throw ConfluxError.dataFile(path: file, reason: "tensor '\(name)' declares \(shape.count) elements")
        }
        let type = try ONNXElementType(tensor.dataType, for: name, in: file)
        let count = shape.count
        func checked<T>(_ values: [T]) throws -> [T] {
            guard values.count == count else {
                throw ConfluxError.dataFile(
                    path: file, reason: "tensor '\(name)' of shape \(shape) holds \(values.count) values")
            }
            return values
        }
        func raw<T>(_: T.Type) throws -> [T] {
            let size = MemoryLayout<T>.size
            guard tensor.rawData.count == count * size else {
                throw ConfluxError.dataFile(
                    path: file, reason: "tensor '\(name)' of shape \(shape) holds \(tensor.rawData.count) bytes")
            }
            return tensor.rawData.withUnsafeBytes { bytes in
                (0..<count).map { bytes.loadUnaligned(fromByteOffset: $0 * size, as: T.self) }
            }
        }
        switch type {
        case .float:
            self.init(shape: shape, floats: try tensor.hasRawData ? raw(Float.self) : checked(tensor.floatData))
        case .int32:
            self.init(shape: shape, ints: try tensor.hasRawData ? raw(Int32.self) : checked(tensor.int32Data))
        case .int64:
            let values = try tensor.hasRawData ? raw(Int64.self) : checked(tensor.int64Data)
            self.init(shape: shape, ints: values.map { Int32(clamping: $0) })
        }
    }
}
