import COpenCL
import Conflux

/// Where the kernels of one OpenCL device report failed data checks (`DataCheck`): a slot of two ints in device
/// memory per checking node, which a kernel sets to (position + 1, value) when its check fails. Kernels run
/// asynchronously, so the slots are read, and cleared, at the device's next fetch, which then throws the first
/// failure with its node's description.
final class DataCheckSlots {
    private var checks: [DataCheck] = []
    private var slots: [String: Int] = [:]
    private var buffer: CLStorage?
    private var capacity = 0
    /// Whether a checking kernel may have run since the last read.
    private var pending = false

    /// The buffer and slot index that kernels of `check`'s node report to; marks the slots for reading. A node of
    /// the same name in another graph shares the slot, with its own description (the bound it checks may differ).
    func slot(for check: DataCheck, on runtime: CLRuntime) throws -> (cl_mem, Int) {
        let slot = slots[check.node] ?? checks.count
        if slot == checks.count {
            if slot >= capacity { try grow(runtime) }
            checks.append(check)
            slots[check.node] = slot
        } else {
            checks[slot] = check
        }
        pending = true
        return (buffer!.mem, slot)
    }

    /// Throws the first failure recorded since the last call, after clearing every slot.
    func verify(_ runtime: CLRuntime) throws {
        guard pending, let buffer else { return }
        pending = false
        var codes = [Int32](repeating: 0, count: 2 * checks.count)
        try codes.withUnsafeMutableBytes { try runtime.read(buffer.mem, into: $0) }
        guard let failed = checks.indices.first(where: { codes[2 * $0] != 0 }) else { return }
        try clear(buffer, runtime)
        throw checks[failed].error(position: Int(codes[2 * failed]) - 1, value: Int(codes[2 * failed + 1]))
    }

    /// A larger zeroed buffer, after reporting anything the current one holds.
    private func grow(_ runtime: CLRuntime) throws {
        try verify(runtime)
        capacity = max(64, capacity * 2)
        let grown = CLStorage(
            mem: try runtime.createBuffer(bytes: 8 * capacity, for: "data checks"), byteCount: 8 * capacity)
        try clear(grown, runtime)
        buffer = grown
    }

    private func clear(_ storage: CLStorage, _ runtime: CLRuntime) throws {
        try [Int32](repeating: 0, count: storage.byteCount / 4).withUnsafeBytes {
            try runtime.write($0, to: storage.mem)
        }
    }
}
