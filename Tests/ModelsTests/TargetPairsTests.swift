import Foundation
import Testing
import Imaging
import NN
import PNGIO
import Tensor
@testable import Training
import TestSupport

/// `--teacher-pairs` (distillation): pairs of a noisy input and a given target, sampled as
/// patches with the same crop and orientation in both, and the input's σ as the map.
struct TargetPairsTests {
    /// A pair whose noisy pixels say where they are (R = 8x, G = 8y, B = 40·tag) and whose
    /// target is the noisy image's negative.
    static func writePair(_ folder: String, _ name: String, width: Int, height: Int, tag: Int, teacher: Bool = true) throws {
        var noisy = [Int](), target = [Int]()
        for y in 0..<height {
            for x in 0..<width {
                let px = [8 * x, 8 * y, 40 * tag]
                noisy += px
                target += px.map { 255 - $0 }
            }
        }
        try FileManager.default.createDirectory(atPath: folder + "/noisy", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: folder + "/teacher", withIntermediateDirectories: true)
        try PNGWriter.write(PNGImage(width: width, height: height, layout: .rgb, depth: 8, samples: noisy), to: folder + "/noisy/" + name)
        if teacher { try PNGWriter.write(PNGImage(width: width, height: height, layout: .rgb, depth: 8, samples: target), to: folder + "/teacher/" + name) }
    }

    @Test func patchesKeepInputTargetAndSigmaTogether() throws {
        let dir = makeTempDir("pairs")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.writePair(dir + "/a", "1.png", width: 20, height: 14, tag: 1)
        try Self.writePair(dir + "/a", "2.png", width: 13, height: 17, tag: 2)
        try Self.writePair(dir + "/b", "1.png", width: 16, height: 16, tag: 3)
        var pairs = TargetPairs()
        try pairs.add(folder: dir + "/a", sigma: 15, minSide: 8)
        try pairs.add(folder: dir + "/b", sigma: 40, minSide: 8)
        #expect(pairs.pairs.count == 3 && pairs.failures.isEmpty)
        var options = PatchTrainingOptions()
        options.targetPairs = pairs
        options.targetPairFraction = 1
        let p = 8, shape = FeatureShape(c: 3, h: p, w: p)
        var x = [Float](repeating: 0, count: shape.count), t = x, m = x
        var rng = RandomGenerator(seed: 3)
        var tagsSeen = Set<Int>(), orientations = Set<[Int]>()
        for _ in 0..<200 {
            let sigma = PatchTrainer.trainingPatch([], shape: shape, options: options, rng: &rng, target: &t, noisy: &x, map: &m)
            #expect(sigma == 0)
            func at(_ c: Int, _ y: Int, _ xx: Int) -> Int { Int((x[(c * p + y) * p + xx] * 255).rounded()) }
            let tag = at(2, 0, 0) / 40
            tagsSeen.insert(tag)
            #expect(m.allSatisfy { $0 == (tag == 3 ? 40 : 15) / 50 }, "the map is σ/50 of the pair's folder")
            #expect(zip(x, t).allSatisfy { abs($0 + $1 - 1) < 1e-6 }, "the target is the same crop in the same orientation")
            // Neighbours in the patch are neighbours in the image: a crop, flipped or turned.
            let dxRight = [at(0, 0, 1) - at(0, 0, 0), at(1, 0, 1) - at(1, 0, 0)]
            let dxDown = [at(0, 1, 0) - at(0, 0, 0), at(1, 1, 0) - at(1, 0, 0)]
            orientations.insert(dxRight + dxDown)
            for y in 0..<p {
                for xx in 0..<p {
                    #expect(at(2, y, xx) == 40 * tag)
                    #expect(at(0, y, xx) == at(0, 0, 0) + xx * dxRight[0] + y * dxDown[0] && at(1, y, xx) == at(1, 0, 0) + xx * dxRight[1] + y * dxDown[1])
                }
            }
            #expect(abs(dxRight[0]) + abs(dxRight[1]) == 8 && abs(dxDown[0]) + abs(dxDown[1]) == 8 && dxRight[0] * dxDown[0] + dxRight[1] * dxDown[1] == 0)
        }
        #expect(tagsSeen == [1, 2, 3] && orientations.count == 8)
        #expect(options.metadata["train_teacher_pairs"] == "3 pairs, σ 15,40, fraction 1.0")
    }

    @Test func aShareOfPatchesComesFromThePairs() throws {
        let dir = makeTempDir("pairshare")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.writePair(dir, "1.png", width: 16, height: 16, tag: 6)
        var pairs = TargetPairs()
        try pairs.add(folder: dir, sigma: 25, minSide: 8)
        var options = PatchTrainingOptions()
        options.targetPairs = pairs
        options.targetPairFraction = 0.25
        let shape = FeatureShape(c: 3, h: 8, w: 8)
        let clean = [FloatImage(width: 16, height: 16, channels: 3, value: 0.5)]
        var x = [Float](repeating: 0, count: shape.count), t = x, m = x
        var rng = RandomGenerator(seed: 9)
        var fromPairs = 0
        for _ in 0..<400 {
            _ = PatchTrainer.trainingPatch(clean, shape: shape, options: options, rng: &rng, target: &t, noisy: &x, map: &m)
            if t.allSatisfy({ $0 != 0.5 }) { fromPairs += 1 } else { #expect(t.allSatisfy { $0 == 0.5 }) }
        }
        #expect((70...130).contains(fromPairs), "\(fromPairs) of 400 patches from the pairs at a share of 0.25")
        // A model without maps never draws from them.
        for _ in 0..<50 {
            _ = PatchTrainer.trainingPatch(clean, shape: shape, options: options, rng: &rng, target: &t, noisy: &x, map: nil)
            #expect(t.allSatisfy { $0 == 0.5 })
        }
    }

    @Test func badFoldersAreNamed() throws {
        let dir = makeTempDir("pairbad")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var pairs = TargetPairs()
        #expect(throws: PairEvaluation.PairError.self) { try pairs.add(folder: dir, sigma: 25, minSide: 8) }
        try Self.writePair(dir, "ok.png", width: 16, height: 16, tag: 1)
        try Self.writePair(dir, "alone.png", width: 16, height: 16, tag: 1, teacher: false)
        try Self.writePair(dir, "small.png", width: 6, height: 16, tag: 1)
        try PNGWriter.write(PNGImage(width: 15, height: 16, layout: .rgb, depth: 8), to: dir + "/teacher/size.png")
        try PNGWriter.write(PNGImage(width: 16, height: 16, layout: .rgb, depth: 8), to: dir + "/noisy/size.png")
        try writeFile(dir + "/noisy/bad.png", Data("not a png".utf8))
        try writeFile(dir + "/teacher/bad.png", Data("not a png".utf8))
        try pairs.add(folder: dir, sigma: 25, minSide: 8)
        #expect(pairs.pairs.map(\.name) == ["ok.png"])
        let failures = pairs.failures.joined(separator: "\n")
        #expect(pairs.failures.count == 4, "\(failures)")
        #expect(failures.contains("noisy/alone.png: no teacher/alone.png beside it"))
        #expect(failures.contains("noisy/small.png: smaller than the 8-pixel patch"))
        #expect(failures.contains("noisy/size.png: 16x16, its teacher output 15x16"))
        #expect(failures.contains("bad.png"))
    }
}
