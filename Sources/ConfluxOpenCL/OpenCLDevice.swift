import COpenCL
import Conflux
import Foundation

/// Device memory for one tensor: a whole `cl_mem`, or a sub-buffer of another tensor's for a view (kernels
/// always see offset zero).
final class CLStorage: DeviceStorage {
    let mem: cl_mem
    let byteCount: Int
    /// The storage a view's sub-buffer lies in, kept alive as long as the view.
    private let viewed: CLStorage?

    init(mem: cl_mem, byteCount: Int, viewing viewed: CLStorage? = nil) {
        self.mem = mem
        self.byteCount = byteCount
        self.viewed = viewed
    }

    deinit { clReleaseMemObject(mem) }
}

/// One OpenCL device: a GPU, or a CPU through PoCL. Its queues (and its platform's context) are created on first
/// use, so listing devices costs nothing.
public final class OpenCLDevice: Device, @unchecked Sendable {
    public let id: String
    public let kind = DeviceKind.opencl
    public let name: String
    public let properties: [(String, String)]
    public let processor: String
    /// CL_DEVICE_MEM_BASE_ADDR_ALIGN, which the specification gives in bits, in bytes.
    public let viewAlignment: Int
    private let deviceID: cl_device_id
    private let platformContext: CLPlatformContext
    private let cacheKey: [String]
    private let maxWorkGroupSize: Int
    private var runtimeState: CLRuntime?
    /// Serialises CLBlast calls on this device: Debian's CLBlast 1.5.3 predates its cache thread-safety fix.
    let gemmLock = NSLock()
    /// Where its kernels report failed data checks, read at every fetch.
    let dataChecks = DataCheckSlots()

    init(index: Int, platform: cl_platform_id, device: cl_device_id, context: CLPlatformContext) {
        id = "opencl:\(index)"
        deviceID = device
        platformContext = context
        name = CLInfo.deviceString(device, cl_device_info(CL_DEVICE_NAME))
        let platformName = CLInfo.platformString(platform, cl_platform_info(CL_PLATFORM_NAME))
        let driver = CLInfo.deviceString(device, cl_device_info(CL_DRIVER_VERSION))
        let version = CLInfo.deviceString(device, cl_device_info(CL_DEVICE_VERSION))
        maxWorkGroupSize = CLInfo.deviceValue(device, cl_device_info(CL_DEVICE_MAX_WORK_GROUP_SIZE), as: Int.self)
        cacheKey = [name, driver, platformName, CLInfo.platformString(platform, cl_platform_info(CL_PLATFORM_VERSION))]
        let type = CLInfo.deviceValue(device, cl_device_info(CL_DEVICE_TYPE), as: cl_device_type.self)
        processor = type & cl_device_type(CL_DEVICE_TYPE_CPU) != 0 ? "host" : id
        viewAlignment =
            Int(CLInfo.deviceValue(device, cl_device_info(CL_DEVICE_MEM_BASE_ADDR_ALIGN), as: cl_uint.self)) / 8
        let mib = { (bytes: UInt64) in "\(bytes >> 20) MiB" }
        properties = [
            ("platform", platformName),
            ("type", Self.typeName(type)),
            (
                "compute units",
                String(CLInfo.deviceValue(device, cl_device_info(CL_DEVICE_MAX_COMPUTE_UNITS), as: cl_uint.self))
            ),
            (
                "global memory",
                mib(CLInfo.deviceValue(device, cl_device_info(CL_DEVICE_GLOBAL_MEM_SIZE), as: cl_ulong.self))
            ),
            (
                "local memory",
                "\(CLInfo.deviceValue(device, cl_device_info(CL_DEVICE_LOCAL_MEM_SIZE), as: cl_ulong.self) >> 10) KiB"
            ),
            ("max work-group size", String(maxWorkGroupSize)),
            ("version", version),
            ("driver", driver),
        ]
    }

    /// The context, queue and programs, created on first use.
    func runtime() throws -> CLRuntime {
        if let runtimeState { return runtimeState }
        let runtime = try makeRuntime(cache: ProgramCache())
        runtimeState = runtime
        return runtime
    }

    /// New queues on this device whose programs go through `cache`.
    func makeRuntime(cache: ProgramCache) throws -> CLRuntime {
        try CLRuntime(
            device: deviceID, context: platformContext.context(), label: id, cacheKey: cacheKey,
            maxWorkGroupSize: maxWorkGroupSize, cache: cache)
    }

    /// How many programs were built so far, how many came from the disk cache, and the time it took.
    public var buildStatistics: ProgramBuildStatistics { runtimeState?.buildStatistics ?? ProgramBuildStatistics() }
    /// What per-device tuning chose in this process, timed or from the cache, in the order it was asked.
    public var tuningRecords: [TuningRecord] { runtimeState?.tuningRecords ?? [] }

