import COpenCL
import Conflux
import Foundation
import Kernels

/// One argument of a kernel launch.
enum KernelArgument {
    case buffer(cl_mem)
    case int(Int)
    case float(Float)
}

/// An OpenCL event, released with its owner.
final class CLEvent: DeviceEvent {
    let event: cl_event
    init(_ event: cl_event) { self.event = event }
    deinit { clReleaseEvent(event) }

    func wait() throws {
        var waited: cl_event? = event
        try check(clWaitForEvents(1, &waited), "clWaitForEvents")
    }
}

/// How long building a device's programs took, and how many came from the disk cache.
public struct ProgramBuildStatistics: Sendable {
    public var programs = 0
    public var fromCache = 0
    public var seconds = 0.0
}

/// A device's in-order compute and transfer queues on its platform's context, its programs (built once), and the
/// staging memory of uploads.
///
/// Work is enqueued without waiting; the host waits only in `read` (a fetch) and `finish`. Set
/// `CONFLUX_OPENCL_SYNC=1` to wait after every kernel, which pins an error to the kernel that caused it.
final class CLRuntime {
    let device: cl_device_id
    let context: cl_context
    /// The in-order compute stream, and a second queue on which cross-device copies wait for markers of the first.
    let queue: cl_command_queue
    let transferQueue: cl_command_queue
    /// The work-group size of reductions (`GROUP` in the kernels): a power of two the device supports.
    let groupSize: Int
    private let deviceLabel: String
    private let cacheKey: [String]
    private let cache: ProgramCache
    private let synchronous = ProcessInfo.processInfo.environment["CONFLUX_OPENCL_SYNC"] == "1"
    private var programs: [KernelSource: cl_program] = [:]
    private var kernels: [String: cl_kernel] = [:]
    private(set) var buildStatistics = ProgramBuildStatistics()
    /// Host copies of uploads still in flight, and reusable ones by size.
    private var staging: [UnsafeMutableRawPointer] = []
    private var stagingPool: [Int: [UnsafeMutableRawPointer]] = [:]
    private var stagingSizes: [UnsafeMutableRawPointer: Int] = [:]
    /// Scratch buffers that only grow, by slot; each owns its buffer, so none can be released twice.
    private var scratch: [Int: CLStorage] = [:]

    init(
        device: cl_device_id, context: cl_context, label: String, cacheKey: [String], maxWorkGroupSize: Int,
        cache: ProgramCache
    ) throws {
        self.device = device
        self.cache = cache
        deviceLabel = label
        self.cacheKey = cacheKey
        var group = 1
        while group * 2 <= min(maxWorkGroupSize, 256) { group *= 2 }
        groupSize = group
        var status: cl_int = 0
        let queues = (0..<2).map { _ in clCreateCommandQueue(context, device, 0, &status) }
        guard let queue = queues[0], let transferQueue = queues[1] else {
            for created in queues.compactMap({ $0 }) { clReleaseCommandQueue(created) }
            throw ConfluxError.openCL(call: "clCreateCommandQueue for \(label)", status: clErrorName(status))
        }
        clRetainContext(context)
        self.context = context
        self.queue = queue
        self.transferQueue = transferQueue
    }

    deinit {
        clFinish(queue)
        releaseStaging()
        for pointer in stagingPool.values.joined() { pointer.deallocate() }
        for kernel in kernels.values { clReleaseKernel(kernel) }
        for program in programs.values { clReleaseProgram(program) }
        scratch.removeAll()
        clFinish(transferQueue)
        clReleaseCommandQueue(transferQueue)
        clReleaseCommandQueue(queue)
        clReleaseContext(context)
    }

    // MARK: - Memory

    func createBuffer(bytes: Int, flags: cl_mem_flags = 0, for tensor: String) throws -> cl_mem {
        var status: cl_int = 0
        // A zero-byte buffer is invalid in OpenCL; empty tensors get the smallest one.
        let mem = clCreateBuffer(context, cl_mem_flags(CL_MEM_READ_WRITE) | flags, max(bytes, 4), nil, &status)
        if status == CL_MEM_OBJECT_ALLOCATION_FAILURE || status == CL_OUT_OF_RESOURCES
            || status == CL_OUT_OF_HOST_MEMORY
            || status == CL_INVALID_BUFFER_SIZE
        {
            throw ConfluxError.outOfMemory(device: deviceLabel, tensor: tensor, bytes: bytes)
        }
        try check(status, "clCreateBuffer(\(bytes) bytes for '\(tensor)')")
        return mem!
    }

