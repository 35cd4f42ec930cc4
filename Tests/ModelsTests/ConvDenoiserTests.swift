import Foundation
import Testing
@testable import Models
@testable import NN
import Tensor
@testable import Training
import Imaging

struct ConvDenoiserTests {
    /// Central differences against backward for about five entries of every parameter: `run`
    /// does one forward and backward (accumulating gradients) and returns the loss. Entries with a
    /// ReLU kink inside [x − h, x + h] are skipped. Returns the largest relative difference, how
    /// many entries were compared, and the analytic gradients.
    static func checkGradients(_ model: ConvDenoiser, run: () -> Double) -> (worst: Double, checked: Int, analytic: [[Float]]) {
        checkGradients(model.parameters, run: run)
    }

    static func checkGradients(_ parameters: [Parameter], run: () -> Double) -> (worst: Double, checked: Int, analytic: [[Float]]) {
        func loss() -> Double {
            let l = run()
            for p in parameters { p.zeroGrad() }
            return l
        }
        for p in parameters { p.zeroGrad() }
        _ = run()
        let analytic = parameters.map { $0.grad.array }
        for p in parameters { p.zeroGrad() }
        var worst = 0.0, checked = 0
        let h: Float = 1e-3
        for (pi, p) in parameters.enumerated() {
            for i in stride(from: 0, to: p.count, by: max(1, p.count / 5)) {
                let old = p.value.data[i]
                p.value.data[i] = old + h
                let up = loss()
                p.value.data[i] = old - h
                let down = loss()
                p.value.data[i] = old
                let f0 = loss()
                guard abs((up - f0) - (f0 - down)) <= 0.02 * max(Double(h), abs(up - f0) + abs(f0 - down)) else { continue }
                let numeric = (up - down) / (2 * Double(h))
                let a = Double(analytic[pi][i])
                worst = max(worst, abs(a - numeric) / max(1, abs(a) + abs(numeric)))
                checked += 1
            }
        }
        return (worst, checked, analytic)
    }

    /// Central differences against backward, for the plain network, one with residual blocks
    /// and noise-level conditioning (its zero-initialised parts set to random values first, and
    /// two images of different σ in the batch), one with two blocks, and one with full-resolution
    /// blocks too.
    @Test(arguments: [(0, 0, false), (1, 0, true), (2, 0, false), (1, 2, true)])
    func wholeModelGradient(blocks: Int, fine: Int, noiseInput: Bool) {
        let model = ConvDenoiser(channels: 1, widths: (3, 4, 5), blocks: blocks, fineBlocks: fine, noiseInput: noiseInput, seed: 3)
        var rng = RandomGenerator(seed: 4)
        for p in model.parameters where p.name.hasSuffix(".film") || p.name.hasPrefix("res") || p.name.hasPrefix("fine") {
            for i in 0..<p.count { p.value.data[i] = (rng.uniform() * 2 - 1) * 0.5 }
        }
        let s = FeatureShape(c: 1, h: 8, w: 12)
        let x = Matrix(rows: 2, cols: s.count, values: (0..<(2 * s.count)).map { _ in rng.uniform() })
        let clean = Matrix(rows: 2, cols: s.count, values: (0..<(2 * s.count)).map { _ in rng.uniform() })
        let sigmas: [Float]? = noiseInput ? [15, 40] : nil
        let (worst, checked, _) = Self.checkGradients(model) {
            _ = model.forward(FeatureMaps(data: x, shape: s), sigmas: sigmas)
            return model.backward(clean: clean)
        }
        #expect(checked > 50)
        #expect(worst < 2e-2, "largest relative difference \(worst)")
        if noiseInput || blocks > 0 {
            let extra = model.parameters.filter { $0.name.hasSuffix(".film") || $0.name.hasPrefix("res") || $0.name.hasPrefix("fine") }
            #expect(extra.contains { p in p.grad.array.contains { $0 != 0 } } == false, "gradients were zeroed")
            #expect(extra.count == (noiseInput ? 12 + 3 * (blocks + fine) : 2 * (blocks + fine)))
        }
    }

