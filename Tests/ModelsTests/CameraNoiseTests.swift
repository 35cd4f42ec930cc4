import Foundation
import Imaging
import Models
import Testing
import NN
import Tensor
@testable import Training

struct CameraNoiseTests {
    /// On flat colour patches the synthetic camera noise's measured standard deviation per channel
    /// matches the noise map it reports (within 8%, after taking out 8-bit rounding's 1/12 LSB²),
    /// brighter patches are noisier in linear light, and the noise is spatially correlated
    /// (neighbouring pixels' noise correlate positively: the demosaic), with and without the blur
    /// and the in-camera processing (coarse luma, attenuated and blurred chroma; 2: the correlated
    /// mode's luma component scaled back up to 30% of the variance; 3: the reduced-chroma mode's
    /// chroma scaled to 10% of luma's variance, a scale found on the patch; 4: a tone-curve toe).
    @Test(arguments: [(Float(0), 0), (0.8, 0), (0, 1), (0.6, 1), (0, 2), (0.7, 2), (0, 3), (0, 4)])
    func mapMatchesNoise(blur: Float, processed: Int) {
        // The measure keeps away from the borders by the widest blur's reach (reflected noise
        // there is correlated with itself).
        let h = processed == 2 ? 128 : 96, w = h, n = h * w, e = processed == 2 ? 16 : 2
        var rng = RandomGenerator(seed: 11)
        for (level, colour) in [(0, [Float](arrayLiteral: 0.2, 0.3, 0.25)), (1, [0.6, 0.5, 0.7])] {
            var measured = [Double](repeating: 0, count: 3), predicted = measured, neighbour = measured
            for _ in 0..<8 {
                var st = CameraNoise.Settings.random(&rng, jpegFraction: 0)
                // (The correlated mode's component adds variance: less shot noise keeps the dark
                // patch's noise as far from clipping as in the other modes.)
                st.shot = processed == 2 ? 0.004 : 0.01; st.read = 2e-5; st.blur = blur
                if processed == 1 { st.lumaMix = 0.6; st.lumaBlur = 2; st.chromaBlur = 1.5; st.chromaScale = 0.3 }
                if processed == 2 {
                    st.addCoarseLuma(share: 0.3, blur: 4); st.chromaBlur = 2; st.chromaScale = 0.3
                }
                if processed == 3 { st.chromaBlur = 2.5; st.chromaToLuma = 0.1 }
                if processed == 4 { st.toe = 0.25 }
                let clean = (0..<3).flatMap { c in [Float](repeating: colour[c], count: n) }
                var noisy = [Float](repeating: 0, count: 3 * n), map = noisy
                CameraNoise.apply(clean, h: h, w: w, settings: st, rng: &rng, noisy: &noisy, map: &map)
                for c in 0..<3 {
                    var s = 0.0, s2 = 0.0, sn = 0.0
                    for y in e..<(h - e) {
                        for x in e..<(w - e) {
                            let i = c * n + y * w + x
                            let d = Double(noisy[i] - clean[i]) * 255
                            s += d; s2 += d * d
                            sn += d * Double(noisy[i + 1] - clean[i + 1]) * 255
                            predicted[c] += Double(map[i]) * 255
                        }
                    }
                    let m = Double((h - 2 * e) * (w - 2 * e))
                    measured[c] += (s2 / m - (s / m) * (s / m) - 1.0 / 12).squareRoot()
                    neighbour[c] += (sn / m) / (s2 / m)
                }
            }
            for c in 0..<3 {
                let pred = predicted[c] / Double(8 * (h - 2 * e) * (w - 2 * e)), meas = measured[c] / 8
                #expect(abs(meas / pred - 1) < 0.08, "channel \(c) level \(level): measured σ \(meas), map \(pred)")
                #expect(neighbour[c] / 8 > 0.1, "channel \(c): neighbour correlation \(neighbour[c] / 8)")
            }
        }
    }

