import Foundation
import Testing
@testable import PNGIO
import TestSupport

@Suite(.serialized)
struct ConvertCommandTests {
    /// in/ a.png (RGB), sub/b.png (RGBA 16-bit), sub/deeper/c.png (grey), broken.png in the middle.
    func makeInputTree() throws -> String {
        let dir = makeTempDir("convert")
        try writeImage(dir + "/in/a.png", width: 30, height: 20, layout: .rgb)
        try writeImage(dir + "/in/sub/b.png", width: 16, height: 16, layout: .rgba, depth: 16, seed: 2)
        try writeImage(dir + "/in/sub/deeper/c.png", width: 9, height: 31, layout: .gray, seed: 3)
        let good = FileManager.default.contents(atPath: dir + "/in/a.png")!
        try writeFile(dir + "/in/m-broken.png", good.prefix(good.count / 2))
        try writeFile(dir + "/in/notes.txt", Data("not an image".utf8))
        return dir
    }

    func checksum(_ dir: String) -> [String: Data] {
        Dictionary(uniqueKeysWithValues: listFiles(dir).map { ($0, FileManager.default.contents(atPath: dir + "/" + $0)!) })
    }

    /// Symlinks back to enclosing folders (`self -> .`, `up -> ..`): the walk finishes, every
    /// file is converted once, and each skipped link is named.
    @Test func symlinkLoopsAreWalkedOnce() throws {
        let dir = makeTempDir("loops")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeImage(dir + "/in/a.png", width: 8, height: 8, layout: .rgb)
        try writeImage(dir + "/in/sub/b.png", width: 8, height: 8, layout: .gray)
        try FileManager.default.createSymbolicLink(atPath: dir + "/in/self", withDestinationPath: ".")
        try FileManager.default.createSymbolicLink(atPath: dir + "/in/sub/up", withDestinationPath: "..")
        let r = try CLI.run(["convert", dir + "/in", "-o", dir + "/out", "--gray"])
        #expect(r.status == 0)
        #expect(listFiles(dir + "/out") == ["a.png", "sub/b.png"])
        #expect(r.stderr.contains("converted 2, skipped 0, failed 0 in "))
        #expect(r.stderr.contains(" s → \(dir)/out\n"), "the last line says the time taken and where the outputs went: \(r.stderr)")
        #expect(r.stderr.contains("in/self: skipped, a symlink back to a folder already walked"))
        #expect(r.stderr.contains("in/sub/up: skipped"))
    }