    /// A buffer over `bytes` of `mem`, sharing its memory; `bytes` must start on the device's base-address alignment.
    func subBuffer(of mem: cl_mem, bytes: Range<Int>) throws -> cl_mem {
        var region = cl_buffer_region(origin: bytes.lowerBound, size: max(bytes.count, 4))
        var status: cl_int = 0
        let sub = clCreateSubBuffer(
            mem, cl_mem_flags(CL_MEM_READ_WRITE), cl_buffer_create_type(CL_BUFFER_CREATE_TYPE_REGION), &region, &status)
        try check(status, "clCreateSubBuffer(\(bytes) of a \(deviceLabel) buffer)")
        return sub!
    }

    /// Copies `bytes` into `mem` without waiting: the bytes go to staging memory that lives until the next wait.
    func write(_ bytes: UnsafeRawBufferPointer, to mem: cl_mem) throws {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        let host = stagingBuffer(bytes.count)
        host.copyMemory(from: source, byteCount: bytes.count)
        staging.append(host)
        try check(
            clEnqueueWriteBuffer(queue, mem, cl_bool(CL_FALSE), 0, bytes.count, host, 0, nil, nil),
            "clEnqueueWriteBuffer")
        if synchronous { try finish() }
    }

    /// Copies `mem` into `bytes`, waiting for every command before it.
    func read(_ mem: cl_mem, into bytes: UnsafeMutableRawBufferPointer) throws {
        if bytes.count > 0 {
            try check(
                clEnqueueReadBuffer(queue, mem, cl_bool(CL_TRUE), 0, bytes.count, bytes.baseAddress, 0, nil, nil),
                "clEnqueueReadBuffer")
        }
        releaseStaging()
    }

    /// A marker after the commands enqueued on the compute stream so far. The queue is flushed, since other
    /// queues wait for the marker and an implementation need not start commands that were never flushed.
    func marker() throws -> CLEvent {
        var event: cl_event?
        try check(clEnqueueMarkerWithWaitList(queue, 0, nil, &event), "clEnqueueMarkerWithWaitList")
        try check(clFlush(queue), "clFlush")
        return CLEvent(event!)
    }

    /// Makes the compute queue's later commands wait for `event`.
    func wait(for event: CLEvent) throws {
        var wait: cl_event? = event.event
        try check(clEnqueueBarrierWithWaitList(queue, 1, &wait, nil), "clEnqueueBarrierWithWaitList")
    }

    // MARK: - Transfer queue (may be used from another thread while one enqueues compute)

    /// Copies `bytes` of `mem` to `host` once `events` have passed; returns when done.
    func read(_ mem: cl_mem, bytes: Range<Int>, into host: UnsafeMutableRawPointer, after events: [CLEvent]) throws {
        guard !bytes.isEmpty else { return }
        _ = try enqueueTransfer("clEnqueueReadBuffer(\(bytes.count) bytes) on the transfer queue", after: events) {
            clEnqueueReadBuffer(transferQueue, mem, cl_bool(CL_TRUE), bytes.lowerBound, bytes.count, host, $0, $1, $2)
        }
    }

    /// Starts copying `host` into `bytes` of `mem` once `events` have passed; the event passes when it is done.
    func write(_ host: UnsafeRawPointer, to mem: cl_mem, bytes: Range<Int>, after events: [CLEvent]) throws -> CLEvent {
        try enqueueTransfer("clEnqueueWriteBuffer(\(bytes.count) bytes) on the transfer queue", after: events) {
            clEnqueueWriteBuffer(
                transferQueue, mem, cl_bool(CL_FALSE), bytes.lowerBound, bytes.count, host, $0, $1, $2)
        }
    }

    /// Starts copying `bytes` of `source` into the same range of `destination`, buffers of this context.
    func copy(_ source: cl_mem, to destination: cl_mem, bytes: Range<Int>, after events: [CLEvent]) throws -> CLEvent {
        try enqueueTransfer("clEnqueueCopyBuffer(\(bytes.count) bytes) on the transfer queue", after: events) {
            clEnqueueCopyBuffer(
                transferQueue, source, destination, bytes.lowerBound, bytes.lowerBound, bytes.count, $0, $1, $2)
        }
    }