    /// The per-patch log loss (`--log-loss`): central differences against backward on a batch
    /// of a nearly clean patch and a very noisy one; and each patch's gradient is the squared
    /// error's scaled by K / (MSE + ε), so the patch with the smaller error is scaled up more.
    @Test func logLossGradient() {
        let model = ConvDenoiser(channels: 1, widths: (3, 4, 5), blocks: 1, noiseInput: true, seed: 6)
        var rng = RandomGenerator(seed: 7)
        for p in model.parameters where p.name.hasSuffix(".film") || p.name.hasPrefix("res") {
            for i in 0..<p.count { p.value.data[i] = (rng.uniform() * 2 - 1) * 0.5 }
        }
        let s = FeatureShape(c: 1, h: 8, w: 8)
        let clean = (0..<(2 * s.count)).map { _ in rng.uniform() }
        let x = Matrix(rows: 2, cols: s.count, values: clean.enumerated().map { i, v in v + (i < s.count ? 0.01 : 0.3) * rng.normal() })
        let c = Matrix(rows: 2, cols: s.count, values: clean)
        let (worst, checked, _) = Self.checkGradients(model) {
            _ = model.forward(FeatureMaps(data: x, shape: s), sigmas: [2, 60])
            return model.backward(clean: c, loss: .logPerPatch)
        }
        #expect(checked > 50)
        #expect(worst < 2e-2, "largest relative difference \(worst)")
        // One patch at a time: log-loss gradient = K / (MSE + ε) × the squared error's.
        var scales: [Double] = []
        for b in 0..<2 {
            let xb = Matrix(rows: 1, cols: s.count, values: Array(x.array[(b * s.count)..<((b + 1) * s.count)]))
            let cb = Matrix(rows: 1, cols: s.count, values: Array(clean[(b * s.count)..<((b + 1) * s.count)]))
            func grads(_ loss: ConvDenoiser.Loss) -> [Float] {
                model.parameters.forEach { $0.zeroGrad() }
                _ = model.forward(FeatureMaps(data: xb, shape: s), sigmas: [b == 0 ? 2 : 60])
                _ = model.backward(clean: cb, loss: loss)
                return model.parameters.flatMap { $0.grad.array }
            }
            let plain = grads(.sumOfSquares), logged = grads(.logPerPatch)
            let out = model.forward(FeatureMaps(data: xb, shape: s), sigmas: [b == 0 ? 2 : 60]).data.array
            let mse = zip(out, cb.array).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) } / Double(s.count)
            let expected = ConvDenoiser.logLossScale / (mse + ConvDenoiser.logLossFloor)
            let i = plain.indices.max { abs(plain[$0]) < abs(plain[$1]) }!
            let ratio = Double(logged[i]) / Double(plain[i])
            #expect(abs(ratio - expected) < 1e-3 * expected, "patch \(b): scale \(ratio), expected \(expected)")
            scales.append(ratio)
        }
        #expect(scales[0] > 5 * scales[1], "the nearly clean patch is scaled up more: \(scales)")
        model.parameters.forEach { $0.zeroGrad() }
    }

    /// The noise-map (colour) network: central differences against backward, with a map that
    /// varies per pixel and channel; the map's weights in head0 get gradient, and the training
    /// forward equals exact inference with the map as extra planes.
    @Test func noiseMapGradientAndInference() {
        let model = ConvDenoiser(channels: 3, widths: (3, 4, 5), blocks: 1, noiseMap: true, seed: 8)
        var rng = RandomGenerator(seed: 9)
        for p in model.parameters where p.name.hasPrefix("res") {
            for i in 0..<p.count { p.value.data[i] = (rng.uniform() * 2 - 1) * 0.5 }
        }
        let s = FeatureShape(c: 3, h: 8, w: 8)
        let x = Matrix(rows: 2, cols: s.count, values: (0..<(2 * s.count)).map { _ in rng.uniform() })
        let maps = Matrix(rows: 2, cols: s.count, values: (0..<(2 * s.count)).map { _ in rng.uniform() })
        let clean = Matrix(rows: 2, cols: s.count, values: (0..<(2 * s.count)).map { _ in rng.uniform() })
        let (worst, checked, analytic) = Self.checkGradients(model) {
            _ = model.forward(FeatureMaps(data: x, shape: s), maps: maps)
            return model.backward(clean: clean)
        }
        #expect(checked > 50)
        #expect(worst < 2e-2, "largest relative difference \(worst)")
        // head0's weights on the map planes (input channels 3-5) are trained.
        let head0 = analytic[0], fan = 6 * 9
        #expect((0..<3).contains { co in (27..<fan).contains { head0[co * fan + $0] != 0 } })
        // Training forward = exact inference on [image, map] planes.
        let trained = model.forward(FeatureMaps(data: Matrix(rows: 1, cols: s.count, values: Array(x.array.prefix(s.count))), shape: s),
                                    maps: Matrix(rows: 1, cols: s.count, values: Array(maps.array.prefix(s.count)))).data.array
        model.setExactInference(true)
        let inferred = model.infer(Array(x.array.prefix(s.count)) + Array(maps.array.prefix(s.count)), h: 8, w: 8)
        #expect(zip(trained, inferred).allSatisfy { abs($0 - $1) < 1e-4 })
    }

    /// Upgrading a blind model (adding residual blocks and conditioning, zero-initialised) keeps
    /// what it computes, for any σ; once the new parts move, σ matters.
    @Test func upgradingPreservesTheFunction() throws {
        let plain = ConvDenoiser(channels: 1, widths: (4, 6, 8), seed: 11)
        let tensors = Dictionary(uniqueKeysWithValues: plain.exportTensors().map { ($0.name, $0) })
        let up = ConvDenoiser(channels: 1, widths: (4, 6, 8), blocks: 2, fineBlocks: 1, noiseInput: true, seed: 12)
        try up.importTensors(tensors, file: "plain", upgrading: true)
        #expect(throws: ModelFileError.self) { try up.importTensors(tensors, file: "plain") }
        var rng = RandomGenerator(seed: 13)
        let (h, w) = (16, 20)
        let x = (0..<(h * w)).map { _ in rng.uniform() }
        let reference = plain.infer(x, h: h, w: w)
        for sigma: Float in [0, 25, 55] { #expect(up.infer(x, h: h, w: w, sigma: sigma) == reference, "σ \(sigma)") }
        for p in up.parameters where p.name.hasSuffix(".film") { for i in 0..<p.count { p.value.data[i] = rng.uniform() * 0.2 } }
        #expect(up.infer(x, h: h, w: w, sigma: 10) != up.infer(x, h: h, w: w, sigma: 40))
    }

    /// `infer` (exact kernels, buffers reused through a workspace) computes what the training
    /// path computes, up to rounding (its feature maps held as halves, 11 significant bits, as
    /// the row streams store them); a reused workspace gives the same result again.
    @Test(arguments: [false, true])
    func inferMatchesTrainingForward(upgraded: Bool) {
        let model = ConvDenoiser(channels: 1, widths: (8, 12, 16), blocks: upgraded ? 1 : 0, fineBlocks: upgraded ? 1 : 0, noiseInput: upgraded, seed: 5)
        var rng = RandomGenerator(seed: 6)
        for p in model.parameters where p.name.hasSuffix(".film") || p.name.hasPrefix("res") || p.name.hasPrefix("fine") {
            for i in 0..<p.count { p.value.data[i] = (rng.uniform() * 2 - 1) * 0.2 }
        }
        let ws = ConvWorkspace()
        for (h, w) in [(24, 40), (12, 20), (24, 40)] {
            let s = FeatureShape(c: 1, h: h, w: w)
            let x = (0..<s.count).map { _ in rng.uniform() }
            let sigma: Float = 30
            let trained = model.forward(FeatureMaps(data: Matrix(rows: 1, cols: s.count, values: x), shape: s), sigmas: upgraded ? [sigma] : nil).data.array
            var out = [Float](repeating: 0, count: s.count)
            x.withUnsafeBufferPointer { xb in out.withUnsafeMutableBufferPointer { model.infer(xb.baseAddress!, h: h, w: w, sigma: sigma, into: $0.baseAddress!, workspace: ws) } }
            let worst = zip(trained, out).map { abs($0 - $1) }.max()!
            #expect(worst < 1e-3, "\(h)x\(w): \(worst)")
            #expect(out == model.infer(x, h: h, w: w, sigma: sigma), "a reused workspace changes nothing")
        }
    }

    /// Data parallelism: a replica's gradient on half the batch plus the model's on the other half
    /// equals the model's gradient on the whole batch.
    @Test func replicaGradientsSumToTheBatchGradient() {
        let model = ConvDenoiser(channels: 1, widths: (4, 6, 8), seed: 8)
        let replica = model.replica()
        var rng = RandomGenerator(seed: 9)
        let s = FeatureShape(c: 1, h: 8, w: 8)
        let x = (0..<(4 * s.count)).map { _ in rng.uniform() }, y = (0..<(4 * s.count)).map { _ in rng.uniform() }
        _ = model.forward(FeatureMaps(data: Matrix(rows: 4, cols: s.count, values: x), shape: s))
        _ = model.backward(clean: Matrix(rows: 4, cols: s.count, values: y))
        let whole = model.parameters.flatMap(\.grad.array)
        model.parameters.forEach { $0.zeroGrad() }
        let half = 2 * s.count
        _ = model.forward(FeatureMaps(data: Matrix(rows: 2, cols: s.count, values: Array(x[..<half])), shape: s))
        _ = model.backward(clean: Matrix(rows: 2, cols: s.count, values: Array(y[..<half])))
        _ = replica.forward(FeatureMaps(data: Matrix(rows: 2, cols: s.count, values: Array(x[half...])), shape: s))
        _ = replica.backward(clean: Matrix(rows: 2, cols: s.count, values: Array(y[half...])))
        let summed = zip(model.parameters, replica.parameters).flatMap { a, b in zip(a.grad.array, b.grad.array).map { $0 + $1 } }
        let worst = zip(whole, summed).map { abs($0 - $1) / max(1, abs($0)) }.max()!
        #expect(worst < 1e-4, "worst relative difference \(worst)")
        #expect(replica.parameters[0].value.data == model.parameters[0].value.data, "weights are shared")
    }

    /// Training inputs: float noise by default; with --png-noise 1, every patch as a saved 8-bit
    /// PNG would hold it (on the 1/255 grid, clipped to [0, 1]).
    @Test func pngNoiseQuantisesAndClips() {
        let clean = (0..<4096).map { Float($0 % 256) / 255 }   // covers both ends of the range
        var opts = PatchTrainingOptions()
        opts.sigmaRange = 40...40
        func noisy(_ fraction: Float) -> [Float] {
            opts.pngNoiseFraction = fraction
            var rng = RandomGenerator(seed: 3)
            var out = [Float](repeating: 0, count: clean.count)
            out.withUnsafeMutableBufferPointer { _ = PatchTrainer.addNoise(clean, into: $0.baseAddress!, count: clean.count, options: opts, rng: &rng) }
            return out
        }
        let float = noisy(0), png = noisy(1)
        #expect(float.contains { $0 < 0 } && float.contains { $0 > 1 }, "float noise is not clipped")
        #expect(png.allSatisfy { $0 >= 0 && $0 <= 1 && abs($0 * 255 - ($0 * 255).rounded()) < 1e-3 })
        #expect(zip(float, png).allSatisfy { abs(min(1, max(0, $0)) - $1) <= 0.5 / 255 + 1e-6 }, "the same noise, rounded")
    }

    /// --sigma-power: σ = low + (high − low)·u^P. Uniform by default (a quarter of the draws in
    /// the range's lowest quarter); with P = 2 half of them are, and all stay in the range. The
    /// σ a patch was given is what its noise has.
    @Test func sigmaPowerSkewsTowardsWeakNoise() {
        var opts = PatchTrainingOptions()
        opts.sigmaRange = 0...60
        func lowShare(_ power: Float) -> (share: Double, inRange: Bool) {
            opts.sigmaPower = power
            var rng = RandomGenerator(seed: 9)
            let draws = (0..<20000).map { _ in opts.drawSigma(&rng) }
            return (Double(draws.filter { $0 < 15 }.count) / Double(draws.count), draws.allSatisfy { (0...60).contains($0) })
        }
        let uniform = lowShare(1), squared = lowShare(2)
        #expect(abs(uniform.share - 0.25) < 0.02 && uniform.inRange)
        #expect(abs(squared.share - 0.5) < 0.02 && squared.inRange)
        #expect(opts.metadata["train_sigma_power"] == "2.0")

        let clean = [Float](repeating: 0.5, count: 20000)
        var out = clean, rng = RandomGenerator(seed: 4), check = RandomGenerator(seed: 4)
        let sigma = out.withUnsafeMutableBufferPointer { PatchTrainer.addNoise(clean, into: $0.baseAddress!, count: clean.count, options: opts, rng: &rng) }
        #expect(sigma == opts.drawSigma(&check))
        let measured = (zip(out, clean).map { Double(($0 - $1) * 255) }.map { $0 * $0 }.reduce(0, +) / Double(clean.count)).squareRoot()
        #expect(abs(measured - Double(sigma)) < 0.03 * Double(sigma) + 0.05)
    }

    /// --correlated-white: unit variance in every channel (away from the reflected borders),
    /// correlated across channels by the drawn share (0-0.9, mean 0.45), and in about half the
    /// draws over neighbouring pixels, the other half white; the map keeps each channel's σ.
    @Test func correlatedWhiteNoiseKeepsItsVariance() {
        var rng = RandomGenerator(seed: 21)
        let h = 40, w = 40, plane = h * w
        var variances: [Double] = [], cross: [Double] = [], lag1: [Double] = []
        for _ in 0..<200 {
            let n = PatchTrainer.correlatedUnitNoise(h: h, w: w, rng: &rng).noise
            func at(_ c: Int, _ y: Int, _ x: Int) -> Double { Double(n[c * plane + y * w + x]) }
            var v = [Double](repeating: 0, count: 3), rg = 0.0, l1 = 0.0, count = 0.0
            for y in 6..<(h - 6) {
                for x in 6..<(w - 6) {
                    for c in 0..<3 { v[c] += at(c, y, x) * at(c, y, x) }
                    rg += at(0, y, x) * at(1, y, x)
                    l1 += at(1, y, x) * at(1, y, x + 1)
                    count += 1
                }
            }
            variances += v.map { $0 / count }
            cross.append(rg / count / ((v[0] / count) * (v[1] / count)).squareRoot())
            lag1.append(l1 / v[1])
        }
        let meanVariance = variances.reduce(0, +) / Double(variances.count)
        #expect(abs(meanVariance - 1) < 0.03, "mean variance \(meanVariance)")
        let meanCross = cross.reduce(0, +) / Double(cross.count)
        #expect(abs(meanCross - 0.45) < 0.06 && cross.allSatisfy { $0 > -0.35 && $0 < 0.99 }, "cross-channel correlation \(meanCross)")
        let white = lag1.filter { abs($0) < 0.12 }.count, smooth = lag1.filter { $0 > 0.2 }.count
        #expect(white > 70 && smooth > 70 && white + smooth == lag1.count, "lag-1 correlations: \(white) white, \(smooth) smooth")
        // --correlated-white-blur 0: correlated across channels only, white in space.
        for _ in 0..<40 {
            let n = PatchTrainer.correlatedUnitNoise(h: h, w: w, blurFraction: 0, rng: &rng).noise
            var l1 = 0.0, v = 0.0
            for y in 0..<h { for x in 0..<(w - 1) { l1 += Double(n[plane + y * w + x] * n[plane + y * w + x + 1]); v += Double(n[plane + y * w + x] * n[plane + y * w + x]) } }
            #expect(abs(l1 / v) < 0.12, "lag-1 correlation \(l1 / v) without blur")
        }

        var opts = PatchTrainingOptions()
        opts.sigmaRange = 10...10
        opts.correlatedWhite = 1
        let shape = FeatureShape(c: 3, h: 48, w: 48)
        var clean = [Float](repeating: 0.5, count: shape.count)
        var noisy = clean, map = clean
        var measured = [Double](repeating: 0, count: 3)
        for seed in 0..<20 {
            var r = RandomGenerator(seed: UInt64(seed))
            noisy.withUnsafeMutableBufferPointer { nb in
                map.withUnsafeMutableBufferPointer { mb in
                    PatchTrainer.addNoiseWithMap(&clean, into: nb.baseAddress!, map: mb.baseAddress!, shape: shape, options: opts, rng: &r)
                }
            }
            #expect(map.allSatisfy { abs($0 - 0.2) < 1e-6 }, "map is σ/50")
            for c in 0..<3 {
                for i in (c * 48 * 48)..<((c + 1) * 48 * 48) { measured[c] += Double((noisy[i] - clean[i]) * 255) * Double((noisy[i] - clean[i]) * 255) }
            }
        }
        for c in 0..<3 {
            let sigma = (measured[c] / Double(20 * 48 * 48)).squareRoot()
            #expect(abs(sigma - 10) < 0.6, "channel \(c): σ \(sigma)")
        }
        #expect(opts.metadata["train_correlated_white"] == "1.0")
    }

    /// `--shared-noise-as-luma`: a grey-correlated white patch's target is the σ of its luma,
    /// √3 times the standard deviation of the channels' mean noise (each channel's σ times
    /// √(1 + 2ρ)), measured on the patch within 10%; without it the target stays the channel's σ.
    @Test func sharedNoiseAsLumaTargetsTheLumaLevel() {
        let shape = FeatureShape(c: 3, h: 48, w: 48), plane = 48 * 48
        for asLuma in [false, true] {
            var opts = PatchTrainingOptions()
            opts.sigmaRange = 10...10
            opts.correlatedWhite = 1
            opts.sharedNoiseAsLuma = asLuma
            var raised = 0
            for seed in 0..<20 {
                var clean = [Float](repeating: 0.5, count: shape.count), noisy = clean, map = clean
                var r = RandomGenerator(seed: UInt64(seed))
                noisy.withUnsafeMutableBufferPointer { nb in
                    map.withUnsafeMutableBufferPointer { mb in
                        PatchTrainer.addNoiseWithMap(&clean, into: nb.baseAddress!, map: mb.baseAddress!, shape: shape, options: opts, rng: &r)
                    }
                }
                var v = 0.0
                for i in 0..<plane {
                    let m = Double((0..<3).map { noisy[$0 * plane + i] - 0.5 }.reduce(0, +)) / 3 * 255
                    v += m * m
                }
                let luma = (3 * v / Double(plane)).squareRoot(), told = Double(map[0]) * 50
                #expect(map.allSatisfy { $0 == map[0] })
                if asLuma {
                    #expect(abs(told / luma - 1) < 0.1, "seed \(seed): target \(told), luma σ \(luma)")
                    if told > 12 { raised += 1 }
                } else {
                    #expect(abs(told - 10) < 1e-4)
                }
            }
            if asLuma { #expect(raised >= 10, "\(raised) of 20 patches with a grey part over ρ 0.1") }
        }
        var opts = PatchTrainingOptions()
        opts.sharedNoiseAsLuma = true
        #expect(opts.metadata["train_shared_noise_as_luma"] == "true")
    }

    /// `--camera-softness`: a camera-noise patch's clean planes are blurred in place (they are
    /// its target) before its noise: an edge spreads, the mean stays; white-noise patches and
    /// runs without the option keep their clean planes exactly.
    @Test func cameraSoftnessBlursTheTargetOfCameraPatchesOnly() {
        let shape = FeatureShape(c: 3, h: 32, w: 32), plane = 32 * 32
        // A vertical edge: 0.2 left of column 16, 0.8 from it.
        let edge = (0..<shape.count).map { Float(($0 % plane) % 32 < 16 ? 0.2 : 0.8) }
        func run(camera: Float, softness: Float, seed: UInt64) -> [Float] {
            var opts = PatchTrainingOptions()
            opts.sigmaRange = 10...10
            opts.cameraFraction = camera
            opts.cameraSoftness = softness
            var clean = edge, noisy = edge, map = edge
            var rng = RandomGenerator(seed: seed)
            noisy.withUnsafeMutableBufferPointer { nb in
                map.withUnsafeMutableBufferPointer { mb in
                    PatchTrainer.addNoiseWithMap(&clean, into: nb.baseAddress!, map: mb.baseAddress!, shape: shape, options: opts, rng: &rng)
                }
            }
            #expect(noisy != clean)
            return clean
        }
        #expect(run(camera: 1, softness: 0, seed: 1) == edge)
        #expect(run(camera: 0, softness: 2, seed: 1) == edge)
        var spread = 0
        for seed in UInt64(0)..<12 {
            let soft = run(camera: 1, softness: 2, seed: seed)
            // Row 5 of the red plane: the step spread over the columns next to it (when the
            // blur drawn is not tiny), the far ends and the plane's mean kept.
            let row = Array(soft[(5 * 32)..<(6 * 32)])
            if row[15] > 0.21 && row[16] < 0.79 { spread += 1 }
            #expect(row[15] < row[16] && abs(row[0] - 0.2) < 1e-3 && abs(row[31] - 0.8) < 1e-3, "\(row.map { String(format: "%.3f", $0) })")
            let mean = soft[0..<plane].reduce(0, +) / Float(plane)
            #expect(abs(mean - 0.5) < 1e-4)
        }
        #expect(spread >= 6, "blur σ drawn from 0-2: \(spread) of 12 spread the edge")
        var opts = PatchTrainingOptions()
        opts.cameraSoftness = 1.5
        #expect(opts.metadata["train_camera_softness"] == "1.5")
    }

    /// A flat dark RGB patch (level 5.1) through `addNoiseWithMap` with camera noise on a
    /// `camera` share of patches (white noise of σ 10 on the others) and `target`: the target
    /// planes, the noisy input and the map.
    static let darkPatch = FeatureShape(c: 3, h: 32, w: 32)
    static func darkPatchNoise(camera: Float, target: CameraTarget, seed: UInt64) -> (clean: [Float], noisy: [Float], map: [Float]) {
        var opts = PatchTrainingOptions()
        opts.sigmaRange = 10...10
        opts.cameraFraction = camera
        opts.cameraTarget = target
        var clean = [Float](repeating: 0.02, count: darkPatch.count), noisy = clean, map = clean
        var rng = RandomGenerator(seed: seed)
        PatchTrainer.addNoiseWithMap(&clean, into: &noisy, map: &map, shape: darkPatch, options: opts, rng: &rng)
        return (clean, noisy, map)
    }

    /// `--camera-target mean-of-shots`: a camera patch's target becomes its mean over the noise
    /// (on a dark patch lifted by clipping at black), its noisy input and map the same as with the
    /// clean target (the same draws); white-noise patches keep their clean planes.
    @Test func meanOfShotsTargetsOnlyCameraPatches() {
        let shape = Self.darkPatch
        var lifted = 0
        for seed in UInt64(0)..<8 {
            let plain = Self.darkPatchNoise(camera: 1, target: .clean, seed: seed), mean = Self.darkPatchNoise(camera: 1, target: .meanOfShots, seed: seed)
            #expect(plain.clean.allSatisfy { $0 == 0.02 } && plain.noisy == mean.noisy && plain.map == mean.map)
            let average = mean.clean.reduce(0, +) / Float(shape.count)
            #expect(average >= 0.02, "clipping at black can only lift a flat patch's mean: \(average * 255)")
            if average * 255 > 5.1 + 0.3 { lifted += 1 }
            #expect(Self.darkPatchNoise(camera: 0, target: .meanOfShots, seed: seed).clean.allSatisfy { $0 == 0.02 })
        }
        #expect(lifted >= 2, "\(lifted) of 8 camera patches at level 5.1 lifted by 0.3 or more")
        var opts = PatchTrainingOptions()
        opts.cameraTarget = .meanOfShots
        #expect(opts.metadata["train_camera_target"] == "mean-of-shots" && PatchTrainingOptions().metadata["train_camera_target"] == nil)
    }

    /// `--camera-target mean-of-processed-shots`: the input and map are those of the clean
    /// target (the input is drawn first, then the target's shots); the target keeps the noise of
    /// the mean of `processedShots` shots, about 1/√k of a shot's (around the analytic mean over
    /// the noise); white-noise patches keep their clean planes.
    @Test func meanOfProcessedShotsTargetsOnlyCameraPatches() {
        let n = Float(Self.darkPatch.count)
        func rms(_ a: [Float], _ b: [Float]) -> Float { (zip(a, b).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) / n).squareRoot() * 255 }
        var measured = 0
        for seed in UInt64(0)..<8 {
            let plain = Self.darkPatchNoise(camera: 1, target: .clean, seed: seed), shots = Self.darkPatchNoise(camera: 1, target: .meanOfProcessedShots, seed: seed)
            let analytic = Self.darkPatchNoise(camera: 1, target: .meanOfShots, seed: seed)
            #expect(plain.noisy == shots.noisy && plain.map == shots.map)
            let one = rms(plain.noisy, analytic.clean), left = rms(shots.clean, analytic.clean)
            if one >= 1 {
                measured += 1
                let ratio = left / one, expected = 1 / Float(CameraTarget.processedShots).squareRoot()
                #expect(abs(ratio - expected) < 0.2, "the target's noise \(left) against a shot's \(one)")
            }
            #expect(Self.darkPatchNoise(camera: 0, target: .meanOfProcessedShots, seed: seed).clean.allSatisfy { $0 == 0.02 })
        }
        #expect(measured >= 4, "\(measured) of 8 camera patches noisy enough to measure")
        var opts = PatchTrainingOptions()
        opts.cameraTarget = .meanOfProcessedShots
        #expect(opts.metadata["train_camera_target"] == "mean-of-processed-shots")
    }

    /// The mean of a few shots (dark flat patches, JPEG and in-camera processing on) is an
    /// unbiased estimate of the mean of many: against 64 further shots with the same settings,
    /// its patch mean is within 4 standard errors (a shot's patch mean spreads over the 64; the
    /// noise is correlated over pixels, so the spread is measured, not assumed).
    @Test func meanOfShotsIsTheMeanOfMany() {
        let shape = FeatureShape(c: 3, h: 32, w: 32), count = shape.count
        var rng = RandomGenerator(seed: 31)
        for _ in 0..<4 {
            let st = CameraNoise.Settings.random(&rng, jpegFraction: 1, processing: .coarse)
            let flat = [Float](repeating: 0.03, count: count)
            var target = flat
            PatchTrainer.meanOfShots(&target, shape: shape, settings: st, space: .rgb, rng: &rng)
            var shotMeans: [Float] = []
            var shot = flat, map = flat
            for _ in 0..<64 {
                CameraNoise.apply(flat, h: shape.h, w: shape.w, settings: st, rng: &rng, noisy: &shot, map: &map)
                shotMeans.append(shot.reduce(0, +) / Float(count))
            }
            let many = shotMeans.reduce(0, +) / 64
            let spread = (shotMeans.map { ($0 - many) * ($0 - many) }.reduce(0, +) / 63).squareRoot()
            let few = target.reduce(0, +) / Float(count), error = spread / Float(CameraTarget.processedShots).squareRoot()
            #expect(abs(few - many) <= 4 * error + 0.1 / 255, "mean of 4 shots \(few * 255) against 64's \(many * 255) (± \(error * 255))")
            #expect(target != flat)
        }
    }

    @Test(arguments: [1, 2])
    func learnsToDenoiseALittle(workers: Int) throws {
        // Smooth 32x32 images: a few hundred steps must beat the noisy input clearly.
        var rng = RandomGenerator(seed: 1)
        let images: [FloatImage] = (0..<8).map { i in
            var img = FloatImage(width: 32, height: 32, channels: 1)
            for y in 0..<32 { for x in 0..<32 { img[x: x, y: y, c: 0] = 0.5 + 0.4 * sinf(Float(x + i) / 5) * cosf(Float(y) / 7) } }
            return img
        }
        _ = rng.next()
        var opts = PatchTrainingOptions()
        opts.patch = 16; opts.batch = 8; opts.stepsPerEpoch = 150; opts.epochs = 2; opts.learningRate = 3e-3; opts.sigmaRange = 20...30
        opts.workers = workers
        let model = ConvDenoiser(channels: 1, widths: (8, 8, 8), seed: 2)
        let trainer = PatchTrainer(model: model, options: opts)
        var reports: [PatchEpochReport] = []
        try trainer.run(train: images, validation: Array(images.prefix(2))) { reports.append($0) }
        let psnr = reports.last!.validation!
        #expect(psnr > 24, "validation PSNR \(psnr) dB; the noisy input is about 20.2 dB")
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// The halo bound: changing one input pixel changes no output farther than `receptiveRadius`
/// away (rows and columns), with and without residual blocks; and the bound is not loose by
/// more than one 4-pixel step.
struct ReceptiveFieldTests {
    @Test(arguments: [(0, 0), (1, 0), (2, 0), (1, 3)])
    func receptiveRadiusIsASafeBound(blocks: Int, fine: Int) {
        let model = ConvDenoiser(channels: 1, widths: (4, 6, 8), blocks: blocks, fineBlocks: fine, noiseInput: true, seed: 21)
        let reach = Self.reach(of: model, size: 96, seed: 22)
        #expect(reach <= model.receptiveRadius, "an input pixel reaches \(reach) > \(model.receptiveRadius)")
        #expect(reach > model.receptiveRadius - 8, "the bound \(model.receptiveRadius) is loose: reach \(reach)")
    }

    /// A model wide enough for Winograd (F(4x4, 3x3) at full and half resolution, whose
    /// rounding reaches 3 pixels a layer, not 1): its bound is wider by 2 per full-resolution
    /// layer and 4 per half-resolution one, and no input pixel changes an output beyond it
    /// (pixels at every phase of the 4x4 tiles).
    @Test func winogradModelsBoundCoversTheirRounding() {
        let model = ConvDenoiser(channels: 1, widths: (16, 16, 24), blocks: 1, fineBlocks: 1, noiseInput: true, seed: 23)
        // F(4x4, 3x3) on head1, dec0 and fine1 (2 more each), enc1 and dec1 (4), mid1, mid2 and
        // res1 (8).
        #expect(model.receptiveRadius == ConvDenoiser.receptiveRadius + 4 + 1 + 3 * 2 + 2 * 4 + 3 * 8)
        let reach = Self.reach(of: model, size: 128, seed: 24)
        #expect(reach <= model.receptiveRadius, "an input pixel reaches \(reach) > \(model.receptiveRadius)")
        #expect(reach > ConvDenoiser.receptiveRadius - 8, "reach \(reach): the test no longer sees the network's field")
    }

    /// How far (rows or columns) a change of one input pixel near the centre of a size x size
    /// image moves any output, with the residual and conditioning weights drawn large and the
    /// biases positive (ReLUs pass most values: the widest dependence shows).
    static func reach(of model: ConvDenoiser, size n: Int, seed: UInt64) -> Int {
        var rng = RandomGenerator(seed: seed)
        for p in model.parameters where p.name.hasSuffix(".film") || p.name.hasPrefix("res") || p.name.hasPrefix("fine") {
            for i in 0..<p.count { p.value.data[i] = (rng.uniform() * 2 - 1) * 0.3 }
        }
        for p in model.parameters where p.name.hasSuffix(".bias") { for i in 0..<p.count { p.value.data[i] = abs(p.value.data[i]) + 0.2 } }
        let x = (0..<(n * n)).map { _ in rng.uniform() }
        let base = model.infer(x, h: n, w: n, sigma: 20)
        var reach = 0
        let c = n / 2
        for (py, px) in [(c, c), (c + 1, c + 2), (c + 2, c + 3), (c + 3, c + 1)] {
            var y = x
            y[py * n + px] += 1
            let out = model.infer(y, h: n, w: n, sigma: 20)
            for r in 0..<n {
                for c in 0..<n where out[r * n + c] != base[r * n + c] { reach = max(reach, abs(r - py), abs(c - px)) }
            }
        }
        return reach
    }
}

/// A conv model file whose metadata declares impossible extras is refused with a clear error.
struct ConvModelFileTests {
    /// A noise-map model file may carry its estimator (tensors estimator.*, metadata
    /// estimator=W,D): it loads with the model, weights intact; without the metadata the
    /// tensors are refused as unexpected, and a bad value is refused with the file's name.
    @Test func bundledEstimatorLoads() throws {
        let model = ConvDenoiser(channels: 3, widths: (4, 4, 4), noiseMap: true, seed: 1)
        let est = NoiseMapEstimator(channels: 3, width: 5, depth: 2, seed: 2)
        let tensors = model.exportTensors() + est.exportTensors().map {
            NamedTensor(name: ConvModelFile.estimatorPrefix + $0.name, shape: $0.shape, values: $0.values)
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bundle-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var meta = model.metadata
        meta["estimator"] = "5,2"
        try SafeTensors.write(tensors, metadata: meta, to: dir + "/ok.safetensors")
        let (loaded, _) = try ConvModelFile.load(path: dir + "/ok.safetensors")
        #expect(loaded.estimator?.parameters.map { $0.value.array } == est.parameters.map { $0.value.array })
        try SafeTensors.write(tensors, metadata: model.metadata, to: dir + "/no-meta.safetensors")
        #expect(throws: ModelFileError.unexpectedTensor(file: dir + "/no-meta.safetensors", tensor: "estimator.est0.bias")) {
            try ConvModelFile.load(path: dir + "/no-meta.safetensors")
        }
        meta["estimator"] = "5"
        try SafeTensors.write(tensors, metadata: meta, to: dir + "/bad.safetensors")
        #expect(throws: ModelFileError.self) { try ConvModelFile.load(path: dir + "/bad.safetensors") }
    }

    /// `train --model noise-estimator --init-from FILE`: an estimator starts from an estimator
    /// file or from the estimator a colour model bundles, weights intact; another shape, or a
    /// file without an estimator, is refused with the file's name and the reason.
    @Test func estimatorStartsFromAFileOrABundle() throws {
        let model = ConvDenoiser(channels: 3, widths: (4, 4, 4), noiseMap: true, seed: 1)
        let est = NoiseMapEstimator(channels: 3, width: 5, depth: 2, seed: 2)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("est-init-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try SafeTensors.write(est.exportTensors(), metadata: est.metadata, to: dir + "/est.safetensors")
        var meta = model.metadata
        meta["estimator"] = "5,2"
        try SafeTensors.write(model.exportTensors() + est.exportTensors().map {
            NamedTensor(name: ConvModelFile.estimatorPrefix + $0.name, shape: $0.shape, values: $0.values)
        }, metadata: meta, to: dir + "/bundle.safetensors")
        try SafeTensors.write(model.exportTensors(), metadata: model.metadata, to: dir + "/plain.safetensors")
        for file in ["est", "bundle"] {
            let fresh = NoiseMapEstimator(channels: 3, width: 5, depth: 2, seed: 3)
            #expect(fresh.parameters.map { $0.value.array } != est.parameters.map { $0.value.array })
            try fresh.initialise(from: dir + "/\(file).safetensors")
            #expect(fresh.parameters.map { $0.value.array } == est.parameters.map { $0.value.array }, "\(file)")
        }
        let wider = NoiseMapEstimator(channels: 3, width: 6, depth: 2, seed: 3)
        #expect(throws: ModelFileError.badMetadata(file: dir + "/bundle.safetensors", reason: "its estimator is width,depth 5,2, this one 6,2")) {
            try wider.initialise(from: dir + "/bundle.safetensors")
        }
        #expect(throws: ModelFileError.badMetadata(file: dir + "/plain.safetensors", reason: "neither a noise estimator nor a model that bundles one")) {
            try est.initialise(from: dir + "/plain.safetensors")
        }
        let grey = NoiseMapEstimator(channels: 1, width: 5, depth: 2, seed: 3)
        #expect(throws: ModelFileError.badMetadata(file: dir + "/est.safetensors", reason: "it has 3 channels, this estimator 1")) {
            try grey.initialise(from: dir + "/est.safetensors")
        }
    }

    /// Full-resolution blocks in a model file: saved and loaded with their weights and
    /// metadata; a file without them grows into a model with them (computing what it did); a
    /// file with more than the model has is refused, naming the file and the counts.
    @Test func fineBlocksRoundTripAndGrow() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fine-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let deep = ConvDenoiser(channels: 3, widths: (4, 6, 8), fineBlocks: 2, noiseMap: true, seed: 1)
        var rng = RandomGenerator(seed: 2)
        for p in deep.parameters where p.name.hasPrefix("fine") { for i in 0..<p.count { p.value.data[i] = rng.uniform() - 0.5 } }
        #expect(deep.metadata["fine_blocks"] == "2" && ConvDenoiser(channels: 3, widths: (4, 6, 8), seed: 1).metadata["fine_blocks"] == nil)
        try SafeTensors.write(deep.exportTensors(), metadata: deep.metadata, to: dir + "/deep.safetensors")
        let (loaded, _) = try ConvModelFile.load(path: dir + "/deep.safetensors")
        #expect(loaded.fineBlocks == 2 && loaded.parameters.map { $0.value.array } == deep.parameters.map { $0.value.array })
        let (h, w) = (12, 16)
        let x = (0..<(6 * h * w)).map { _ in rng.uniform() * 0.4 }
        #expect(loaded.infer(x, h: h, w: w) == deep.infer(x, h: h, w: w))

        let plain = ConvDenoiser(channels: 3, widths: (4, 6, 8), noiseMap: true, seed: 3)
        try SafeTensors.write(plain.exportTensors(), metadata: plain.metadata, to: dir + "/plain.safetensors")
        let grown = ConvDenoiser(channels: 3, widths: (4, 6, 8), fineBlocks: 1, noiseMap: true, seed: 4)
        try grown.initialise(from: dir + "/plain.safetensors")
        #expect(grown.infer(x, h: h, w: w) == plain.infer(x, h: h, w: w))
        #expect(throws: ModelFileError.badMetadata(file: dir + "/deep.safetensors", reason: "it has 2 full-resolution blocks, this model 1")) {
            try grown.initialise(from: dir + "/deep.safetensors")
        }
    }

    @Test(arguments: [("blocks", "99", "blocks must be 0-16"), ("blocks", "two", "blocks must be 0-16"),
                      ("fine_blocks", "9", "fine_blocks must be 0-8"), ("noise_input", "film", "unknown noise_input 'film'")])
    func badExtrasAreRefused(key: String, value: String, reason: String) throws {
        let model = ConvDenoiser(channels: 1, widths: (4, 4, 4), seed: 1)
        var meta = model.metadata
        meta[key] = value
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bad-extras-\(key)-\(value).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try SafeTensors.write(model.exportTensors(), metadata: meta, to: path)
        #expect(throws: ModelFileError.self) { try ConvModelFile.load(path: path) }
        do { _ = try ConvModelFile.load(path: path) } catch {
            #expect("\(error)".contains(reason) && "\(error)".contains(path), "\(error)")
        }
    }
}

