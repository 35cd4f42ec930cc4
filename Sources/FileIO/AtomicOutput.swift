#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization
import CFileIO

/// Atomic file output. On Linux the data go to an unnamed file in the destination's folder
/// (O_TMPFILE) that is linked under its name only when complete: a run killed at any moment,
/// even by SIGKILL, leaves either no file at all or a complete one. Where O_TMPFILE is not
/// available, a hidden temporary file is renamed over the destination instead; one left by a
/// killed run is removed by `removeStale(in:)` on the next run (only if its process is gone).
public enum AtomicOutput {
    static let marker = ".latent-tmp-"
    private static let counter = Atomic<Int>(0)

    /// `.NAME.latent-tmp-PID-N` beside `path`.
    public static func temporaryPath(for path: String) -> String {
        let n = counter.add(1, ordering: .relaxed).newValue
        let (dir, name) = split(path)
        return dir + "." + name + marker + "\(getpid())-\(n)"
    }

    /// Runs `body` with a temporary path, then renames the result to `path`. If `body` throws or
    /// the rename fails, the temporary file is removed and the error passed on.
    public static func write(to path: String, _ body: (String) throws -> Void) throws {
        #if os(Linux)
        if let done = try writeUnnamed(to: path, body), done { return }
        #endif
        let tmp = temporaryPath(for: path)
        do {
            try body(tmp)
        } catch {
            unlink(tmp)
            throw error
        }
        if rename(tmp, path) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(tmp)
            throw FileIOError.writeFailed(file: path, reason: reason)
        }
    }

    #if os(Linux)
    /// O_TMPFILE + linkat. Returns nil (nothing done) when the folder does not support it.
    static func writeUnnamed(to path: String, _ body: (String) throws -> Void) throws -> Bool? {
        let (dir, _) = split(path)
        let fd = cfileio_open_tmpfile(dir.isEmpty ? "." : dir)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        let procPath = "/proc/self/fd/\(fd)"
        guard access(procPath, F_OK) == 0 else { return nil }
        // The temporary file's mode ignores the umask until linked; apply it as open(2) would.
        let mask = umask(0)
        umask(mask)
        fchmod(fd, 0o644 & ~mask)
        try body(procPath)
        if linkat(AT_FDCWD, procPath, AT_FDCWD, path, AT_SYMLINK_FOLLOW) == 0 { return true }
        guard errno == EEXIST else {
            throw FileIOError.writeFailed(file: path, reason: String(cString: strerror(errno)))
        }
        // Replacing an existing file: link under a hidden name, then rename over it.
        let tmp = temporaryPath(for: path)
        guard linkat(AT_FDCWD, procPath, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW) == 0 else {
            throw FileIOError.writeFailed(file: path, reason: String(cString: strerror(errno)))
        }
        if rename(tmp, path) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(tmp)
            throw FileIOError.writeFailed(file: path, reason: reason)
        }
        return true
    }
    #endif

    /// True if `name` is one of our temporary files.
    public static func isTemporary(_ name: String) -> Bool {
        name.hasPrefix(".") && name.contains(marker)
    }

    /// Removes temporary files left in `directory` by processes that no longer run.
    /// Returns how many were removed.
    @discardableResult
    public static func removeStale(in directory: String) -> Int {
        guard let dir = opendir(directory) else { return 0 }
        defer { closedir(dir) }
        var removed = 0
        while let entry = readdir(dir) {
            let name = direntName(entry)
            guard isTemporary(name) else { continue }
            let parts = name.components(of: marker)
            guard parts.count == 2 else { continue }
            let tail = parts[1]
            guard let pid = Int32(tail.prefix { $0 != "-" }) else { continue }
            if pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH {
                if unlink(directory + "/" + name) == 0 { removed += 1 }
            }
        }
        return removed
    }

    static func split(_ path: String) -> (dir: String, name: String) {
        if let slash = path.lastIndex(of: "/") {
            return (String(path[...slash]), String(path[path.index(after: slash)...]))
        }
        return ("", path)
    }
}

/// A file-system operation that failed, naming the file.
public enum FileIOError: Error, Equatable, CustomStringConvertible {
    case writeFailed(file: String, reason: String)

    public var description: String {
        switch self {
        case .writeFailed(let f, let r): return "\(f): cannot write: \(r)"
        }
    }
}

extension String {
    /// Splits at every occurrence of `separator` (no Foundation needed).
    func components(of separator: String) -> [String] {
        var out: [String] = []
        var current = ""
        var rest = Substring(self)
        while !rest.isEmpty {
            if rest.hasPrefix(separator) {
                out.append(current)
                current = ""
                rest = rest.dropFirst(separator.count)
            } else {
                current.append(rest.removeFirst())
            }
        }
        out.append(current)
        return out
    }
}

/// The name of a directory entry, read in place: glibc's records are as long as their name, so
/// copying the whole 256-byte `d_name` out of one reads past the buffer (AddressSanitizer).
public func direntName(_ entry: UnsafeMutablePointer<dirent>) -> String {
    let offset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
    return String(cString: UnsafeRawPointer(entry).advanced(by: offset).assumingMemoryBound(to: CChar.self))
}
