/// Feeds on their way to their devices: `Session.stage` starts copying them on each device's transfer stream and
/// `Session.run(_:staged:targets:)` consumes them. Staging batch i+1 before running batch i uploads it while
/// batch i computes.
public struct StagedFeeds {
    enum Value {
        /// For a device in host memory, which needs no staging: copied into the run's buffer when the run starts.
        case host(HostTensor)
        /// In a slot's device buffer, once the slot's write has passed.
        case device(FeedSlot, generation: Int)
    }

    /// By placeholder, then by each device it is fed to.
    let values: [Int: [String: Value]]
    let shapes: [Int: (Shape, DType)]
}

/// A device buffer a placeholder's staged feeds land in, and the pinned host memory they are copied from.
final class FeedSlot {
    let buffer: DeviceTensor
    let staging: HostStaging
    /// Counts the values staged here, so a stale `StagedFeeds` is caught instead of reading a newer batch.
    var generation = 0
    /// The last copy into the buffer, and the last copy out of it into a run.
    var written: (any DeviceEvent)?
    var consumed: (any DeviceEvent)?

    init(buffer: DeviceTensor, staging: HostStaging) {
        self.buffer = buffer
        self.staging = staging
    }
}

/// The staging slots of a session's placeholders: two per placeholder, device and size, used in turn, so that one
/// can be written while a run reads the other.
final class FeedStager {
    private struct Key: Hashable {
        let placeholder: Int
        let device: String
        let bytes: Int
    }

    private var slots: [Key: [FeedSlot]] = [:]
    private var turn: [Key: Int] = [:]
    /// Whether each device keeps its tensors in host memory, where staging would only add copies.
    private var inHostMemory: [String: Bool] = [:]

    /// Starts copying `value` towards `device` for placeholder `node`.
    func stage(_ value: HostTensor, for node: Node, on device: any Device) throws -> StagedFeeds.Value {
        let key = Key(placeholder: node.id, device: device.id, bytes: value.shape.count * value.dtype.size)
        guard key.bytes > 0, try !isInHostMemory(device) else { return .host(value) }
        if slots[key] == nil {
            slots[key] = try (0..<2).map { _ in
                FeedSlot(
                    buffer: try device.allocate(value.shape, value.dtype, for: "\(node.name) (staged)"),
                    staging: try device.allocateStaging(byteCount: key.bytes))
            }
        }
        let slot = slots[key]![turn[key, default: 0]]
        turn[key] = (turn[key, default: 0] + 1) % 2
        // The pinned memory is free once its last copy is done, which was two batches ago.
        try slot.written?.wait()
        value.withUnsafeBytes { slot.staging.pointer.copyMemory(from: $0.baseAddress!, byteCount: key.bytes) }
        slot.written = try device.write(
            slot.staging.pointer, to: slot.buffer, bytes: 0..<key.bytes, after: slot.consumed)
        slot.generation += 1
        return .device(slot, generation: slot.generation)
    }

    private func isInHostMemory(_ device: any Device) throws -> Bool {
        if let known = inHostMemory[device.id] { return known }
        let probe = try device.allocate([1], .float32, for: "a staging probe")
        inHostMemory[device.id] = device.hostMemory(of: probe) != nil
        return inHostMemory[device.id]!
    }

    /// Puts a staged value into a run's feed buffer, ahead of the run's kernels on the device's compute stream.
    static func consume(_ value: StagedFeeds.Value, into buffer: DeviceTensor, on device: any Device, name: String)
        throws
    {
        switch value {
        case .host(let host):
            try device.upload(host, to: buffer)
        case .device(let slot, let generation):
            guard slot.generation == generation else {
                throw ConfluxError.invalidArgument(
                    op: "Placeholder",
                    reason: "the staged feed of '\(name)' was replaced by two later stage calls; stage it again")
            }
            // The run's buffer is free once the work enqueued before this run is done.
            let ready = try device.marker()
            let bytes = 0..<slot.buffer.byteCount
            slot.consumed = try device.copy(
                slot.buffer, to: buffer, bytes: bytes, after: [slot.written, ready].compactMap { $0 })
            if let consumed = slot.consumed { try device.wait(for: consumed) }
        }
    }
}
