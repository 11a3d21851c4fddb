import COpenCL
import Conflux

/// The OpenCL backend plugin: every device of every platform the ICD loader reports, named `opencl:0` … in
/// platform-then-device order, with a kernel for every core op (GEMM through CLBlast, the rest from `Kernels/`).
public enum OpenCLBackend: Backend {
    public static let kind = DeviceKind.opencl

    /// No OpenCL platform at all is not an error: the backend then contributes no device.
    public static func discover() throws -> [any Device] {
        var devices: [any Device] = []
        for platform in CLInfo.platforms() {
            let ids = CLInfo.devices(platform)
            let first = devices.count
            let context = CLPlatformContext(
                devices: ids, label: "opencl:\(first)" + (ids.count > 1 ? "…\(first + ids.count - 1)" : ""))
            for device in ids {
                devices.append(OpenCLDevice(index: devices.count, platform: platform, device: device, context: context))
            }
        }
        return devices
    }

    /// Each family's kernels, declared beside their launchers (`OpenCLKernels+*.swift`).
    public static func register(into registry: inout KernelRegistry) {
        let families = [
            OpenCLKernels.elementwiseAndMatrices, OpenCLKernels.convolutions, OpenCLKernels.pooling,
            OpenCLKernels.softmaxAndLosses, OpenCLKernels.reductions, OpenCLKernels.optimizers,
            OpenCLKernels.normalization, OpenCLKernels.arithmetic, OpenCLKernels.layout,
            OpenCLKernels.dropoutKernels, OpenCLKernels.indexing, OpenCLKernels.collectives,
        ]
        for (op, kernel) in families.joined() { registry.register(op, on: kind, kernel) }
    }
}

/// The OpenCL kernel launchers, one static function per op, grouped by family in `OpenCLKernels+*.swift`.
enum OpenCLKernels {}