struct NoiseMapEstimatorTests {
    /// Central differences against backward for the asymmetric loss (targets on both sides of
    /// the outputs, so both weights are exercised), with either input (for `energy`, the loss
    /// on the log of σ/50).
    @Test(arguments: NoiseMapEstimator.InputFeatures.allCases)
    func gradientMatchesFiniteDifferences(features: NoiseMapEstimator.InputFeatures) {
        let est = NoiseMapEstimator(channels: 3, width: 5, depth: 2, features: features, seed: 9)
        var rng = RandomGenerator(seed: 10)
        let s = FeatureShape(c: 3, h: 8, w: 12)
        let x = Matrix(rows: 2, cols: s.count)
        for i in 0..<x.count { x.data[i] = rng.uniform() }
        let t = Matrix(rows: 2, cols: 3 * 2 * 3)
        for i in 0..<t.count { t.data[i] = features == .raw ? rng.uniform() * 0.4 - 0.1 : expf(rng.uniform() * 4 - 2) }
        func run() -> Double {
            _ = est.forward(FeatureMaps(data: x, shape: s))
            return est.backward(target: t)
        }
        let (worst, checked, _) = ConvDenoiserTests.checkGradients(est.parameters, run: run)
        #expect(checked > 20)
        #expect(worst < 2e-2, "worst relative difference \(worst)")
    }

