import Dispatch
import Foundation

/// Runs a plan's lanes: one thread per device walks its lane in order, while each device's transfer stream
/// copies the tensors it sends, so copies overlap the computation that does not depend on them.
///
/// A send marks the producer's place in its device's compute stream and hands the copy to the transfer stream;
/// the receiving lane goes on enqueueing until it reaches the receive, and then its compute stream waits for the
/// copy's event, not its host thread for the copy. The first error stops every lane.
struct Executor {
    let plan: ExecutionPlan
    let tracer: Tracer?
    /// When false, each send runs on the producer's lane once its device has finished, and the lane goes on
    /// only after the copy: the baseline that shows what overlapping transfers with compute gains.
    let overlapsTransfers: Bool

    func run() throws {
        // Another task runs the lanes of its own devices.
        let lanes = plan.lanes.filter { !($0.device is RemoteDevice) }
        if lanes.count == 1, plan.transfers.isEmpty {
            let lane = lanes[0]
            for (step, name) in zip(lane.steps, lane.names) { try run(step, name: name, lane: lane, run: nil) }
            return
        }
        // A copy into a device may start once the device's earlier runs no longer read the buffer it writes.
        var free: [String: any DeviceEvent] = [:]
        for lane in lanes { free[lane.device.id] = try lane.device.marker() }
        let state = RunState(transfers: plan.transfers, free: free)
        let receives = try receiveFromOtherTasks(run: state)
        let group = DispatchGroup()
        for lane in lanes {
            DispatchQueue.global().async(group: group) {
                do {
                    for (step, name) in zip(lane.steps, lane.names) where !state.failed {
                        try run(step, name: name, lane: lane, run: state)
                    }
                } catch {
                    state.fail(error)
                }
            }
        }
        group.wait()
        // After an error here, a receive from another task may wait for a send that never comes: the error ends
        // the job (as every error under mpirun does), so it is thrown without waiting.
        if let error = state.error { throw error }
        receives.wait()
        state.transfersDone.wait()
        if let error = state.error { throw error }
    }

    /// Posts the receives of every transfer from another task, and lands them in plan order on a queue of their
    /// own, handing each chunk to its reader as it lands. Plan order is the order the producers run in, so no
    /// transfer waited for here can depend on a later one. Returns the group that the landing leaves.
    private func receiveFromOtherTasks(run state: RunState) throws -> DispatchGroup {
        let done = DispatchGroup()
        let incoming = plan.transfers.indices.filter { plan.transfers[$0].comesFromTask }
        guard !incoming.isEmpty else { return done }
        let messages = try incoming.map { try plan.transfers[$0].receiveChunks() }
        done.enter()
        DispatchQueue(label: "conflux.receive").async {
            defer { done.leave() }
            do {
                for (index, chunks) in zip(incoming, messages) {
                    let transfer = plan.transfers[index]
                    try move(transfer, index, run: state) { chunk in
                        try chunks[chunk]?.wait()
                        return try transfer.land(chunk: chunk, free: state.free[transfer.pair.to])
                    }
                }
            } catch {
                state.fail(error)
            }
        }
        return done
    }

    private func run(_ step: ExecutionPlan.Step, name: String, lane: ExecutionPlan.Lane, run state: RunState?) throws {
        let device = lane.device
        switch step {
        case .compute(let kernel, let context):
            try traced("\(device.id) compute", .kernel, name, device: device) { try kernel(context) }
        case .send(let index):
            guard let state else { return }
            let transfer = plan.transfers[index]
            let produced = try device.marker()
            let send = {
                try move(transfer, index, run: state) { chunk in
                    try transfer.start(chunk: chunk, produced: produced, free: state.free[transfer.pair.to])
                }
            }
            guard overlapsTransfers else {
                try device.synchronize()
                return try send()
            }
            state.transfersDone.enter()
            state.sendsInFlight(from: device.id).enter()
            state.queue(for: device.id).async {
                defer {
                    state.sendsInFlight(from: device.id).leave()
                    state.transfersDone.leave()
                }
                do { try send() } catch { state.fail(error) }
            }
        case .receive(let index, let chunk):
            guard let state, let arrival = state.await(index, chunk: chunk) else { return }
            guard let event = arrival else { return }
            try traced("\(device.id) compute", .wait, "receive \(plan.transfers[index].name)", device: device) {
                try device.wait(for: event)
            }
        case .drainSends:
            state?.sendsInFlight(from: device.id).wait()
        }
    }