    /// Enqueues a command on the transfer queue after `events`, flushes the queue so it starts now, and returns
    /// the command's event.
    private func enqueueTransfer(
        _ call: String, after events: [CLEvent],
        _ enqueue: (cl_uint, UnsafePointer<cl_event?>?, UnsafeMutablePointer<cl_event?>) -> cl_int
    ) throws -> CLEvent {
        let wait: [cl_event?] = events.map(\.event)
        var event: cl_event?
        let status = wait.withUnsafeBufferPointer {
            enqueue(cl_uint(wait.count), wait.isEmpty ? nil : $0.baseAddress, &event)
        }
        try check(status, call)
        try check(clFlush(transferQueue), "clFlush of the transfer queue")
        return CLEvent(event!)
    }

    /// Pinned host memory of `bytes`: a host-allocated buffer mapped once for the runtime's lifetime.
    func pinnedStaging(bytes: Int) throws -> HostStaging {
        let mem = try createBuffer(bytes: bytes, flags: cl_mem_flags(CL_MEM_ALLOC_HOST_PTR), for: "transfer staging")
        var status: cl_int = 0
        let mapped = clEnqueueMapBuffer(
            transferQueue, mem, cl_bool(CL_TRUE), cl_map_flags(CL_MAP_READ | CL_MAP_WRITE), 0, max(bytes, 4), 0, nil,
            nil, &status)
        guard status == CL_SUCCESS, let mapped else {
            clReleaseMemObject(mem)
            throw ConfluxError.openCL(
                call: "clEnqueueMapBuffer(\(bytes) bytes of staging)", status: clErrorName(status))
        }
        // The staging may outlive this runtime (a plan's transfers are released with their session).
        let queue = transferQueue
        clRetainCommandQueue(queue)
        return HostStaging(pointer: mapped, byteCount: bytes) {
            clEnqueueUnmapMemObject(queue, mem, mapped, 0, nil, nil)
            clFinish(queue)
            clReleaseMemObject(mem)
            clReleaseCommandQueue(queue)
        }
    }

    /// Waits for every command enqueued so far.
    func finish() throws {
        try check(clFinish(queue), "clFinish")
        releaseStaging()
    }

    /// A device buffer of at least `bytes` for scratch `slot`, reused across kernels (the queue is in order).
    func scratch(_ slot: Int, bytes: Int) throws -> cl_mem {
        if let buffer = scratch[slot], buffer.byteCount >= bytes { return buffer.mem }
        // The old buffer goes before the new one is asked for, so the two never need memory at once.
        scratch[slot] = nil
        let buffer = CLStorage(mem: try createBuffer(bytes: bytes, for: "scratch"), byteCount: bytes)
        scratch[slot] = buffer
        return buffer.mem
    }

    private func stagingBuffer(_ bytes: Int) -> UnsafeMutableRawPointer {
        if let reused = stagingPool[bytes]?.popLast() { return reused }
        let pointer = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        stagingSizes[pointer] = bytes
        return pointer
    }

    private func releaseStaging() {
        for pointer in staging { stagingPool[stagingSizes[pointer]!, default: []].append(pointer) }
        staging.removeAll(keepingCapacity: true)
    }

    // MARK: - Kernels

    /// Enqueues kernel `name` of `source` over `global` work-items (rounded up to a multiple of `local` if given).
    func launch(_ source: KernelSource, _ name: String, global: Int, local: Int? = nil, _ arguments: [KernelArgument])
        throws
    {
        guard global > 0 else { return }
        let kernel = try self.kernel(source, name)
        for (index, argument) in arguments.enumerated() {
            let status: cl_int
            switch argument {
            case .buffer(let mem):
                var value: cl_mem? = mem
                status = clSetKernelArg(kernel, cl_uint(index), MemoryLayout<cl_mem?>.size, &value)
            case .int(let int):
                var value = Int32(int)
                status = clSetKernelArg(kernel, cl_uint(index), 4, &value)
            case .float(let float):
                var value = float
                status = clSetKernelArg(kernel, cl_uint(index), 4, &value)
            }
            try check(status, "clSetKernelArg(\(name), \(index))")
        }
        var globalSize = local.map { (global + $0 - 1) / $0 * $0 } ?? global
        var localSize = local ?? 0
        let status =
            local == nil
            ? clEnqueueNDRangeKernel(queue, kernel, 1, nil, &globalSize, nil, 0, nil, nil)
            : clEnqueueNDRangeKernel(queue, kernel, 1, nil, &globalSize, &localSize, 0, nil, nil)
        try check(status, "clEnqueueNDRangeKernel(\(name), \(globalSize) work-items)")
        if synchronous { try finish() }
    }

