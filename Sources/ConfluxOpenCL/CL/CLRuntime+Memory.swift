import COpenCL
import Conflux
import Foundation

/// Buffers on the device, staging memory for uploads, and scratch buffers reused across kernels.
extension CLRuntime {
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

    func releaseStaging() {
        for pointer in staging { stagingPool[stagingSizes[pointer]!, default: []].append(pointer) }
        staging.removeAll(keepingCapacity: true)
    }
}
