import Foundation
import PNGIO

/// One input file and where its output goes, relative to the output folder.
public struct InputItem: Sendable, Equatable {
    public var path: String
    /// Relative output path (the input's path under its folder argument, with a .png extension).
    public var relativeOutput: String
}

/// Errors in what the user asked for (not in a particular image).
public enum InputError: Error, Equatable, CustomStringConvertible {
    case missing(path: String)
    case notAFolder(path: String, reason: String)
    case outputIsInput(path: String)

    public var description: String {
        switch self {
        case .missing(let p): return "\(p): no such file or folder"
        case .notAFolder(let p, let r): return "\(p): \(r)"
        case .outputIsInput(let p): return "\(p): the output would overwrite this input; choose another output folder"
        }
    }
}

/// Expands the command line's files and folders into input items. Folders are walked
/// recursively (PNG files only, hidden entries skipped, sorted for a stable order); relative
/// paths under a folder are kept. An output folder inside an input folder is not walked.
public enum InputWalker {
    public static func expand(_ inputs: [String], excluding outputDir: String?) throws -> [InputItem] {
        let fm = FileManager.default
        let excluded = outputDir.map { canonical($0) }
        var items: [InputItem] = []
        var seen = Set<String>()
        for input in inputs {
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: input, isDirectory: &isDir) else { throw InputError.missing(path: input) }
            if !isDir.boolValue {
                let name = (input as NSString).lastPathComponent
                add(InputItem(path: input, relativeOutput: pngName(name)))
                continue
            }
            if let excluded, canonical(input) == excluded { throw InputError.outputIsInput(path: input) }
            var found: [String] = []
            guard let walker = fm.enumerator(atPath: input) else {
                throw InputError.notAFolder(path: input, reason: "cannot list this folder")
            }
            while let rel = walker.nextObject() as? String {
                let full = (input as NSString).appendingPathComponent(rel)
                let name = (rel as NSString).lastPathComponent
                if name.hasPrefix(".") {
                    if walker.fileAttributes?[.type] as? FileAttributeType == .typeDirectory { walker.skipDescendants() }
                    continue
                }
                if walker.fileAttributes?[.type] as? FileAttributeType == .typeDirectory {
                    if let excluded, canonical(full) == excluded || canonical(full).hasPrefix(excluded + "/") {
                        walker.skipDescendants()
                    }
                    continue
                }
                if name.lowercased().hasSuffix(".png") { found.append(rel) }
            }
            for rel in found.sorted() {
                add(InputItem(path: (input as NSString).appendingPathComponent(rel), relativeOutput: pngName(rel)))
            }
        }
        return items

        func add(_ item: InputItem) {
            let key = canonical(item.path)
            if seen.insert(key).inserted { items.append(item) }
        }
    }

    /// `name` with its extension replaced by .png.
    static func pngName(_ rel: String) -> String {
        let ns = rel as NSString
        let ext = ns.pathExtension.lowercased()
        if ext == "png" { return rel }
        return (ext.isEmpty ? rel : ns.deletingPathExtension) + ".png"
    }

    /// Absolute path with symlinks resolved (for comparing paths).
    public static func canonical(_ path: String) -> String {
        let abs = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        let url = URL(fileURLWithPath: abs).standardizedFileURL.resolvingSymlinksInPath()
        return url.path
    }
}
