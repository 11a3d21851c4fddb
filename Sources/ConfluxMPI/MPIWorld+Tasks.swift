import CMPI
import Conflux
import Foundation

/// One graph across the ranks of a job: tensors between tasks as MPI point-to-point messages, the placement
/// broadcast from rank 0, and the link between tasks measured for the cost model.
extension MPIWorld: TaskTransport {
    public var task: Int { rank }
    public var tasks: Int { size }

    public func send(_ bytes: UnsafeRawPointer, count: Int, to task: Int, tag: Int) throws -> any PendingMessage {
        try post(count: count, task: task, tag: tag) { request in
            MPI_Isend(bytes, Int32(count), cmpi_byte(), Int32(task), Int32(tag), cmpi_world(), &request)
        }
    }

    public func receive(into bytes: UnsafeMutableRawPointer, count: Int, from task: Int, tag: Int) throws
        -> any PendingMessage
    {
        try post(count: count, task: task, tag: tag) { request in
            MPI_Irecv(bytes, Int32(count), cmpi_byte(), Int32(task), Int32(tag), cmpi_world(), &request)
        }
    }

    /// Checks a message and starts it with `start` on the queue.
    private func post(count: Int, task: Int, tag: Int, _ start: (inout MPI_Request?) -> Int32) throws
        -> any PendingMessage
    {
        guard (0..<size).contains(task), task != rank, count <= Int(Int32.max), tag <= largestTag else {
            throw ConfluxError.invalidArgument(
                op: "Send",
                reason: "a message of \(count) bytes with tag \(tag) from task \(rank) to task \(task) cannot be sent: "
                    + "the job has tasks 0..<\(size), messages hold at most \(Int32.max) bytes and tags reach "
                    + "\(largestTag) (a run whose chunks between tasks outnumber the tags needs a larger "
                    + "streaming chunk)")
        }
        return queue.sync {
            var request: MPI_Request?
            _ = start(&request)
            return MPIMessage(request, queue: queue)
        }
    }

    /// `data` as rank `root` has it, on every rank.
    public func broadcast(_ data: Data, from root: Int = 0) -> Data {
        gather(rank == root ? data : Data())[root]
    }

    /// Every rank's trace as one Chrome trace, on rank 0's clock: a process row per task, named `task:R`.
    public func gatherTrace(_ tracer: Tracer) throws -> Data {
        struct Part: Codable {
            let start: Double
            let spans: [Tracer.Span]
        }
        let mine = Part(start: tracer.startDate.timeIntervalSince1970, spans: tracer.spans)
        let parts = try gather(JSONEncoder().encode(mine)).map { try JSONDecoder().decode(Part.self, from: $0) }
        return try Tracer.chromeTraceJSON(
            processes: parts.enumerated().map { task, part in
                let shift = part.start - parts[0].start
                return (
                    "task:\(task)",
                    part.spans.map {
                        Tracer.Span(
                            stream: $0.stream, kind: $0.kind, name: $0.name, start: $0.start + shift,
                            end: $0.end + shift)
                    }
                )
            })
    }

    /// The link between rank 0 and the slowest other rank, measured by messages to and fro: 50 round trips of
    /// 8 bytes for the latency, 5 of 4 MiB for the bandwidth. Every rank calls it; every rank gets rank 0's result.
    public func measureLink() throws -> TaskLink {
        guard rank == 0 else {
            _ = try roundTripSeconds(with: 0, bytes: 8, times: 50)
            _ = try roundTripSeconds(with: 0, bytes: 4 << 20, times: 5)
            return try JSONDecoder().decode(TaskLink.self, from: broadcast(Data()))
        }
        var link = TaskLink(latencySeconds: 0, bytesPerSecond: .greatestFiniteMagnitude)
        for other in 1..<size {
            let small = try roundTripSeconds(with: other, bytes: 8, times: 50)
            let large = try roundTripSeconds(with: other, bytes: 4 << 20, times: 5)
            link.latencySeconds = max(link.latencySeconds, small / 2)
            link.bytesPerSecond = min(link.bytesPerSecond, Double(4 << 20) / max(large / 2 - small / 2, 1e-9))
        }
        _ = broadcast(try JSONEncoder().encode(link))
        return link
    }

    /// Rank 0 sends `bytes` to `other` and waits for them back, `times` times; the other rank echoes them.
    /// Returns the median round trip, in seconds: what a step typically pays, not the luckiest.
    private func roundTripSeconds(with other: Int, bytes: Int, times: Int) throws -> Double {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        var seconds: [Double] = []
        for _ in 0..<times {
            let start = DispatchTime.now().uptimeNanoseconds
            if rank == 0 {
                try send(buffer, count: bytes, to: other, tag: 0).wait()
                try receive(into: buffer, count: bytes, from: other, tag: 0).wait()
            } else {
                try receive(into: buffer, count: bytes, from: 0, tag: 0).wait()
                try send(buffer, count: bytes, to: 0, tag: 0).wait()
            }
            seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return seconds.sorted()[times / 2]
    }
}

/// A message MPI is sending or receiving. Waiting polls it on the world's queue, so that other MPI calls of the
/// process (other messages, collectives) go on meanwhile: MPI is initialized for one thread at a time.
private final class MPIMessage: PendingMessage {
    private var request: MPI_Request?
    private let queue: DispatchQueue

    init(_ request: MPI_Request?, queue: DispatchQueue) {
        self.request = request
        self.queue = queue
    }

    func wait() throws {
        // A message between two ranks of one machine takes microseconds: the first polls only yield the core,
        // the later ones sleep, so that a long wait leaves the core to the computation it waits for.
        for poll in 0... {
            let done = queue.sync {
                var flag: Int32 = 0
                MPI_Test(&request, &flag, cmpi_status_ignore())
                return flag != 0
            }
            if done { return }
            if poll < 200 { sched_yield() } else { usleep(20) }
        }
    }
}
