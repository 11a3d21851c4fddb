import Dispatch
import Foundation

/// What tuning chose for one kernel at one set of sizes on one device.
public struct TuningRecord: Sendable {
    /// The kernel and the sizes it was specialized for (`conv_forward N=64 C=1 …`).
    public let kernel: String
    /// The chosen configuration (`OB=6 VW=16`).
    public let choice: String
    /// Each candidate's time for one launch, in milliseconds, when it was timed in this process; empty when the
    /// choice came from the cache.
    public let timings: [(candidate: String, milliseconds: Double)]
}

/// Per-device tuning: for a specialized kernel, a few candidate configurations (vector width, outputs per
/// work-item) are each built and timed on the device on first use, on the real buffers of the run, and the fastest
/// is kept, in memory and in the program cache directory beside the binaries, so that later processes skip the
/// timing. What wins differs between devices (16-wide vectors on PoCL with AVX-512, narrower on a GPU), which is
/// why it is measured rather than fixed.
extension CLRuntime {
    /// The configuration of `kernel` at `sizes` to launch: the cached choice, or the fastest of `candidates`, each
    /// run by `launch` (which must be idempotent: it runs several times) and timed to completion.
    func tuned(
        _ kernel: String, sizes: Specialization, candidates: [Specialization],
        launch: (Specialization) throws -> Void
    ) throws -> Specialization {
        let key = "\(kernel) " + Self.describe(sizes)
        if let known = tuning[key] { return known }
        if let forced = ProcessInfo.processInfo.environment["CONFLUX_OPENCL_TUNING"].flatMap(Int.init),
            candidates.indices.contains(forced)
        {
            // Tests force each candidate in turn, to check every one against the CPU.
            tuning[key] = candidates[forced]
            return candidates[forced]
        }
        let entry = cache.entry(program: "tuning-\(kernel)", key: [key] + cacheKey)
        if let entry, let stored = cache.load(entry).map({ String(decoding: $0, as: UTF8.self) }),
            let choice = candidates.first(where: { Self.describe($0) == stored })
        {
            tuning[key] = choice
            tuningRecords.append(TuningRecord(kernel: key, choice: stored, timings: []))
            return choice
        }
        var timings: [(candidate: String, milliseconds: Double)] = []
        var best: (Specialization, Double)?
        for candidate in candidates {
            // The first launch builds the program and warms the caches; then the best of up to three, the least
            // disturbed by whatever else the machine runs (one when a launch is long: a huge batch).
            try launch(candidate)
            try finish()
            var milliseconds = Double.infinity
            for _ in 0..<3 {
                let start = DispatchTime.now().uptimeNanoseconds
                try launch(candidate)
                try finish()
                let time = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
                milliseconds = min(milliseconds, time)
                if time > 50 { break }
            }
            timings.append((Self.describe(candidate), milliseconds))
            if best.map({ milliseconds < $0.1 }) ?? true { best = (candidate, milliseconds) }
        }
        let choice = best!.0
        tuning[key] = choice
        tuningRecords.append(TuningRecord(kernel: key, choice: Self.describe(choice), timings: timings))
        if let entry { cache.store(Data(Self.describe(choice).utf8), as: entry) }
        return choice
    }

    /// `A=1 B=2`, sorted by name.
    static func describe(_ sizes: Specialization) -> String {
        sizes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    }
}
