import Conflux
import Foundation
import SwiftProtobuf

/// Writes a TensorBoard event file (`events.out.tfevents.<time>.<host>`) in a log directory: scalars, histograms
/// and the graph. Writes are buffered and flushed every few seconds and on `close`, so a live TensorBoard follows.
///
/// Used from one thread at a time, apart from its own flush timer.
public final class SummaryWriter: @unchecked Sendable {
    public let path: String
    private let records: RecordWriter
    private let lock = NSLock()
    private var timer: DispatchSourceTimer?

    /// Opens a new event file in `directory` (created if missing) and writes its version record.
    ///
    /// - Throws: `outputFile` if the directory or file cannot be created, saying why.
    public init(directory: String, flushEvery seconds: Double = 2) throws {
        try OutputDirectory.prepare(directory)
        let host = ProcessInfo.processInfo.hostName
        path =
            URL(fileURLWithPath: directory)
            .appendingPathComponent("events.out.tfevents.\(Int(Date().timeIntervalSince1970)).\(host)").path
        records = try RecordWriter(path: path)
        try write(Tensorboard_Event.with { $0.fileVersion = "brain.Event:2" })
        let timer = DispatchSource.makeTimerSource(queue: .global())
        timer.schedule(deadline: .now() + seconds, repeating: seconds)
        timer.setEventHandler { [weak self] in try? self?.flush() }
        timer.resume()
        self.timer = timer
    }

    /// Records `value` under `tag` at `step`.
    public func scalar(_ tag: String, _ value: Double, step: Int) throws {
        try write(
            summary(step: step) {
                $0.tag = tag
                $0.simpleValue = Float(value)
            })
    }

    /// Records the distribution of `values` under `tag` at `step`, in 30 equal buckets between their extremes.
    public func histogram(_ tag: String, _ values: [Float], step: Int) throws {
        let low = Double(values.min() ?? 0)
        let high = Double(values.max() ?? 0)
        let buckets = 30
        let width = max(high - low, 1e-12) / Double(buckets)
        var counts = [Double](repeating: 0, count: buckets)
        for value in values { counts[min(Int((Double(value) - low) / width), buckets - 1)] += 1 }
        let histogram = Tensorboard_HistogramProto.with {
            $0.min = low
            $0.max = high
            $0.num = Double(values.count)
            $0.sum = values.reduce(0) { $0 + Double($1) }
            $0.sumSquares = values.reduce(0) { $0 + Double($1) * Double($1) }
            $0.bucketLimit = (1...buckets).map { low + Double($0) * width }
            $0.bucket = counts
        }
        try write(
            summary(step: step) {
                $0.tag = tag
                $0.histo = histogram
            })
    }

    /// Records the graph with each node's device, as TensorBoard's graph dashboard shows it.
    public func graph(_ graph: Graph, placement: Placement?) throws {
        let definition = try GraphExport.graphDef(graph, placement: placement).serializedData()
        try write(Tensorboard_Event.with { $0.graphDef = definition })
    }

    /// Writes what is buffered.
    public func flush() throws {
        try lock.withLock { try records.flush() }
    }

    /// A writer that was not closed still writes what it buffered.
    deinit {
        timer?.cancel()
        try? records.flush()
    }

    /// Flushes and closes the file.
    public func close() throws {
        timer?.cancel()
        timer = nil
        try lock.withLock { try records.close() }
    }

    private func summary(step: Int, _ fill: (inout Tensorboard_Summary.Value) -> Void) -> Tensorboard_Event {
        Tensorboard_Event.with {
            $0.step = Int64(step)
            $0.summary = Tensorboard_Summary.with { $0.value = [Tensorboard_Summary.Value.with(fill)] }
        }
    }

    private func write(_ event: Tensorboard_Event) throws {
        var event = event
        event.wallTime = Date().timeIntervalSince1970
        let payload = try event.serializedData()
        lock.withLock { records.append(payload) }
    }
}
