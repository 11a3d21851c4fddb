import Conflux
import Foundation

/// Compiled OpenCL programs on disk, in `CacheDirectory.folder("opencl")`, keyed by everything that changes the
/// binary: source, build options, device, driver and platform.
///
/// A driver may crash on a damaged binary (PoCL aborts on a truncated one), so no byte reaches it unchecked: each
/// entry carries a magic number, the identity of the program it holds (name and key), the binary's length and
/// its FNV-1a checksum. An entry that fails any check is ignored, said once per process on standard error, and
/// replaced by a fresh build; any problem reading or writing the cache is otherwise silent.
struct ProgramCache {
    let directory: URL?

    /// The first bytes of every entry; the digit is the format's version.
    static let magic = Data("CONFLUX-CL-PROGRAM-1\n".utf8)

    /// A cache in `directory`, or none when it is nil.
    init(directory: URL?) { self.directory = directory }

    /// The cache the environment chooses.
    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        directory = CacheDirectory.folder("opencl", environment: environment)
    }

    /// Where a program's entry lives and what it must say it holds; nil when the cache is off.
    func entry(program: String, key parts: [String]) -> Entry? {
        let key = CacheDirectory.key(parts)
        return directory.map {
            Entry(file: $0.appendingPathComponent("\(program)-\(key).bin"), identity: "\(program) \(key)")
        }
    }

    struct Entry {
        let file: URL
        let identity: String
    }

    /// The binary stored for `entry`: nil when there is none, or when the file fails a check (said once).
    func load(_ entry: Entry) -> Data? {
        guard let contents = try? Data(contentsOf: entry.file) else { return nil }
        switch Self.decode(contents, identity: entry.identity) {
        case .success(let binary): return binary
        case .failure(let problem):
            DamagedEntryNotice.once(
                "conflux: ignoring the OpenCL program cache entry \(entry.file.path) (\(problem.reason)); "
                    + "building from source and replacing it\n")
            return nil
        }
    }

    /// Writes `binary` as `entry`'s file (through `OutputFile`, so a crash never leaves half an entry).
    func store(_ binary: Data, as entry: Entry) {
        try? FileManager.default.createDirectory(
            at: entry.file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? OutputFile.write(Self.encode(binary, identity: entry.identity), to: entry.file.path)
    }

    /// magic · identity length (UInt32) · identity · binary length (UInt64) · FNV-1a of the binary (UInt64) · binary,
    /// integers little-endian.
    static func encode(_ binary: Data, identity: String) -> Data {
        var data = magic
        let name = Data(identity.utf8)
        append(UInt32(name.count), to: &data)
        data.append(name)
        append(UInt64(binary.count), to: &data)
        append(checksum(binary), to: &data)
        data.append(binary)
        return data
    }

    struct Problem: Error {
        let reason: String
    }

    static func decode(_ data: Data, identity: String) -> Result<Data, Problem> {
        var reader = Reader(data: data)
        guard reader.take(magic.count) == magic else { return .failure(Problem(reason: "not a Conflux cache entry")) }
        guard let nameLength = reader.integer(UInt32.self), let name = reader.take(Int(nameLength)),
            let length = reader.integer(UInt64.self), let sum = reader.integer(UInt64.self)
        else { return .failure(Problem(reason: "its header is cut short")) }
        guard String(decoding: name, as: UTF8.self) == identity else {
            return .failure(Problem(reason: "it holds another program"))
        }
        guard length == UInt64(reader.remaining), let binary = reader.take(Int(length)) else {
            return .failure(Problem(reason: "it should hold \(length) bytes of binary but holds \(reader.remaining)"))
        }
        guard checksum(binary) == sum else { return .failure(Problem(reason: "its checksum does not match")) }
        return .success(binary)
    }

    /// FNV-1a: enough to catch damage, which is all the cache needs.
    static func checksum(_ data: Data) -> UInt64 {
        var hash = FNV1a()
        data.withUnsafeBytes { hash.add($0) }
        return hash.value
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to data: inout Data) {
        withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) }
    }

    /// Reads an entry front to back, never past its end.
    private struct Reader {
        let data: Data
        var position = 0

        var remaining: Int { data.count - position }

        mutating func take(_ count: Int) -> Data? {
            guard count >= 0, count <= remaining else { return nil }
            defer { position += count }
            let start = data.startIndex + position
            return data.subdata(in: start..<(start + count))
        }

        mutating func integer<T: FixedWidthInteger>(_: T.Type) -> T? {
            take(MemoryLayout<T>.size).map { bytes in
                bytes.reversed().reduce(T.zero) { $0 << 8 | T($1) }
            }
        }
    }
}

/// Prints one notice per process about damaged cache entries, however many there are.
private enum DamagedEntryNotice {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var said = false

    static func once(_ text: String) {
        let first = lock.withLock {
            defer { said = true }
            return !said
        }
        if first { FileHandle.standardError.write(Data(text.utf8)) }
    }
}
