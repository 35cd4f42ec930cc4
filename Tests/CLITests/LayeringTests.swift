import Foundation
import Testing

/// The architecture as a test: every library module imports only modules of a lower layer, and
/// only the executables print.
struct LayeringTests {
    static let layers: [String: Int] = [
        "FileIO": 0, "Tensor": 0,
        "PNGIO": 1, "NN": 1,
        "Imaging": 2, "Models": 2,
        "Inference": 3,
        "Training": 4, "Pipeline": 4, "Render": 4,
    ]
    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources")

    static func swiftFiles(_ module: String) -> [URL] {
        let dir = sources.appendingPathComponent(module)
        guard let walker = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: nil) else { return [] }
        return walker.compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" }
    }

    @Test func libraryModulesImportOnlyDownwards() throws {
        var checked = 0
        for (module, level) in Self.layers {
            let files = Self.swiftFiles(module)
            #expect(!files.isEmpty, "no sources found for \(module)")
            for file in files {
                let text = try String(contentsOf: file, encoding: .utf8)
                for line in text.split(separator: "\n") where line.hasPrefix("import ") || line.hasPrefix("@testable import ") {
                    let imported = String(line.split(separator: " ").last!)
                    checked += 1
                    if let l = Self.layers[imported] {
                        #expect(l < level, "\(module) (layer \(level)) imports \(imported) (layer \(l)) in \(file.lastPathComponent)")
                    }
                }
            }
        }
        #expect(checked > 50)
    }

    @Test func onlyTheExecutablesPrint() throws {
        for module in Self.layers.keys {
            for file in Self.swiftFiles(module) {
                let text = try String(contentsOf: file, encoding: .utf8)
                for call in ["print(", "FileHandle.standardError", "fputs("] {
                    #expect(!text.contains(call), "\(module)/\(file.lastPathComponent) calls \(call)")
                }
            }
        }
    }

    /// Each module says its job and what it may import, and that list matches its imports.
    @Test func everyModuleHasAReadme() throws {
        for module in Self.layers.keys {
            let readme = Self.sources.appendingPathComponent(module).appendingPathComponent("README.md")
            let text = try String(contentsOf: readme, encoding: .utf8)
            #expect(text.contains("# \(module) (layer \(Self.layers[module]!))"), "\(module)'s README names another layer")
            let allowed = text.components(separatedBy: "May import:").last ?? ""
            for file in Self.swiftFiles(module) {
                let source = try String(contentsOf: file, encoding: .utf8)
                for line in source.split(separator: "\n") where line.hasPrefix("import ") {
                    let imported = String(line.split(separator: " ").last!)
                    if Self.layers[imported] != nil {
                        #expect(allowed.contains(imported), "\(module)'s README does not allow \(imported) (\(file.lastPathComponent))")
                    }
                }
            }
        }
    }
}
