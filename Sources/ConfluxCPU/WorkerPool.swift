import Dispatch
import Foundation
import Synchronization

/// The process's CPU worker threads, started once, one per core: `run` hands a kernel's chunks to them in about
/// a microsecond, where waking threads through Dispatch for each kernel cost tens of microseconds, as much as a
/// small kernel itself.
///
/// Kernels of a step follow each other closely, so after a chunk a helper spins for `spinTime` waiting for the
/// next, and only then sleeps until `run` wakes it: waking a sleeping thread costs 50-100 µs on a virtual machine,
/// and serial stretches of a LeNet step (single-threaded GEMMs, the host's work between steps) outlast a
/// 200 µs spin. The spin yields the core now and then, so that other threads of the process (the data
/// prefetcher) are not held up by it. One job runs at a time: a second caller waits its turn, which
/// also keeps each device's per-worker scratch memory to one kernel.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool(workers: usableProcessors)

    /// The processors this process may run on: its affinity mask, which mpirun sets to one core per rank (and
    /// taskset or a container may narrow), else the machine's count. Two workers on one core would take turns,
    /// each hand-off a scheduler quantum.
    static var usableProcessors: Int {
        let machine = max(ProcessInfo.processInfo.activeProcessorCount, 1)
        // Linux lists the mask as ranges, "0-3,8,10-11", in /proc/self/status.
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") })
        else { return machine }
        let ranges = line.dropFirst("Cpus_allowed_list:".count).split(separator: ",").map {
            $0.split(separator: "-").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        }
        let count = ranges.map { $0.count == 2 ? $0[1] - $0[0] + 1 : $0.count }.reduce(0, +)
        return (1...machine).contains(count) ? count : machine
    }

    /// Threads that run chunks: the caller and `workers - 1` helpers.
    let workers: Int
    /// How long an idle helper spins before it sleeps.
    static let spinTime: UInt64 = 1_000_000

    /// Advanced once per job; a helper runs the job when it sees a value it has not seen.
    private let generation = Atomic<Int>(0)
    /// Helpers that have not yet finished the current job.
    private let unfinished = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)
    private let wake = NSCondition()
    private let turn = NSLock()
    private var job: (Int) -> Void = { _ in }
    private var chunks = 0

    private init(workers: Int) {
        self.workers = workers
        for index in 1..<workers {
            let thread = Thread { [self] in serve(index) }
            thread.name = "conflux.cpu.\(index)"
            thread.start()
        }
    }

    /// Runs `body(chunk)` for every chunk in `0..<chunks` (at most `workers`), chunk 0 on the calling thread,
    /// and returns when all have finished. `body` must not call `run` itself: the inner call would wait for the
    /// outer one's turn forever.
    func run(chunks: Int, _ body: (Int) -> Void) {
        precondition(chunks <= workers, "more chunks than workers")
        guard chunks > 1 else {
            if chunks == 1 { body(0) }
            return
        }
        turn.lock()
        defer { turn.unlock() }
        withoutActuallyEscaping(body) { body in
            job = body
            self.chunks = chunks
            unfinished.store(workers - 1, ordering: .relaxed)
            generation.add(1, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                wake.lock()
                wake.broadcast()
                wake.unlock()
            }
            body(0)
            while unfinished.load(ordering: .acquiring) > 0 {}
            job = { _ in }
        }
    }

    private func serve(_ index: Int) {
        var seen = 0
        while true {
            seen = nextJob(after: seen)
            if index < chunks { job(index) }
            unfinished.subtract(1, ordering: .releasing)
        }
    }

    /// Waits until `generation` moves past `seen` (spinning, then sleeping) and returns it.
    private func nextJob(after seen: Int) -> Int {
        let start = DispatchTime.now().uptimeNanoseconds
        var spins = 0
        while true {
            let current = generation.load(ordering: .acquiring)
            if current != seen { return current }
            spins += 1
            if spins % 256 == 0 {
                if DispatchTime.now().uptimeNanoseconds - start > WorkerPool.spinTime { break }
                sched_yield()
            }
        }
        wake.lock()
        // Counted before the check, so that `run`, which advances the generation before it reads the count,
        // either sees this sleeper and wakes it or this check sees the new generation.
        sleepers.add(1, ordering: .sequentiallyConsistent)
        while generation.load(ordering: .sequentiallyConsistent) == seen { wake.wait() }
        sleepers.subtract(1, ordering: .sequentiallyConsistent)
        wake.unlock()
        return generation.load(ordering: .acquiring)
    }
}
