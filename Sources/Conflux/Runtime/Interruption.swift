import Foundation

/// How a process that installed it stops on SIGINT (Ctrl-C) or SIGTERM: never from the signal itself while work
/// is under way, only where stopping is safe.
///
/// Outside any region below, a signal ends the process at once with status 128 + the signal (130 for Ctrl-C): no
/// kernel is running on the main thread's behalf that a teardown could crash, and nothing half-written is left.
/// Inside `whileStoppable`, a signal only raises a flag that `check()` turns into `ConfluxError.interrupted` at
/// the next stop point (between training steps), so the caller closes logs and files in order and exits with
/// that status. Inside `critical` (a file being written and renamed into place) the stop waits for the region
/// to end. A second signal while a stop is pending changes nothing: the run stops as fast as it can anyway.
///
/// Without `install()` (a library user, the tests) nothing here changes how signals behave, and `check()` never
/// throws.
public enum Interruption {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []
    nonisolated(unsafe) private static var pending: Int32?
    nonisolated(unsafe) private static var stoppableDepth = 0
    nonisolated(unsafe) private static var criticalDepth = 0
    nonisolated(unsafe) private static var beforeExit: (Int32) -> Void = { _ in }

    /// Takes over SIGINT and SIGTERM for the rest of the process. `beforeExit` runs, with the signal, before the
    /// process exits on one (to clear a progress line and say why, say); it must be quick.
    public static func install(beforeExit: @escaping (Int32) -> Void = { _ in }) {
        lock.withLock {
            guard sources.isEmpty else { return }
            self.beforeExit = beforeExit
            for number in [SIGINT, SIGTERM] {
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler { received(number) }
                source.resume()
                sources.append(source)
            }
        }
    }

    /// Runs `body`, in which a signal is acted on only at `check()`.
    public static func whileStoppable<T>(_ body: () throws -> T) rethrows -> T {
        lock.withLock { stoppableDepth += 1 }
        defer { leave { stoppableDepth -= 1 } }
        return try body()
    }

    /// Runs `body`, which a signal never cuts short: a stop asked for meanwhile happens when it ends.
    public static func critical<T>(_ body: () throws -> T) rethrows -> T {
        lock.withLock { criticalDepth += 1 }
        defer { leave { criticalDepth -= 1 } }
        return try body()
    }

    /// A stop point: throws `interrupted` once a signal has arrived.
    public static func check() throws {
        if let signal = lock.withLock({ pending }) { throw ConfluxError.interrupted(signal: signal) }
    }

    /// The exit status for a stop by `signal`, as shells report it.
    public static func exitStatus(_ signal: Int32) -> Int32 { 128 + signal }

    // Both exits below happen with the lock held, so no region can begin between the decision and the exit.

    private static func received(_ signal: Int32) {
        lock.lock()
        if pending == nil { pending = signal }
        if stoppableDepth == 0 && criticalDepth == 0 { exitNow(signal) }
        lock.unlock()
    }

    /// Leaves a region; a stop that was waiting only for it happens now.
    private static func leave(_ update: () -> Void) {
        lock.lock()
        update()
        if stoppableDepth == 0 && criticalDepth == 0, let pending { exitNow(pending) }
        lock.unlock()
    }

    /// `_exit`, not `exit`: no atexit handler or library destructor runs while another thread may be inside a
    /// kernel (OpenBLAS's teardown under a running GEMM is what crashed before).
    private static func exitNow(_ signal: Int32) -> Never {
        beforeExit(signal)
        fflush(stdout)
        _exit(exitStatus(signal))
    }
}
