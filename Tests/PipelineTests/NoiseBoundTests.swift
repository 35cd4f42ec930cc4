import Foundation
import Imaging
import Testing
@testable import Inference
@testable import Models
import Tensor
import TestSupport

/// The noise level function is bounded by the spread of the image's own pixels: an estimator
/// that reads noise where the pixels hardly vary (it learnt that camera noise is strongest near
/// black) does not make the model expect noise that is not there.
struct NoiseBoundTests {
    /// A bin's median reading is capped at `spreadBound` times its blocks' median spread; the
    /// root-mean-square statistic (known noise, the oracle's) and blocks without a spread are not.
    @Test func binsAreBoundedByTheirBlocksSpread() throws {
        let acc = NoiseLevelFunction.Accumulator(channels: 1)
        for _ in 0..<20 { acc.add(channel: 0, brightness: 0.05, sigma: 10, spread: 2) }    // bin 0: bound 2.125 · spreadBound
        for _ in 0..<20 { acc.add(channel: 0, brightness: 0.9, sigma: 10, spread: 12) }    // bin 14: unbound
        let f = try #require(acc.result())
        #expect(abs(f.table[0][0] - 2.125 * NoiseLevelFunction.spreadBound) < 1e-4, "\(f.table[0])")
        #expect(abs(f.table[0][14] - 10.125) < 1e-4, "\(f.table[0])")
        #expect(abs(try #require(acc.result(.rootMeanSquare)).table[0][0] - 10) < 1e-3)
        let free = NoiseLevelFunction.Accumulator(channels: 1)
        for _ in 0..<20 { free.add(channel: 0, brightness: 0.05, sigma: 10) }
        #expect(abs(try #require(free.result()).table[0][0] - 10.125) < 1e-4)
    }

    /// Measured on images: a flat image reads as clean (the lowest σ bin, bounded), and grey noise (the same in R, G and B)
    /// is bounded per channel by its spread and, in an opponent map, leaves the chroma planes
    /// clean while its luma is read, whatever an estimator that reads σ 100 everywhere says.
    @Test func measuredLevelsFollowThePixelsSpread() throws {
        let est = NoiseMapEstimator(channels: 3, width: 8, depth: 2, seed: 5)
        let outputBias = est.parameters[est.parameters.count - 1]
        for c in 0..<3 { outputBias.value.data[c] = 2 }   // σ 100 (before the small random weights)
        func measure(_ img: FloatImage, _ space: NoiseMapSpace) throws -> NoiseLevelFunction {
            var done = false
            return try #require(try NoiseLevelFunction.measure(with: est, width: img.width, height: img.height, space: space) {
                defer { done = true }
                return done ? nil : img
            })
        }
        var flat = FloatImage(width: 64, height: 48, channels: 3)
        for i in 0..<flat.data.count { flat.data[i] = 0.5 }
        for space in NoiseMapSpace.allCases {
            #expect(try measure(flat, space).table.joined().allSatisfy { $0 <= 0.125 * NoiseLevelFunction.spreadBound }, "\(space)")
        }
        var grey = flat
        var rng = RandomGenerator(seed: 6)
        for y in 0..<grey.height {
            for x in 0..<grey.width {
                let n = 10 / 255 * rng.normal()
                for c in 0..<3 { grey[x: x, y: y, c: c] = 0.5 + n }
            }
        }
        let rgb = try measure(grey, .rgb).meanSigmas
        let bound = NoiseLevelFunction.spreadBound
        #expect(rgb.allSatisfy { $0 > 9 * bound && $0 < 11 * bound }, "the bound times an 8x8 window's median spread of σ 10 white noise: \(rgb)")
        let opponent = try measure(grey, .opponent).meanSigmas
        #expect(opponent[0] > 16 * bound && opponent[0] < 18.5 * bound, "luma: the bound times the spread of σ 17.3: \(opponent)")
        #expect(opponent[1] <= 0.125 * bound && opponent[2] <= 0.125 * bound, "no chroma noise: \(opponent)")
    }
}