    /// Waits after a library call (CLBlast) when the debug switch asks for it.
    func afterLibraryCall() throws {
        if synchronous { try finish() }
    }

    private func kernel(_ source: KernelSource, _ name: String) throws -> cl_kernel {
        if let kernel = kernels[name] { return kernel }
        let program = try self.program(source)
        var status: cl_int = 0
        let kernel = clCreateKernel(program, name, &status)
        try check(status, "clCreateKernel(\(name))")
        kernels[name] = kernel!
        return kernel!
    }

    private func program(_ source: KernelSource) throws -> cl_program {
        if let program = programs[source] { return program }
        let program = try build(name: source.rawValue, source: source.text)
        programs[source] = program
        return program
    }

    // MARK: - Programs

    /// Builds `source` for the device, from the disk cache when a binary for the same source, options, device,
    /// driver and platform is there; a build failure throws the compiler's log.
    func build(name: String, source: String) throws -> cl_program {
        let start = Date()
        defer {
            buildStatistics.programs += 1
            buildStatistics.seconds += Date().timeIntervalSince(start)
        }
        let options = "-cl-std=CL1.2 -DGROUP=\(groupSize)"
        let entry = cache.entry(program: name, key: [source, options] + cacheKey)
        if let entry, let binary = cache.load(entry), let program = try? buildFromBinary(binary, options: options) {
            buildStatistics.fromCache += 1
            return program
        }
        var status: cl_int = 0
        let program = source.withCString { text -> cl_program? in
            var pointer: UnsafePointer<CChar>? = text
            return clCreateProgramWithSource(context, 1, &pointer, nil, &status)
        }
        try check(status, "clCreateProgramWithSource(\(name))")
        var id: cl_device_id? = device
        guard clBuildProgram(program, 1, &id, options, nil, nil) == CL_SUCCESS else {
            let log = buildLog(program!)
            clReleaseProgram(program)
            throw ConfluxError.kernelBuild(program: name, device: deviceLabel, log: log)
        }
        if let entry, let binary = binary(of: program!) { cache.store(binary, as: entry) }
        return program!
    }

    private func buildFromBinary(_ binary: Data, options: String) throws -> cl_program {
        var status: cl_int = 0
        var binaryStatus: cl_int = 0
        var id: cl_device_id? = device
        var length = binary.count
        let program = binary.withUnsafeBytes { bytes -> cl_program? in
            var pointer: UnsafePointer<UInt8>? = bytes.bindMemory(to: UInt8.self).baseAddress
            return clCreateProgramWithBinary(context, 1, &id, &length, &pointer, &binaryStatus, &status)
        }
        try check(status, "clCreateProgramWithBinary")
        try check(binaryStatus, "clCreateProgramWithBinary")
        guard clBuildProgram(program, 1, &id, options, nil, nil) == CL_SUCCESS else {
            clReleaseProgram(program)
            throw ConfluxError.openCL(call: "clBuildProgram from a cached binary", status: "CL_BUILD_PROGRAM_FAILURE")
        }
        return program!
    }

    private func binary(of program: cl_program) -> Data? {
        var size = 0
        guard
            clGetProgramInfo(program, cl_program_info(CL_PROGRAM_BINARY_SIZES), MemoryLayout<Int>.size, &size, nil)
                == CL_SUCCESS, size > 0
        else { return nil }
        var data = Data(count: size)
        let status = data.withUnsafeMutableBytes { bytes -> cl_int in
            var pointer: UnsafeMutableRawPointer? = bytes.baseAddress
            return clGetProgramInfo(
                program, cl_program_info(CL_PROGRAM_BINARIES), MemoryLayout<UnsafeMutableRawPointer?>.size, &pointer,
                nil)
        }
        return status == CL_SUCCESS ? data : nil
    }

    private func buildLog(_ program: cl_program) -> String {
        var size = 0
        let name = cl_program_build_info(CL_PROGRAM_BUILD_LOG)
        guard clGetProgramBuildInfo(program, device, name, 0, nil, &size) == CL_SUCCESS, size > 0 else {
            return "(no build log)"
        }
        var bytes = [CChar](repeating: 0, count: size)
        _ = clGetProgramBuildInfo(program, device, name, size, &bytes, nil)
        return String(cString: bytes)
    }
}
