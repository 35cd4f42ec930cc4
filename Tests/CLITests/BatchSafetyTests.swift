import Foundation
import PNGIO
import Testing
import TestSupport

/// Batches that would lose or hide data are refused or reported, through the built binary.
@Suite(.serialized)
struct BatchSafetyTests {
    /// A size that no input can pass (a folder of photos for the 28x28 digit model) is one line
    /// and exit 2 before any file, for denoise, reconstruct and run alike; when one input fits,
    /// the batch runs it and reports the others one by one.
    @Test func noInputFitsTheModelIsOneLineBeforeAnyFile() throws {
        let dir = makeTempDir("misfit")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeImage(dir + "/in/a.png", width: 40, height: 30, layout: .rgb, seed: 1)
        try writeImage(dir + "/in/b.png", width: 64, height: 64, layout: .gray, seed: 2)
        let runs = [["denoise", dir + "/in", "-o", dir + "/out", "--model", "mnist-dae"],
                    ["reconstruct", dir + "/in", "-o", dir + "/out", "--model", "mnist-vae"],
                    ["run", "read \(dir)/in | denoise mnist-dae | write \(dir)/out"]]
        for args in runs {
            let r = try CLI.run(args)
            #expect(r.status == 2, "\(args[0]): \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1, "\(args[0]): one line: \(r.stderr)")
            #expect(r.stderr.contains("none of the 2 inputs fits") && r.stderr.contains("a.png, is 40x30") && r.stderr.contains("28x28"), "\(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir + "/out"))
        }
        try writeImage(dir + "/in/c.png", width: 28, height: 28, layout: .gray, seed: 3)
        let some = try CLI.run(["denoise", dir + "/in", "-o", dir + "/out", "--model", "mnist-dae", "--json"])
        #expect(some.status == 1)
        #expect(some.stdout.contains("\"processed\":1") && some.stdout.contains("\"failed\":2"), "\(some.stdout)")
        #expect(listFiles(dir + "/out") == ["c.png"])

        // auto never sends a colour image to the grey digit model, even at 28x28.
        try writeImage(dir + "/auto/grey.png", width: 28, height: 28, layout: .gray, seed: 4)
        try writeImage(dir + "/auto/colour.png", width: 28, height: 28, layout: .rgb, seed: 5)
        let auto = try CLI.run(["denoise", dir + "/auto", "-o", dir + "/auto-out", "--quiet"])
        #expect(auto.status == 0, "\(auto.stderr)")
        func model(_ f: String) throws -> String {
            try PNGReader(path: dir + "/auto-out/" + f).texts.first { $0.key == "latent:model" }?.text ?? ""
        }
        #expect(try model("grey.png").hasPrefix("mnist-dae"))
        #expect(try model("colour.png").hasPrefix("photo"))
    }

    /// Two different inputs with the same name given as files: refused before anything is
    /// written, naming both, for convert and denoise alike.
    @Test func twoInputsOneOutputIsRefused() throws {
        let dir = makeTempDir("collide")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeImage(dir + "/a/x.png", width: 9, height: 7, layout: .gray, seed: 1)
        try writeImage(dir + "/b/x.png", width: 9, height: 7, layout: .gray, seed: 2)
        for cmd in [["convert"], ["denoise", "--model", "photo"]] {
            let r = try CLI.run(cmd + [dir + "/a/x.png", dir + "/b/x.png", "-o", dir + "/flat"])
            #expect(r.status == 2, "\(cmd): \(r.stderr)")
            #expect(r.stderr.contains("\(dir)/a/x.png and \(dir)/b/x.png would all be written to \(dir)/flat/x.png"), "\(r.stderr)")
            #expect(listFiles(dir + "/flat").isEmpty)
        }
        // Their folders instead: the outputs keep the paths below each folder... which are the
        // same here too (x.png in both), so that is refused as well.
        let folders = try CLI.run(["convert", dir + "/a", dir + "/b", "-o", dir + "/flat2"])
        #expect(folders.status == 2 && folders.stderr.contains("would all be written to"))
        // The parent folder keeps them apart.
        let parent = try CLI.run(["convert", dir, "-o", dir + "/../\(URL(fileURLWithPath: dir).lastPathComponent)-out", "--json"])
        defer { try? FileManager.default.removeItem(atPath: dir + "-out") }
        #expect(parent.status == 0 && parent.stdout.contains("\"converted\":2"), "\(parent.stderr)")
    }

