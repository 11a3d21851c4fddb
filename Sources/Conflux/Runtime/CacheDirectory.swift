import Foundation

/// Where Conflux keeps what it can rebuild (compiled programs, device profiles): `$CONFLUX_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/conflux`, else `~/.cache/conflux`; `CONFLUX_CACHE_DIR=off` turns caching off.
public enum CacheDirectory {
    /// The folder for one kind of cached thing (`opencl`, `profiles`); nil when caching is off.
    public static func folder(_ name: String, environment: [String: String] = ProcessInfo.processInfo.environment)
        -> URL?
    {
        let root: URL
        if let chosen = environment["CONFLUX_CACHE_DIR"] {
            guard chosen != "off" else { return nil }
            root = URL(fileURLWithPath: chosen)
        } else if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty {
            root = URL(fileURLWithPath: xdg).appendingPathComponent("conflux")
        } else {
            root = FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/conflux")
        }
        return root.appendingPathComponent(name)
    }

    /// A short key for a list of strings (FNV-1a; each part ends with a zero byte so that no two lists collide
    /// by concatenation).
    public static func key(_ parts: [String]) -> String {
        var hash = FNV1a()
        for part in parts { hash.add(part.utf8 + [0]) }
        return String(hash.value, radix: 16)
    }
}

/// The 64-bit FNV-1a hash: fast and well spread, for cache keys and for catching damaged files; no defence against
/// a deliberate forgery.
public struct FNV1a {
    public private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

    public init() {}

    public mutating func add(_ bytes: some Sequence<UInt8>) {
        for byte in bytes { value = (value ^ UInt64(byte)) &* 0x100_0000_01B3 }
    }
}
