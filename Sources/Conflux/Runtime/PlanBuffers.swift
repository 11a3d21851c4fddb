/// The device buffers of a session's plans, shared between them.
///
/// A session runs one plan at a time, and no plan needs its buffers to keep anything from one run to the next
/// (variables and constants live in the session; feeds are written and fetches read within a run). So plan B can
/// use the buffers plan A uses: the session holds, for each device and size, as many buffers as the most demanding
/// plan needs at once, not the sum over its plans. Copies into a device still wait for the device's earlier work
/// (the executor's per-run markers), whichever plan that work belonged to.
final class PlanBuffers {
    fileprivate struct Key: Hashable {
        let device: String
        let bytes: Int
    }

    private var buffers: [Key: [any DeviceStorage]] = [:]

    /// What one plan has taken so far; each plan being built starts with a fresh one.
    struct Taken {
        fileprivate var counts: [Key: Int] = [:]
    }

    /// A buffer of `bytes` on `device` that the plan holding `taken` does not use yet: the next one the session
    /// already has, or a new one.
    func take(_ bytes: Int, on device: any Device, for tensor: String, _ taken: inout Taken) throws
        -> any DeviceStorage
    {
        let key = Key(device: device.id, bytes: bytes)
        let index = taken.counts[key, default: 0]
        taken.counts[key] = index + 1
        if let existing = buffers[key], index < existing.count { return existing[index] }
        let storage = try device.allocate(byteCount: bytes, for: tensor)
        buffers[key, default: []].append(storage)
        return storage
    }
}