    public private(set) var allocations = 0

    public func allocate(byteCount: Int, for tensor: String) throws -> any DeviceStorage {
        allocations += 1
        return CLStorage(mem: try runtime().createBuffer(bytes: byteCount, for: tensor), byteCount: byteCount)
    }

    public func upload(_ host: HostTensor, to tensor: DeviceTensor) throws {
        precondition(host.shape.count * host.dtype.size == tensor.byteCount, "upload size mismatch")
        let runtime = try runtime()
        try host.withUnsafeBytes { try runtime.write($0, to: tensor.mem) }
    }

    public func download(_ tensor: DeviceTensor) throws -> HostTensor {
        let runtime = try runtime()
        let result = try host(tensor) { try runtime.read(tensor.mem, into: $0) }
        try dataChecks.verify(runtime)
        return result
    }

    public func view(of tensor: DeviceTensor, offset: Int, shape: Shape) throws -> DeviceTensor {
        let byteCount = shape.count * tensor.dtype.size
        precondition(offset >= 0 && offset + byteCount <= tensor.byteCount, "view outside its tensor")
        let storage = unsafeDowncast(tensor.storage, to: CLStorage.self)
        let mem = try runtime().subBuffer(of: storage.mem, bytes: offset..<offset + byteCount)
        return DeviceTensor(
            shape: shape, dtype: tensor.dtype, storage: CLStorage(mem: mem, byteCount: byteCount, viewing: storage))
    }

    public func marker() throws -> (any DeviceEvent)? { try runtime().marker() }

    public func synchronize() throws { try runtime().finish() }

    public func wait(for event: any DeviceEvent) throws {
        guard let event = event as? CLEvent else { return try event.wait() }
        try runtime().wait(for: event)
    }

    public func allocateStaging(byteCount: Int) throws -> HostStaging {
        try runtime().pinnedStaging(bytes: byteCount)
    }

    public func read(
        _ tensor: DeviceTensor, bytes: Range<Int>, into host: UnsafeMutableRawPointer, after event: (any DeviceEvent)?
    ) throws {
        try runtime().read(tensor.mem, bytes: bytes, into: host, after: try ownEvents([event].compactMap { $0 }))
    }

    public func write(
        _ host: UnsafeRawPointer, to tensor: DeviceTensor, bytes: Range<Int>, after event: (any DeviceEvent)?
    ) throws -> (any DeviceEvent)? {
        try runtime().write(host, to: tensor.mem, bytes: bytes, after: try ownEvents([event].compactMap { $0 }))
    }

    public func sharesMemory(with other: any Device) -> Bool {
        (other as? OpenCLDevice)?.platformContext === platformContext
    }

    public func copy(
        _ source: DeviceTensor, to destination: DeviceTensor, bytes: Range<Int>, after events: [any DeviceEvent]
    ) throws -> (any DeviceEvent)? {
        try runtime().copy(source.mem, to: destination.mem, bytes: bytes, after: try ownEvents(events))
    }

    /// The OpenCL events among `events`, after waiting on the host for any other backend's.
    private func ownEvents(_ events: [any DeviceEvent]) throws -> [CLEvent] {
        try events.compactMap { event in
            if let event = event as? CLEvent { return event }
            try event.wait()
            return nil
        }
    }

    /// A host tensor of `tensor`'s shape and type, filled by `read`.
    private func host(_ tensor: DeviceTensor, _ read: (UnsafeMutableRawBufferPointer) throws -> Void) throws
        -> HostTensor
    {
        let count = tensor.shape.count
        switch tensor.dtype {
        case .float32:
            let values = try [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                try read(UnsafeMutableRawBufferPointer(buffer))
                initialized = count
            }
            return HostTensor(shape: tensor.shape, floats: values)
        case .int32:
            let values = try [Int32](unsafeUninitializedCapacity: count) { buffer, initialized in
                try read(UnsafeMutableRawBufferPointer(buffer))
                initialized = count
            }
            return HostTensor(shape: tensor.shape, ints: values)
        }
    }

    private static func typeName(_ type: cl_device_type) -> String {
        if type & cl_device_type(CL_DEVICE_TYPE_GPU) != 0 { return "GPU" }
        if type & cl_device_type(CL_DEVICE_TYPE_ACCELERATOR) != 0 { return "accelerator" }
        if type & cl_device_type(CL_DEVICE_TYPE_CPU) != 0 { return "CPU" }
        return "other"
    }
}

extension DeviceTensor {
    /// The buffer of an OpenCL tensor.
    var mem: cl_mem { unsafeDowncast(storage, to: CLStorage.self).mem }
}

extension KernelContext {
    var opencl: OpenCLDevice { unsafeDowncast(device, to: OpenCLDevice.self) }
}