    /// The expected value `apply` gives (the mean-of-shots target) is what the noisy pixels
    /// average to: on flat patches where the noise is strong against the signal (near black,
    /// where clipping lifts the mean, and in the shadows, where the concave curve lowers it),
    /// with and without the processing and a toe, in both map spaces, the mean of the noisy
    /// pixels is within 0.2 grey levels of the expected value's, which itself is more than 0.5
    /// from the clean level (so that a target equal to the clean patch would fail).
    @Test(arguments: [(0, NoiseMapSpace.rgb), (1, .rgb), (2, .opponent)])
    func expectedIsTheMeanOfTheNoisyPixels(variant: Int, space: NoiseMapSpace) {
        let h = 96, w = 96, n = h * w, e = 4
        var rng = RandomGenerator(seed: 31)
        for level: Float in [0.01, 0.15] {
            var noisyMean = [Double](repeating: 0, count: 3), expectedMean = noisyMean
            let shots = 16
            var st = CameraNoise.Settings.random(&rng, jpegFraction: 0)
            st.shot = 0.006; st.read = 3e-5; st.blur = 0
            if variant == 1 { st.lumaMix = 0.6; st.lumaBlur = 2; st.chromaBlur = 1.5; st.chromaScale = 0.3 }
            if variant == 2 { st.toe = 0.2; st.blur = 0.6 }
            let clean = [Float](repeating: level, count: 3 * n)
            for _ in 0..<shots {
                var noisy = [Float](repeating: 0, count: 3 * n), map = noisy, expected = noisy
                CameraNoise.apply(clean, h: h, w: w, settings: st, rng: &rng, noisy: &noisy, map: &map, space: space, expected: &expected)
                for c in 0..<3 {
                    for y in e..<(h - e) {
                        for x in e..<(w - e) {
                            noisyMean[c] += Double(noisy[c * n + y * w + x])
                            expectedMean[c] += Double(expected[c * n + y * w + x])
                        }
                    }
                }
            }
            let count = Double(shots * (h - 2 * e) * (w - 2 * e))
            var shifted = false
            for c in 0..<3 {
                let measured = noisyMean[c] / count * 255, predicted = expectedMean[c] / count * 255
                #expect(abs(measured - predicted) < 0.2, "level \(level) channel \(c): noisy mean \(measured), expected \(predicted)")
                if abs(predicted - Double(level) * 255) > 0.5 { shifted = true }
            }
            #expect(shifted, "level \(level): the expected value is the clean level; the test needs a shift")
        }
    }

    /// `jpegQualities`: the qualities drawn lie in the range and cover it; the default is the
    /// range the settings drew from before the option.
    @Test func jpegQualitiesAreDrawnFromTheRange() {
        var rng = RandomGenerator(seed: 9)
        var seen = Set<Int>()
        for _ in 0..<400 {
            let st = CameraNoise.Settings.random(&rng, jpegFraction: 1, jpegQualities: 60...64)
            if let q = st.jpegQuality { seen.insert(q) }
        }
        #expect(seen == Set(60...64))
        #expect(CameraNoise.Settings.defaultJPEGQualities == 70...97)
        var a = RandomGenerator(seed: 3), b = a
        for _ in 0..<50 {
            let x = CameraNoise.Settings.random(&a, jpegFraction: 0.5), y = CameraNoise.Settings.random(&b, jpegFraction: 0.5, jpegQualities: 70...97)
            #expect(x.jpegQuality == y.jpegQuality && x.shot == y.shot && x.matrix == y.matrix)
        }
    }

    /// The correlated mode draws noise as real photos have it (scripts/noise_stats.py on
    /// polyu-val: correlation 0.29 four pixels away, 0.62 across channels), which the coarse mode
    /// does not reach (0.13 and 0.18 there).
    /// The toe keeps black and white where they are and inverts exactly; on a near-black patch
    /// it weakens the noise (as real cameras' weakens towards black) and the map follows; and
    /// settings drawn without it are the settings drawn before it existed.
    @Test func toeWeakensNoiseNearBlack() {
        for toe: Float in [0.05, 0.15, 0.3] {
            #expect(abs(CameraNoise.display(1, toe: toe) - 1) < 1e-6 && CameraNoise.display(0, toe: toe) == 0)
            for v: Float in [0.005, 0.02, 0.1, 0.5, 0.9] {
                #expect(abs(CameraNoise.display(CameraNoise.linear(v, toe: toe), toe: toe) - v) < 1e-5, "toe \(toe), v \(v)")
            }
        }
        let h = 64, w = 64, n = h * w
        func noiseOnDarkPatch(toe: Float) -> (measured: Double, map: Double) {
            var rng = RandomGenerator(seed: 21)
            var st = CameraNoise.Settings.random(&rng, jpegFraction: 0)
            st.shot = 0.01; st.read = 2e-5; st.blur = 0; st.toe = toe
            let clean = [Float](repeating: 0.03, count: 3 * n)   // level 8
            var noisy = [Float](repeating: 0, count: 3 * n), map = noisy
            CameraNoise.apply(clean, h: h, w: w, settings: st, rng: &rng, noisy: &noisy, map: &map)
            let d = zip(noisy, clean).map { Double($0 - $1) * 255 }
            let mean = d.reduce(0, +) / Double(d.count)
            return ((d.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(d.count)).squareRoot(), Double(map.reduce(0, +)) / Double(map.count) * 255)
        }
        let plain = noiseOnDarkPatch(toe: 0), toed = noiseOnDarkPatch(toe: 0.25)
        #expect(toed.measured < 0.8 * plain.measured, "\(toed) against \(plain)")
        #expect(toed.map < 0.8 * plain.map && abs(toed.map / toed.measured - 1) < 0.15, "\(toed) against \(plain)")
        var a = RandomGenerator(seed: 5), b = a
        for _ in 0..<20 {
            let x = CameraNoise.Settings.random(&a, jpegFraction: 0.5, processing: .correlated)
            let y = CameraNoise.Settings.random(&b, jpegFraction: 0.5, processing: .correlated, toeFraction: 0)
            #expect(x.shot == y.shot && x.read == y.read && x.matrix == y.matrix && x.lumaBlur == y.lumaBlur && y.toe == 0)
        }
    }

