import Foundation

/// Compiled OpenCL programs on disk, keyed by everything that changes the binary: source, build options,
/// device, driver and platform. Any problem reading or writing the cache is ignored; the caller builds from source.
///
/// The directory is `$CONFLUX_CACHE_DIR`, else `$XDG_CACHE_HOME/conflux/opencl`, else `~/.cache/conflux/opencl`;
/// `CONFLUX_CACHE_DIR=off` turns the cache off.
struct ProgramCache {
    let directory: URL?

    /// A cache in `directory`, or none when it is nil.
    init(directory: URL?) { self.directory = directory }

    /// The cache the environment chooses.
    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        if let chosen = environment["CONFLUX_CACHE_DIR"] {
            directory = chosen == "off" ? nil : URL(fileURLWithPath: chosen)
        } else if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty {
            directory = URL(fileURLWithPath: xdg).appendingPathComponent("conflux/opencl")
        } else {
            directory = FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/conflux/opencl")
        }
    }

    /// The file for a program; nil when the cache is off.
    func file(program: String, key parts: [String]) -> URL? {
        directory?.appendingPathComponent("\(program)-\(Self.hash(parts)).bin")
    }

    func load(_ file: URL) -> Data? { try? Data(contentsOf: file) }

    /// Writes atomically (a temporary file, then a rename), so a crash never leaves half a binary.
    func store(_ data: Data, at file: URL) {
        try? FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? data.write(to: file, options: .atomic)
    }

    /// FNV-1a over the parts, each followed by a zero byte so that no two different lists hash the same stream.
    static func hash(_ parts: [String]) -> String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for part in parts {
            for byte in part.utf8 + [0] {
                hash ^= UInt64(byte)
                hash &*= 0x100_0000_01B3
            }
        }
        return String(hash, radix: 16)
    }
}
