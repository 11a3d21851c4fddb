import COpenCL
import Conflux
import Foundation

/// The transfer queue: copies between devices, which may be enqueued from another thread while one thread
/// enqueues compute.
extension CLRuntime {
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
}
