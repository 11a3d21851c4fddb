import Conflux
import Dispatch
import Foundation
import VectorKernels

/// Host memory for one tensor, 64-byte aligned, or a view of part of another's.
final class CPUStorage: DeviceStorage {
    let byteCount: Int
    let pointer: UnsafeMutableRawPointer
    /// The storage a view shares, kept alive as long as the view.
    private let viewed: CPUStorage?
    /// Counts the writes into a persistent tensor: uploads, and the ops that update variables. A kernel keeps
    /// what it derives from a persistent input until the count moves (`KernelContext.persistentInputs`).
    var writes: UInt64 = 0

    init(byteCount: Int) {
        self.byteCount = byteCount
        pointer = UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 1), alignment: 64)
        viewed = nil
    }

    init(viewing storage: CPUStorage, offset: Int, byteCount: Int) {
        self.byteCount = byteCount
        pointer = storage.pointer + offset
        viewed = storage
    }

    deinit { if viewed == nil { pointer.deallocate() } }
}

/// The host processor: tensors in host memory, GEMM through OpenBLAS, convolutions through the vector kernels
/// of its widest instruction set, other kernels in Swift, on every core.
public final class CPUDevice: Device, @unchecked Sendable {
    public let id = "cpu:0"
    public let kind = DeviceKind.cpu
    public let processor = "host"
    public let name: String
    /// How many workers a kernel splits its batch over: one per core.
    let workers = WorkerPool.shared.workers
    /// Per-worker scratch memory that grows to the largest request and is then reused, so kernels allocate
    /// nothing per step. Worker `w` touches only `scratchSlots[w * scratchPerWorker + slot]`.
    private let scratchSlots: [ScratchBuffer]
    static let scratchPerWorker = 3
    /// Scratch memory that a kernel fills before splitting its work and every worker then reads.
    private let sharedScratch = ScratchBuffer()
    /// The C kernels compiled for one instruction set (`VectorKernels.h`).
    let vectorKernels: UnsafePointer<vk_isa>
    /// Forward convolutions go through oneDNN where it has a JIT kernel (`OneDNNConvolution`), unless a named
    /// instruction set (`CONFLUX_CPU_KERNELS`) asks for the vector kernels of that set alone.
    let oneDNN: OneDNNConvolution.Cache?

    /// The host processor, running the vector kernels of `instructionSet` ("avx512", "avx2" or "baseline"),
    /// or else of `CONFLUX_CPU_KERNELS`, or else of the widest set the processor supports.
    ///
    /// - Throws: `invalidArgument` when the named set is unknown or this processor lacks it.
    public init(instructionSet: String? = ProcessInfo.processInfo.environment["CONFLUX_CPU_KERNELS"]) throws {
        if let instructionSet {
            guard let kernels = vk_isa_named(instructionSet) else {
                throw ConfluxError.invalidArgument(
                    op: "cpu:0",
                    reason: "this processor cannot run the \"\(instructionSet)\" vector kernels; choose one of "
                        + CPUDevice.instructionSets.joined(separator: ", ") + " (CONFLUX_CPU_KERNELS)")
            }
            vectorKernels = kernels
        } else {
            vectorKernels = vk_isa_best()
        }
        oneDNN = instructionSet == nil ? OneDNNConvolution.Cache(workers: workers) : nil
        name = CPUDevice.modelName()
        scratchSlots = (0..<workers * CPUDevice.scratchPerWorker).map { _ in ScratchBuffer() }
        BLAS.useOneThread()
    }

    /// The instruction sets whose vector kernels this processor can run, widest first.
    public static var instructionSets: [String] {
        ["avx512", "avx2", "baseline"].filter { vk_isa_named($0) != nil }
    }

    public var properties: [(String, String)] {
        [
            ("cores", String(workers)),
            ("memory", "\(ProcessInfo.processInfo.physicalMemory >> 20) MiB"),
            ("BLAS", BLAS.configuration),
            ("BLAS kernels", OpenBLASCore.current),
            ("vector kernels", String(cString: vectorKernels.pointee.name)),
            (
                "convolutions",
                oneDNN != nil ? "oneDNN where it has a JIT kernel, else the vector kernels" : "vector kernels"
            ),
        ]
    }

    public private(set) var allocations = 0

    public func allocate(byteCount: Int, for tensor: String) throws -> any DeviceStorage {
        allocations += 1
        return CPUStorage(byteCount: byteCount)
    }

    public func upload(_ host: HostTensor, to tensor: DeviceTensor) throws {
        precondition(host.shape.count * host.dtype.size == tensor.byteCount, "upload size mismatch")
        unsafeDowncast(tensor.storage, to: CPUStorage.self).writes &+= 1
        host.withUnsafeBytes { bytes in
            guard let base = bytes.baseAddress else { return }
            tensor.raw.copyMemory(from: base, byteCount: bytes.count)
        }
    }

