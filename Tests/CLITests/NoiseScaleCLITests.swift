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

    /// `--strength F` (`strength=F` in a chain) tells the model F times the σ it measures or is
    /// given: --sigma 5,6,7 --strength 2 gives the pixels of --sigma 10,12,14; the provenance
    /// records what was read and what the model was told; strength 1 is the default.
    @Test func strengthScalesTheNoiseLevelTheModelIsTold() throws {
        let dir = makeTempDir("strength")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let input = dir + "/in.png"
        try FileManager.default.copyItem(atPath: Self.fixture, toPath: input)
        func denoise(_ name: String, _ extra: [String]) throws -> [UInt8] {
            let r = try CLI.run(["denoise", input, "-o", "\(dir)/\(name).png", "--model", "photo-color", "--quiet"] + extra)
            #expect(r.status == 0, "\(r.stderr)")
            return try pixels("\(dir)/\(name).png")
        }
        #expect(try denoise("s2", ["--sigma", "5,6,7", "--strength", "2"]) == denoise("s", ["--sigma", "10,12,14"]))
        #expect(try denoise("plain", ["--sigma", "5,6,7"]) != denoise("s", ["--sigma", "10,12,14"]))
        let info = try CLI.run(["info", dir + "/s2.png"]).stdout
        #expect(info.contains("latent:sigma: given 5.00,6.00,7.00; strength 2: told 10.00,12.00,14.00"), "\(info)")
        #expect(info.contains("latent:chain: denoise photo-color sigma=5,6,7 strength=2"), "\(info)")
        // Measured: the reading, then twice it; the same bytes through a chain.
        let m = try denoise("m", ["--strength", "2"])
        #expect(m != (try denoise("m1", [])))
        let measured = try CLI.run(["info", dir + "/m.png"]).stdout
        let line = measured.split(separator: "\n").first { $0.contains("latent:sigma:") }.map(String.init) ?? ""
        let numbers = line.split(whereSeparator: { " ,:;".contains($0) }).compactMap { Float($0) }
        #expect(numbers.count == 7 && zip(numbers[0..<3], numbers[4..<7]).allSatisfy { abs($0 * 2 - $1) < 0.011 }, "\(line)")
        let r = try CLI.run(["run", "read \(input) | denoise photo-color strength=2 | write \(dir)/r/", "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try bytes(dir + "/r/in.png") == bytes(dir + "/m.png"))
        let bad = try CLI.run(["denoise", input, "-o", dir + "/bad", "--strength", "5"])
        #expect(bad.status == 64 && bad.stderr.contains("--strength must be between 0 and 4"), "\(bad.stderr)")
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
        (["compare", "nowhere", "--model", "mnist-dae", "--strength", "2", "-o", "x.png"], "--strength applies to convolutional models"),
        (["denoise", fixture, "--model", "mnist-dae", "--strength", "2", "-o", "out"], "strength applies to convolutional models"),
        (["run", "read nowhere | denoise photo strength=-1 | write out/"], "strength"),
        (["compare", "nowhere", "--model", "mnist-dae", "--ensemble", "2", "-o", "x.png"], "--ensemble applies to convolutional models"),
        (["eval", "--model", "mnist-dae", "--data", "nowhere", "--ensemble", "2"], "--ensemble applies to convolutional"),
    ])
    func optionsAModelCannotUseAreRefused(_ args: [String], _ message: String) throws {
        let r = try CLI.run(args)
        #expect(r.status == 2)
        #expect(r.stderr.contains(message), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "one line: \(r.stderr)")
    }
}