    /// The inference path (exact kernels, Winograd for the wide layers, as measuring runs it)
    /// computes the training path's function: the same maps up to rounding.
    @Test(arguments: NoiseMapEstimator.InputFeatures.allCases)
    func inferenceMatchesTheTrainingPath(features: NoiseMapEstimator.InputFeatures) {
        let est = NoiseMapEstimator(channels: 3, width: 16, depth: 3, features: features, seed: 12)
        var rng = RandomGenerator(seed: 13)
        for p in est.parameters { for i in 0..<p.count { p.value.data[i] = (rng.uniform() * 2 - 1) * 0.3 } }
        let s = FeatureShape(c: 3, h: 84, w: 92)
        let x = Matrix(rows: 1, cols: s.count)
        for i in 0..<x.count { x.data[i] = rng.uniform() }
        let reference = est.forward(FeatureMaps(data: x, shape: s)).data.array
        let got = est.infer(est.kernels(), x.data, h: s.h, w: s.w, workspace: ConvWorkspace())
        #expect(got.count == reference.count)
        let scale = reference.map { abs($0) }.max() ?? 0
        let worst = zip(got, reference).map { abs($0 - $1) }.max() ?? .infinity
        #expect(scale > 0.1 && worst < 1e-5 * scale, "worst \(worst) of \(scale)")
        // A region starting on a multiple of 16 (whole F(4x4) tiles at quarter resolution) gives
        // the whole image's values bit for bit, for the blocks out of reach of its edges.
        let (y0, x0) = (Self.regionOffset, Self.regionOffset), (rh, rw) = (s.h - y0, s.w - x0)
        var region = [Float]()
        for c in 0..<3 { for y in 0..<rh { region.append(contentsOf: UnsafeBufferPointer(start: x.data + (c * s.h + y0 + y) * s.w + x0, count: rw)) } }
        let part = est.infer(est.kernels(), region, h: rh, w: rw, workspace: ConvWorkspace())
        var compared = 0
        for c in 0..<3 {
            for qy in 0..<(rh / 4) where 4 * qy >= est.receptiveRadius {
                for qx in 0..<(rw / 4) where 4 * qx >= est.receptiveRadius {
                    #expect(part[(c * (rh / 4) + qy) * (rw / 4) + qx] == got[(c * (s.h / 4) + y0 / 4 + qy) * (s.w / 4) + x0 / 4 + qx])
                    compared += 1
                }
            }
        }
        #expect(compared >= 12)
    }
    static let regionOffset = 16

