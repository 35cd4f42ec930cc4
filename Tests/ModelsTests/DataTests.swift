import CZlib
import Foundation
import Testing
@testable import Models
import Tensor
@testable import Training
import Imaging
import PNGIO
import TestSupport

struct DataTests {
    let dir = makeTempDir("data")

    func writeIDX(_ path: String, shape: [Int], bytes: [UInt8], magicType: UInt8 = 8, gzip: Bool = true) throws {
        var raw: [UInt8] = [0, 0, magicType, UInt8(shape.count)]
        for s in shape { raw += [UInt8(s >> 24 & 255), UInt8(s >> 16 & 255), UInt8(s >> 8 & 255), UInt8(s & 255)] }
        raw += bytes
        if gzip {
            let gz = try #require(gzopen(path, "wb"), "cannot create \(path)")
            let written = raw.withUnsafeBufferPointer { gzwrite(gz, $0.baseAddress, UInt32($0.count)) }
            #expect(gzclose(gz) == Z_OK && written == Int32(raw.count), "wrote \(written) of \(raw.count) bytes to \(path)")
        } else {
            try writeFile(path, Data(raw))
        }
    }

    @Test func readsMNISTFolders() throws {
        let imgs = (0..<(5 * 4 * 3)).map { UInt8($0 * 4) }
        try writeIDX(dir + "/train-images-idx3-ubyte.gz", shape: [5, 4, 3], bytes: imgs)
        try writeIDX(dir + "/train-labels-idx1-ubyte.gz", shape: [5], bytes: [1, 2, 3, 4, 5])
        try writeIDX(dir + "/t10k-images-idx3-ubyte", shape: [2, 4, 3], bytes: Array(imgs[0..<24]), gzip: false)
        #expect(MNIST.isMNISTFolder(dir))
        let (train, test) = try MNIST.load(folder: dir)
        #expect(train.count == 5 && train.width == 3 && train.height == 4)
        #expect(train.labels == [1, 2, 3, 4, 5])
        #expect(train.data[1] == Float(4) / 255)
        #expect(test.count == 2)
    }

    @Test func badIDXFiles() throws {
        try writeIDX(dir + "/bad.gz", shape: [2, 2], bytes: [1, 2, 3, 4], magicType: 0x0D)
        #expect(throws: DatasetError.self) { try MNIST.load(images: dir + "/bad.gz") }
        try writeIDX(dir + "/short.gz", shape: [3, 2, 2], bytes: [1, 2, 3])
        do {
            _ = try MNIST.load(images: dir + "/short.gz")
            Issue.record("accepted a short file")
        } catch let e as DatasetError {
            guard case .badIDX(_, let reason) = e else { Issue.record("\(e)"); return }
            #expect(reason.contains("needs 12 bytes"))
        } catch { Issue.record("\(error)") }
    }

    @Test func pngFolderDatasetResizesAndSkipsBadFiles() throws {
        for i in 0..<5 {
            let img = PNGImage(width: 16, height: 12, layout: .rgb, depth: 8, samples: (0..<(16 * 12 * 3)).map { ($0 * 7 + i) % 256 })
            try PNGWriter.write(img, to: dir + "/img\(i).png")
        }
        try writeFile(dir + "/broken.png", Data([0x89, 0x50, 0x4E, 0x47]))
        let (d, failures) = try PNGFolderDataset.load(folder: dir, width: 8, height: 6, channels: 3)
        #expect(d.count == 5)
        #expect(d.dim == 8 * 6 * 3)
        #expect(failures.count == 1 && failures[0].contains("broken.png"))
        #expect(d.data.allSatisfy { $0 >= 0 && $0 <= 1 })
        let (tr, va) = d.split(validation: 0.2, seed: 1)
        #expect(tr.count == 4 && va.count == 1)
    }

