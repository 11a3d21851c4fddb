import Foundation

/// The processes a collective op reduces across, and how: the library that runs a job of several processes
/// (ConfluxMPI under `mpirun`) sets `Collectives.group` once, before any session runs; the backends' kernels read it.
public protocol CollectiveGroup: AnyObject, Sendable {
    /// This process's index in the group.
    var rank: Int { get }
    /// How many processes the group has.
    var size: Int { get }
    /// Replaces `values` on every process by their sum over the group, in place. Every process calls it with the
    /// same count, in the same order of calls.
    func sum(_ values: UnsafeMutablePointer<Float>, count: Int)
}

public enum Collectives {
    /// The group of this process's job; nil for a process on its own, whose collectives reduce over itself.
    public nonisolated(unsafe) static var group: (any CollectiveGroup)?
}

/// Σ over the processes of the job of weight·x: each process's `x` (its gradient) scaled by its own scalar
/// `weight` (its share of the global batch), summed across `Collectives.group`; weight·x for a process on its own.
/// Every process must build the same graph, so that they reach their AllReduce ops in the same order.
public func allReduce(_ x: Tensor, weight: Tensor) throws -> Tensor {
    try x.graph.addNode(.allReduce, [x, weight])
}

/// `allReduce` of many tensors in buckets of at most `bucketBytes`: each bucket's tensors flattened into one vector
/// (one collective per bucket, not per tensor: a collective's latency is paid once), reduced, and cut back into
/// the tensors' shapes. Tensors go into buckets in the order given (gradients in the order the backward pass
/// computes them, so that the first buckets can be reduced while the rest is computed).
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
            guard bucket.count > 1 else {
                reduced[bucket[0]] = try allReduce(xs[bucket[0]], weight: weight)
                return
            }
            let flat = try concat(bucket.map { try reshape(xs[$0], [xs[$0].shape.count]) }, axis: 0)
            let sum = try allReduce(flat, weight: weight)
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
    OpDefinition(.allReduce, OpSignature(["input", "weight"])) { c in
        try c.requireType(0, .float32, "input")
        guard c.shapes[1].count == 1 else { throw c.mismatch("weight must be a scalar") }
        return (c.shapes[0], .float32)
    }
]