    /// Six hundred steps on smooth images with white noise of σ 0-60 (one σ per channel in some
    /// patches): the σ error on held-out images falls to under half an untrained estimator's,
    /// and the trainer resumes it from its checkpoint. (Camera-like noise is learnt too slowly
    /// for a test; the training run's validation figure follows it.)
    @Test(arguments: NoiseMapEstimator.InputFeatures.allCases)
    func learnsToReadTheNoiseLevel(features: NoiseMapEstimator.InputFeatures) throws {
        let images: [FloatImage] = (0..<8).map { i in
            var img = FloatImage(width: 40, height: 40, channels: 3)
            for c in 0..<3 { for y in 0..<40 { for x in 0..<40 {
                img[x: x, y: y, c: c] = 0.5 + 0.35 * sinf(Float(x + 3 * i + c) / 6) * cosf(Float(y - c) / 8)
            } } }
            return img
        }
        var opts = PatchTrainingOptions()
        opts.patch = 32; opts.batch = 8; opts.stepsPerEpoch = 100; opts.epochs = 6; opts.learningRate = 1e-3; opts.sigmaRange = 0...60
        opts.workers = 2
        let dir = NSTemporaryDirectory() + "latent-est-\(getpid())-\(features.rawValue)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        opts.checkpointPath = dir + "/est.ckpt.safetensors"
        let est = NoiseMapEstimator(channels: 3, width: 16, depth: 3, features: features, seed: 5)
        let before = est.validation(Array(images.prefix(3)), options: opts)
        let trainer = PatchTrainer(model: est, options: opts)
        var reports: [PatchEpochReport] = []
        try trainer.run(train: images, validation: Array(images.prefix(3))) { reports.append($0) }
        let after = reports.last!.validation!
        #expect(after < 0.5 * before, "σ error \(before) before training, \(reports.map(\.validation!)) after each epoch")
        // Resuming the checkpoint gives the same weights and epoch count.
        let again = PatchTrainer(model: NoiseMapEstimator(channels: 3, width: 16, depth: 3, features: features, seed: 99), options: opts)
        try again.resume(from: opts.checkpointPath!)
        #expect(again.completedEpochs == 6)
        #expect(again.model.parameters.map { $0.value.array } == est.parameters.map { $0.value.array })
    }

