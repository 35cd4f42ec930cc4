import Foundation
import Testing
import Tensor
@testable import Training

struct CameraNoiseTests {
    /// On flat colour patches the synthetic camera noise's measured standard deviation per channel
    /// matches the noise map it reports (within 8%, after taking out 8-bit rounding's 1/12 LSB²),
    /// brighter patches are noisier in linear light, and the noise is spatially correlated
    /// (neighbouring pixels' noise correlate positively: the demosaic), with and without the blur
    /// and the in-camera processing (coarse luma, attenuated and blurred chroma).
    @Test(arguments: [(Float(0), false), (0.8, false), (0, true), (0.6, true)])
    func mapMatchesNoise(blur: Float, processed: Bool) {
        let h = 96, w = 96, n = h * w
        var rng = RandomGenerator(seed: 11)
        for (level, colour) in [(0, [Float](arrayLiteral: 0.2, 0.3, 0.25)), (1, [0.6, 0.5, 0.7])] {
            var measured = [Double](repeating: 0, count: 3), predicted = measured, neighbour = measured
            for _ in 0..<8 {
                var st = CameraNoise.Settings.random(&rng, jpegFraction: 0)
                st.shot = 0.01; st.read = 2e-5; st.blur = blur
                if processed { st.lumaMix = 0.6; st.lumaBlur = 2; st.chromaBlur = 1.5; st.chromaScale = 0.3 }
                let clean = (0..<3).flatMap { c in [Float](repeating: colour[c], count: n) }
                var noisy = [Float](repeating: 0, count: 3 * n), map = noisy
                CameraNoise.apply(clean, h: h, w: w, settings: st, rng: &rng, noisy: &noisy, map: &map)
                for c in 0..<3 {
                    var s = 0.0, s2 = 0.0, sn = 0.0
                    for y in 2..<(h - 2) {
                        for x in 2..<(w - 2) {
                            let i = c * n + y * w + x
                            let d = Double(noisy[i] - clean[i]) * 255
                            s += d; s2 += d * d
                            sn += d * Double(noisy[i + 1] - clean[i + 1]) * 255
                            predicted[c] += Double(map[i]) * 255
                        }
                    }
                    let m = Double((h - 4) * (w - 4))
                    measured[c] += (s2 / m - (s / m) * (s / m) - 1.0 / 12).squareRoot()
                    neighbour[c] += (sn / m) / (s2 / m)
                }
            }
            for c in 0..<3 {
                let pred = predicted[c] / Double(8 * (h - 4) * (w - 4)), meas = measured[c] / 8
                #expect(abs(meas / pred - 1) < 0.08, "channel \(c) level \(level): measured σ \(meas), map \(pred)")
                #expect(neighbour[c] / 8 > 0.1, "channel \(c): neighbour correlation \(neighbour[c] / 8)")
            }
        }
    }

    /// JPEG's lossy step: quality 100 changes an image by at most a grey level or two, lower
    /// qualities change noise more than a smooth image.
    @Test func jpegQuantizer() {
        let h = 32, w = 32, n = h * w
        var rng = RandomGenerator(seed: 5)
        let smooth = (0..<(3 * n)).map { i in Float(0.3 + 0.4 * Double((i % n) % w) / Double(w)) }
        let noisy = smooth.map { min(1, max(0, $0 + 0.08 * rng.normal())) }
        func err(_ img: [Float], _ q: Int) -> Float {
            var out = img
            JPEGQuantizer.apply(&out, h: h, w: w, quality: q)
            return zip(out, img).map { abs($0 - $1) }.max()! * 255
        }
        #expect(err(smooth, 100) <= 2)
        #expect(err(noisy, 100) <= 2)
        #expect(err(noisy, 75) > 3 * max(1, err(smooth, 75)))
    }
}
