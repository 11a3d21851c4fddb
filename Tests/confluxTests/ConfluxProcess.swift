import Foundation
import XCTest

/// The built `conflux` executable, run as a user would run it.
enum ConfluxProcess {
    struct Output {
        let status: Int32
        /// True when the process was killed by a signal it did not handle (a crash, or SIGINT before the handler).
        let killedBySignal: Bool
        let stdout: String
        let stderr: String
    }

    /// `conflux` sits beside the test bundle in the build's products directory.
    static var executable: URL {
        var directory = Bundle.main.bundleURL
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("conflux").path),
            directory.path != "/"
        {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent("conflux")
    }

    /// Runs `conflux arguments… --json` (under `mpirun` with `ranks` processes, if given; `environment` added to
    /// the test's), which must succeed, and returns the JSON object it printed.
    static func report(_ arguments: [String], ranks: Int? = nil, environment: [String: String] = [:]) throws
        -> [String: Any]
    {
        let output = try run(
            arguments + ["--json"], environment: environment, launcher: ranks.map { mpirun(ranks: $0) } ?? [])
        XCTAssertEqual(output.status, 0, output.stderr)
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any])
    }

    /// The loss of every step of a `conflux train --json` report, epoch after epoch.
    static func stepLosses(_ report: [String: Any]) throws -> [Double] {
        let epochs = try XCTUnwrap(report["epochs"] as? [[String: Any]])
        return try epochs.flatMap { try XCTUnwrap($0["stepLosses"] as? [Double]) }
    }

    /// `mpirun`'s options for `ranks` processes on this machine, whatever its core count, as root too.
    static func mpirun(ranks: Int) -> [String] {
        ["/usr/bin/mpirun", "--oversubscribe", "-np", String(ranks)] + (getuid() == 0 ? ["--allow-run-as-root"] : [])
    }

    /// Runs `conflux arguments…` to the end, through `launcher` (`mpirun(ranks:)`) if given; `environment` adds
    /// to the test's own.
    static func run(_ arguments: [String], environment: [String: String] = [:], launcher: [String] = []) throws
        -> Output
    {
        let process = Process()
        process.executableURL = launcher.first.map { URL(fileURLWithPath: $0) } ?? executable
        process.arguments = launcher.dropFirst() + (launcher.isEmpty ? [] : [executable.path]) + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let (out, err) = (Pipe(), Pipe())
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Standard error is drained on another thread so that neither pipe can fill and stall the process.
        let stderrData = ThreadBox<Data>()
        let reader = Thread { stderrData.value = err.fileHandleForReading.readDataToEndOfFile() }
        reader.start()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while stderrData.value == nil { usleep(1000) }
        return Output(
            status: process.terminationStatus, killedBySignal: process.terminationReason == .uncaughtSignal,
            stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderrData.value ?? Data(), as: UTF8.self))
    }

    /// Starts `conflux arguments…` (through `launcher` if given) with its output going to files, for tests that
    /// signal it while it runs.
    static func start(_ arguments: [String], stdout: String, stderr: String, launcher: [String] = []) throws -> Process
    {
        for file in [stdout, stderr] where !FileManager.default.createFile(atPath: file, contents: nil) {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: file])
        }
        let process = Process()
        process.executableURL = launcher.first.map { URL(fileURLWithPath: $0) } ?? executable
        process.arguments = launcher.dropFirst() + (launcher.isEmpty ? [] : [executable.path]) + arguments
        process.standardOutput = FileHandle(forWritingAtPath: stdout)
        process.standardError = FileHandle(forWritingAtPath: stderr)
        try process.run()
        return process
    }
}

/// A value one thread sets and another reads.
final class ThreadBox<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T?
    var value: T? {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
