import Conflux

/// One batch of images and labels, ready to feed.
public struct Batch {
    /// [n, 1, rows, cols]
    public let images: HostTensor
    /// [n] Int32
    public let labels: HostTensor
    public var count: Int { labels.shape[0] }

    /// The rows of this batch that process `rank` of `fractions.count` trains on: a contiguous share, in
    /// proportion to `fractions` (which sum to 1), and at least one row each when the batch has enough; equal
    /// fractions differ by at most one row.
    public func share(rank: Int, of fractions: [Double]) -> Batch {
        let size = fractions.count
        func boundary(_ r: Int) -> Int {
            guard r > 0, r < size else { return r == 0 ? 0 : count }
            let proportional = Int((fractions[..<r].reduce(0, +) * Double(count)).rounded())
            // Room for one row per rank on either side, when the batch has that many.
            return count >= size ? min(max(proportional, r), count - (size - r)) : proportional
        }
        let (start, end) = (boundary(rank), boundary(rank + 1))
        let pixels = images.shape.count / max(count, 1)
        return Batch(
            images: HostTensor(
                shape: Shape([end - start] + images.shape.dims.dropFirst()),
                floats: Array(images.floats[(start * pixels)..<(end * pixels)])),
            labels: HostTensor(shape: [end - start], ints: Array(labels.ints[start..<end])))
    }
}

/// The batches of one pass over a data set, in an order shuffled from a seed (or in order), the last one
/// smaller if the size does not divide the data set.
public struct Batches: Sequence, IteratorProtocol {
    private let dataset: Dataset
    private let order: [Int]
    private let size: Int
    private var position = 0

    /// - Parameter shuffleSeed: the seed of this pass's order; nil keeps the data set's order.
    public init(_ dataset: Dataset, size: Int, shuffleSeed: UInt64?) {
        precondition(size > 0, "batch size must be positive")
        self.dataset = dataset
        self.size = size
        var order = Array(0..<dataset.count)
        if let seed = shuffleSeed {
            var generator = SeededGenerator(seed: seed)
            order.shuffle(using: &generator)
        }
        self.order = order
    }

    /// How many batches the pass has.
    public var count: Int { (dataset.count + size - 1) / size }

    public mutating func next() -> Batch? {
        guard position < order.count else { return nil }
        let indices = order[position..<Swift.min(position + size, order.count)]
        position += indices.count
        var pixels = [Float]()
        pixels.reserveCapacity(indices.count * dataset.imageSize)
        for i in indices { dataset.appendPixels(of: i, to: &pixels) }
        return Batch(
            images: HostTensor(shape: [indices.count, 1, dataset.rows, dataset.cols], floats: pixels),
            labels: HostTensor(shape: [indices.count], ints: indices.map { dataset.labels[$0] }))
    }
}