    /// Moves every chunk of a transfer with `chunk` (which starts its copy: from the producer, or landing it from
    /// another task), hands each chunk's event to the receiving lane as soon as it is enqueued, and returns once
    /// all have arrived: until then the source buffer must not change. A span of the transfer's stream when
    /// tracing.
    private func move(
        _ transfer: Transfer, _ index: Int, run state: RunState, chunk: (Int) throws -> (any DeviceEvent)?
    ) throws {
        try traced("\(transfer.pair.from) → \(transfer.pair.to) transfer", .transfer, transfer.name, device: nil) {
            var arrivals: [any DeviceEvent] = []
            for number in transfer.chunks.indices {
                let arrival = try chunk(number)
                state.deliver(arrival, to: index, chunk: number)
                if let arrival { arrivals.append(arrival) }
            }
            for arrival in arrivals { try arrival.wait() }
        }
    }

    /// Runs `body` as a span of `stream` when tracing. A traced step on a device is waited for, so that its span
    /// is its run time and not the time to enqueue it.
    private func traced(
        _ stream: String, _ kind: Tracer.Span.Kind, _ name: String, device: (any Device)?, _ body: () throws -> Void
    ) throws {
        guard let tracer else { return try body() }
        try tracer.record(stream, kind, name) {
            try body()
            try device?.synchronize()
        }
    }
}

/// What the lanes of one run share: the transfers' arrivals, their streams, and the first error.
private final class RunState: @unchecked Sendable {
    /// Where a chunk stands once its copy was enqueued: the event its consumer waits for, nil if already there.
    typealias Arrival = (any DeviceEvent)?

    private let lock = NSLock()
    private var delivered: [[Arrival]]
    private let arrived: [[DispatchSemaphore]]
    private var queues: [String: DispatchQueue] = [:]
    private var inFlight: [String: DispatchGroup] = [:]
    let transfersDone = DispatchGroup()
    /// Per destination device, the marker after which its earlier runs no longer read the buffers copies write.
    let free: [String: any DeviceEvent]
    private(set) var error: (any Error)?

    init(transfers: [Transfer], free: [String: any DeviceEvent]) {
        delivered = transfers.map { Array(repeating: nil, count: $0.chunks.count) }
        arrived = transfers.map { $0.chunks.map { _ in DispatchSemaphore(value: 0) } }
        self.free = free
    }

    var failed: Bool { lock.withLock { error != nil } }

    /// Records the first error and wakes every lane waiting for a transfer, so that all of them stop.
    func fail(_ error: any Error) {
        let first = lock.withLock {
            guard self.error == nil else { return false }
            self.error = error
            return true
        }
        guard first else { return }
        for semaphore in arrived.joined() { semaphore.signal() }
    }

    func deliver(_ arrival: Arrival, to index: Int, chunk: Int) {
        lock.withLock { delivered[index][chunk] = arrival }
        arrived[index][chunk].signal()
    }

    /// A chunk's arrival once its copy has been enqueued; nil if the run failed meanwhile.
    func await(_ index: Int, chunk: Int) -> Arrival? {
        arrived[index][chunk].wait()
        return lock.withLock { error == nil ? .some(delivered[index][chunk]) : nil }
    }

    /// The serial transfer stream of a device.
    func queue(for device: String) -> DispatchQueue {
        lock.withLock {
            if let queue = queues[device] { return queue }
            let queue = DispatchQueue(label: "conflux.transfer.\(device)")
            queues[device] = queue
            return queue
        }
    }

    /// The copies a device has sent that are still reading their tensors.
    func sendsInFlight(from device: String) -> DispatchGroup {
        lock.withLock {
            if let group = inFlight[device] { return group }
            let group = DispatchGroup()
            inFlight[device] = group
            return group
        }
    }
}
