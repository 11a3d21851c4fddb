import Conflux

/// Byte-level mutations of a seed file, the classic ones of coverage-blind fuzzers.
public struct Mutator {
    private var generator: SeededGenerator

    public init(seed: UInt64) { generator = SeededGenerator(seed: seed) }

    public mutating func mutate(_ seed: [UInt8]) -> [UInt8] {
        var bytes = seed
        for _ in 0..<Int.random(in: 1...4, using: &generator) where !bytes.isEmpty {
            let at = Int.random(in: 0..<bytes.count, using: &generator)
            switch Int.random(in: 0..<7, using: &generator) {
            case 0:
                bytes[at] ^= 1 << UInt8.random(in: 0..<8, using: &generator)
            case 1:
                bytes[at] = [0, 1, 0x7F, 0x80, 0xFF].randomElement(using: &generator)!
            case 2:
                bytes.removeLast(Int.random(in: 1...bytes.count, using: &generator) - 1)
            case 3:
                let value = [
                    0, 0xFFFF_FFFF, 0x7FFF_FFFF, 0x8000_0000, UInt32.random(in: 0...UInt32.max, using: &generator),
                ]
                .randomElement(using: &generator)!
                for k in 0..<4 where at + k < bytes.count {
                    bytes[at + k] = UInt8(truncatingIfNeeded: value >> (8 * k))
                }
            case 4:
                let end = min(bytes.count, at + Int.random(in: 1...64, using: &generator))
                bytes.insert(contentsOf: bytes[at..<end], at: Int.random(in: 0...bytes.count, using: &generator))
            case 5:
                bytes.removeSubrange(at..<min(bytes.count, at + Int.random(in: 1...64, using: &generator)))
            default:
                replaceNumber(in: &bytes, near: at)
            }
        }
        return bytes
    }

    /// Replaces the first run of ASCII digits at or after `start` with an edge value (text headers: JSON, PGM).
    private mutating func replaceNumber(in bytes: inout [UInt8], near start: Int) {
        let isDigit = { (byte: UInt8) in (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
        guard let first = bytes[start...].firstIndex(where: isDigit) else { return }
        let end = bytes[first...].firstIndex { !isDigit($0) } ?? bytes.count
        let replacement = ["0", "-1", "4294967296", "18446744073709551616", "1e308", "99999999", "65536"]
            .randomElement(using: &generator)!
        bytes.replaceSubrange(first..<end, with: Array(replacement.utf8))
    }
}
