import Conflux
import Foundation

/// Compiled OpenCL programs on disk, in `CacheDirectory.folder("opencl")`, keyed by everything that changes the
/// binary: source, build options, device, driver and platform. Any problem reading or writing the cache is
/// ignored; the caller builds from source.
struct ProgramCache {
    let directory: URL?

    /// A cache in `directory`, or none when it is nil.
    init(directory: URL?) { self.directory = directory }

    /// The cache the environment chooses.
    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        directory = CacheDirectory.folder("opencl", environment: environment)
    }

    /// The file for a program; nil when the cache is off.
    func file(program: String, key parts: [String]) -> URL? {
        directory?.appendingPathComponent("\(program)-\(CacheDirectory.key(parts)).bin")
    }

    func load(_ file: URL) -> Data? { try? Data(contentsOf: file) }

    /// Writes atomically (a temporary file, then a rename), so a crash never leaves half a binary.
    func store(_ data: Data, at file: URL) {
        try? FileManager.default.createDirectory(
            at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? data.write(to: file, options: .atomic)
    }
}
