import CBLAS
import Foundation

/// Which of its CPU-specific kernels OpenBLAS runs, and a way to pick a faster one.
///
/// OpenBLAS chooses its kernels once, when the library loads, from the processor model. Debian 12's OpenBLAS
/// 0.3.21 does not know recent processors and falls back to its SSE3 "Prescott" kernels on them, which makes
/// LeNet-5 training about 1.7× slower on an AVX-512 machine. The only switch is the `OPENBLAS_CORETYPE`
/// environment variable, read at load time, so an executable that wants the faster kernels must restart itself
/// with it set. A user's own `OPENBLAS_CORETYPE` always wins.
public enum OpenBLASCore {
    /// The kernels OpenBLAS loaded in this process ("Prescott", "Haswell", "SkylakeX", …).
    public static var current: String { String(cString: openblas_get_corename()) }

    /// The kernels this processor supports that beat OpenBLAS's generic fallback, or nil when OpenBLAS already
    /// recognised the processor or it has nothing better than SSE3.
    public static var better: String? {
        // Every start of `conflux` asks: read /proc/cpuinfo only when there is a fallback to replace.
        guard current.lowercased() == "prescott" else { return nil }
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let flagLine = info.split(separator: "\n").first { $0.hasPrefix("flags") } ?? ""
        return better(than: current, flags: Set(flagLine.split(separator: " ").map(String.init)))
    }

    /// The kernels to use instead of `current` on a processor with the given /proc/cpuinfo `flags`, chosen by
    /// instruction set, not vendor: SkylakeX with AVX-512, Haswell with AVX2 and FMA. Only a fallback to the
    /// generic Prescott kernels is replaced: a core OpenBLAS picked itself (Haswell on an AVX-512 AMD processor)
    /// is kept, since this OpenBLAS's SkylakeX kernels compute wrong results or crash on some processors it does
    /// not know.
    static func better(than current: String, flags: Set<String>) -> String? {
        guard current.lowercased() == "prescott" else { return nil }
        if flags.isSuperset(of: ["avx512f", "avx512bw", "avx512vl", "avx512dq"]) { return "SkylakeX" }
        if flags.isSuperset(of: ["avx2", "fma"]) { return "Haswell" }
        return nil
    }

    /// Restarts the running executable with `OPENBLAS_CORETYPE` set to `better`, when there is a better core and
    /// the user has not chosen one; otherwise returns. Call it first thing in `main`.
    public static func relaunchWithBetterCoreIfAvailable() {
        guard ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil, let core = better else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        let arguments = CommandLine.unsafeArgv
        execv("/proc/self/exe", arguments)
        // execv returns only on failure: carry on with the kernels already loaded.
        unsetenv("OPENBLAS_CORETYPE")
    }
}
