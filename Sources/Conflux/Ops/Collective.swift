import Foundation

/// The processes collectives reduce across, and how. The library that runs a job of several processes (ConfluxMPI
/// under `mpirun`) sets `Collectives.group` once, before any session runs; the backends' kernels use it. A
/// collective works on buckets: its kernels write this process's share into the bucket's host memory
/// (`staging`), start the sum (`startSum`), and later take the result (`waitSum`). Buckets are summed in the order
/// of their numbers, on every process alike, whatever order their kernels start them in.
public protocol CollectiveGroup: AnyObject, Sendable {
    /// This process's index in the group.
    var rank: Int { get }
    /// How many processes the group has.
    var size: Int { get }
    /// Replaces `values` on every process by their sum over the group, in place, now. Not while a step's buckets
    /// are being summed: every process must call the group's collectives in the same order.
    func sum(_ values: UnsafeMutablePointer<Float>, count: Int)
    /// The host memory of `bucket`, at least `count` floats, kept from one step to the next.
    func staging(bucket: Int, count: Int) -> UnsafeMutablePointer<Float>
    /// Starts summing the first `count` floats of `bucket`'s staging over the group, in the background, after
    /// buckets 0 ..< `bucket` of the same step; `buckets` is how many a step has.
    func startSum(bucket: Int, count: Int, of buckets: Int)
    /// Waits until `bucket`'s sum is done; returns its staging, which holds the sum.
    func waitSum(bucket: Int) -> UnsafePointer<Float>
    /// Seconds this process has waited for the group's collectives since it started.
    var secondsWaited: Double { get }
}

public enum Collectives {
    /// The group of this process's job: a group of one (`SingleProcess`) unless a library set another.
    public nonisolated(unsafe) static var group: any CollectiveGroup = SingleProcess()

    /// Whether this process is one of several.
    public static var isDistributed: Bool { group.size > 1 }
}

/// The host memory of a group's buckets: each grown to the largest count asked of it, and kept from one step to
/// the next. Not locked: its group serializes the calls.
public struct BucketStaging {
    private var buffers: [Int: (memory: UnsafeMutablePointer<Float>, capacity: Int)] = [:]

    public init() {}

    /// The memory of `bucket`, at least `count` floats.
    public mutating func memory(_ bucket: Int, count: Int) -> UnsafeMutablePointer<Float> {
        if let buffer = buffers[bucket], buffer.capacity >= count { return buffer.memory }
        buffers[bucket]?.memory.deallocate()
        let memory = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
        buffers[bucket] = (memory, count)
        return memory
    }

    /// The memory of `bucket`, which `memory(_:count:)` must have made.
    public func memory(_ bucket: Int) -> UnsafeMutablePointer<Float> { buffers[bucket]!.memory }
}

/// The group of a process on its own: a sum over it is the value itself.
public final class SingleProcess: CollectiveGroup, @unchecked Sendable {
    public let rank = 0
    public let size = 1
    private var staging = BucketStaging()
    private let lock = NSLock()

    public init() {}

    public func sum(_ values: UnsafeMutablePointer<Float>, count: Int) {}

    public func staging(bucket: Int, count: Int) -> UnsafeMutablePointer<Float> {
        lock.withLock { staging.memory(bucket, count: count) }
    }

    public func startSum(bucket: Int, count: Int, of buckets: Int) {}

    public var secondsWaited: Double { 0 }

    public func waitSum(bucket: Int) -> UnsafePointer<Float> { lock.withLock { UnsafePointer(staging.memory(bucket)) } }
}

/// Σ over the processes of the job of weight·x for each of `xs`: each process's tensors (its gradients) scaled by
/// its own scalar `weight` (its share of the global batch) and summed across `Collectives.group`. The tensors go
/// in buckets of at most `bucketBytes`, one collective each (its latency paid once per bucket, not per tensor), in
/// the order given: give gradients in the order the backward pass computes them, so that a bucket's sum starts
/// (`AllReduceStart`, scheduled as soon as its gradients are computed) while the rest of the backward pass runs,
/// and is waited for (`AllReduceWait`) only where the update needs it. Every process must build the same graph.
public func allReduce(_ xs: [Tensor], weight: Tensor, bucketBytes: Int) throws -> [Tensor] {
    var buckets: [[Int]] = []
    var bytes = 0
    for (index, x) in xs.enumerated() {
        let size = x.shape.count * 4
        if buckets.isEmpty || bytes + size > bucketBytes && !buckets[buckets.count - 1].isEmpty {
            buckets.append([])
            bytes = 0
        }
        buckets[buckets.count - 1].append(index)
        bytes += size
    }
    var reduced = [Tensor?](repeating: nil, count: xs.count)
    for (number, bucket) in buckets.enumerated() {
        try weight.graph.nameScope("AllReduce_\(number)") {
            let attributes = Attributes(["bucket": .int(number), "buckets": .int(buckets.count)])
            let start = try weight.graph.addNode(
                .allReduceStart, [weight] + bucket.map { xs[$0] }, attributes: attributes)
            let total = bucket.map { xs[$0].shape.count }.reduce(0, +)
            var waitAttributes = attributes
            waitAttributes["count"] = .int(total)
            let sum = try weight.graph.addNode(.allReduceWait, [start], attributes: waitAttributes)
            var offset = 0
            for index in bucket {
                let count = xs[index].shape.count
                reduced[index] = try reshape(slice(sum, starts: [offset], ends: [offset + count]), xs[index].shape)
                offset += count
            }
        }
    }
    return reduced.map { $0! }
}

let collectiveOps: [OpDefinition] = [
    // (weight, x₁, x₂, …) → a token: the weighted tensors, flattened one after another into the bucket's staging,
    // their sum started. Its output only orders the wait after it.
    OpDefinition(
        .allReduceStart,
        OpSignature(["weight, tensors"], variadic: true, attributes: ["bucket": .int, "buckets": .int])
    ) { c in
        guard c.shapes[0].count == 1 else { throw c.mismatch("weight must be a scalar") }
        guard c.shapes.count > 1 else { throw c.mismatch("needs at least one tensor") }
        for index in 1..<c.shapes.count { try c.requireType(index, .float32, "tensor") }
        return ([1], .float32)
    }.runningEarly(),
    // The bucket's sum, once done: [count].
    OpDefinition(.allReduceWait, OpSignature(["start"], attributes: ["bucket": .int, "buckets": .int, "count": .int])) {
        c in ([c.attributes.int("count")], .float32)
    },
]
