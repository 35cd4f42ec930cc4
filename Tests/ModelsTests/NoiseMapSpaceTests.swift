import Foundation
import Imaging
import NN
import Testing
@testable import Models
import Tensor
@testable import Training

/// The opponent noise map (`NoiseMapSpace.opponent`): the conversions, and the maps training
/// gives with it measured against the noise they describe.
struct NoiseMapSpaceTests {
    /// Independent noise of σ in every channel is σ in every opponent component (the same map as
    /// per channel); grey-correlated noise (a share ρ of each channel's variance in common) has
    /// luma σ√(1 + 2ρ) and chroma σ√(1 − ρ); back to channels, each gives σ; unequal
    /// independent σ spread into the components by the basis' squared weights.
    @Test func conversions() {
        let o = NoiseMapSpace.opponent
        for v in o.sigmas(independentRGB: [7, 7, 7]) { #expect(abs(v - 7) < 1e-4) }
        let rho: Float = 0.6, s: Float = 5
        var cov = [Float](repeating: s * s * rho, count: 9)
        for c in 0..<3 { cov[c * 4] = s * s }
        let m = o.sigmas(covariance: cov)
        #expect(abs(m[0] - s * (1 + 2 * rho).squareRoot()) < 1e-4)
        #expect(abs(m[1] - s * (1 - rho).squareRoot()) < 1e-4 && abs(m[2] - s * (1 - rho).squareRoot()) < 1e-4)
        for v in o.rgbSigmas(m) { #expect(abs(v - s) < 1e-3) }
        let u = o.sigmas(independentRGB: [3, 4, 12])
        #expect(abs(u[0] - ((9 + 16 + 144) / 3 as Float).squareRoot()) < 1e-4)
        #expect(abs(u[1] - ((9 + 144) / 2 as Float).squareRoot()) < 1e-4)
        #expect(abs(u[2] - ((9 + 4 * 16 + 144) / 6 as Float).squareRoot()) < 1e-4)
        #expect(NoiseMapSpace.rgb.sigmas(independentRGB: [3, 4, 12]) == [3, 4, 12])
        #expect(NoiseMapSpace.rgb.rgbSigmas([3, 4, 12]) == [3, 4, 12])
    }

    /// Camera-like noise on flat patches, with the opponent map: each component's measured σ
    /// matches the map within 8% (plain, blurred, and with the in-camera processing that makes
    /// luma coarse and chroma weak), and the luma component is over 15% off what independent
    /// noise of the same per-channel σ would have (demosaicing, the colour matrix and the
    /// processing correlate the channels), which the per-channel map cannot say.
    @Test(arguments: [(Float(0), 0), (0.8, 0), (0, 1), (0, 3)])
    func cameraOpponentMapMatchesNoise(blur: Float, processed: Int) {
        let h = 96, w = 96, n = h * w, e = 4
        var rng = RandomGenerator(seed: 12)
        let colour: [Float] = [0.45, 0.4, 0.5]
        var measured = [Double](repeating: 0, count: 3), predicted = measured, perChannel = measured
        let rounds = 6
        for _ in 0..<rounds {
            var st = CameraNoise.Settings.random(&rng, jpegFraction: 0)
            st.shot = 0.004; st.read = 1e-5; st.blur = blur
            if processed == 1 { st.lumaMix = 0.6; st.lumaBlur = 2; st.chromaBlur = 1.5; st.chromaScale = 0.3 }
            if processed == 3 { st.chromaBlur = 2.5; st.chromaToLuma = 0.1 }
            let clean = (0..<3).flatMap { c in [Float](repeating: colour[c], count: n) }
            var noisy = [Float](repeating: 0, count: 3 * n), map = noisy, rgbMap = noisy
            var copy = rng
            CameraNoise.apply(clean, h: h, w: w, settings: st, rng: &rng, noisy: &noisy, map: &map, space: .opponent)
            var noisy2 = noisy
            CameraNoise.apply(clean, h: h, w: w, settings: st, rng: &copy, noisy: &noisy2, map: &rgbMap)
            #expect(noisy2 == noisy, "the same noise either way")
            let o = NoiseMapSpace.basis
            for q in 0..<3 {
                var s2 = 0.0, s = 0.0, count = 0.0
                for y in e..<(h - e) {
                    for x in e..<(w - e) {
                        let i = y * w + x
                        var d = 0.0
                        for c in 0..<3 { d += Double(o[q * 3 + c]) * Double(noisy[c * n + i] - clean[c * n + i]) * 255 }
                        s += d; s2 += d * d; count += 1
                        predicted[q] += Double(map[q * n + i]) * 255
                        perChannel[q] += Double(rgbMap[q * n + i]) * 255
                    }
                }
                // 8-bit rounding adds 1/12 LSB² per channel, and the basis is orthonormal.
                measured[q] += (s2 / count - (s / count) * (s / count) - 1.0 / 12).squareRoot()
            }
        }
        let pixels = Double(rounds * (h - 2 * e) * (w - 2 * e))
        for q in 0..<3 {
            let pred = predicted[q] / pixels, meas = measured[q] / Double(rounds)
            #expect(abs(meas / pred - 1) < 0.08, "component \(q), blur \(blur), processing \(processed): measured σ \(meas), map \(pred)")
        }
        // Independent noise of the per-channel map's σ would give luma √(Σσ²/3).
        let independentLuma = (perChannel.map { ($0 / pixels) * ($0 / pixels) }.reduce(0, +) / 3).squareRoot()
        let luma = predicted[0] / pixels
        #expect(abs(luma / independentLuma - 1) > 0.15, "luma \(luma) against \(independentLuma) for independent noise")
    }

    /// White-noise patches with a grey part (`--correlated-white`) and the opponent map: the
    /// map's components match the noise's, patch by patch, within 12% (one patch's estimate),
    /// and across patches the luma component's share varies as the drawn ρ does.
    @Test func correlatedWhiteOpponentMapMatchesNoise() {
        let shape = FeatureShape(c: 3, h: 64, w: 64), plane = 64 * 64
        var options = PatchTrainingOptions()
        options.correlatedWhite = 1
        options.mapSpace = .opponent
        options.sigmaRange = 10...30
        var rng = RandomGenerator(seed: 31)
        var ratios: [Float] = []
        for _ in 0..<12 {
            var clean = [Float](repeating: 0.5, count: shape.count)
            var noisy = clean, map = clean
            PatchTrainer.addNoiseWithMap(&clean, into: &noisy, map: &map, shape: shape, options: options, rng: &rng)
            let o = NoiseMapSpace.basis
            var sd = [Float](repeating: 0, count: 3)
            for q in 0..<3 {
                var s2 = 0.0
                // Away from the borders, where the blurred variant's variance is not yet one.
                for y in 6..<58 {
                    for x in 6..<58 {
                        let i = y * 64 + x
                        var d: Double = 0
                        for c in 0..<3 {
                            let diff = Double(noisy[c * plane + i]) - Double(clean[c * plane + i])
                            d += Double(o[q * 3 + c]) * diff
                        }
                        s2 += d * d
                    }
                }
                let rms: Double = (s2 / Double(52 * 52)).squareRoot()
                sd[q] = Float(rms * 255 / 50)
                let told = map[q * plane + 100]
                #expect(abs(sd[q] / told - 1) < 0.12, "component \(q): measured \(sd[q] * 50), map \(told * 50)")
            }
            let chroma: Float = (map[plane + 100] + map[2 * plane + 100]) / 2
            ratios.append(map[100] / max(1e-6, chroma))
        }
        #expect(ratios.max()! > 1.5 * ratios.min()!, "luma against chroma varies with ρ: \(ratios)")
    }
}

/// `train --est-alpha`: the estimator's asymmetric loss weighs an underestimate 1 − α and an
/// overestimate α (CBDNet's 0.3 by default: it reads high where it is unsure, which the opponent
/// map's luma plane is); the trainer sets α from its options, and replicas keep it.
struct EstimatorAlphaTests {
    @Test func alphaWeighsUnderAndOverEstimates() {
        let est = NoiseMapEstimator(channels: 3, width: 4, depth: 2, seed: 3)
        var rng = RandomGenerator(seed: 4)
        let x = FeatureMaps(data: Matrix(rows: 1, cols: 3 * 16 * 16), shape: FeatureShape(c: 3, h: 16, w: 16))
        for i in 0..<x.data.count { x.data.data[i] = rng.uniform() }
        func loss(_ alpha: Float, _ shift: Float) -> Double {
            est.lossAlpha = alpha
            let out = est.forward(x)
            let target = Matrix(rows: 1, cols: out.shape.count)
            for i in 0..<target.count { target.data[i] = out.data.data[i] + shift }
            return est.backward(target: target)
        }
        let under = loss(0.3, 0.1), over = loss(0.3, -0.1)
        #expect(abs(under / over - 0.7 / 0.3) < 1e-3, "underestimate \(under), overestimate \(over)")
        #expect(abs(loss(0.5, 0.1) / loss(0.5, -0.1) - 1) < 1e-4)
        var options = PatchTrainingOptions()
        options.estimatorAlpha = 0.5
        let model = NoiseMapEstimator(channels: 3, width: 4, depth: 2, seed: 3)
        _ = PatchTrainer(model: model, options: options)
        #expect(model.lossAlpha == 0.5 && model.replica().lossAlpha == 0.5)
        #expect(options.metadata["train_est_alpha"] == "0.5" && PatchTrainingOptions().metadata["train_est_alpha"] == nil)
    }
}
