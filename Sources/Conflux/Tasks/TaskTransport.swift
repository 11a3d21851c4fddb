/// Messages between the processes (tasks) of one job: how a tensor placed on one task reaches a reader on another.
/// MPI implements it (`MPIWorld`); Conflux's core only sends and receives bytes through it.
///
/// Both calls return at once; the message is on its way until `wait` returns, and its memory must stay valid
/// until then. Messages between two tasks with one tag arrive in the order they were sent.
public protocol TaskTransport: AnyObject, Sendable {
    /// This process's task, 0 ..< `tasks`.
    var task: Int { get }
    /// The tasks of the job.
    var tasks: Int { get }
    func send(_ bytes: UnsafeRawPointer, count: Int, to task: Int, tag: Int) throws -> any PendingMessage
    func receive(into bytes: UnsafeMutableRawPointer, count: Int, from task: Int, tag: Int) throws
        -> any PendingMessage
}

/// A message on its way.
public protocol PendingMessage: AnyObject {
    /// Blocks until the message has been sent (its memory may be reused) or received (its memory holds it).
    func wait() throws
}

/// The link between two tasks as the cost model sees it: measured when a job that spans tasks starts.
public struct TaskLink: Codable, Equatable, Sendable {
    /// Seconds a message of one byte takes, one way.
    public var latencySeconds: Double
    /// Bytes per second of a large message.
    public var bytesPerSecond: Double

    public init(latencySeconds: Double, bytesPerSecond: Double) {
        self.latencySeconds = latencySeconds
        self.bytesPerSecond = bytesPerSecond
    }

    /// Seconds to send `bytes` one way.
    public func seconds(bytes: Int) -> Double { latencySeconds + Double(bytes) / bytesPerSecond }
}
