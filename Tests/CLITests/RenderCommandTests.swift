import Foundation
import Testing
import PNGIO
import TestSupport

@Suite(.serialized)
struct RenderCommandTests {
    /// compare --model photo on a colour image runs what `denoise --model photo` runs (the
    /// colour model for colour images): its OUT tile is the centre of denoise's output.
    @Test func compareRunsTheDenoiseFamily() throws {
        let dir = makeTempDir("compare-photo")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeImage(dir + "/a.png", width: 40, height: 30, layout: .rgb, seed: 3)
        let c = try CLI.run(["compare", dir + "/a.png", "--model", "photo", "--sigma", "20", "--scale", "1", "--gutter", "0", "--no-labels",
                             "-o", dir + "/c.png", "--quiet"])
        #expect(c.status == 0, "\(c.stderr)")
        let d = try CLI.run(["denoise", dir + "/a.png", "--model", "photo", "--sigma", "20", "-o", dir + "/d.png", "--quiet"])
        #expect(d.status == 0, "\(d.stderr)")
        let sheet = try PNGReader.read(path: dir + "/c.png", layout: .rgb, depth: 8), out = try PNGReader.read(path: dir + "/d.png", layout: .rgb, depth: 8)
        #expect(sheet.width == 30 && sheet.height == 60)
        var same = true
        for y in 0..<30 {
            for x in 0..<30 {
                for ch in 0..<3 where sheet.bytes[((30 + y) * 30 + x) * 3 + ch] != out.bytes[(y * 40 + x + 5) * 3 + ch] { same = false }
            }
        }
        #expect(same, "the OUT tile is the centre of denoise's output")
    }

    /// Images of another size or colour than a fixed-size model's input are refused by the
    /// commands that feed them to it, with the sizes, in one line; --resize converts them.
    @Test func otherSizesAreRefusedUnlessResized() throws {
        let dir = makeTempDir("misfit-pictures")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeImage(dir + "/in/a.png", width: 40, height: 30, layout: .rgb, seed: 1)
        try writeImage(dir + "/in/b.png", width: 28, height: 28, layout: .gray, seed: 2)
        let runs = [["compare", dir + "/in", "--model", "mnist-dae", "-o", dir + "/c.png"],
                    ["interpolate", dir + "/in/a.png", dir + "/in/b.png", "--model", "mnist-vae", "-o", dir + "/i.png"],
                    ["traverse", "--model", "mnist-vae", "--data", dir + "/in", "-o", dir + "/t.png"],
                    ["eval", "--model", "mnist-dae", "--data", dir + "/in"]]
        for args in runs {
            let r = try CLI.run(args + ["--quiet"])
            #expect(r.status == 2, "\(args[0]): \(r.stderr)")
            #expect(r.stderr.contains("a.png: 40x30 colour, not the 28x28 grey input of mnist-"), "\(args[0]): \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1, "\(args[0]): \(r.stderr)")
            let ok = try CLI.run(args + ["--quiet", "--resize"])
            #expect(ok.status == 0, "\(args[0]) --resize: \(ok.stderr)")
        }
    }

    @Test func everyPictureCommandWritesAPNGOfTheExpectedSize() throws {
        let dir = makeTempDir("render")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let digits = ["a", "b", "c"].map { dir + "/\($0).png" }
        for (i, p) in digits.enumerated() {
            var s = [Int](repeating: 0, count: 784)
            for y in 5..<23 { s[y * 28 + 8 + 4 * i] = 255 }
            try PNGWriter.write(PNGImage(width: 28, height: 28, layout: .gray, depth: 8, samples: s), to: p)
        }
        // tile 28x28 at scale 2 = 56, gutter 2: width = gutter + cols·(56 + 2)
        let s = try CLI.run(["sample", "--model", "mnist-vae", "--count", "6", "--columns", "3", "--scale", "2", "-o", dir + "/s.png", "--json"])
        #expect(s.status == 0, "\(s.stderr)")
        var h = try PNGReader(path: dir + "/s.png").header
        #expect(h.width == 2 + 3 * 58 && h.height == 2 + 2 * 58)
        let m = try CLI.run(["manifold", "--model", "mnist-vae2d", "--steps", "5", "--scale", "1", "--gutter", "0", "-o", dir + "/m.png"])
        #expect(m.status == 0)
        h = try PNGReader(path: dir + "/m.png").header
        #expect(h.width == 140 && h.height == 140)
        let t = try CLI.run(["traverse", "--model", "mnist-vae", "--dims", "0,3", "--steps", "7", "--from", digits[0], "-o", dir + "/t.png", "--no-labels", "--scale", "1", "--gutter", "1"])
        #expect(t.status == 0, "\(t.stderr)")
        h = try PNGReader(path: dir + "/t.png").header
        #expect(h.width == 1 + 7 * 29 && h.height == 1 + 2 * 29)
        let auto = try CLI.run(["traverse", "--model", "mnist-vae", "--dims", "4", "-o", dir + "/ta.png", "--json"])
        #expect(auto.stdout.contains("\"dims\":"))
        let i = try CLI.run(["interpolate"] + digits + ["--model", "mnist-vae", "--steps", "5", "--slerp", "-o", dir + "/i.png", "--scale", "1", "--gutter", "0", "--no-labels"])
        #expect(i.status == 0, "\(i.stderr)")
        h = try PNGReader(path: dir + "/i.png").header
        #expect(h.width == 7 * 28 && h.height == 2 * 28)
        let c = try CLI.run(["compare"] + digits + ["--model", "mnist-dae", "--noise", "mask:0.3", "-o", dir + "/c.png"])
        #expect(c.status == 0)
        let info = try CLI.run(["info", dir + "/c.png"])
        #expect(info.stdout.contains("latent:command: compare images=3 noise=mask:0.3"))
        #expect(info.stdout.contains("latent:model: mnist-dae"))
        // Deterministic given the seed.
        _ = try CLI.run(["sample", "--model", "mnist-vae", "--count", "6", "--columns", "3", "--scale", "2", "-o", dir + "/s2.png"])
        #expect(try PNGReader.read(path: dir + "/s.png") == PNGReader.read(path: dir + "/s2.png"))
    }

    @Test(arguments: [
        ["sample", "--model", "mnist-dae", "-o", "/tmp/x.png"],
        ["manifold", "--model", "mnist-dae", "-o", "/tmp/x.png"],
        ["traverse", "--model", "mnist-dae", "-o", "/tmp/x.png"],
    ])
    func vaeOnlyCommandsRefuseOtherModels(_ args: [String]) throws {
        let r = try CLI.run(args)
        #expect(r.status == 2)
        #expect(r.stderr.contains("mnist-dae: '\(args[0])' needs a VAE (it samples from the prior); this is a dae model"))
    }
}