    /// The `energy` statistics: on white noise of σ each of a plane's four reads σ on average
    /// (per channel and, as the opponent basis is orthonormal, per component too); texture
    /// raises them; and each channel's mean plane is the block's mean − ½. Checked against
    /// the pixels directly, for a grey and a colour estimator.
    @Test(arguments: [1, 3])
    func energyStatisticsReadWhiteNoise(channels: Int) {
        let est = NoiseMapEstimator(channels: channels, width: 4, depth: 1, features: .energy, seed: 1)
        let (h, w) = (64, 64), np = channels == 3 ? 6 : 1
        let inputs = NoiseMapEstimator.inputChannels(channels: channels, features: .energy)
        #expect(inputs == 16 * channels + 4 * np + channels)
        func statistics(_ image: [Float]) -> [Float] {
            var half = [Float](repeating: 0, count: channels * h * w), q = [Float](repeating: 0, count: inputs * (h / 4) * (w / 4))
            est.blockInput(image, FeatureShape(c: channels, h: h, w: w), half: &half, into: &q)
            return q
        }
        var rng = RandomGenerator(seed: 4)
        for sigma: Float in [5, 20] {
            let image = (0..<(channels * h * w)).map { i in 0.45 + Float((i % (h * w)) / w) / Float(32 * h) + sigma / 255 * rng.normal() }
            let q = statistics(image)
            let n = (h / 4) * (w / 4)
            for p in 0..<np {
                for j in 0..<4 {
                    let plane = q[((16 * channels + 4 * p + j) * n)..<((16 * channels + 4 * p + j + 1) * n)]
                    let read = plane.map { (expf(1.5 * $0 + 2) - 0.5) }.reduce(0, +) / Float(n)
                    // Each block's statistic is a root of a few squares: its mean runs a little low.
                    #expect(read > 0.75 * sigma && read < 1.1 * sigma, "σ \(sigma), plane \(p), statistic \(j): \(read)")
                }
            }
            // The mean planes: block (0, 0) of channel 0.
            var sum: Float = 0
            for y in 0..<4 { for x in 0..<4 { sum += image[y * w + x] } }
            #expect(abs(q[(16 * channels + 4 * np) * n] - (sum / 16 - 0.5)) < 1e-5)
        }
        // Stripes (texture) read far above the noise.
        let stripes = (0..<(channels * h * w)).map { i in Float(0.3 + 0.4 * Float(i % w % 2)) }
        let q = statistics(stripes)
        let read = expf(1.5 * q[16 * channels * (h / 4) * (w / 4)] + 2) - 0.5
        #expect(read > 50, "\(read)")
    }

