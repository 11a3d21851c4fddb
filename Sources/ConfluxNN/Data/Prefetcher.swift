import Dispatch

/// Assembles the next batch on a background thread while the current one trains: the input pipeline never
/// makes a device wait for the host to gather images.
final class Prefetcher {
    private var batches: Batches
    private let queue = DispatchQueue(label: "conflux.prefetch")
    private var upcoming: Batch?
    private let ready = DispatchGroup()
    /// How many batches the pass has.
    let count: Int

    init(_ batches: Batches) {
        self.batches = batches
        count = batches.count
        fetch()
    }

    /// The next batch, once it is ready; starts assembling the one after it.
    func next() -> Batch? {
        ready.wait()
        let batch = upcoming
        if batch != nil { fetch() }
        return batch
    }

    private func fetch() {
        queue.async(group: ready) { self.upcoming = self.batches.next() }
    }
}