    /// `latent-bench heldout` (and so `scripts/heldout_photos.py`) lists the files whose images
    /// `loadSplit` holds out for validation: the same images, in its order; a file too small
    /// for the patch is in neither.
    @Test func heldOutPathsAreTheValidationSplit() throws {
        let dir = makeTempDir("heldout")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for i in 0..<23 { try writeImage(dir + "/p\(i).png", width: 20 + i % 3, height: 17, layout: .rgb, seed: i + 1) }
        try writeImage(dir + "/tiny.png", width: 8, height: 8, layout: .rgb)
        let split = try PatchTrainer.loadSplit(dir, validation: nil, channels: 3, patch: 16, seed: 11)
        let paths = try PatchTrainer.heldOutPaths(dir, channels: 3, patch: 16, seed: 11)
        #expect(paths.count == 2 && split.validation.count == 2 && split.train.count == 21)
        let images = try paths.map { FloatImage(try PNGReader.read(path: $0, layout: .rgb, depth: 16)) }
        #expect(images.map(\.data) == split.validation.map(\.data))
        #expect(!paths.contains { $0.hasSuffix("tiny.png") })
        #expect(try PatchTrainer.heldOutPaths(dir, channels: 3, patch: 16, seed: 12) != paths)
    }

    @Test func corruptionsParseAndBehave() throws {
        #expect(Corruption("gaussian:0.5") == .gaussian(sigma: 0.5))
        #expect(Corruption("mask:0.3") == .mask(p: 0.3))
        #expect(Corruption("saltpepper:0.1") == .saltPepper(p: 0.1))
        #expect(Corruption("mask:1.5") == nil)
        #expect(Corruption("blur:2") == nil)
        // One noise scale: a bare gaussian σ is a fraction of the range, the unit written says grey levels.
        #expect(Corruption("gaussian:25/255") == .gaussian(sigma: 25 / 255))
        #expect(Corruption("gaussian:0.5/2") == .gaussian(sigma: 0.25))
        #expect(Corruption("gaussian:25") == nil)
        #expect(Corruption("gaussian:1/0") == nil)
        #expect(throws: NoiseSpecError.self) { try Corruption.parse("gaussian:25") }
        do { _ = try Corruption.parse("gaussian:25") } catch { #expect("\(error)".contains("gaussian:25/255")) }
        #expect(NoiseLevel.greyLevels("25") == 25 && NoiseLevel.greyLevels("25/255") == 25 && NoiseLevel.greyLevels("0.5/1") == 127.5)
        #expect(NoiseLevel.greyLevels("-1") == nil && NoiseLevel.greyLevels("1/2/3") == nil && NoiseLevel.greyLevels("x") == nil)
        #expect(try NoiseLevel.trainingRange("gaussian:0-60/255") == 0...60)
        #expect(try NoiseLevel.trainingRange("gaussian:0-0.2") == 0...(0.2 * 255))
        #expect(try NoiseLevel.trainingRange("gaussian:25/255") == 25...25)
        for bad in ["gaussian:0-60", "gaussian:30-10/255", "mask:0-1", "gaussian:0-300/255", "gaussian:a-b"] {
            #expect(throws: NoiseSpecError.self, "\(bad)") { try NoiseLevel.trainingRange(bad) }
        }
        var rng = RandomGenerator(seed: 1)
        let n = 100_000
        let src = [Float](repeating: 0.5, count: n)
        var dst = [Float](repeating: 0, count: n)
        Corruption.mask(p: 0.3).apply(src, &dst, count: n, rng: &rng)
        let zeros = dst.filter { $0 == 0 }.count
        #expect(abs(Double(zeros) / Double(n) - 0.3) < 0.01)
        Corruption.gaussian(sigma: 0.1).apply(src, &dst, count: n, rng: &rng)
        let sd = (dst.reduce(0.0) { $0 + Double(($1 - 0.5) * ($1 - 0.5)) } / Double(n)).squareRoot()
        #expect(abs(sd - 0.1) < 0.005)
        Corruption.saltPepper(p: 0.2).apply(src, &dst, count: n, rng: &rng)
        #expect(abs(Double(dst.filter { $0 == 1 }.count) / Double(n) - 0.1) < 0.01)
        #expect(Sparsity("kl:0.05:3") == .kl(target: 0.05, weight: 3))
        #expect(Sparsity("1e-3") == .l1(weight: 1e-3))
    }
}
