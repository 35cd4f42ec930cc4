import Foundation

/// One input file and where its output goes, relative to the output folder.
public struct InputItem: Sendable, Equatable {
    public var path: String
    /// Relative output path (the input's path under its folder argument, with a .png extension).
    public var relativeOutput: String
    /// Canonical (absolute, symlink-free) path of the input, for comparing with outputs.
    public var canonicalPath: String
}

/// Errors in what the user asked for (not in a particular image).
public enum InputError: Error, Equatable, CustomStringConvertible {
    case missing(path: String)
    case notAFolder(path: String, reason: String)
    case outputIsInput(path: String)
    /// Several inputs would be written to the same output.
    case collision(output: String, inputs: [String])

    public var description: String {
        switch self {
        case .missing(let p): return "\(p): no such file or folder"
        case .notAFolder(let p, let r): return "\(p): \(r)"
        case .outputIsInput(let p): return "\(p): the output would overwrite this input; choose another output folder"
        case .collision(let o, let i):
            return "\(i.joined(separator: " and ")) would all be written to \(o); give their folders instead (outputs keep the paths below each folder) or convert them separately"
        }
    }
}

/// Expands the command line's files and folders into input items. Folders are walked
/// recursively with readdir (PNG files only, hidden entries skipped, sorted for a stable order);
/// relative paths under a folder are kept. An output folder inside an input folder is not walked,
/// and an output folder whose outputs would land on inputs is refused (`outputIsInput`).
/// Paths are canonicalised once per folder argument, not per file, so a walk of 100,000 files
/// costs no per-file stat.
public enum InputWalker {
    public static func expand(_ inputs: [String], excluding outputDir: String?) throws -> [InputItem] {
        try walk(inputs, excluding: outputDir).items
    }

    /// What a walk found besides the inputs.
    public struct Walk: Sendable {
        public var items: [InputItem]
        /// Folders reached a second time (a symlink to an enclosing folder, `self -> .`,
        /// `up -> ..`): not walked again.
        public var skippedLoops: [String]
        /// Regular files in the folders walked that are not PNGs by name (not inputs; reported).
        public var otherFiles: [String]
    }

    /// As `expand(_:excluding:)`, with what was skipped. With an output folder, two inputs that
    /// would be written to the same output are refused before anything is touched (`collision`).
    public static func walk(_ inputs: [String], excluding outputDir: String?) throws -> Walk {
        var loops: [String] = [], others: [String] = []
        let items = try expand(inputs, excluding: outputDir, skippedLoops: &loops, otherFiles: &others)
        if outputDir != nil {
            var byOutput: [String: [InputItem]] = [:]
            for item in items { byOutput[item.relativeOutput, default: []].append(item) }
            if let clash = items.first(where: { byOutput[$0.relativeOutput]!.count > 1 }) {
                throw InputError.collision(output: (outputDir! as NSString).appendingPathComponent(clash.relativeOutput),
                                           inputs: byOutput[clash.relativeOutput]!.map(\.path))
            }
        }
        return Walk(items: items, skippedLoops: loops, otherFiles: others)
    }

    static func expand(_ inputs: [String], excluding outputDir: String?, skippedLoops: inout [String], otherFiles: inout [String]) throws -> [InputItem] {
        let excluded = outputDir.map { canonical($0) }
        var items: [InputItem] = []
        var seen = Set<String>()
        func add(_ item: InputItem) {
            if seen.insert(item.canonicalPath).inserted { items.append(item) }
        }
        for input in inputs {
            var st = stat()
            guard stat(input, &st) == 0 else { throw InputError.missing(path: input) }
            if (st.st_mode & S_IFMT) != S_IFDIR {
                let name = (input as NSString).lastPathComponent
                add(InputItem(path: input, relativeOutput: pngName(name), canonicalPath: canonical(input)))
                continue
            }
            let root = canonical(input)
            if let excluded, root == excluded { throw InputError.outputIsInput(path: input) }
            var found: [String] = []
            var visited = Set<FolderID>()
            try walk(dir: input, canonicalDir: root, rel: "", excluded: excluded, visited: &visited, loops: &skippedLoops, others: &otherFiles, into: &found)
            for rel in found.sorted() {
                add(InputItem(path: join(input, rel), relativeOutput: pngName(rel), canonicalPath: root + "/" + rel))
            }
        }
        // Refuse before anything is touched if an output would land on an input.
        if let excluded {
            let inputSet = Set(items.map(\.canonicalPath))
            if let clash = items.first(where: { inputSet.contains(excluded + "/" + $0.relativeOutput) }) {
                throw InputError.outputIsInput(path: clash.path)
            }
        }
        return items
    }

