import COpenCL
import Conflux
import Foundation
import Kernels

/// One argument of a kernel launch.
enum KernelArgument {
    case buffer(cl_mem)
    case int(Int)
    case float(Float)
    /// Up to eight integers, as the kernel's `Ints8` struct (`elementwise.cl`), zero after the last.
    case ints8([Int])
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
    // The state below belongs to the topic files CLRuntime+Memory, +TransferQueue and +Programs.
    let deviceLabel: String
    let cacheKey: [String]
    let cache: ProgramCache
    let synchronous = ProcessInfo.processInfo.environment["CONFLUX_OPENCL_SYNC"] == "1"
    var programs: [ProgramKey: cl_program] = [:]
    var kernels: [KernelKey: cl_kernel] = [:]
    /// Tuned configurations by kernel and sizes (`CLRuntime+Tuning.swift`), and what tuning did in this process.
    var tuning: [String: Specialization] = [:]
    var tuningRecords: [TuningRecord] = []
    var buildStatistics = ProgramBuildStatistics()
    /// Host copies of uploads still in flight, and reusable ones by size.
    var staging: [UnsafeMutableRawPointer] = []
    var stagingPool: [Int: [UnsafeMutableRawPointer]] = [:]
    var stagingSizes: [UnsafeMutableRawPointer: Int] = [:]
    /// Scratch buffers that only grow, by slot; each owns its buffer, so none can be released twice.
    var scratch: [Int: CLStorage] = [:]

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

    /// Waits for every command enqueued so far.
    func finish() throws {
        try check(clFinish(queue), "clFinish")
        releaseStaging()
    }
}
