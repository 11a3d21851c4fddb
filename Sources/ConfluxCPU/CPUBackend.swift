import Conflux

/// The CPU backend plugin: one device, `cpu:0`, and a kernel for every core op.
public enum CPUBackend: Backend {
    public static let kind = DeviceKind.cpu

    public static func discover() throws -> [any Device] { [try CPUDevice()] }

    /// Each family's kernels, declared beside their code (`CPUKernels+*.swift`).
    public static func register(into registry: inout KernelRegistry) {
        let families = [
            CPUKernels.math, CPUKernels.convolutions, CPUKernels.pooling, CPUKernels.activations,
            CPUKernels.lossesAndReductions, CPUKernels.optimizers, CPUKernels.piecewiseLinear, CPUKernels.normalization,
            CPUKernels.arithmetic, CPUKernels.layout, CPUKernels.dropoutKernels, CPUKernels.indexing,
            CPUKernels.collectives,
        ]
        for (op, kernel) in families.joined() {
            guard OpDefinition.all[op]?.role == .update else {
                registry.register(op, on: kind, kernel)
                continue
            }
            // Kernels may keep what they derived from a persistent tensor until an update writes it.
            registry.register(op, on: kind) { context in
                try kernel(context)
                for input in context.inputs { unsafeDowncast(input.storage, to: CPUStorage.self).writes &+= 1 }
            }
        }
    }
}

/// The CPU kernels, one static function per op, grouped by family in `CPUKernels+*.swift`.
enum CPUKernels {}