    @Test func correlatedModeIsCorrelated() {
        func stats(_ mode: CameraNoise.Processing) -> (lag4: Double, cross: Double) {
            let h = 96, w = 96, n = h * w
            var rng = RandomGenerator(seed: 4)
            var lag4 = 0.0, cross = 0.0
            let count = 40
            for _ in 0..<count {
                let st = CameraNoise.Settings.random(&rng, jpegFraction: 0, processing: mode)
                let clean = [Float](repeating: 0.45, count: 3 * n)
                var noisy = clean, map = clean
                CameraNoise.apply(clean, h: h, w: w, settings: st, rng: &rng, noisy: &noisy, map: &map)
                let e = (0..<(3 * n)).map { Double(noisy[$0] - clean[$0]) }
                var v = [Double](repeating: 0, count: 3), a4 = 0.0, rg = 0.0
                for y in 0..<h {
                    for x in 0..<w {
                        let i = y * w + x
                        for c in 0..<3 { v[c] += e[c * n + i] * e[c * n + i] }
                        if x + 4 < w { a4 += e[n + i] * e[n + i + 4] }
                        rg += e[i] * e[n + i]
                    }
                }
                lag4 += a4 / Double(h * (w - 4)) / (v[1] / Double(n)) / Double(count)
                cross += rg / (v[0] * v[1]).squareRoot() / Double(count)
            }
            return (lag4, cross)
        }
        let coarse = stats(.coarse), correlated = stats(.correlated)
        #expect(correlated.lag4 > coarse.lag4 + 0.05, "lag-4 correlation \(correlated.lag4) vs coarse \(coarse.lag4)")
        #expect(correlated.cross > coarse.cross + 0.05, "cross-channel correlation \(correlated.cross) vs coarse \(coarse.cross)")
    }

