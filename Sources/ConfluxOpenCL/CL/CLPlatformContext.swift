import COpenCL
import Conflux
import Foundation

/// The one OpenCL context of a platform's devices, created when the first of them is used.
///
/// Sharing it makes their buffers one memory space: a tensor moves between two devices of the platform by a
/// device-to-device copy (`clEnqueueCopyBuffer`), never through the host.
final class CLPlatformContext: @unchecked Sendable {
    private let devices: [cl_device_id]
    private let label: String
    private let lock = NSLock()
    private var created: cl_context?

    init(devices: [cl_device_id], label: String) {
        self.devices = devices
        self.label = label
    }

    func context() throws -> cl_context {
        try lock.withLock {
            if let created { return created }
            var status: cl_int = 0
            var ids: [cl_device_id?] = devices
            guard let context = clCreateContext(nil, cl_uint(ids.count), &ids, nil, nil, &status) else {
                throw ConfluxError.openCL(call: "clCreateContext for \(label)", status: clErrorName(status))
            }
            created = context
            return context
        }
    }

    deinit {
        if let created { clReleaseContext(created) }
    }
}
