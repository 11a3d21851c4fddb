extension KernelRegistry {
    /// This registry with the kernel of `op` on `kind` made wrong by one: after it runs, the first element of its
    /// output is off by one. It proves that a parity check catches a broken kernel; nothing else uses it.
    public func injectingFault(into op: OpType, on kind: DeviceKind) -> KernelRegistry {
        guard let kernel = kernel(for: op, on: kind) else { return self }
        var broken = self
        broken.register(op, on: kind) { context in
            try kernel(context)
            var output = try context.device.download(context.output)
            guard case .float32(var values) = output.storage, !values.isEmpty else { return }
            values[0] += 1
            output.storage = .float32(values)
            try context.device.upload(output, to: context.output)
        }
        return broken
    }
}
