import Dispatch
import Foundation

/// Runs a plan's lanes: one thread per device walks its lane in order, while each device's transfer stream
/// copies the tensors it sends, so copies overlap the computation that does not depend on them.
///
/// A send marks the producer's place in its device's compute stream and hands the copy to the transfer stream;
/// the receiving lane waits only when it reaches the receive. The first error stops every lane.
struct Executor {
    let plan: ExecutionPlan
    let tracer: Tracer?

    func run() throws {
        if plan.lanes.count == 1, plan.transfers.isEmpty {
            let lane = plan.lanes[0]
            for (step, name) in zip(lane.steps, lane.names) { try run(step, name: name, lane: lane, run: nil) }
            return
        }
        let state = RunState(transfers: plan.transfers.count)
        let group = DispatchGroup()
        for lane in plan.lanes {
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
        state.transfersDone.wait()
        if let error = state.error { throw error }
    }

    private func run(_ step: ExecutionPlan.Step, name: String, lane: ExecutionPlan.Lane, run state: RunState?) throws {
        let device = lane.device
        switch step {
        case .compute(let kernel, let context):
            if let tracer {
                // A traced kernel is waited for, so that its span is its run time and not the time to enqueue it.
                try tracer.record("\(device.id) compute", name) {
                    try kernel(context)
                    try device.synchronize()
                }
            } else {
                try kernel(context)
            }
        case .send(let index):
            guard let state else { return }
            let transfer = plan.transfers[index]
            let event = try device.marker()
            state.transfersDone.enter()
            state.sendsInFlight(from: device.id).enter()
            state.queue(for: device.id).async {
                defer {
                    state.sendsInFlight(from: device.id).leave()
                    state.transfersDone.leave()
                }
                do {
                    let stream = "\(transfer.pair.from) → \(transfer.pair.to) transfer"
                    let host =
                        try tracer.map {
                            try $0.record(stream, transfer.name) { try device.download(transfer.source, after: event) }
                        }
                        ?? device.download(transfer.source, after: event)
                    state.deliver(host, to: index)
                } catch {
                    state.fail(error)
                }
            }
        case .receive(let index):
            guard let state, let host = state.await(index) else { return }
            let transfer = plan.transfers[index]
            if let tracer {
                try tracer.record("\(device.id) compute", "receive \(transfer.name)") {
                    try device.upload(host, to: transfer.destination)
                }
            } else {
                try device.upload(host, to: transfer.destination)
            }
        case .drainSends:
            state?.sendsInFlight(from: device.id).wait()
        }
    }
}

/// What the lanes of one run share: the transfers' host copies, their streams, and the first error.
private final class RunState: @unchecked Sendable {
    private let lock = NSLock()
    private var delivered: [HostTensor?]
    private let arrived: [DispatchSemaphore]
    private var queues: [String: DispatchQueue] = [:]
    private var inFlight: [String: DispatchGroup] = [:]
    let transfersDone = DispatchGroup()
    private(set) var error: (any Error)?

    init(transfers: Int) {
        delivered = Array(repeating: nil, count: transfers)
        arrived = (0..<transfers).map { _ in DispatchSemaphore(value: 0) }
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
        for semaphore in arrived { semaphore.signal() }
    }

    func deliver(_ host: HostTensor, to index: Int) {
        lock.withLock { delivered[index] = host }
        arrived[index].signal()
    }

    /// The host copy of transfer `index`, once it has arrived; nil if the run failed meanwhile.
    func await(_ index: Int) -> HostTensor? {
        arrived[index].wait()
        return lock.withLock { error == nil ? delivered[index] : nil }
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
