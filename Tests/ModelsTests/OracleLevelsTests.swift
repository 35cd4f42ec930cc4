import Foundation
import Imaging
import Models
import Testing
import Tensor
import Training

struct OracleLevelsTests {
    /// `eval --oracle-noise` reads the σ each pixel's noise has (what a noise map gives), also
    /// when the noise is spatially correlated: white noise blurred over 4 pixels and scaled back
    /// to σ 10 (a 4x4 block's own standard deviation sees only about a third of that) and
    /// white noise of σ 6 each read within 8%, with the exposures' offset (noisy 0.02 brighter)
    /// not counted as noise.
    @Test(arguments: [(Float(10), true), (6, false)])
    func oracleReadsPixelSigma(sigma: Float, correlated: Bool) {
        let (w, h) = (96, 96), n = w * h
        var rng = RandomGenerator(seed: 4)
        var clean = FloatImage(width: w, height: h, channels: 3, value: 0)
        var noisy = clean
        for c in 0..<3 {
            var plane = (0..<n).map { _ in rng.normal() }
            if correlated {
                // Separable box blur of radius 4 (wrapping), then rescaled to unit variance.
                for pass in 0..<2 {
                    var out = plane
                    for y in 0..<h {
                        for x in 0..<w {
                            var s: Float = 0
                            for d in -4...4 { s += pass == 0 ? plane[y * w + (x + d + w) % w] : plane[((y + d + h) % h) * w + x] }
                            out[y * w + x] = s
                        }
                    }
                    plane = out
                }
                let rms = (plane.reduce(0) { $0 + $1 * $1 } / Float(n)).squareRoot()
                plane = plane.map { $0 / rms }
            }
            for y in 0..<h {
                for x in 0..<w {
                    let v = 0.3 + 0.1 * Float(c) + 0.2 * Float(x) / Float(w)
                    clean[x: x, y: y, c: c] = v
                    noisy[x: x, y: y, c: c] = v + 0.02 + plane[y * w + x] * sigma / 255
                }
            }
        }
        let levels = PairEvaluation.oracleLevels(noisy: noisy, clean: clean)
        #expect(levels != nil)
        for s in levels?.meanSigmas ?? [] {
            #expect(abs(s - sigma) < 0.08 * sigma, "read \(s) for σ \(sigma)")
        }
    }
}

extension OracleLevelsTests {
    /// With the opponent space, the oracle reads the components' σ: grey-correlated noise (a
    /// share ρ = 0.5 of each channel's σ 8 in common) as luma 8√2 and chroma 8√0.5, within 8%.
    @Test func oracleReadsOpponentComponents() {
        let (w, h) = (96, 96), n = w * h
        var rng = RandomGenerator(seed: 9)
        var clean = FloatImage(width: w, height: h, channels: 3, value: 0)
        var noisy = clean
        let common = (0..<n).map { _ in rng.normal() }
        for c in 0..<3 {
            for y in 0..<h {
                for x in 0..<w {
                    let v = 0.3 + 0.1 * Float(c) + 0.2 * Float(y) / Float(h)
                    clean[x: x, y: y, c: c] = v
                    let z = (0.5 as Float).squareRoot() * (common[y * w + x] + rng.normal())
                    noisy[x: x, y: y, c: c] = v + z * 8 / 255
                }
            }
        }
        let read = PairEvaluation.oracleLevels(noisy: noisy, clean: clean, space: .opponent)?.meanSigmas ?? []
        let expected: [Float] = [8 * Float(2).squareRoot(), 8 * Float(0.5).squareRoot(), 8 * Float(0.5).squareRoot()]
        #expect(read.count == 3)
        for (r, e) in zip(read, expected) { #expect(abs(r - e) < 0.08 * e, "read \(read), expected \(expected)") }
    }
}
