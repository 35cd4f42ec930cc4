import Foundation
import PNGIO
import Testing
import TestSupport

/// Every crafted model file of fuzz/corpus/model (written by scripts/make_model_corpus.py) and a
/// sparse 20 GB file, a FIFO, /dev/zero and a folder, through `denoise` and `reconstruct`: one
/// line on stderr naming the file, a non-zero exit, no crash. (Peak memory and time per file are
/// measured by scripts/hostile_inputs.sh, not here.)
struct HostileModelTests {
    static let corpus = repositoryRoot + "/fuzz/corpus/model"

    static var badFiles: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: corpus)) ?? []).filter { $0.hasPrefix("bad-") }.sorted()
    }

    @Test func corpusIsThere() {
        #expect(Self.badFiles.count >= 40, "fuzz/corpus/model holds \(Self.badFiles.count) bad-* files")
    }

    func expectRefused(_ model: String, input: String, out: String) throws {
        for command in ["denoise", "reconstruct"] {
            let r = try CLI.run([command, input, "-o", out, "--model", model])
            let lines = r.stderr.split(separator: "\n")
            #expect(r.exited, "\(command) --model \(model) was killed by a signal")
            #expect(r.status != 0, "\(command) --model \(model) exited 0")
            #expect(lines.count == 1 && r.stderr.contains(model), "\(command) --model \(model): \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out), "\(command) --model \(model) wrote outputs")
        }
    }

    @Test(arguments: badFiles)
    func craftedFileIsRefused(_ name: String) throws {
        let dir = makeTempDir("hostile")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeImage(dir + "/in/digit.png", width: 28, height: 28, layout: .gray)
        try expectRefused(Self.corpus + "/" + name, input: dir + "/in", out: dir + "/out")
    }

    @Test func specialFilesAreRefused() throws {
        let dir = makeTempDir("hostile-special")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeImage(dir + "/in/digit.png", width: 28, height: 28, layout: .gray)
        let sparse = dir + "/sparse.safetensors"
        let fd = open(sparse, O_CREAT | O_WRONLY | O_TRUNC, 0o600)
        #expect(fd >= 0 && ftruncate(fd, 20 << 30) == 0)
        close(fd)
        let fifo = dir + "/fifo.safetensors"
        #expect(mkfifo(fifo, 0o600) == 0)
        let folder = dir + "/folder.safetensors"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for model in [sparse, fifo, "/dev/zero", folder] {
            try expectRefused(model, input: dir + "/in", out: dir + "/out")
        }
    }

    /// The valid seeds of the corpus load and run (so the bad files fail for their fault, not
    /// for something every file shares).
    @Test func goodSeedsLoad() throws {
        let dir = makeTempDir("hostile-ok")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeImage(dir + "/in/digit.png", width: 28, height: 28, layout: .gray)
        try writeImage(dir + "/in-rgb/photo.png", width: 30, height: 22, layout: .rgb)
        for (name, input, file) in [("ok-dae", "in", "digit.png"), ("ok-conv", "in", "digit.png"), ("ok-conv-estimator", "in-rgb", "photo.png")] {
            let r = try CLI.run(["denoise", dir + "/" + input, "-o", dir + "/out-\(name)", "--model", Self.corpus + "/\(name).safetensors", "--quiet"])
            #expect(r.status == 0, "\(name): \(r.stderr)")
            #expect(FileManager.default.fileExists(atPath: dir + "/out-\(name)/" + file))
        }
    }
}
