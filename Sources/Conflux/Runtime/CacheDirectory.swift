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
