import Foundation
import PNGIO
import Testing
import TestSupport

/// A photo's colour profile, density and text chunks survive convert, denoise and run chains by
/// default, and go with --strip; through the built binary.
@Suite(.serialized)
struct MetadataCLITests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("PNGIOTests/Fixtures").path

    func chunks(_ path: String) throws -> (PNGMetadata, [String: String]) {
        let r = try PNGReader(path: path)
        return (r.metadata, Dictionary(r.texts.map { ($0.key, $0.text) }, uniquingKeysWith: { a, _ in a }))
    }

    @Test func profileAndTextsAreKeptUnlessStripped() throws {
        let dir = makeTempDir("metacli")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/in", withIntermediateDirectories: true)
        for f in ["meta_srgb.png", "meta_icc.png"] { try FileManager.default.copyItem(atPath: Self.fixtures + "/" + f, toPath: dir + "/in/" + f) }
        let (srgbIn, _) = try chunks(dir + "/in/meta_srgb.png")
        let (iccIn, _) = try chunks(dir + "/in/meta_icc.png")
        #expect(!srgbIn.isEmpty && iccIn.iccProfile != nil)

        // convert (streamed), denoise (streamed), run with a resize (in memory): all keep them.
        let runs: [(String, [String])] = [
            ("convert", ["convert", dir + "/in", "-o", dir + "/c", "--fit", "12"]),
            ("denoise", ["denoise", dir + "/in", "-o", dir + "/d", "--model", "photo"]),
            ("run", ["run", "read \(dir)/in | fit 16 | write \(dir)/r"]),
        ]
        for (name, args) in runs {
            let r = try CLI.run(args + ["--quiet"])
            #expect(r.status == 0, "\(name): \(r.stderr)")
            let out = dir + "/" + String(name.prefix(1))
            let (s, sTexts) = try chunks(out + "/meta_srgb.png")
            let (i, iTexts) = try chunks(out + "/meta_icc.png")
            #expect(s == srgbIn, "\(name) kept sRGB, gAMA, cHRM, pHYs")
            #expect(i == iccIn, "\(name) kept the ICC profile byte for byte")
            #expect(sTexts["Author"] == "A. Photographer" && iTexts["Copyright"] == "CC BY 4.0", "\(name) kept the texts")
            #expect(sTexts["latent:chain"] != nil, "\(name) added its provenance")
        }
        // A grey output keeps the density but not an RGB profile.
        #expect(try CLI.run(["convert", dir + "/in", "-o", dir + "/g", "--gray", "--quiet"]).status == 0)
        let (g, _) = try chunks(dir + "/g/meta_icc.png")
        #expect(g.iccProfile == nil && g.physical == iccIn.physical)
        // --strip drops them all, and counts as other settings: the kept outputs are replaced.
        for args in [["convert", dir + "/in", "-o", dir + "/c", "--fit", "12"], ["denoise", dir + "/in", "-o", dir + "/d", "--model", "photo"]] {
            let r = try CLI.run(args + ["--strip", "--json"])
            #expect(r.status == 0 && r.stdout.contains("\"stale_replaced\":2"), "\(args[0]) --strip: \(r.stdout) \(r.stderr)")
            let out = args[3]
            for f in ["meta_srgb.png", "meta_icc.png"] {
                let (m, t) = try chunks(out + "/" + f)
                #expect(m.isEmpty && t["Author"] == nil && t["Copyright"] == nil && t["latent:chain"] != nil, "\(args[0]) --strip \(f)")
            }
        }
        // info lists them.
        let info = try CLI.run(["info", dir + "/in/meta_icc.png"])
        #expect(info.stdout.contains("iCCP: ICC profile 'sRGB built-in', 588 bytes") && info.stdout.contains("300 dpi"))
    }

    /// `-` reads a PNG from standard input: with `-o FILE.png` or `-o -` (a pipe), or into a
    /// folder as stdin.png; the temporary copy is removed.
    @Test func standardInputIsAnInput() throws {
        let dir = makeTempDir("stdin")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let src = Self.fixtures + "/meta_srgb.png"
        func copies() -> Set<String> {
            Set(((try? FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory())) ?? []).filter { $0.hasPrefix("latent-stdin-") })
        }
        let before = copies()
        let a = try CLI.run(["convert", "-", "-o", dir + "/a.png", "--gray", "--quiet"], stdin: src)
        #expect(a.status == 0, "\(a.stderr)")
        let grey = try PNGReader.read(path: dir + "/a.png")
        #expect(grey.layout == .gray && grey.width == 20 && grey.height == 12)
        #expect(try PNGReader.read(path: dir + "/a.png") == PNGReader.read(path: src).converted(to: .gray, depth: 8))
        let b = try CLI.run(["denoise", "-", "-o", "-", "--model", "photo"], stdin: src)
        #expect(b.status == 0 && b.stdoutData.starts(with: [0x89, 0x50, 0x4E, 0x47]), "\(b.stderr)")
        let c = try CLI.run(["convert", "-", "-o", dir + "/folder", "--quiet"], stdin: src)
        #expect(c.status == 0 && FileManager.default.fileExists(atPath: dir + "/folder/stdin.png"), "\(c.stderr)")
        #expect(copies() == before, "the copies of standard input are removed")
        let twice = try CLI.run(["convert", "-", "-", "-o", dir + "/x"], stdin: src)
        #expect(twice.status == 2 && twice.stderr.contains("can be given once"), "\(twice.stderr)")
        let empty = dir + "/empty"
        try writeFile(empty, Data())
        let e = try CLI.run(["convert", "-", "-o", dir + "/e.png"], stdin: empty)
        #expect(e.status != 0 && e.stderr.contains("stdin.png") && e.stderr.contains("empty"), "\(e.stderr)")
    }

    /// --verbose: a line per file as it finishes (input → output, size, chain, noise level,
    /// seconds), and why a file was skipped; refused together with --quiet.
    @Test func verboseSaysWhatHappenedToEachFile() throws {
        let dir = makeTempDir("verbose")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeImage(dir + "/in/a.png", width: 24, height: 20, layout: .gray, seed: 3)
        try writeImage(dir + "/in/b.png", width: 20, height: 16, layout: .rgb, seed: 4)
        let r = try CLI.run(["denoise", dir + "/in", "-o", dir + "/out", "--verbose", "--model", "photo", "--sigma", "12"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stderr.split(separator: "\n").map(String.init)
        let a = try #require(lines.first { $0.hasPrefix("\(dir)/in/a.png → \(dir)/out/a.png") })
        #expect(a.contains("24x20 gray") && a.contains("denoise photo") && a.contains("σ given 12.00") && a.hasSuffix(" s"), "\(a)")
        #expect(lines.contains { $0.hasPrefix("\(dir)/in/b.png → \(dir)/out/b.png") && $0.contains("20x16 rgb") })
        let again = try CLI.run(["denoise", dir + "/in", "-o", dir + "/out", "--verbose", "--model", "photo", "--sigma", "12"])
        #expect(again.stderr.contains("\(dir)/in/a.png: skipped (\(dir)/out/a.png is up to date)"), "\(again.stderr)")
        let both = try CLI.run(["convert", dir + "/in", "-o", dir + "/c", "--verbose", "--quiet"])
        #expect(both.status == 64 || both.status == 2, "\(both.status) \(both.stderr)")
        #expect(both.stderr.contains("--verbose and --quiet"))
    }

    /// `latent stages --json` lists what `latent stages` prints, as JSON a script can read.
    @Test func stagesListAsJSON() throws {
        let r = try CLI.run(["stages", "--json"])
        #expect(r.status == 0)
        let list = try #require(try JSONSerialization.jsonObject(with: r.stdoutData) as? [[String: Any]])
        let denoise = try #require(list.first { $0["name"] as? String == "denoise" })
        #expect((denoise["parameters"] as? [[String: Any]])?.contains { $0["name"] as? String == "sigma" } == true, "\(denoise)")
        #expect(list.contains { $0["name"] as? String == "read" } && list.contains { $0["name"] as? String == "resize" })
        let text = try CLI.run(["stages"]).stdout
        for d in list { #expect(text.contains(d["usage"] as? String ?? "?"), "\(d["usage"] ?? "")") }
    }
}