    /// The reduced- and smooth-chroma modes: in the patches where they draw a chroma share, the
    /// noise's chroma (YCbCr) variance is that share of luma's (within 25%; a grey patch, so the
    /// tone curve scales every channel alike), chroma is smooth (correlated 0.3 or more four pixels
    /// away; 0.4 for smooth-chroma, blurred over 2.5 pixels or more), smooth-chroma's luma is
    /// finer than its chroma (four pixels away, correlated at least 0.2 less on average, as in
    /// real photos' flat areas), and the other half of the patches keep chroma at least as strong
    /// as luma, as the coarse mode has it.
    @Test(arguments: [CameraNoise.Processing.reducedChroma, .smoothChroma])
    func chromaModesHitTheirShare(mode: CameraNoise.Processing) {
        let h = 96, w = 96, n = h * w
        var rng = RandomGenerator(seed: 6)
        var reduced = 0, kept = 0, lumaLag4 = 0.0, chromaLag4 = 0.0
        for _ in 0..<24 {
            var st = CameraNoise.Settings.random(&rng, jpegFraction: 0, processing: mode)
            st.shot = 0.01; st.read = 2e-5   // well above 8-bit rounding's noise
            let clean = [Float](repeating: 0.45, count: 3 * n)
            var noisy = clean, map = clean
            CameraNoise.apply(clean, h: h, w: w, settings: st, rng: &rng, noisy: &noisy, map: &map)
            // The noise in YCbCr (JFIF, the matrix the in-camera processing uses).
            let planes = (0..<3).map { q in
                (0..<n).map { i in (0..<3).reduce(0.0) { $0 + Double(CameraNoise.ycc[q * 3 + $1]) * Double(noisy[$1 * n + i] - clean[$1 * n + i]) } }
            }
            let (y, cb, cr) = (planes[0], planes[1], planes[2])
            func variance(_ p: [Double]) -> Double { p.map { $0 * $0 }.reduce(0, +) / Double(n) }
            func lag4(_ p: [Double]) -> Double {
                var sum = 0.0
                for row in 0..<h { for x in 0..<(w - 4) { sum += p[row * w + x] * p[row * w + x + 4] } }
                return sum / Double(h * (w - 4)) / variance(p)
            }
            let share = (variance(cb) + variance(cr)) / 2 / variance(y)
            if let target = st.chromaToLuma {
                reduced += 1
                #expect(abs(share / Double(target) - 1) < 0.25, "chroma share \(share), drawn \(target)")
                let chromaLag = lag4(cb)
                #expect(chromaLag > (mode == .smoothChroma ? 0.4 : 0.3), "chroma not smooth: \(chromaLag)")
                lumaLag4 += lag4(y); chromaLag4 += chromaLag
            } else {
                kept += 1
            }
        }
        #expect(reduced >= 6 && kept >= 6, "\(reduced) reduced, \(kept) kept")
        if mode == .smoothChroma {
            #expect(chromaLag4 - lumaLag4 > 0.2 * Double(reduced), "four pixels away: luma \(lumaLag4 / Double(reduced)), chroma \(chromaLag4 / Double(reduced))")
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

    /// --flat-camera-maps: a camera-like patch gets the same noise with its map's mean per
    /// channel at every pixel (the map pixel by pixel otherwise, which varies with brightness).
    @Test func flatCameraMapsAreTheMapsMeans() {
        let shape = FeatureShape(c: 3, h: 32, w: 32), plane = 32 * 32
        let clean = (0..<shape.count).map { i in 0.1 + 0.8 * Float(i % plane) / Float(plane) }
        var options = PatchTrainingOptions()
        options.cameraFraction = 1
        var results: [(noisy: [Float], map: [Float])] = []
        for flat in [false, true] {
            options.flatCameraMaps = flat
            var rng = RandomGenerator(seed: 21)
            var noisy = [Float](repeating: 0, count: shape.count), map = noisy, target = clean
            PatchTrainer.addNoiseWithMap(&target, into: &noisy, map: &map, shape: shape, options: options, rng: &rng)
            results.append((noisy, map))
        }
        #expect(results[0].noisy == results[1].noisy, "the same noise either way")
        for c in 0..<3 {
            let perPixel = results[0].map[(c * plane)..<((c + 1) * plane)], flat = results[1].map[(c * plane)..<((c + 1) * plane)]
            #expect(perPixel.max()! > perPixel.min()! * 1.05, "channel \(c): the map follows brightness")
            #expect(Set(flat).count == 1, "channel \(c): one value")
            let mean = perPixel.reduce(0, +) / Float(plane)
            #expect(abs(flat.first! - mean) <= 1e-5 * max(1, mean))
        }
    }

    /// --halved-copies: each photo, then each one at half size (2x2 means), those too small for
    /// a patch left out.
    @Test func halvedCopiesAreTwoByTwoMeans() {
        let big = FloatImage(width: 8, height: 10, channels: 2, data: (0..<160).map { Float($0 * $0 % 37) / 37 })
        let small = FloatImage(width: 6, height: 6, channels: 2, value: 0.5)
        let out = PatchTrainer.withHalvedCopies([big, small], patch: 4)
        #expect(out.count == 3)
        #expect(out[0].data == big.data && out[1].data == small.data)
        let half = out[2]
        #expect(half.width == 4 && half.height == 5 && half.channels == 2)
        for c in 0..<2 {
            for y in 0..<5 {
                for x in 0..<4 {
                    let mean = (big[x: 2 * x, y: 2 * y, c: c] + big[x: 2 * x + 1, y: 2 * y, c: c] + big[x: 2 * x, y: 2 * y + 1, c: c]
                        + big[x: 2 * x + 1, y: 2 * y + 1, c: c]) / 4
                    #expect(abs(half[x: x, y: y, c: c] - mean) < 1e-6)
                }
            }
        }
    }
}
