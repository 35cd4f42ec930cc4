import Foundation
import PNGIO
import Testing
import TestSupport

/// One noise scale through the binary: `gaussian:S` is a fraction of the full range everywhere,
/// `S/255` writes grey levels anywhere a level is taken, and options a model cannot use are refused.
@Suite(.serialized)
struct NoiseScaleCLITests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("PNGIOTests/Fixtures/meta_srgb.png").path

    func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }
    /// Pixels only (the provenance text names the spec as written).
    func pixels(_ path: String) throws -> [UInt8] { try PNGReader.read(path: path).bytes }

    @Test func theUnitWrittenMeansTheSameLevelEverywhere() throws {
        let dir = makeTempDir("noisescale")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let input = dir + "/in.png"
        try FileManager.default.copyItem(atPath: Self.fixture, toPath: input)

        // --sigma in grey levels, bare or with the unit written: the same bytes.
        for (name, sigma) in [("a", "25"), ("b", "25/255"), ("c", "0.5/5.1")] {
            let r = try CLI.run(["denoise", input, "-o", "\(dir)/\(name).png", "--model", "photo-color", "--sigma", sigma, "--quiet"])
            #expect(r.status == 0, "\(r.stderr)")
        }
        #expect(try bytes(dir + "/a.png") == bytes(dir + "/b.png"))
        #expect(try bytes(dir + "/a.png") == bytes(dir + "/c.png"))
        // The same level as a run chain's sigma=.
        let r = try CLI.run(["run", "read \(input) | denoise photo-color sigma=25/255 | write \(dir)/r/", "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try pixels(dir + "/r/in.png") == pixels(dir + "/a.png"))

        // gaussian:S/255 is S grey levels: the same noise as the fraction written out.
        let fraction = "\(Float(25) / 255)"
        for (name, spec) in [("g1", "gaussian:25/255"), ("g2", "gaussian:\(fraction)")] {
            let n = try CLI.run(["run", "read \(input) | noise \(spec) | write \(dir)/\(name)/", "--quiet"])
            #expect(n.status == 0, "\(n.stderr)")
        }
        let g1 = try pixels(dir + "/g1/in.png"), g2 = try pixels(dir + "/g2/in.png"), clean = try pixels(input)
        #expect(g1 == g2)
        #expect(g1 != clean)

        // A bare σ above 1 is refused, with the spelling meant.
        let bad = try CLI.run(["run", "read \(input) | noise gaussian:25 | write \(dir)/bad/"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("gaussian:25/255"), "\(bad.stderr)")
        #expect(listFiles(dir).allSatisfy { $0 != "bad" })
    }

    @Test(arguments: [
        (["eval", "--model", "mnist-dae", "--data", "nowhere", "--sigma", "25"], "--sigma applies to convolutional"),
        (["eval", "--model", "mnist-dae", "--data", "nowhere", "--noisy-png"], "--noisy-png applies to convolutional"),
        (["eval", "--model", "photo", "--data", "nowhere", "--iwae", "5"], "--iwae applies to VAEs"),
        (["eval", "--model", "mnist-dae", "--data", "nowhere", "--iwae", "5"], "--iwae applies to VAEs; mnist-dae is a dae"),
        (["eval", "--model", "photo", "--data", "nowhere", "--resize"], "--resize applies to fixed-size models"),
        (["eval", "--model", "photo", "--data", "nowhere", "--noise", "mask:0.3"], "scored on gaussian noise"),
        (["eval", "--model", "photo-color", "--pairs", "nowhere", "--sigma", "15"], "--pairs scores real noise"),
        (["compare", "nowhere", "--model", "mnist-dae", "--crop", "50", "-o", "x.png"], "--crop applies to convolutional models"),
        (["compare", "nowhere", "--model", "mnist-dae", "--sigma", "5", "-o", "x.png"], "--sigma applies to convolutional models"),
    ])
    func optionsAModelCannotUseAreRefused(_ args: [String], _ message: String) throws {
        let r = try CLI.run(args)
        #expect(r.status == 2)
        #expect(r.stderr.contains(message), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "one line: \(r.stderr)")
    }
}
