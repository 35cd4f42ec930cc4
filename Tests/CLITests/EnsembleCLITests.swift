import Foundation
import Testing
@testable import PNGIO
import TestSupport

/// `--ensemble N` (`ensemble=N` in a chain): each image denoised in N orientations, averaged.
@Suite(.serialized)
struct EnsembleCLITests {
    func pixels(_ path: String) throws -> [UInt8] { try PNGReader.read(path: path).bytes }

    /// An RGB image of `w` x `h` random samples, and its copy mirrored left to right or transposed.
    static func images(_ w: Int, _ h: Int) -> (plain: PNGImage, mirrored: PNGImage, transposed: PNGImage) {
        var state: UInt64 = 3
        let samples = (0..<(w * h * 3)).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int(state >> 56)
        }
        func at(_ x: Int, _ y: Int, _ c: Int) -> Int { samples[(y * w + x) * 3 + c] }
        var mirrored: [Int] = [], transposed: [Int] = []
        for y in 0..<h { for x in 0..<w { for c in 0..<3 { mirrored.append(at(w - 1 - x, y, c)) } } }
        for y in 0..<w { for x in 0..<h { for c in 0..<3 { transposed.append(at(y, x, c)) } } }
        return (PNGImage(width: w, height: h, layout: .rgb, depth: 8, samples: samples),
                PNGImage(width: w, height: h, layout: .rgb, depth: 8, samples: mirrored),
                PNGImage(width: h, height: w, layout: .rgb, depth: 8, samples: transposed))
    }

    /// The ensemble changes the output; the chain writes the same bytes and records it; the
    /// result does not depend on how the image is turned (mirrored for 2, transposed for 8:
    /// the output is the plain image's output turned the same way); bad sizes are refused.
    @Test func ensembleAveragesOrientations() throws {
        let dir = makeTempDir("ensemble")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (w, h) = (21, 13)
        let imgs = Self.images(w, h)
        try PNGWriter.write(imgs.plain, to: dir + "/in.png")
        try PNGWriter.write(imgs.mirrored, to: dir + "/mirrored.png")
        try PNGWriter.write(imgs.transposed, to: dir + "/transposed.png")
        func denoise(_ input: String, _ out: String, _ extra: [String]) throws -> [UInt8] {
            let r = try CLI.run(["denoise", dir + "/" + input, "-o", "\(dir)/\(out).png", "--model", "photo-color", "--sigma", "20", "--quiet"] + extra)
            #expect(r.status == 0, "\(r.stderr)")
            return try pixels("\(dir)/\(out).png")
        }
        let plain = try denoise("in.png", "plain", [])
        let two = try denoise("in.png", "two", ["--ensemble", "2"])
        let eight = try denoise("in.png", "eight", ["--ensemble", "8"])
        #expect(two != plain && eight != two)
        // Mirrored input, ensemble 2: the mirror of the plain image's ensemble output.
        let m = try denoise("mirrored.png", "m2", ["--ensemble", "2"])
        var mirroredBack: [UInt8] = []
        for y in 0..<h { for x in 0..<w { for c in 0..<3 { mirroredBack.append(m[(y * w + (w - 1 - x)) * 3 + c]) } } }
        #expect(mirroredBack == two)
        // Without the ensemble the network is not symmetric: the same check fails.
        let m1 = try denoise("mirrored.png", "m1", [])
        var m1Back: [UInt8] = []
        for y in 0..<h { for x in 0..<w { for c in 0..<3 { m1Back.append(m1[(y * w + (w - 1 - x)) * 3 + c]) } } }
        #expect(m1Back != plain)
        // Transposed input, ensemble 8: the transpose of the plain image's.
        let t = try denoise("transposed.png", "t8", ["--ensemble", "8"])
        var transposedBack: [UInt8] = []
        for y in 0..<h { for x in 0..<w { for c in 0..<3 { transposedBack.append(t[(x * h + y) * 3 + c]) } } }
        #expect(transposedBack == eight)
        // The chain: the same bytes, and the provenance says so.
        let r = try CLI.run(["run", "read \(dir)/in.png | denoise photo-color sigma=20 ensemble=2 | write \(dir)/r/", "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try pixels(dir + "/r/in.png") == two)
        let info = try CLI.run(["info", dir + "/two.png"]).stdout
        #expect(info.contains("latent:chain: denoise photo-color sigma=20 ensemble=2"), "\(info)")
        // A comparison sheet records it with what the model was told.
        let sheet = try CLI.run(["compare", dir + "/in.png", "--model", "photo", "--sigma", "20", "--ensemble", "2", "--crop", "16", "-o", dir + "/sheet.png"])
        #expect(sheet.status == 0, "\(sheet.stderr)")
        let sheetInfo = try CLI.run(["info", dir + "/sheet.png"]).stdout
        #expect(sheetInfo.contains(" sigma=20 ensemble=2"), "\(sheetInfo)")
        // Refused: a size that is not 1, 2, 4 or 8, and a fixed-size model.
        let bad = try CLI.run(["denoise", dir + "/in.png", "-o", dir + "/bad", "--ensemble", "3"])
        #expect(bad.status == 64 && bad.stderr.contains("--ensemble must be 1, 2, 4 or 8"), "\(bad.stderr)")
        let chain = try CLI.run(["run", "read \(dir)/in.png | denoise photo ensemble=3 | write \(dir)/bad/"])
        #expect(chain.status == 2 && chain.stderr.contains("ensemble"), "\(chain.stderr)")
        let mlp = try CLI.run(["denoise", dir + "/in.png", "--model", "mnist-dae", "--ensemble", "2", "-o", dir + "/bad"])
        #expect(mlp.status == 2 && mlp.stderr.contains("ensemble applies to convolutional models"), "\(mlp.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/bad"))
    }

    /// `--model auto` on a folder of digits and photos: the photo models' options apply to the
    /// photos; the digits go to mnist-dae without them, and one line says so.
    @Test func autoAppliesTheOptionsToThePhotoModels() throws {
        let dir = makeTempDir("ensemble-auto")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/in", withIntermediateDirectories: true)
        try PNGWriter.write(Self.images(21, 13).plain, to: dir + "/in/photo.png")
        try PNGWriter.write(PNGImage(width: 28, height: 28, layout: .gray, depth: 8, samples: (0..<784).map { ($0 * 37) % 256 }), to: dir + "/in/digit.png")
        let r = try CLI.run(["denoise", dir + "/in", "-o", dir + "/auto", "--ensemble", "2", "--sigma", "20"])
        #expect(r.status == 0, "\(r.stderr)")
        let notes = r.stderr.split(separator: "\n").filter { $0.hasPrefix("latent:") }
        #expect(notes == ["latent: --sigma, --ensemble apply to the photo models: the 1 28x28 grey image going to mnist-dae is denoised without"], "\(r.stderr)")
        let digit = try CLI.run(["denoise", dir + "/in/digit.png", "-o", dir + "/digit.png", "--model", "mnist-dae", "--quiet"])
        #expect(digit.status == 0, "\(digit.stderr)")
        #expect(try pixels(dir + "/auto/digit.png") == pixels(dir + "/digit.png"))
        let photo = try CLI.run(["denoise", dir + "/in/photo.png", "-o", dir + "/photo.png", "--model", "photo", "--ensemble", "2", "--sigma", "20", "--quiet"])
        #expect(photo.status == 0, "\(photo.stderr)")
        #expect(try pixels(dir + "/auto/photo.png") == pixels(dir + "/photo.png"))
    }
}
