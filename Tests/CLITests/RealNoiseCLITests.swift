import Foundation
import Testing
@testable import PNGIO
import TestSupport

/// `--real-noise` (`realnoise=on` in a chain): the network's output guides a block-matching
/// Wiener stage.
@Suite(.serialized)
struct RealNoiseCLITests {
    func pixels(_ path: String) throws -> [UInt8] { try PNGReader.read(path: path).bytes }

    /// Stripes with noise, RGB: white (uniform, ±16) or spatially correlated as a camera's
    /// (the same filtered by [1 2 1]/4 both ways).
    static func image(_ w: Int, _ h: Int, correlated: Bool = false) -> PNGImage {
        var state: UInt64 = 11
        var n = [Double](repeating: 0, count: (w + 2) * (h + 2) * 3)
        for i in n.indices {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            n[i] = Double(state >> 59) - 16
        }
        let k = [0.25, 0.5, 0.25]
        var samples: [Int] = []
        for y in 0..<h { for x in 0..<w { for c in 0..<3 {
            var v = 0.0
            if correlated {
                for dy in 0..<3 { for dx in 0..<3 { v += k[dy] * k[dx] * n[((y + dy) * (w + 2) + x + dx) * 3 + c] } }
                v *= 2
            } else {
                v = n[((y + 1) * (w + 2) + x + 1) * 3 + c]
            }
            let base = x < w / 2 ? 90 + x / 4 : (x / 5 + y / 7) % 2 == 0 ? 70 : 170
            samples.append(max(0, min(255, base + 20 * c + Int(v.rounded()))))
        } } }
        return PNGImage(width: w, height: h, layout: .rgb, depth: 8, samples: samples)
    }

    /// `on` changes the output, the chain writes the same bytes, the provenance records the
    /// stage and the σ it was told; an image smaller than a block comes through; models it does
    /// not apply to are refused.
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
        let plain = try denoise("in.png", "plain", ["--real-noise", "off"])
        let staged = try denoise("in.png", "staged", ["--real-noise", "on"])
        #expect(staged != plain)
        let r = try CLI.run(["run", "read \(dir)/in.png | denoise photo-color sigma=10 realnoise=on | write \(dir)/r/", "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try pixels(dir + "/r/in.png") == staged)
        let info = try CLI.run(["info", dir + "/staged.png"]).stdout
        #expect(info.contains("latent:chain: denoise photo-color sigma=10 realnoise=on"), "\(info)")
        #expect(info.contains("latent:real-noise: on; block-matching Wiener stage told σ 45.00"), "\(info)")
        let tiny = try denoise("tiny.png", "tiny-staged", ["--real-noise", "on"])
        #expect(tiny == (try denoise("tiny.png", "tiny-plain", ["--real-noise", "off"])))
        let mlp = try CLI.run(["denoise", dir + "/in.png", "--model", "mnist-dae", "--real-noise", "on", "-o", dir + "/bad"])
        #expect(mlp.status == 2 && mlp.stderr.contains("realnoise applies to convolutional models"), "\(mlp.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/bad"))
        let bad = try CLI.run(["denoise", dir + "/in.png", "--real-noise", "maybe", "-o", dir + "/bad"])
        #expect(bad.status != 0 && bad.stderr.contains("maybe"), "\(bad.stderr)")
    }

    /// By default (auto) a folder's photo with camera-like noise gets the stage and one with
    /// white noise does not: the bytes of `on` and `off` for each; the JSON summary and the
    /// provenance say so, with the gate's reading.
    @Test func autoDecidesPerImage() throws {
        let dir = makeTempDir("realnoise-auto")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/in", withIntermediateDirectories: true)
        try PNGWriter.write(Self.image(120, 64, correlated: true), to: dir + "/in/camera.png")
        try PNGWriter.write(Self.image(120, 64), to: dir + "/in/white.png")
        var outputs: [String: [String: [UInt8]]] = [:]
        var json = ""
        for mode in ["default", "on", "off"] {
            let r = try CLI.run(["denoise", dir + "/in", "-o", "\(dir)/\(mode)", "--model", "photo-color", "--json"]
                                + (mode == "default" ? [] : ["--real-noise", mode]))
            #expect(r.status == 0, "\(r.stderr)")
            if mode == "default" { json = r.stdout }
            for f in ["camera", "white"] { outputs[mode, default: [:]][f] = try pixels("\(dir)/\(mode)/\(f).png") }
        }
        #expect(outputs["on"]!["camera"] != outputs["off"]!["camera"])
        #expect(outputs["default"]!["camera"] == outputs["on"]!["camera"])
        #expect(outputs["default"]!["white"] == outputs["off"]!["white"])
        let camera = try CLI.run(["info", dir + "/default/camera.png"]).stdout
        #expect(camera.contains("latent:real-noise: auto: noise correlation 0.") && camera.contains("block-matching Wiener stage told σ"), "\(camera)")
        let white = try CLI.run(["info", dir + "/default/white.png"]).stdout
        #expect(white.contains("latent:real-noise: auto: noise correlation -0.") && white.contains("no stage"), "\(white)")
        #expect(json.contains("\"real_noise\":{\"stage\":true,\"correlation\":0."), "\(json)")
        #expect(json.contains("\"real_noise\":{\"stage\":false,\"correlation\":-0."), "\(json)")
    }
}
