import Foundation
@testable import Models
import Testing
import PNGIO
import TestSupport

@Suite(.serialized)
struct PipelineCommandTests {
    /// `count` 28x28 grey digits-like PNGs in dir/in (MNIST's size, for the built-in models).
    func makeDigits(_ dir: String, count: Int) throws {
        try FileManager.default.createDirectory(atPath: dir + "/in/sub", withIntermediateDirectories: true)
        for i in 0..<count {
            var s = [Int](repeating: 0, count: 784)
            for y in 6..<22 { s[y * 28 + 10 + i % 8] = 255; s[y * 28 + 11 + i % 8] = 200 }
            let sub = i % 3 == 0 ? "/in/sub/" : "/in/"
            try PNGWriter.write(PNGImage(width: 28, height: 28, layout: .gray, depth: 8, samples: s), to: dir + sub + String(format: "d%05d.png", i))
        }
    }

    @Test func denoiseFolderWithACorruptFileInTheMiddle() throws {
        let dir = makeTempDir("denoise")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try makeDigits(dir, count: 30)
        try writeFile(dir + "/in/d00015.png", Data("broken".utf8))
        try writeImage(dir + "/in/wide.png", width: 40, height: 28, layout: .rgba)
        let r = try CLI.run(["denoise", dir + "/in", "-o", dir + "/out", "--model", "mnist-dae", "--json", "--sheet", dir + "/sheet.png"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("\(dir)/in/d00015.png: not a PNG file"))
        #expect(r.stderr.contains("\(dir)/in/wide.png: 40x28 does not match mnist-dae's input 28x28 (tile it or resize it to the model: the tile or resize-to-model option)"))
        #expect(r.stdout.contains("\"denoised\":30,\"skipped\":0,\"failed\":2"))
        #expect(listFiles(dir + "/out").count == 30)
        // Two (input | output) pairs a row, 28x28 cells scaled 4x (112 px), gutters of 2: 5 cells across, 15 rows.
        let sheet = try PNGReader(path: dir + "/sheet.png").header
        #expect(sheet.width == 2 + 5 * (28 * 4 + 2) && sheet.height == 2 + 15 * (28 * 4 + 2), "\(sheet.width)x\(sheet.height)")
        let info = try CLI.run(["info", dir + "/out/sub/d00003.png"])
        #expect(info.stdout.contains("latent:chain: denoise mnist-dae"))
        #expect(info.stdout.contains("latent:model: mnist-dae dae 784-512-128 fnv1a64:"))
        // --tile handles the wide image, keeping its alpha.
        let t = try CLI.run(["denoise", dir + "/in/wide.png", "-o", dir + "/tiled", "--model", "mnist-dae", "--tile"])
        #expect(t.status == 0)
        let h = try PNGReader(path: dir + "/tiled/wide.png").header
        #expect(h.width == 40 && h.height == 28 && h.layout == .rgba)
        let a = try PNGReader.read(path: dir + "/in/wide.png"), b = try PNGReader.read(path: dir + "/tiled/wide.png")
        #expect((0..<(40 * 28)).allSatisfy { a.sample(x: $0 % 40, y: $0 / 40, c: 3) == b.sample(x: $0 % 40, y: $0 / 40, c: 3) })
        // The default (auto) sends 28x28 images to mnist-dae and the others to the photo model.
        let auto = try CLI.run(["denoise", dir + "/in", "-o", dir + "/auto", "--json"])
        #expect(auto.stdout.contains("\"denoised\":31,\"skipped\":0,\"failed\":1"))
        #expect(try CLI.run(["info", dir + "/auto/wide.png"]).stdout.contains("latent:chain: denoise photo\n"))
        #expect(try CLI.run(["info", dir + "/auto/sub/d00003.png"]).stdout.contains("latent:chain: denoise mnist-dae"))
    }

    @Test func aSheetOfPhotosShowsCentredCropsOnePairARow() throws {
        let dir = makeTempDir("photo-sheet")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeImage(dir + "/in/a-large.png", width: 600, height: 400, layout: .rgb)
        try writeImage(dir + "/in/b-small.png", width: 100, height: 80, layout: .rgb, seed: 2)
        let r = try CLI.run(["denoise", dir + "/in", "-o", dir + "/out", "--sheet", dir + "/sheet.png", "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        // Cells of at most 256x256 shown 1:1, one (input | output) pair a row, gutters of 2.
        let sheet = try PNGReader.read(path: dir + "/sheet.png")
        #expect(sheet.width == 2 + 2 * (256 + 2) && sheet.height == 2 + 2 * (256 + 2), "\(sheet.width)x\(sheet.height)")
        // The first row: the large input's centred 256x256 crop, then the output's.
        let input = try PNGReader.read(path: dir + "/in/a-large.png"), output = try PNGReader.read(path: dir + "/out/a-large.png")
        var inputOK = true, outputOK = true
        for y in stride(from: 0, to: 256, by: 5) {
            for x in stride(from: 0, to: 256, by: 7) {
                for c in 0..<3 {
                    if sheet.sample(x: 2 + x, y: 2 + y, c: c) != input.sample(x: 172 + x, y: 72 + y, c: c) { inputOK = false }
                    if sheet.sample(x: 2 + 258 + x, y: 2 + y, c: c) != output.sample(x: 172 + x, y: 72 + y, c: c) { outputOK = false }
                }
            }
        }
        #expect(inputOK && outputOK)
    }

    @Test func killDashNineLeavesNoPartialFileAndARerunCompletesExactlyTheRest() throws {
        let dir = makeTempDir("kill")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let total = 3000
        try makeDigits(dir, count: total)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLI.binary)
        p.arguments = ["denoise", dir + "/in", "-o", dir + "/out", "--quiet", "--jobs", "2"]
        p.standardError = FileHandle.nullDevice
        try p.run()
        // Wait until some outputs exist, then SIGKILL.
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let n = (try? FileManager.default.contentsOfDirectory(atPath: dir + "/out"))?.count ?? 0
            if n > 40 { break }
            usleep(2000)
        }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        let all = (FileManager.default.enumerator(atPath: dir + "/out")?.allObjects as? [String]) ?? []
        let files = all.filter { !$0.hasSuffix("sub") }
        // Nothing but complete PNGs: no temporary or half-written file.
        #expect(files.allSatisfy { $0.hasSuffix(".png") && !($0 as NSString).lastPathComponent.hasPrefix(".") }, "\(files.filter { !$0.hasSuffix(".png") })")
        for f in files { #expect((try? PNGReader.read(path: dir + "/out/" + f)) != nil, "\(f) is not a complete PNG") }
        let done = files.count
        #expect(done > 0)
        #expect(done < total, "the run finished before it could be killed; nothing was tested")
        let r = try CLI.run(["denoise", dir + "/in", "-o", dir + "/out", "--json"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("\"denoised\":\(total - done),\"skipped\":\(done),\"failed\":0"), "\(r.stdout)")
        #expect(listFiles(dir + "/out").count == total)
    }

    @Test func outputInsideTheInputTreeIsNotReadBack() throws {
        let dir = makeTempDir("inside")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try makeDigits(dir, count: 6)
        let r = try CLI.run(["run", "read \(dir)/in | noise gaussian:0.5 | denoise mnist-dae | write \(dir)/in/clean", "--json"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("\"processed\":6"))
        let again = try CLI.run(["run", "read \(dir)/in | noise gaussian:0.5 | denoise mnist-dae | write \(dir)/in/clean", "--json"])
        #expect(again.stdout.contains("\"processed\":0,\"skipped\":6"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/in/clean/clean"))
        // An output that would land on its input is refused, for every model family.
        let before = FileManager.default.contents(atPath: dir + "/in/d00001.png")
        for model in ["mnist-dae", "photo"] {
            let r = try CLI.run(["denoise", dir + "/in/d00001.png", "-o", dir + "/in", "--model", model, "--overwrite"])
            #expect(r.status == 2)
            #expect(r.stderr.contains("d00001.png: the output would overwrite this input"))
        }
        #expect(FileManager.default.contents(atPath: dir + "/in/d00001.png") == before)
    }

    @Test func geometryThatCannotFitFailsBeforeAnyFileIsTouched() throws {
        let dir = makeTempDir("geom")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try makeDigits(dir, count: 3)
        let r = try CLI.run(["run", "read \(dir)/in | resize 32x32 | denoise mnist-dae | write \(dir)/out"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("mnist-dae takes 28x28 images but the chain gives it 32x32"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/out"))
        let bad = try CLI.run(["run", "read \(dir)/in | sharpen | write \(dir)/out"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("unknown stage 'sharpen'"))
    }

    @Test func encodeWritesOneLinePerImageInInputOrder() throws {
        let dir = makeTempDir("encode")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try makeDigits(dir, count: 5)
        let r = try CLI.run(["run", "read \(dir)/in | encode mnist-vae | write \(dir)/codes.csv", "--jobs", "3"])
        #expect(r.status == 0)
        let lines = try String(contentsOfFile: dir + "/codes.csv", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 6)
        #expect(lines[0].hasPrefix("file,z0,z1"))
        #expect(lines[1].split(separator: ",").count == 21)
        let j = try CLI.run(["run", "read \(dir)/in | encode mnist-vae | write \(dir)/codes.jsonl"])
        #expect(j.status == 0)
        let first = try String(contentsOfFile: dir + "/codes.jsonl", encoding: .utf8).split(separator: "\n")[0]
        let obj = try JSONSerialization.jsonObject(with: Data(first.utf8)) as! [String: Any]
        #expect((obj["code"] as! [Double]).count == 20)
    }

    @Test func stagesAreListed() throws {
        let r = try CLI.run(["stages"])
        for s in ["read", "gray", "rgb", "resize WxH", "fit N", "crop", "pad", "noise", "denoise", "reconstruct", "encode", "write"] {
            #expect(r.stdout.contains(s))
        }
    }

    /// The photo model is a stage like any other: `run … | denoise photo` writes the same bytes
    /// as `latent denoise --model photo` (with and without sigma), reconstruct and compare take
    /// it, a truncated copy is refused naming the file and the truncation.
    @Test func photoModelIsAStageLikeAnyOther() throws {
        let dir = makeTempDir("photostage")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeImage(dir + "/in/a.png", width: 45, height: 37, layout: .rgb)
        try writeImage(dir + "/in/sub/b.png", width: 70, height: 20, layout: .grayAlpha, seed: 2)
        try writeImage(dir + "/in/c.png", width: 33, height: 40, layout: .gray, depth: 16, seed: 3)
        for (extra, param) in [([String](), ""), (["--sigma", "25"], " sigma=25")] {
            let d = try CLI.run(["denoise", dir + "/in", "-o", dir + "/d\(param.count)", "--model", "photo"] + extra)
            #expect(d.status == 0, "\(d.stderr)")
            let r = try CLI.run(["run", "read \(dir)/in | denoise photo\(param) | write \(dir)/r\(param.count)"])
            #expect(r.status == 0, "\(r.stderr)")
            for f in ["a.png", "sub/b.png", "c.png"] {
                let a = FileManager.default.contents(atPath: dir + "/d\(param.count)/" + f)
                #expect(a != nil && a == FileManager.default.contents(atPath: dir + "/r\(param.count)/" + f), "\(f)\(param)")
            }
        }
        let rec = try CLI.run(["reconstruct", dir + "/in", "-o", dir + "/rec", "--model", "photo"])
        #expect(rec.status == 0 && FileManager.default.fileExists(atPath: dir + "/rec/sub/b.png"), "\(rec.stderr)")
        let cmp = try CLI.run(["compare", dir + "/in", "--model", "photo", "--noise", "gaussian:0.1", "-o", dir + "/cmp.png"])
        #expect(cmp.status == 0, "\(cmp.stderr)")
        let sheet = try PNGReader(path: dir + "/cmp.png").header
        #expect(sheet.width > 3 * 20 && sheet.height > 3 * 20)
        // A truncated photo model: one line, the file and the truncation, no build path.
        let photo = try #require(BuiltinModels.path(of: "photo"))
        let bytes = try #require(FileManager.default.contents(atPath: photo))
        try writeFile(dir + "/cut.safetensors", bytes.prefix(bytes.count / 2))
        for args in [["run", "read \(dir)/in | denoise \(dir)/cut.safetensors | write \(dir)/x"],
                     ["denoise", dir + "/in", "-o", dir + "/x", "--model", dir + "/cut.safetensors"]] {
            let bad = try CLI.run(args)
            #expect(bad.status == 2)
            let lines = bad.stderr.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].contains(dir + "/cut.safetensors: truncated model file"), "\(bad.stderr)")
            #expect(!bad.stderr.contains(".build") && !bad.stderr.contains("Sources/"))
        }
        let trav = try CLI.run(["traverse", "--model", "photo", "-o", dir + "/t.png"])
        #expect(trav.status == 2 && trav.stderr.contains("no latent space"))
    }

}