    public func download(_ tensor: DeviceTensor) throws -> HostTensor {
        let count = tensor.shape.count
        switch tensor.dtype {
        case .float32:
            return HostTensor(
                shape: tensor.shape, floats: Array(UnsafeBufferPointer(start: tensor.floats, count: count)))
        case .int32:
            return HostTensor(shape: tensor.shape, ints: Array(UnsafeBufferPointer(start: tensor.ints, count: count)))
        }
    }

    public func hostMemory(of tensor: DeviceTensor) -> UnsafeMutableRawPointer? { tensor.raw }

    /// Any element boundary.
    public var viewAlignment: Int { 4 }

    public func view(of tensor: DeviceTensor, offset: Int, shape: Shape) throws -> DeviceTensor {
        let byteCount = shape.count * tensor.dtype.size
        precondition(offset >= 0 && offset + byteCount <= tensor.byteCount, "view outside its tensor")
        let storage = unsafeDowncast(tensor.storage, to: CPUStorage.self)
        return DeviceTensor(
            shape: shape, dtype: tensor.dtype,
            storage: CPUStorage(viewing: storage, offset: offset, byteCount: byteCount))
    }

    /// oneDNN's convolutions read and write channels-last tensors, a residual too; max pooling keeps its input's
    /// layout, a global average pooling reads either; element-wise ReLU, clip and Add of one shape are indifferent
    /// to it. Plain tensors only without oneDNN.
    public func channelsLastUse(for node: Node, inputs: [Shape]) -> ChannelsLastUse {
        guard oneDNN != nil else { return .none }
        switch node.op {
        case .conv2D, .fusedConv2D:
            let epilogue = ConvolutionEpilogue(of: node)
            let geometry = WindowGeometry(input: inputs[0], attributes: node.attributes)
            // A depthwise convolution runs on oneDNN when its input is channels-last.
            guard OneDNNConvolution.runs(geometry, outChannels: node.shape[1], sourceLayout: .channelsLast, on: self)
            else { return .none }
            return .independent(inputs: epilogue.residual ? [0, epilogue.residualInput] : [0], output: true)
        case .relu, .clip, .maxPool: return .uniform
        case .avgPool:
            // A global average pooling reads a channels-last input and writes [N, C, 1, 1], which is plain.
            let kernel = node.attributes.ints("kernel")
            let global =
                inputs[0].rank == 4 && kernel == [inputs[0][2], inputs[0][3]]
                && node.attributes.ints("pads").allSatisfy { $0 == 0 }
            return global ? .independent(inputs: [0], output: false) : .none
        case .add: return inputs.allSatisfy { $0 == node.shape } ? .uniform : .none
        default: return .none
        }
    }

    /// Splits `0..<count` into one contiguous range per worker and runs them in parallel on the worker pool;
    /// `body` gets the worker's index and its range. Work below `serialBelow` items runs on the calling thread.
    func parallelChunks(_ count: Int, serialBelow: Int = 2, _ body: (Int, Range<Int>) -> Void) {
        let chunks = count < serialBelow ? 1 : min(workers, count)
        guard count > 0 else { return }
        WorkerPool.shared.run(chunks: chunks) { chunk in
            body(chunk, (count * chunk / chunks)..<(count * (chunk + 1) / chunks))
        }
    }

    /// Scratch memory of at least `count` floats for `worker`; `slot` (0 to 2) picks one of its buffers.
    func scratch(worker: Int, slot: Int, count: Int) -> UnsafeMutablePointer<Float> {
        scratchSlots[worker * CPUDevice.scratchPerWorker + slot].floats(count)
    }

    /// Scratch memory of at least `count` floats that the calling kernel fills before its parallel part.
    func sharedScratch(count: Int) -> UnsafeMutablePointer<Float> { sharedScratch.floats(count) }

    private static func modelName() -> String {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let line = info.split(separator: "\n").first { $0.hasPrefix("model name") }
        return line.flatMap { $0.split(separator: ":", maxSplits: 1).last }.map {
            $0.trimmingCharacters(in: .whitespaces)
        }
            ?? "host CPU"
    }
}

/// A buffer that only grows.
private final class ScratchBuffer {
    /// On a cache line's boundary, as oneDNN's kernels want their scratchpads.
    private var memory = UnsafeMutableRawPointer.allocate(byteCount: 4, alignment: 64)
    private var capacity = 1

    func floats(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count > capacity {
            memory.deallocate()
            memory = UnsafeMutableRawPointer.allocate(byteCount: count * 4, alignment: 64)
            capacity = count
        }
        return memory.assumingMemoryBound(to: Float.self)
    }

    deinit { memory.deallocate() }
}

extension DeviceTensor {
    /// The host address of a CPU tensor's elements.
    var raw: UnsafeMutableRawPointer { unsafeDowncast(storage, to: CPUStorage.self).pointer }
    var floats: UnsafeMutablePointer<Float> { raw.assumingMemoryBound(to: Float.self) }
    var ints: UnsafeMutablePointer<Int32> { raw.assumingMemoryBound(to: Int32.self) }
    var count: Int { shape.count }
}

extension KernelContext {
    var cpu: CPUDevice { unsafeDowncast(device, to: CPUDevice.self) }
}
