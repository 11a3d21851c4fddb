/// What a trace says about transfers: how long they took, and how much of that time some device was computing,
/// so that the copy cost nothing.
public struct TraceSummary: Codable, Sendable {
    /// Seconds any transfer stream was busy (copies that overlap one another count once).
    public let transferSeconds: Double
    /// The part of `transferSeconds` during which at least one device ran a kernel.
    public let hiddenSeconds: Double
    /// Seconds at least one device ran a kernel.
    public let computeSeconds: Double
    public let transfers: Int
    public let kernels: Int

    /// The fraction of transfer time hidden behind compute; 0 when nothing was transferred.
    public var hiddenFraction: Double { transferSeconds > 0 ? hiddenSeconds / transferSeconds : 0 }

    public init(_ spans: [Tracer.Span]) {
        let transferSpans = spans.filter { $0.kind == .transfer }
        let kernelSpans = spans.filter { $0.kind == .kernel }
        let (transfers, kernels) = (Self.union(transferSpans), Self.union(kernelSpans))
        transferSeconds = Self.length(transfers)
        computeSeconds = Self.length(kernels)
        hiddenSeconds = Self.length(Self.intersection(transfers, kernels))
        self.transfers = transferSpans.count
        self.kernels = kernelSpans.count
    }

    /// The spans' time as disjoint intervals in increasing order.
    private static func union(_ spans: [Tracer.Span]) -> [ClosedRange<Double>] {
        var merged: [ClosedRange<Double>] = []
        for span in spans.sorted(by: { $0.start < $1.start }) where span.end > span.start {
            if let last = merged.last, span.start <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound...max(last.upperBound, span.end)
            } else {
                merged.append(span.start...span.end)
            }
        }
        return merged
    }

    /// Where two sets of disjoint, ordered intervals overlap.
    private static func intersection(_ a: [ClosedRange<Double>], _ b: [ClosedRange<Double>]) -> [ClosedRange<Double>] {
        var (i, j, result) = (0, 0, [ClosedRange<Double>]())
        while i < a.count, j < b.count {
            let low = max(a[i].lowerBound, b[j].lowerBound)
            let high = min(a[i].upperBound, b[j].upperBound)
            if low < high { result.append(low...high) }
            if a[i].upperBound < b[j].upperBound { i += 1 } else { j += 1 }
        }
        return result
    }

    private static func length(_ intervals: [ClosedRange<Double>]) -> Double {
        intervals.reduce(0) { $0 + $1.upperBound - $1.lowerBound }
    }
}

extension Tracer {
    /// The transfer and compute time of everything recorded so far.
    public var summary: TraceSummary { TraceSummary(spans) }
}