    /// Files that are not PNGs in an input folder are counted and reported; a JPEG named .png
    /// is named as a JPEG.
    @Test func nonPNGFilesAreReported() throws {
        let dir = makeTempDir("nonpng")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeImage(dir + "/in/a.png", width: 9, height: 7, layout: .rgb)
        for name in ["notes.txt", "photo.jpg", "raw.dng"] { try writeFile(dir + "/in/" + name, Data("x".utf8)) }
        try writeFile(dir + "/in/fake.png", Data([0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10] + Array("JFIF".utf8) + [0, 1]))
        let r = try CLI.run(["convert", dir + "/in", "-o", dir + "/out", "--json"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("skipped 3 files that are not PNG by name"), "\(r.stderr)")
        #expect(r.stderr.contains("\(dir)/in/fake.png: is a JPEG file, not a PNG"), "\(r.stderr)")
        #expect(r.stdout.contains("\"converted\":1") && r.stdout.contains("\"failed\":1"), "\(r.stdout)")
        // The JSON summary's one shape: counts, then each failure as {file, reason}.
        #expect(r.stdout.hasPrefix("{\"converted\":1,\"skipped\":0,\"failed\":1,\"stale_replaced\":0,\"seconds\":"), "\(r.stdout)")
        #expect(r.stdout.contains("\"processed\":1,\"stale\":0,\"command\":\"converted\","), "\(r.stdout)")
        #expect(r.stdout.contains("\"output\":\"\(dir)/out\""), "\(r.stdout)")
        #expect(r.stdout.contains("\"failures\":[{\"file\":\"\(dir)/in/fake.png\",\"reason\":\"is a JPEG file, not a PNG"), "\(r.stdout)")
    }

    /// An output "folder" that is an existing file: one message, exit 2, before any input.
    @Test func outputFolderThatIsAFileIsRefusedOnce() throws {
        let dir = makeTempDir("outfile")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for i in 0..<3 { try writeImage(dir + "/in/\(i).png", width: 9, height: 7, layout: .gray, seed: i) }
        try writeFile(dir + "/taken", Data("x".utf8))
        for cmd in [["convert"], ["denoise", "--model", "photo"]] {
            let r = try CLI.run(cmd + [dir + "/in", "-o", dir + "/taken"])
            #expect(r.status == 2, "\(r.stderr)")
            let lines = r.stderr.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].contains("\(dir)/taken: cannot create the output folder"), "\(r.stderr)")
        }
    }

    /// Outputs carry a digest of the settings, the model and the input: a rerun skips only the
    /// outputs it would make again; outputs of other settings or of a changed input are replaced
    /// and counted; a PNG that latent did not write is never replaced without --overwrite.
    @Test func staleOutputsAreReplacedAndReported() throws {
        let dir = makeTempDir("stale")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for i in 0..<3 { try writeImage(dir + "/in/\(i).png", width: 40, height: 30, layout: .rgb, seed: i) }
        func convert(_ extra: [String]) throws -> CLIResult { try CLI.run(["convert", dir + "/in", "-o", dir + "/out", "--json"] + extra) }
        #expect(try convert(["--gray", "--fit", "32"]).stdout.contains("\"converted\":3,\"skipped\":0,\"failed\":0,\"stale_replaced\":0"))
        #expect(try convert(["--gray", "--fit", "32"]).stdout.contains("\"converted\":0,\"skipped\":3,\"failed\":0"))
        let other = try convert(["--gray", "--fit", "16"])
        #expect(other.stdout.contains("\"converted\":3,\"skipped\":0,\"failed\":0,\"stale_replaced\":3"), "\(other.stdout)")
        #expect(other.stderr.contains("converted 3 (3 replacing stale outputs"), "\(other.stderr)")
        #expect(try PNGReader(path: dir + "/out/1.png").header.width == 16)
        // A changed input makes its own output stale, not the others.
        try writeImage(dir + "/in/1.png", width: 40, height: 30, layout: .rgb, seed: 9)
        #expect(try convert(["--gray", "--fit", "16"]).stdout.contains("\"converted\":1,\"skipped\":2,\"failed\":0,\"stale_replaced\":1"))
        // Another program's file where an output goes: reported, kept.
        try writeImage(dir + "/out/2.png", width: 5, height: 5, layout: .gray)
        let foreign = try convert(["--gray", "--fit", "16"])
        #expect(foreign.status == 1 && foreign.stderr.contains("\(dir)/out/2.png: exists and was not written by latent"), "\(foreign.stderr)")
        #expect(try PNGReader(path: dir + "/out/2.png").header.width == 5)
        #expect(try convert(["--gray", "--fit", "16", "--overwrite"]).stdout.contains("\"converted\":3"))
        // denoise: another σ, another model, are other settings.
        let d = try CLI.run(["denoise", dir + "/in", "-o", dir + "/dn", "--model", "photo", "--json"])
        #expect(d.stdout.contains("\"denoised\":3"), "\(d.stderr)")
        let again = try CLI.run(["denoise", dir + "/in", "-o", dir + "/dn", "--model", "photo", "--json"])
        #expect(again.stdout.contains("\"denoised\":0,\"skipped\":3"))
        let sigma = try CLI.run(["denoise", dir + "/in", "-o", dir + "/dn", "--model", "photo", "--sigma", "30", "--json"])
        #expect(sigma.stdout.contains("\"denoised\":3,\"skipped\":0,\"failed\":0,\"stale_replaced\":3"), "\(sigma.stdout)")
        // The JSON summary says, per file, what was done and the noise level the model was told
        // (the colour model reads a noise level function: its mean per channel).
        func files(_ r: CLIResult) throws -> [[String: Any]] {
            let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
            return obj?["files"] as? [[String: Any]] ?? []
        }
        let given = try files(sigma)
        #expect(given.count == 3 && given.allSatisfy { ($0["sigma"] as? [Double] ?? []).allSatisfy { $0 == 30 } && $0["sigma_from"] as? String == "given" }, "\(sigma.stdout)")
        #expect(given.allSatisfy { $0["outcome"] as? String == "replaced-stale" && ($0["output"] as? String ?? "").hasPrefix(dir + "/dn/") })
        let measured = try files(d)
        #expect(measured.count == 3 && measured.allSatisfy { ($0["sigma"] as? [Double])?.count == 3 && $0["sigma_from"] as? String == "noise-level-function" }, "\(d.stdout)")
        #expect(try files(again).allSatisfy { $0["outcome"] as? String == "skipped" && $0["sigma"] == nil })
    }

    /// N shards cover every input exactly once; a shard's selection does not change when files
    /// are added; rerunning a shard resumes it; the shards' JSON reports merge into one.
    @Test func shardsCoverEveryInputOnceAndMerge() throws {
        let dir = makeTempDir("shard")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for i in 0..<40 { try writeImage(dir + "/in/sub\(i % 3)/\(i).png", width: 6, height: 5, layout: .gray, seed: i) }
        var reports: [String] = []
        for k in 0..<4 {
            let r = try CLI.run(["convert", dir + "/in", "-o", dir + "/out", "--shard", "\(k)/4", "--json"])
            #expect(r.status == 0, "\(r.stderr)")
            let path = dir + "/shard-\(k).json"
            try r.stdout.write(toFile: path, atomically: true, encoding: .utf8)
            reports.append(path)
        }
        #expect(listFiles(dir + "/out").count == 40)
        let merged = try CLI.run(["report", "merge"] + reports)
        #expect(merged.status == 0 && merged.stdout.contains("{\"converted\":40,\"skipped\":0,\"failed\":0,\"stale_replaced\":0,"), "\(merged.stdout)\(merged.stderr)")
        #expect(merged.stdout.contains("\"processed\":40,\"stale\":0,\"command\":\"converted\","))
        #expect(merged.stdout.contains("\"runs\":4"))
        let mergedFiles = (try JSONSerialization.jsonObject(with: Data(merged.stdout.utf8)) as? [String: Any])?["files"] as? [[String: Any]] ?? []
        #expect(Set(mergedFiles.compactMap { $0["file"] as? String }).count == 40 && mergedFiles.allSatisfy { $0["outcome"] as? String == "done" })
        // Rerunning a shard resumes it (all skipped); a new file joins exactly one shard.
        #expect(try CLI.run(["convert", dir + "/in", "-o", dir + "/out", "--shard", "2/4", "--json"]).stdout.contains("\"converted\":0"))
        try writeImage(dir + "/in/new.png", width: 6, height: 5, layout: .gray)
        var converted = 0
        for k in 0..<4 {
            let r = try CLI.run(["convert", dir + "/in", "-o", dir + "/out", "--shard", "\(k)/4", "--json"])
            if r.stdout.contains("\"converted\":1,") { converted += 1 } else { #expect(r.stdout.contains("\"converted\":0,"), "\(r.stdout)") }
        }
        #expect(converted == 1)
        #expect(try CLI.run(["convert", dir + "/in", "-o", dir + "/o2", "--shard", "4/4"]).stderr.contains("--shard wants K/N with 0 <= K < N"))
        let bad = try CLI.run(["report", "merge", dir + "/in/new.png"])
        #expect(bad.status == 2 && bad.stderr.contains("no JSON summary line"))
    }

    /// Three shard processes running at once over one folder write every output exactly once
    /// (their counts add up to the inputs, nothing failed) and the merged report counts them all.
    @Test func threeShardsAtOnceWriteEveryOutputOnce() throws {
        let dir = makeTempDir("shard3")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for i in 0..<45 { try writeImage(dir + "/in/d\(i % 4)/\(i).png", width: 9, height: 7, layout: .rgb, seed: i) }
        // Each thread writes its own slot (libdispatch's join orders them for ThreadSanitizer).
        let slots = UnsafeMutableBufferPointer<CLIResult?>.allocate(capacity: 3)
        slots.initialize(repeating: nil)
        defer { slots.deallocate() }
        struct Slots: @unchecked Sendable { let value: UnsafeMutableBufferPointer<CLIResult?> }
        let box = Slots(value: slots)
        DispatchQueue.concurrentPerform(iterations: 3) { k in
            box.value[k] = try? CLI.run(["convert", dir + "/in", "-o", dir + "/out", "--gray", "--shard", "\(k)/3", "--jobs", "2", "--json"])
        }
        let all = Array(slots)
        var reports: [String] = [], converted = 0
        for k in 0..<3 {
            let r = try #require(all[k])
            #expect(r.status == 0, "shard \(k): \(r.stderr)")
            let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
            converted += (obj?["converted"] as? Int) ?? 0
            #expect((obj?["failed"] as? Int) == 0 && (obj?["skipped"] as? Int) == 0)
            let path = dir + "/shard-\(k).json"
            try r.stdout.write(toFile: path, atomically: true, encoding: .utf8)
            reports.append(path)
        }
        #expect(converted == 45)
        let outs = listFiles(dir + "/out")
        #expect(outs.count == 45 && outs.allSatisfy { $0.hasSuffix(".png") })
        for f in outs { #expect(try PNGReader(path: dir + "/out/" + f).header.layout == .gray) }
        let merged = try CLI.run(["report", "merge"] + reports)
        #expect(merged.stdout.contains("\"converted\":45,\"skipped\":0,\"failed\":0"), "\(merged.stdout)")
    }

    /// One input file and -o FILE.png write that file; -o - writes the PNG to standard output;
    /// the input itself is never the output.
    @Test func singleFilesAndStandardOutput() throws {
        let dir = makeTempDir("single")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeImage(dir + "/a.png", width: 40, height: 30, layout: .rgb)
        let c = try CLI.run(["convert", dir + "/a.png", "-o", dir + "/small.png", "--fit", "20"])
        #expect(c.status == 0, "\(c.stderr)")
        #expect(try PNGReader(path: dir + "/small.png").header.width == 20)
        let d = try CLI.run(["denoise", dir + "/a.png", "-o", dir + "/sub/clean.png", "--model", "photo", "--sigma", "10"])
        #expect(d.status == 0 && FileManager.default.fileExists(atPath: dir + "/sub/clean.png"), "\(d.stderr)")
        let r = try CLI.run(["run", "read \(dir)/a.png | gray | write \(dir)/grey.png"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try PNGReader(path: dir + "/grey.png").header.layout == .gray)
        let out = try CLI.run(["convert", dir + "/a.png", "-o", "-", "--gray"])
        #expect(out.status == 0)
        let path = dir + "/from-stdout.png"
        try writeFile(path, out.stdoutData)
        let h = try PNGReader(path: path).header
        #expect(h.width == 40 && h.layout == .gray)
        #expect(!FileManager.default.fileExists(atPath: dir + "/-"))
        // denoise and reconstruct write to standard output the same way.
        try writeImage(dir + "/digit.png", width: 28, height: 28, layout: .gray, seed: 9)
        for args in [["denoise", dir + "/a.png", "--model", "photo"], ["reconstruct", dir + "/digit.png", "--model", "mnist-vae"]] {
            let piped = try CLI.run(args + ["-o", "-", "--quiet"])
            #expect(piped.status == 0, "\(args[0]): \(piped.stderr)")
            let p = dir + "/piped-\(args[0]).png"
            try writeFile(p, piped.stdoutData)
            #expect((try? PNGReader(path: p).header.width) == (args[0] == "denoise" ? 40 : 28), "\(args[0]) wrote \(piped.stdoutData.count) bytes")
        }
        let same = try CLI.run(["convert", dir + "/a.png", "-o", dir + "/a.png"])
        #expect(same.status == 2 && same.stderr.contains("the output would overwrite this input"))
        let many = try CLI.run(["convert", dir, "-o", "-"])
        #expect(many.status == 2 && many.stderr.contains("-o - (standard output) takes one input file"))
    }

    /// --dry-run says what would happen to each input and why, and writes nothing.
    @Test func dryRunWritesNothing() throws {
        let dir = makeTempDir("dry")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for i in 0..<3 { try writeImage(dir + "/in/\(i).png", width: 8, height: 6, layout: .gray, seed: i) }
        let first = try CLI.run(["convert", dir + "/in", "-o", dir + "/out", "--dry-run"])
        #expect(first.status == 0 && !FileManager.default.fileExists(atPath: dir + "/out"), "\(first.stderr)")
        #expect(first.stdout.contains("write \(dir)/out/0.png <- \(dir)/in/0.png") && first.stderr.contains("dry run: write 3, replace 0, skip 0, refuse 0; nothing written"))
        #expect(try CLI.run(["convert", dir + "/in", "-o", dir + "/out"]).status == 0)
        try writeImage(dir + "/out/2.png", width: 3, height: 3, layout: .gray)
        let modified = try FileManager.default.attributesOfItem(atPath: dir + "/out/1.png")[.modificationDate] as? Date
        let second = try CLI.run(["convert", dir + "/in", "-o", dir + "/out", "--dry-run", "--fit", "4"])
        #expect(second.stdout.contains("replace \(dir)/out/0.png <- \(dir)/in/0.png  (made by other settings"), "\(second.stdout)")
        #expect(second.stdout.contains("refuse \(dir)/out/2.png"))
        let third = try CLI.run(["denoise", dir + "/in", "-o", dir + "/out", "--dry-run"])
        #expect(third.status == 0 && third.stdout.contains("replace \(dir)/out/1.png"), "\(third.stdout)\(third.stderr)")
        #expect(try FileManager.default.attributesOfItem(atPath: dir + "/out/1.png")[.modificationDate] as? Date == modified)
        #expect(try CLI.run(["convert", dir + "/in", "-o", dir + "/out", "--dry-run"]).stdout.contains("skip \(dir)/out/1.png <- \(dir)/in/1.png  (up to date)"))
    }

    /// Noise above the model's training range is said (stderr, JSON, provenance); ordinary noise
    /// is not.
    @Test func noiseAboveTheTrainedRangeIsReported() throws {
        let dir = makeTempDir("range")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A smooth photo-like image (the committed sample), not writeImage's noise-like pattern.
        try FileManager.default.createDirectory(atPath: dir + "/in", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: repositoryRoot + "/samples/gradient-rgb.png", toPath: dir + "/in/a.png")
        #expect(try CLI.run(["run", "read \(dir)/in | noise gaussian:0.35 | write \(dir)/heavy"]).status == 0)
        #expect(try CLI.run(["run", "read \(dir)/in | noise gaussian:0.08 | write \(dir)/light"]).status == 0)
        let heavy = try CLI.run(["denoise", dir + "/heavy", "-o", dir + "/h", "--json"])
        #expect(heavy.status == 0 && heavy.stderr.contains("latent: warning: \(dir)/heavy/a.png: noise level"), "\(heavy.stderr)")
        #expect(heavy.stdout.contains("above what the model was trained on"))
        #expect(try CLI.run(["info", dir + "/h/a.png"]).stdout.contains("latent:warning:"))
        let light = try CLI.run(["denoise", dir + "/light", "-o", dir + "/l", "--json"])
        #expect(light.status == 0 && !light.stderr.contains("warning") && light.stdout.contains("\"warnings\":[]"), "\(light.stderr)")
    }
}
