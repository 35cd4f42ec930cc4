import Foundation
import Testing
@testable import PNGIO
import TestSupport

/// `--real-noise` (`realnoise=on` in a chain): the network's output guides a block-matching
/// Wiener stage.
@Suite(.serialized)
struct RealNoiseCLITests {
    func pixels(_ path: String) throws -> [UInt8] { try PNGReader.read(path: path).bytes }

    /// Stripes with noise, RGB.
    static func image(_ w: Int, _ h: Int) -> PNGImage {
        var state: UInt64 = 11
        var samples: [Int] = []
        for y in 0..<h { for x in 0..<w { for c in 0..<3 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let base = (x / 5 + y / 7) % 2 == 0 ? 70 : 170
            samples.append(max(0, min(255, base + 20 * c + Int(state >> 59) - 16)))
        } } }
        return PNGImage(width: w, height: h, layout: .rgb, depth: 8, samples: samples)
    }

    /// It changes the output, the chain writes the same bytes, the provenance records the stage
    /// and the σ it was told; an image smaller than a block comes through; models it does not
    /// apply to are refused.
    @Test func realNoiseStage() throws {
        let dir = makeTempDir("realnoise")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try PNGWriter.write(Self.image(40, 33), to: dir + "/in.png")
        try PNGWriter.write(Self.image(6, 5), to: dir + "/tiny.png")
        func denoise(_ input: String, _ out: String, _ extra: [String]) throws -> [UInt8] {
            let r = try CLI.run(["denoise", dir + "/" + input, "-o", "\(dir)/\(out).png", "--model", "photo-color", "--sigma", "10", "--quiet"] + extra)
            #expect(r.status == 0, "\(r.stderr)")
            return try pixels("\(dir)/\(out).png")
        }
        let plain = try denoise("in.png", "plain", [])
        let staged = try denoise("in.png", "staged", ["--real-noise"])
        #expect(staged != plain)
        let r = try CLI.run(["run", "read \(dir)/in.png | denoise photo-color sigma=10 realnoise=on | write \(dir)/r/", "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try pixels(dir + "/r/in.png") == staged)
        let info = try CLI.run(["info", dir + "/staged.png"]).stdout
        #expect(info.contains("latent:chain: denoise photo-color sigma=10 realnoise=on"), "\(info)")
        #expect(info.contains("latent:real-noise: block-matching Wiener stage told σ 45.00"), "\(info)")
        let tiny = try denoise("tiny.png", "tiny-staged", ["--real-noise"])
        #expect(tiny == (try denoise("tiny.png", "tiny-plain", [])))
        let mlp = try CLI.run(["denoise", dir + "/in.png", "--model", "mnist-dae", "--real-noise", "-o", dir + "/bad"])
        #expect(mlp.status == 2 && mlp.stderr.contains("realnoise applies to convolutional models"), "\(mlp.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/bad"))
    }
}
