#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Atomic file output: write to a temporary file in the destination's folder, rename it over
/// the destination when complete. A run killed at any moment leaves either no output or a
/// complete one, plus at worst a hidden temporary file that `removeStale(in:)` cleans up on the
/// next run (it only removes files whose writing process is gone).
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
            throw PNGError.writeFailed(file: path, reason: reason)
        }
    }

    /// Writes `image` to `path` atomically.
    public static func writePNG(_ image: PNGImage, to path: String, compression: Int? = nil,
                                texts: [(key: String, text: String)] = []) throws {
        try write(to: path) { tmp in
            do {
                try PNGWriter.write(image, to: tmp, compression: compression, texts: texts)
            } catch let e as PNGError {
                throw e.renamed(to: path)
            }
        }
    }

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
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
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

extension PNGError {
    /// The same error naming `file` instead (a temporary file's error reported on its target).
    public func renamed(to file: String) -> PNGError {
        switch self {
        case .unreadable(_, let r): return .unreadable(file: file, reason: r)
        case .empty: return .empty(file: file)
        case .notPNG: return .notPNG(file: file)
        case .truncated(_, let r): return .truncated(file: file, reason: r)
        case .crcMismatch(_, let r): return .crcMismatch(file: file, reason: r)
        case .badHeader(_, let r): return .badHeader(file: file, reason: r)
        case .overPixelBudget(_, let w, let h, let l): return .overPixelBudget(file: file, width: w, height: h, limit: l)
        case .tooLarge(_, let r): return .tooLarge(file: file, reason: r)
        case .corrupt(_, let r): return .corrupt(file: file, reason: r)
        case .writeFailed(_, let r): return .writeFailed(file: file, reason: r)
        case .invalidArgument(_, let r): return .invalidArgument(file: file, reason: r)
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
