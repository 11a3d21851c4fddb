import CMPI
import Conflux
import Foundation

/// The processes of one `mpirun` job and the collective operations data-parallel training needs, over MPI's
/// world communicator: buckets of gradients summed in the background, host buffers summed and gathered. A process
/// started without `mpirun` has no world (`MPIWorld.shared` is nil) and never initializes MPI, so a plain run
/// behaves as if MPI were not there.
public final class MPIWorld: CollectiveGroup, @unchecked Sendable {
    /// The job this process belongs to, initialized on first use; nil when the process was not started by a
    /// process manager (`mpirun`, `srun`, which set `OMPI_COMM_WORLD_SIZE`, `PMIX_RANK` or `PMI_SIZE`).
    public static let shared: MPIWorld? = {
        let environment = ProcessInfo.processInfo.environment
        guard ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"].contains(where: { environment[$0] != nil }) else {
            return nil
        }
        return MPIWorld()
    }()

    /// This process's index in the job, 0 ..< size.
    public let rank: Int
    /// The number of processes in the job.
    public let size: Int
    /// The largest tag a point-to-point message may carry (at least 32767).
    let largestTag: Int
    /// Every MPI call of this process runs on this queue, one at a time, in the order the calls are made: the
    /// buckets' sums run there in the background while the caller computes.
    let queue = DispatchQueue(label: "conflux.mpi")
    private let state = NSCondition()
    /// Seconds in collectives and seconds callers waited for them, since the last `takeCommunicationTime`.
    private var time = CommunicationTime()
    /// Seconds callers waited for collectives since the process started.
    private var waited = 0.0
    private var staging = BucketStaging()
    private var buckets: [Int: Bucket] = [:]
    /// The bucket whose sum comes next in this step.
    private var nextBucket = 0

    /// Where one bucket's sum stands.
    private struct Bucket {
        var count = 0
        var started = false
        var done = false
    }

    private init() {
        // A rank waiting in a collective yields its core rather than spin on it: the computation of its own
        // process (the backward pass a bucket's sum overlaps) runs on the same cores.
        setenv("OMPI_MCA_mpi_yield_when_idle", "1", 0)
        var provided: Int32 = 0
        MPI_Init_thread(nil, nil, cmpi_thread_serialized(), &provided)
        var rank: Int32 = 0
        var size: Int32 = 0
        MPI_Comm_rank(cmpi_world(), &rank)
        MPI_Comm_size(cmpi_world(), &size)
        (self.rank, self.size) = (Int(rank), Int(size))
        largestTag = Int(cmpi_tag_upper_bound())
        // Every rank leaves MPI when its process ends normally; an error ends the whole job (`abort`).
        atexit { MPI_Finalize() }
    }

    /// Replaces `values` on every rank by their sum over the ranks, in place.
    public func sum(_ values: UnsafeMutablePointer<Float>, count: Int) {
        queue.sync {
            timed { _ = MPI_Allreduce(cmpi_in_place(), values, Int32(count), cmpi_float(), cmpi_sum(), cmpi_world()) }
        }
    }

    public func staging(bucket: Int, count: Int) -> UnsafeMutablePointer<Float> {
        state.lock()
        defer { state.unlock() }
        return staging.memory(bucket, count: count)
    }

    public func startSum(bucket: Int, count: Int, of total: Int) {
        state.lock()
        buckets[bucket] = Bucket(count: count, started: true, done: false)
        state.unlock()
        queue.async { self.sumStartedBuckets(of: total) }
    }

    public func waitSum(bucket: Int) -> UnsafePointer<Float> {
        let start = DispatchTime.now().uptimeNanoseconds
        state.lock()
        defer { state.unlock() }
        while !buckets[bucket]!.done { state.wait() }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        time.blocked += seconds
        waited += seconds
        return UnsafePointer(staging.memory(bucket))
    }

    /// On the queue: sums the buckets that are started, in their order, up to the first that is not; the buckets
    /// of a step start in any order on each rank, and are summed in the same order on all.
    private func sumStartedBuckets(of total: Int) {
        while true {
            state.lock()
            guard let next = buckets[nextBucket], next.started else { return state.unlock() }
            let memory = staging.memory(nextBucket)
            state.unlock()
            timed {
                _ = MPI_Allreduce(cmpi_in_place(), memory, Int32(next.count), cmpi_float(), cmpi_sum(), cmpi_world())
            }
            state.lock()
            buckets[nextBucket]!.started = false
            buckets[nextBucket]!.done = true
            nextBucket = (nextBucket + 1) % total
            state.broadcast()
            state.unlock()
        }
    }

    /// Every rank's `values`, rank by rank.
    public func gather(_ values: [Double]) -> [[Double]] {
        gather(values.withUnsafeBytes { Data($0) }).map { bytes in
            bytes.withUnsafeBytes { raw in
                (0..<raw.count / 8).map { raw.loadUnaligned(fromByteOffset: $0 * 8, as: Double.self) }
            }
        }
    }

    /// Every rank's `bytes`, rank by rank (each rank gives as many as it has).
    public func gather(_ bytes: Data) -> [Data] {
        var counts = [Int32](repeating: 0, count: size)
        var all = Data()
        collective {
            var mine = Int32(bytes.count)
            counts.withUnsafeMutableBufferPointer {
                _ = MPI_Allgather(&mine, 1, cmpi_int(), $0.baseAddress, 1, cmpi_int(), cmpi_world())
            }
            let offsets = counts.indices.map { Int32(counts[..<$0].reduce(0, +)) }
            all = Data(count: Int(counts.reduce(0, +)))
            bytes.withUnsafeBytes { source in
                all.withUnsafeMutableBytes { destination in
                    _ = MPI_Allgatherv(
                        source.baseAddress, mine, cmpi_byte(), destination.baseAddress, counts, offsets, cmpi_byte(),
                        cmpi_world())
                }
            }
        }
        var start = 0
        return counts.map { count in
            defer { start += Int(count) }
            return all.subdata(in: start..<(start + Int(count)))
        }
    }

    /// Runs `body`, MPI calls the caller waits for, on the queue: its time counts as communication and as the
    /// caller's wait.
    private func collective(_ body: () -> Void) {
        let start = DispatchTime.now().uptimeNanoseconds
        queue.sync { timed(body) }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        state.lock()
        time.blocked += seconds
        waited += seconds
        state.unlock()
    }

    public var secondsWaited: Double {
        state.lock()
        defer { state.unlock() }
        return waited
    }

    /// Ends every process of the job with `message` on this rank's standard error, naming the rank: an error on
    /// one rank must not leave the others waiting in a collective forever.
    public func abort(_ message: String) -> Never {
        FileHandle.standardError.write(Data("rank \(rank) of \(size): \(message)\n".utf8))
        MPI_Abort(cmpi_world(), 1)
        exit(1)
    }

    /// The time in collectives since the last call.
    public func takeCommunicationTime() -> CommunicationTime {
        state.lock()
        defer { state.unlock() }
        defer { time = CommunicationTime() }
        return time
    }

    /// Runs `body` in MPI, counting its time as communication.
    private func timed(_ body: () -> Void) {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        state.lock()
        time.communication += seconds
        state.unlock()
    }
}

/// Where a process's time in collectives went.
public struct CommunicationTime: Sendable {
    /// Seconds MPI spent in collectives (on the communication queue), waiting for the other ranks included.
    public var communication = 0.0
    /// Seconds the computation waited for collectives: the part of `communication` not hidden behind it.
    public var blocked = 0.0

    public init() {}
}
