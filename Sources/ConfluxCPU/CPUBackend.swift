import Conflux

/// The CPU backend plugin: one device, `cpu:0`, and a kernel for every core op.
public enum CPUBackend: Backend {
    public static let kind = DeviceKind.cpu

    public static func discover() throws -> [any Device] { [try CPUDevice()] }

    public static func register(into registry: inout KernelRegistry) {
        let kernels: [(OpType, Kernel)] = [
            (.matMul, CPUKernels.matMul), (.add, CPUKernels.add), (.biasAdd, CPUKernels.biasAdd),
            (.biasAddGrad, CPUKernels.biasAddGrad), (.reshape, CPUKernels.reshape),
            (.conv2D, CPUKernels.conv2D), (.conv2DBackpropInput, CPUKernels.conv2DBackpropInput),
            (.conv2DBackpropFilter, CPUKernels.conv2DBackpropFilter),
            (.maxPool, CPUKernels.maxPool), (.maxPoolGrad, CPUKernels.maxPoolGrad),
            (.avgPool, CPUKernels.avgPool), (.avgPoolGrad, CPUKernels.avgPoolGrad),
            (.relu, CPUKernels.relu), (.reluGrad, CPUKernels.reluGrad), (.tanh, CPUKernels.tanh),
            (.tanhGrad, CPUKernels.tanhGrad), (.sigmoid, CPUKernels.sigmoid), (.sigmoidGrad, CPUKernels.sigmoidGrad),
            (.softmax, CPUKernels.softmax), (.softmaxGrad, CPUKernels.softmaxGrad),
            (.softmaxCrossEntropy, CPUKernels.softmaxCrossEntropy),
            (.softmaxCrossEntropyGrad, CPUKernels.softmaxCrossEntropyGrad),
            (.sum, CPUKernels.sum), (.mean, CPUKernels.mean), (.reduceGrad, CPUKernels.reduceGrad),
            (.argMax, CPUKernels.argMax), (.accuracy, CPUKernels.accuracy),
            (.applyMomentum, CPUKernels.applyMomentum), (.applyAdam, CPUKernels.applyAdam),
            (.fusedConv2D, CPUKernels.fusedConv2D), (.fusedMatMul, CPUKernels.fusedMatMul),
            (.fusedMaxPoolGrad, CPUKernels.fusedMaxPoolGrad),
        ]
        for (op, kernel) in kernels { registry.register(op, on: kind, kernel) }
    }
}

/// The CPU kernels, one static function per op, grouped by family in `CPUKernels+*.swift`.
enum CPUKernels {}