    @Test func folderInFolderOutWithACorruptFileInTheMiddle() throws {
        let dir = try makeInputTree()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let before = checksum(dir + "/in")
        let r = try CLI.run(["convert", dir + "/in", "-o", dir + "/out", "--gray", "--depth", "8", "--jobs", "2"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("\(dir)/in/m-broken.png: truncated"))
        #expect(r.stderr.contains("converted 3, skipped 0, failed 1"))
        #expect(listFiles(dir + "/out") == ["a.png", "sub/b.png", "sub/deeper/c.png"])
        // Inputs untouched.
        #expect(checksum(dir + "/in") == before)
        // Content: each output equals the input converted in process.
        for rel in ["a.png", "sub/b.png", "sub/deeper/c.png"] {
            let want = try PNGReader.read(path: dir + "/in/" + rel, layout: .gray, depth: 8)
            let got = try PNGReader.read(path: dir + "/out/" + rel)
            #expect(got == want, "\(rel) differs")
        }
    }

    @Test func rerunSkipsExistingOutputsAndOverwriteRedoes() throws {
        let dir = try makeInputTree()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.removeItem(atPath: dir + "/in/m-broken.png")
        let first = try CLI.run(["convert", dir + "/in", "-o", dir + "/out", "--json"])
        #expect(first.status == 0)
        #expect(first.stdout.contains("\"converted\":3,\"skipped\":0,\"failed\":0"))
        // Simulate an interrupted run: one output missing.
        try FileManager.default.removeItem(atPath: dir + "/out/sub/b.png")
        let second = try CLI.run(["convert", dir + "/in", "-o", dir + "/out", "--json"])
        #expect(second.status == 0)
        #expect(second.stdout.contains("\"converted\":1,\"skipped\":2,\"failed\":0"))
        let third = try CLI.run(["convert", dir + "/in", "-o", dir + "/out", "--overwrite", "--json", "--quiet"])
        #expect(third.stdout.contains("\"converted\":3,\"skipped\":0,\"failed\":0"))
        #expect(third.stderr.isEmpty)
        // Kept layout and depth by default.
        let b = try PNGReader(path: dir + "/out/sub/b.png")
        #expect(b.header.layout == .rgba && b.header.depth == 16)
    }

    @Test func outputEqualToInputIsRefused() throws {
        let dir = try makeInputTree()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let before = checksum(dir + "/in")
        let r = try CLI.run(["convert", dir + "/in", "-o", dir + "/in"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("would overwrite"))
        let r2 = try CLI.run(["convert", dir + "/in/a.png", "-o", dir + "/in"])
        #expect(r2.status == 2)
        #expect(r2.stderr.contains("\(dir)/in/a.png: the output would overwrite this input"))
        #expect(checksum(dir + "/in") == before)
    }

    @Test func outputInsideInputTreeIsNotReadBack() throws {
        let dir = try makeInputTree()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.removeItem(atPath: dir + "/in/m-broken.png")
        _ = try CLI.run(["convert", dir + "/in", "-o", dir + "/in/converted"])
        let again = try CLI.run(["convert", dir + "/in", "-o", dir + "/in/converted", "--json"])
        #expect(again.stdout.contains("\"converted\":0,\"skipped\":3,\"failed\":0"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/in/converted/converted"))
    }

    @Test func resizeAndFit() throws {
        let dir = try makeInputTree()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try CLI.run(["convert", dir + "/in/a.png", dir + "/in/sub/deeper/c.png", "-o", dir + "/fit", "--fit", "12"])
        #expect(r.status == 0)
        #expect(try PNGReader(path: dir + "/fit/a.png").header.width == 12)
        #expect(try PNGReader(path: dir + "/fit/a.png").header.height == 8)
        #expect(try PNGReader(path: dir + "/fit/c.png").header.height == 12)
        let r2 = try CLI.run(["convert", dir + "/in/a.png", "-o", dir + "/rs", "--resize", "64x7", "--rgba"])
        #expect(r2.status == 0)
        let h = try PNGReader(path: dir + "/rs/a.png").header
        #expect(h.width == 64 && h.height == 7 && h.layout == .rgba)
    }

    @Test func staleTemporaryFilesFromAKilledRunAreRemoved() throws {
        let dir = try makeInputTree()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/out", withIntermediateDirectories: true)
        // pid 999999999 cannot be running.
        let stale = dir + "/out/.a.png.latent-tmp-999999999-1"
        try writeFile(stale, Data([0x89, 0x50]))
        _ = try CLI.run(["convert", dir + "/in/a.png", "-o", dir + "/out"])
        #expect(!FileManager.default.fileExists(atPath: stale))
        #expect(listFiles(dir + "/out") == ["a.png"])
    }

    @Test func maxPixelsIsEnforced() throws {
        let dir = try makeInputTree()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try CLI.run(["convert", dir + "/in/a.png", "-o", dir + "/out", "--max-pixels", "100"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("\(dir)/in/a.png: 30x20 is over the pixel budget of 100 pixels"))
        #expect(r.stderr.contains("--max-pixels N raises the pixel budget"), "the CLI names its flag")
        #expect(listFiles(dir + "/out").isEmpty)
    }

    @Test(arguments: [
        (["convert", "x.png", "-o", "o", "--depth", "12"], "--depth must be 8 or 16"),
        (["convert", "x.png", "-o", "o", "--compression", "10"], "--compression must be 0-9"),
        (["convert", "x.png", "-o", "o", "--resize", "10"], "--resize wants WxH"),
        (["convert", "x.png", "-o", "o", "--fit", "0"], "--fit must be at least 1"),
        (["convert", "x.png", "-o", "o", "--jobs", "0"], "--jobs must be at least 1"),
        (["convert", "x.png", "-o", "o", "--fit", "5", "--resize", "5x5"], "not both"),
        (["convert", "x.png"], "Missing expected argument '--output <OUTDIR>'"),
    ])
    func badArgumentsGetAClearMessage(_ args: [String], _ message: String) throws {
        let r = try CLI.run(args)
        #expect(r.status == 64)
        #expect(r.stderr.contains(message), "stderr was: \(r.stderr)")
    }

    @Test func missingInputIsAnError() throws {
        let dir = makeTempDir("missing")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try CLI.run(["convert", dir + "/nothing-here", "-o", dir + "/out"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("nothing-here: no such file or folder"))
    }

    @Test func infoPrintsHeaderAndText() throws {
        let dir = makeTempDir("info")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try PNGWriter.write(PNGImage(width: 3, height: 2, layout: .grayAlpha, depth: 16), to: dir + "/x.png",
                            texts: [("latent:model", "mnist-dae")])
        let r = try CLI.run(["info", dir + "/x.png"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("3x2 gray+alpha 16-bit"))
        #expect(r.stdout.contains("latent:model: mnist-dae"))
        let bad = try CLI.run(["info", dir + "/none.png"])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("none.png: cannot read: No such file or directory"))
    }
}
