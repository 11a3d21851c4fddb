import Foundation

/// The one way Conflux writes a whole file (checkpoints, traces, graphs, caches): checked before any work starts,
/// then written beside its destination under a temporary name and renamed over it, so the destination holds
/// either the old file or the whole new one.
///
/// A destination must be a regular file or a new name in a writable directory; a device node, a FIFO, a socket or
/// a directory is refused, never replaced. A symbolic link is followed and the file it names is replaced (the link
/// stays a link); a replaced file keeps its permissions and, where the process may set them, its owner. The
/// temporary file is removed on every error; one left by a process that was killed (SIGKILL cannot be caught) is
/// removed by the next write to the same destination.
public enum OutputFile {
    /// Throws `outputFile` saying why `path` could not be written, without touching it.
    public static func check(_ path: String) throws {
        _ = try destination(path)
    }

    /// Writes `data` to `path` as described above.
    ///
    /// - Throws: `outputFile` naming the path and the reason (what kind of thing is in the way, a missing or
    ///   read-only directory, a full disk).
    public static func write(_ data: Data, to path: String) throws {
        let target = try destination(path)
        try Interruption.critical {
            removeAbandonedTemporaries(of: target.path)
            let temporary = temporaryPath(of: target.path, pid: getpid())
            let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, target.mode ?? 0o666)
            guard descriptor >= 0 else { throw failure(path, "cannot create a file in its directory", errno) }
            var written = false
            defer {
                close(descriptor)
                if !written { unlink(temporary) }
            }
            try data.withUnsafeBytes { try writeAll($0, to: descriptor, path: path) }
            if let mode = target.mode {
                fchmod(descriptor, mode)
                // Only root may give a file away; anyone else keeps the file as theirs, as an editor would.
                if let owner = target.owner { _ = fchown(descriptor, owner.user, owner.group) }
            }
            guard fsync(descriptor) == 0 else { throw failure(path, "writing failed", errno) }
            guard rename(temporary, target.path) == 0 else { throw failure(path, "cannot replace it", errno) }
            written = true
        }
    }

    /// Writes every byte of `bytes` to the open file `descriptor`, going on after a write a signal interrupted.
    ///
    /// - Throws: `outputFile` naming `path` and the system's reason (a full disk, say).
    public static func writeAll(_ bytes: UnsafeRawBufferPointer, to descriptor: Int32, path: String) throws {
        var offset = 0
        while offset < bytes.count {
            let count = Foundation.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw failure(path, "writing failed", errno) }
            offset += count
        }
    }

    /// Writes `text` as UTF-8; see `write(_:to:)`.
    public static func write(_ text: String, to path: String) throws {
        try write(Data(text.utf8), to: path)
    }

    /// Where `path` leads and what the replaced file had: its mode and owner, or nil for a new file.
    private struct Destination {
        let path: String
        let mode: mode_t?
        let owner: (user: uid_t, group: gid_t)?
    }

    private static func destination(_ path: String) throws -> Destination {
        guard !path.isEmpty else { throw ConfluxError.outputFile(path: path, reason: "the path is empty") }
        let target = try followingLinks(path)
        var info = stat()
        if stat(target, &info) == 0 {
            let kind = info.st_mode & S_IFMT
            guard kind == S_IFREG else {
                throw ConfluxError.outputFile(
                    path: path, reason: "it is \(describe(kind)), not a regular file; give the path of a file to write")
            }
            try checkDirectory(of: target, for: path)
            guard access(target, W_OK) == 0 else { throw failure(path, "the file is not writable", errno) }
            return Destination(
                path: target, mode: info.st_mode & 0o7777,
                owner: geteuid() == 0 ? (info.st_uid, info.st_gid) : nil)
        }
        guard errno == ENOENT || errno == ENOTDIR else { throw failure(path, "cannot inspect it", errno) }
        try checkDirectory(of: target, for: path)
        return Destination(path: target, mode: nil, owner: nil)
    }

    /// The directory that will hold `target` exists, is a directory and can take a new file (the temporary one).
    private static func checkDirectory(of target: String, for path: String) throws {
        let parent = (target as NSString).deletingLastPathComponent
        let directory = parent.isEmpty ? "." : parent
        var info = stat()
        guard stat(directory, &info) == 0 else {
            throw ConfluxError.outputFile(
                path: path, reason: "its directory \(directory) does not exist; create it first")
        }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw ConfluxError.outputFile(path: path, reason: "\(directory) is not a directory")
        }
        guard access(directory, W_OK | X_OK) == 0 else {
            throw failure(path, "its directory \(directory) is not writable", errno)
        }
    }

    /// The file a chain of symbolic links ends at (which need not exist yet).
    private static func followingLinks(_ path: String) throws -> String {
        var current = path
        for _ in 0..<40 {
            var info = stat()
            guard lstat(current, &info) == 0, info.st_mode & S_IFMT == S_IFLNK else { return current }
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let length = readlink(current, &buffer, buffer.count - 1)
            guard length > 0 else { throw failure(path, "cannot read the symbolic link \(current)", errno) }
            let link = String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            current =
                link.hasPrefix("/")
                ? link
                : ((current as NSString).deletingLastPathComponent as NSString)
                    .appendingPathComponent(link)
        }
        throw ConfluxError.outputFile(path: path, reason: "too many levels of symbolic links")
    }

    /// `.NAME.conflux-PID.tmp` beside `target`: hidden, and naming the process that writes it.
    static func temporaryPath(of target: String, pid: pid_t) -> String {
        let url = URL(fileURLWithPath: target)
        return url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).conflux-\(pid).tmp")
            .path
    }

    /// Removes temporaries of `target` whose process no longer exists.
    private static func removeAbandonedTemporaries(of target: String) {
        let url = URL(fileURLWithPath: target)
        let prefix = ".\(url.lastPathComponent).conflux-"
        let directory = url.deletingLastPathComponent()
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return }
        for name in names where name.hasPrefix(prefix) && name.hasSuffix(".tmp") {
            guard let pid = pid_t(name.dropFirst(prefix.count).dropLast(4)) else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { unlink(directory.appendingPathComponent(name).path) }
        }
    }

    private static func describe(_ kind: mode_t) -> String {
        switch kind {
        case S_IFDIR: "a directory"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFIFO: "a FIFO (named pipe)"
        case S_IFSOCK: "a socket"
        default: "not a regular file"
        }
    }

    private static func failure(_ path: String, _ what: String, _ code: Int32) -> ConfluxError {
        .outputFile(path: path, reason: "\(what) (\(String(cString: strerror(code))))")
    }
}

/// A directory Conflux writes files into (a TensorBoard log directory), checked before any work starts.
public enum OutputDirectory {
    /// Creates `path` (and missing parents) if needed; throws `outputFile` if it is something other than a
    /// writable directory.
    public static func prepare(_ path: String) throws {
        var info = stat()
        if stat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else {
                throw ConfluxError.outputFile(path: path, reason: "it exists and is not a directory")
            }
        } else {
            do {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            } catch {
                throw ConfluxError.outputFile(
                    path: path, reason: "the directory cannot be created; check that its parent exists and is writable")
            }
        }
        guard access(path, W_OK | X_OK) == 0 else {
            throw ConfluxError.outputFile(
                path: path, reason: "the directory is not writable (\(String(cString: strerror(errno))))")
        }
    }
}
