import Foundation

/// Records what each device stream did and when, and writes it as Chrome's trace-event JSON (Perfetto and
/// chrome://tracing open it). Thread-safe.
public final class Tracer: @unchecked Sendable {
    public struct Span: Codable, Sendable {
        public enum Kind: String, Codable, Sendable {
            /// A kernel on a compute stream.
            case kernel
            /// A copy between devices on a transfer stream.
            case transfer
            /// A compute stream waiting for a copy into its device.
            case wait
        }

        /// `cpu:0 compute`, `opencl:0 → cpu:0 transfer`.
        public let stream: String
        public let kind: Kind
        public let name: String
        /// Seconds since the tracer was created.
        public let start: Double
        public let end: Double

        public init(stream: String, kind: Kind, name: String, start: Double, end: Double) {
            self.stream = stream
            self.kind = kind
            self.name = name
            self.start = start
            self.end = end
        }
    }

    private let lock = NSLock()
    private let origin = DispatchTime.now().uptimeNanoseconds
    /// The wall-clock time of the tracer's start, which lines up the traces of several processes.
    public let startDate = Date()
    private var recorded: [Span] = []

    public init() {}

    /// Seconds since the tracer was created.
    public func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds - origin) / 1e9 }

    /// Runs `body`, recording it as a span of `stream`.
    public func record<R>(
        _ stream: String, _ kind: Span.Kind, _ name: @autoclosure () -> String, _ body: () throws -> R
    ) rethrows -> R {
        let start = now()
        defer {
            let span = Span(stream: stream, kind: kind, name: name(), start: start, end: now())
            lock.withLock { recorded.append(span) }
        }
        return try body()
    }

    public var spans: [Span] { lock.withLock { recorded } }

    /// The spans as a Chrome trace: one thread per stream, times in microseconds.
    public func chromeTraceJSON() throws -> Data { try Self.chromeTraceJSON(processes: [("conflux", spans)]) }

    /// The spans of several processes (the tasks of a job, their times from one origin) as one Chrome trace: a
    /// process row each, with a thread per stream.
    public static func chromeTraceJSON(processes: [(name: String, spans: [Span])]) throws -> Data {
        var events: [[String: Any]] = []
        for (pid, (name, spans)) in processes.enumerated() {
            var streams: [String] = []
            for span in spans where !streams.contains(span.stream) { streams.append(span.stream) }
            events.append(["name": "process_name", "ph": "M", "pid": pid + 1, "args": ["name": name]])
            events += streams.enumerated().map { index, stream in
                ["name": "thread_name", "ph": "M", "pid": pid + 1, "tid": index, "args": ["name": stream]]
            }
            for span in spans {
                events.append([
                    "name": span.name, "cat": span.kind.rawValue, "ph": "X", "pid": pid + 1,
                    "tid": streams.firstIndex(of: span.stream)!,
                    "ts": span.start * 1e6, "dur": max(span.end - span.start, 0) * 1e6,
                ])
            }
        }
        return try JSONSerialization.data(withJSONObject: ["traceEvents": events, "displayTimeUnit": "ms"])
    }
}