    /// A folder's identity: device and inode.
    struct FolderID: Hashable {
        let dev: UInt64
        let ino: UInt64
    }

    private static func walk(dir: String, canonicalDir: String, rel: String, excluded: String?,
                             visited: inout Set<FolderID>, loops: inout [String], others: inout [String], into found: inout [String]) throws {
        var dst = stat()
        if stat(dir, &dst) == 0 {
            guard visited.insert(FolderID(dev: UInt64(dst.st_dev), ino: UInt64(dst.st_ino))).inserted else {
                loops.append(dir)
                return
            }
        }
        guard let d = opendir(dir) else {
            if rel.isEmpty { throw InputError.notAFolder(path: dir, reason: String(cString: strerror(errno))) }
            return
        }
        defer { closedir(d) }
        var subdirs: [String] = []
        while let e = readdir(d) {
            let name = direntName(e)
            if name.hasPrefix(".") { continue }
            var type = Int32(e.pointee.d_type)
            if type == Int32(DT_UNKNOWN) || type == Int32(DT_LNK) {
                var st = stat()
                guard stat(join(dir, name), &st) == 0 else { continue }
                type = (st.st_mode & S_IFMT) == S_IFDIR ? Int32(DT_DIR) : Int32(DT_REG)
            }
            if type == Int32(DT_DIR) {
                subdirs.append(name)
            } else if type == Int32(DT_REG) {
                if name.lowercased().hasSuffix(".png") { found.append(rel.isEmpty ? name : rel + "/" + name) } else { others.append(join(dir, name)) }
            }
        }
        for name in subdirs {
            let cdir = canonicalDir + "/" + name
            let full = join(dir, name)
            // Symlinked folders get their real path; plain ones just extend the parent's.
            var lst = stat()
            let real = lstat(full, &lst) == 0 && (lst.st_mode & S_IFMT) == S_IFLNK ? canonical(full) : cdir
            if let excluded, real == excluded { continue }
            try walk(dir: full, canonicalDir: real, rel: rel.isEmpty ? name : rel + "/" + name,
                     excluded: excluded, visited: &visited, loops: &loops, others: &others, into: &found)
        }
    }

    static func join(_ a: String, _ b: String) -> String { a.hasSuffix("/") ? a + b : a + "/" + b }

    /// `name` with its extension replaced by .png.
    static func pngName(_ rel: String) -> String {
        let ns = rel as NSString
        let ext = ns.pathExtension.lowercased()
        if ext == "png" { return rel }
        return (ext.isEmpty ? rel : ns.deletingPathExtension) + ".png"
    }

    /// Absolute path with symlinks resolved (for comparing paths). A path that does not exist
    /// yet is resolved as far as it exists.
    public static func canonical(_ path: String) -> String {
        if let r = realpath(path, nil) {
            defer { free(r) }
            return String(cString: r)
        }
        let abs = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        let parent = (abs as NSString).deletingLastPathComponent
        if parent == abs || parent.isEmpty { return abs }
        return join(canonical(parent), (abs as NSString).lastPathComponent)
    }
}

/// One of N deterministic parts of a list of inputs, for running a folder on many machines: an
/// input belongs to shard K when the FNV-1a hash of its relative output path is K mod N. The N
/// shards cover every input exactly once, an input's shard never depends on what else is in the
/// list (adding files moves none), and rerunning a shard resumes it.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    /// "K/N" with 0 <= K < N.
    public init?(_ text: String) {
        let p = text.split(separator: "/", omittingEmptySubsequences: false)
        guard p.count == 2, let k = Int(p[0]), let n = Int(p[1]), n >= 1, (0..<n).contains(k) else { return nil }
        index = k
        count = n
    }

    public var description: String { "\(index)/\(count)" }

    public func contains(_ item: InputItem) -> Bool {
        var h = FNV1a()
        h.add(item.relativeOutput.utf8)
        return Int(h.value % UInt64(count)) == index
    }

    public func select(_ items: [InputItem]) -> [InputItem] { items.filter(contains) }
}