    /// An `energy` estimator's input goes with it through files: saved alone or bundled, it loads
    /// with its input; one of the other input is refused, naming the file and both inputs.
    @Test func energyInputRoundTripsThroughFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("est-energy-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let est = NoiseMapEstimator(channels: 3, width: 5, depth: 2, features: .energy, seed: 2)
        #expect(est.metadata["est_features"] == "energy" && NoiseMapEstimator(channels: 3, width: 5, depth: 2, seed: 2).metadata["est_features"] == nil)
        try SafeTensors.write(est.exportTensors(), metadata: est.metadata, to: dir + "/est.safetensors")
        let alone = try NoiseMapEstimator.load(path: dir + "/est.safetensors")
        #expect(alone.features == .energy && alone.parameters.map { $0.value.array } == est.parameters.map { $0.value.array })
        let model = ConvDenoiser(channels: 3, widths: (4, 4, 4), noiseMap: true, seed: 1)
        var meta = model.metadata
        meta["estimator"] = "5,2"
        meta["estimator_features"] = "energy"
        try SafeTensors.write(model.exportTensors() + est.exportTensors().map {
            NamedTensor(name: ConvModelFile.estimatorPrefix + $0.name, shape: $0.shape, values: $0.values)
        }, metadata: meta, to: dir + "/bundle.safetensors")
        let (loaded, _) = try ConvModelFile.load(path: dir + "/bundle.safetensors")
        #expect(loaded.estimator?.features == .energy)
        #expect(loaded.estimator?.parameters.map { $0.value.array } == est.parameters.map { $0.value.array })
        let raw = NoiseMapEstimator(channels: 3, width: 5, depth: 2, seed: 3)
        #expect(throws: ModelFileError.badMetadata(file: dir + "/est.safetensors", reason: "its estimator's input is energy, this one's raw")) {
            try raw.initialise(from: dir + "/est.safetensors")
        }
        meta["estimator_features"] = "sparkle"
        try SafeTensors.write(model.exportTensors(), metadata: meta, to: dir + "/bad.safetensors")
        #expect(throws: ModelFileError.badMetadata(file: dir + "/bad.safetensors", reason: "unknown estimator_features 'sparkle'")) {
            try ConvModelFile.load(path: dir + "/bad.safetensors")
        }
    }

    /// The targets are 4x4 block means, and `estimate` spreads each block's value over its pixels.
    @Test func blockMeansAndFullResolutionMaps() {
        let s = FeatureShape(c: 1, h: 4, w: 8)
        let m = Matrix(rows: 1, cols: s.count, values: (0..<32).map { Float($0) })
        let t = NoiseMapEstimator.blockMeans(m, shape: s)
        // Block 0 holds columns 0-3 of rows 0-3: mean of {0..3, 8..11, 16..19, 24..27} = 13.5.
        #expect(t.array == [13.5, 17.5])
        let est = NoiseMapEstimator(channels: 1, width: 4, depth: 1, seed: 2)
        let map = est.estimate([Float](repeating: 0.3, count: 32), h: 4, w: 8)
        #expect(map.count == 32 && map.allSatisfy { $0 >= 0 })
        #expect(Set(map[0..<4]).count == 1 && map[0] == map[8] && map[0] == map[24])
    }
}
