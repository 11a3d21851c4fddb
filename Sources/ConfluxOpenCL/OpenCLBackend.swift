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

    public static func register(into registry: inout KernelRegistry) {
        let kernels: [(OpType, Kernel)] = [
            (.matMul, OpenCLKernels.matMul), (.add, OpenCLKernels.elementwise("add")),
            (.biasAdd, OpenCLKernels.biasAdd), (.biasAddGrad, OpenCLKernels.biasAddGrad),
            (.reshape, OpenCLKernels.elementwise("copy")),
            (.conv2D, OpenCLKernels.conv2D), (.conv2DBackpropInput, OpenCLKernels.conv2DBackpropInput),
            (.conv2DBackpropFilter, OpenCLKernels.conv2DBackpropFilter),
            (.maxPool, OpenCLKernels.maxPool), (.maxPoolGrad, OpenCLKernels.maxPoolGrad),
            (.fusedConv2D, OpenCLKernels.fusedConv2D), (.fusedMaxPoolGrad, OpenCLKernels.fusedMaxPoolGrad),
            (.avgPool, OpenCLKernels.avgPool), (.avgPoolGrad, OpenCLKernels.avgPoolGrad),
            (.relu, OpenCLKernels.elementwise("relu_forward")), (.reluGrad, OpenCLKernels.elementwise("relu_grad")),
            (.tanh, OpenCLKernels.elementwise("tanh_forward")), (.tanhGrad, OpenCLKernels.elementwise("tanh_grad")),
            (.sigmoid, OpenCLKernels.elementwise("sigmoid_forward")),
            (.sigmoidGrad, OpenCLKernels.elementwise("sigmoid_grad")),
            (.softmax, OpenCLKernels.softmax), (.softmaxGrad, OpenCLKernels.softmaxGrad),
            (.softmaxCrossEntropy, OpenCLKernels.softmaxCrossEntropy),
            (.softmaxCrossEntropyGrad, OpenCLKernels.softmaxCrossEntropyGrad),
            (.sum, OpenCLKernels.sum), (.mean, OpenCLKernels.mean), (.reduceGrad, OpenCLKernels.reduceGrad),
            (.argMax, OpenCLKernels.argMax), (.accuracy, OpenCLKernels.accuracy),
            (.applyMomentum, OpenCLKernels.applyMomentum), (.applyAdam, OpenCLKernels.applyAdam),
        ]
        for (op, kernel) in kernels { registry.register(op, on: kind, kernel) }
    }
}

/// The OpenCL kernel launchers, one static function per op, grouped by family in `OpenCLKernels+*.swift`.
enum OpenCLKernels {}
