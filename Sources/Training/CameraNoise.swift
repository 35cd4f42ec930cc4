import Foundation
import Models
import Tensor

/// Synthetic noise that looks like a camera's, for training the colour denoiser (after Brooks et
/// al. 2019, "Unprocessing images for learned raw denoising", and Guo et al. 2019, CBDNet):
///
///  1. the clean sRGB patch is taken to linear light (the inverse sRGB curve) and into a
///     camera's space (the inverse of a random colour matrix M, rows summing to 1) and its raw
///     values (divided by random white-balance gains g);
///  2. each pixel of a Bayer mosaic (random phase) gets Poisson–Gaussian noise of variance
///     a·raw + b (a, b from Brooks' joint distribution of shot and read noise);
///  3. the noise is demosaiced (bilinear: spatially correlated), white-balanced (×g), mixed by M,
///     optionally blurred (an in-camera noise reduction: correlated further), and taken through
///     the tone curve with the signal: noisy = srgb(linear + noise);
///  4. rounded to 8 bits and, optionally, JPEG-compressed (8x8 DCT of YCbCr with the standard
///     quantisation tables at a random quality).
///
/// The noise map it returns is the standard deviation each pixel's noise has before the 8-bit
/// and JPEG steps, per channel: that of srgb(linear_c + N) with N of variance
/// v_c = Σ_k M_ck² g_k² ρ_k (a·raw_k + b) (about srgb′(linear_c)·√v_c), with
/// ρ_k the mean, over the four pixels of a Bayer cell, of the squared weights with which raw
/// pixels of channel k reach a pixel through the demosaic and the blur (5/8 for green, 9/16 for
/// red and blue without blur). Planes are channel-major, values on the 0-1 scale.
public enum CameraNoise {
    /// How much in-camera processing the drawn settings include: none; standard (noise coarser
    /// over 1-3 pixels, chroma reduced and blurred); coarse (standard, and half of those patches
    /// with luma noise blurred over 3-8 pixels); correlated (coarse, and in half of the camera
    /// patches a luma component correlated 2-10 pixels away that carries 5-50% of the luma
    /// noise's variance (the share white noise would give it; the smoother demosaiced noise
    /// gives it more), with chroma cut to 10-60%: real photos' noise stays 0.15-0.3 correlated
    /// 4-8 pixels away and 0.6 correlated across channels, which blurring alone never reaches
    /// because a blur takes the variance away with it); reducedChroma (coarse, and in half of the
    /// camera patches chroma noise blurred over 2-4.5 pixels and scaled so that its variance is
    /// 4-80% of luma's: in real photos the camera's chroma noise reduction leaves chroma noise
    /// weak and smooth (polyu-val's 41 photos, YCbCr, detail finer than 31 pixels: chroma
    /// variance 8-38% of luma's, chroma correlated 0.5 four pixels away, luma 0.13), where the
    /// other modes' chroma noise is as strong as luma's or stronger); smoothChroma (coarse, and in
    /// half of the camera patches luma noise as the demosaic leaves it, fine, with a part
    /// correlated 3-10 pixels away carrying about 0-30% of its variance, and chroma noise blurred over
    /// 2.5-4.5 pixels at 12-50% of luma's variance: what real noise is where the scene is flat,
    /// measured on polyu-val's flat areas, which no reference softness reaches: luma correlated
    /// 0.55-0.7 one pixel away and 0.05-0.26 eight away, chroma 0.57-0.65 four away at 21-39% of
    /// luma's variance).
    public enum Processing: String, Sendable, CaseIterable {
        case none, standard, coarse, correlated, reducedChroma = "reduced-chroma", smoothChroma = "smooth-chroma"
    }

    /// One camera's settings, drawn per patch.
    public struct Settings: Sendable {
        public var shot: Float        // a, raw units
        public var read: Float        // b, a variance, raw units
        public var gains: [Float]     // white balance g_k (R, G, B)
        public var matrix: [Float]    // cam→sRGB M, row-major 3x3, rows summing to 1
        public var bayerPhase: Int    // 0-3: where red sits in each 2x2 cell
        public var blur: Float        // σ of the noise blur in pixels (0: none)
        public var jpegQuality: Int?  // nil: no JPEG
        /// In-camera noise reduction and processing that leave the noise coarser and mostly in
        /// luma (what real cameras' noise shows: correlated over several pixels and across
        /// channels). Applied to the noise in YCbCr after the blur: luma keeps (1 − lumaMix) of
        /// itself and gains lumaMix of a Gaussian blur of σ lumaBlur; chroma is blurred by
        /// chromaBlur and scaled by chromaScale. The defaults change nothing.
        public var lumaMix: Float = 0
        public var lumaBlur: Float = 0
        public var chromaBlur: Float = 0
        public var chromaScale: Float = 1
        /// Gain of the blurred luma component (lumaMix of it): 1 leaves it as a plain blur (weak:
        /// a blur over σ pixels keeps about 1/(4πσ²) of the variance); the correlated mode sets it
        /// so that the component keeps a chosen share of the variance.
        public var lumaCoarseGain: Float = 1
        /// When set, chroma (after its blur) is scaled so that its variance in the patch is this
        /// share of luma's (`chromaScale` is then the scale that took); nil: `chromaScale` as given.
        public var chromaToLuma: Float?
        /// A toe on the tone curve: shadows compressed, as camera JPEG engines do, so that the
        /// noise weakens towards black instead of being strongest there (where the sRGB curve is
        /// steepest). The display value v becomes (1 + toe)·v²/(v + toe): 0 and 1 stay, the slope
        /// at black is 0 and 1 + toe at white. A clean level is first taken back through the
        /// whole curve, so the toe moves it to brighter linear light (more shot noise) and only a
        /// strong toe weakens the noise near black: toe 0.25 gives noise at level 8 about 0.7 of
        /// that at level 100, as on polyu-val's Sony pairs (the plain curve gives 1.15).
        /// 0: none (the plain sRGB curve).
        public var toe: Float = 0

        /// The JPEG qualities drawn from by default (uniformly).
        public static let defaultJPEGQualities = 70...97

        /// Brooks' distribution (log shot noise uniform, read noise on a line in log-log with
        /// scatter), widened to high ISO; colour matrices between none and strong saturation.
        /// `toeFraction`: the share of settings with a tone-curve toe (`toe` 0.05-0.3), drawn
        /// last, so that 0 draws the same settings as before it existed.
        public static func random(_ rng: inout RandomGenerator, jpegFraction: Float, jpegQualities: ClosedRange<Int> = defaultJPEGQualities,
                                  processing: Processing = .none, toeFraction: Float = 0) -> Settings {
            let logShot = log(Float(1e-4)) + rng.uniform() * (log(Float(3e-2)) - log(Float(1e-4)))
            let logRead = 2.18 * logShot + 1.2 + 0.26 * rng.normal()
            let gains: [Float] = [1.6 + 0.9 * rng.uniform(), 1, 1.4 + 0.6 * rng.uniform()]
            let s = 0.15 + 0.85 * rng.uniform()
            var m = [Float](repeating: 0, count: 9)
            for r in 0..<3 {
                for c in 0..<3 { m[r * 3 + c] = (r == c ? 1 + s : 0) - s / 3 + 0.08 * (rng.uniform() * 2 - 1) }
                let sum = m[r * 3] + m[r * 3 + 1] + m[r * 3 + 2]
                for c in 0..<3 { m[r * 3 + c] /= sum }
            }
            let blur: Float = rng.uniform() < 0.3 ? 0.4 + 0.7 * rng.uniform() : 0
            let jpeg: Int? = rng.uniform() < jpegFraction
                ? jpegQualities.lowerBound + Int(rng.next() % UInt64(jpegQualities.count)) : nil
            var st = Settings(shot: exp(logShot), read: exp(logRead), gains: gains, matrix: m, bayerPhase: Int(rng.next() % 4),
                              blur: blur, jpegQuality: jpeg)
            if processing != .none {
                // In-camera processing, from none to strong, in 2/3 of patches.
                if rng.uniform() < 2.0 / 3 {
                    st.lumaMix = rng.uniform()
                    st.lumaBlur = 1 + 2 * rng.uniform()
                    st.chromaBlur = 0.5 + 2.5 * rng.uniform()
                    st.chromaScale = 0.15 + 0.85 * rng.uniform()
                    // Coarse: half of those get blotchy noise several pixels wide, as strong
                    // in-camera noise reduction and JPEG leave it (correlated 8+ pixels away).
                    if processing != .standard && rng.uniform() < 0.5 {
                        st.lumaMix = 0.3 + 0.7 * rng.uniform()
                        st.lumaBlur = 3 + 5 * rng.uniform()
                        st.chromaBlur = 1 + 4 * rng.uniform()
                    }
                }
                if processing == .correlated && rng.uniform() < 0.5 {
                    st.addCoarseLuma(share: 0.05 + 0.45 * rng.uniform(), blur: 2 + 8 * rng.uniform())
                    st.chromaBlur = 1 + 4 * rng.uniform()
                    st.chromaScale = 0.1 + 0.5 * rng.uniform()
                }
                if processing == .smoothChroma && rng.uniform() < 0.5 {
                    // The demosaiced noise's blur keeps about twice the share: 0-30% of luma's variance.
                    st.addCoarseLuma(share: 0.15 * rng.uniform(), blur: 3 + 7 * rng.uniform())
                    st.chromaBlur = 2.5 + 2 * rng.uniform()
                    st.chromaToLuma = logUniform(&rng, 0.12, 0.5)
                }
                if processing == .reducedChroma && rng.uniform() < 0.5 {
                    st.chromaBlur = 2 + 2.5 * rng.uniform()
                    st.chromaToLuma = logUniform(&rng, 0.04, 0.8)
                }
            }
            if toeFraction > 0 && rng.uniform() < toeFraction { st.toe = 0.05 + 0.25 * rng.uniform() }
            return st
        }

        /// Luma = √(1−f)·fine + √f·(a Gaussian blur of σ `blur` pixels, scaled back to the fine
        /// noise's variance): a component correlated far that carries the share f of a white
        /// noise's variance (more of the smoother demosaiced noise's).
        mutating func addCoarseLuma(share f: Float, blur: Float) {
            lumaBlur = blur
            let keep = gaussian(blur).reduce(0) { $0 + $1 * $1 }   // one axis; the 2-D share is keep²
            let a = (1 - f).squareRoot(), b = f.squareRoot() / keep
            lumaMix = 1 - a
            lumaCoarseGain = a < 1 ? b / (1 - a) : 1
        }

        static func logUniform(_ rng: inout RandomGenerator, _ lo: Float, _ hi: Float) -> Float {
            exp(log(lo) + rng.uniform() * (log(hi) - log(lo)))
        }
    }

    static let cross: [Float] = [0, 0.25, 0, 0.25, 1, 0.25, 0, 0.25, 0]
    static let box: [Float] = [0.25, 0.5, 0.25, 0.5, 1, 0.5, 0.25, 0.5, 0.25]

    /// ρ_k per channel (R, G, B): the variance a unit-variance white raw noise of channel k has
    /// at a pixel after the bilinear demosaic and a separable blur (`kernel`, nil: none),
    /// averaged over the four positions of a Bayer cell.
    static func varianceGains(blur kernel: [Float]?) -> [Float] {
        let g = kernel ?? [1], r = g.count / 2, reach = r + 1
        return (0..<3).map { k in
            let d = k == 1 ? cross : box
            var total: Float = 0
            for py in 0..<2 {
                for px in 0..<2 {
                    // Weight of raw pixel (jx, jy) (offsets from p) at p: Σ_a g(a) · d(p − a − j).
                    for jy in -reach...reach {
                        for jx in -reach...reach where bayer(px + jx + 8, py + jy + 8, 0) == k {
                            var w: Float = 0
                            for ay in -r...r {
                                for ax in -r...r {
                                    let dy = -ay - jy, dx = -ax - jx
                                    guard abs(dx) <= 1 && abs(dy) <= 1 else { continue }
                                    w += g[ay + r] * g[ax + r] * d[(dy + 1) * 3 + dx + 1]
                                }
                            }
                            total += w * w
                        }
                    }
                }
            }
            return total / 4
        }
    }

    /// JFIF's RGB → YCbCr matrix (no offsets: it acts on noise) and its inverse.
    static let ycc: [Float] = [0.299, 0.587, 0.114, -0.168736, -0.331264, 0.5, 0.5, -0.418688, -0.081312]
    static let yccInverse: [Float] = [1, 0, 1.402, 1, -0.344136, -0.714136, 1, 1.772, 0]

    /// The 2-D kernels the noise of each YCbCr component is filtered with after mixing (the
    /// blur, then the in-camera processing), as dense (2r+1)² arrays of one radius r.
    static func componentKernels(_ st: Settings) -> (luma: [Float], chroma: [Float], radius: Int) {
        func g(_ sigma: Float) -> [Float] { sigma > 0 ? gaussian(sigma) : [1] }
        // 1-D convolution: the blur, then another (exactly what is applied, not a wider Gaussian).
        func then(_ a: [Float], _ b: [Float]) -> [Float] {
            var out = [Float](repeating: 0, count: a.count + b.count - 1)
            for (i, x) in a.enumerated() { for (j, y) in b.enumerated() { out[i + j] += x * y } }
            return out
        }
        let yFine = g(st.blur), yCoarse = then(g(st.blur), g(st.lumaBlur))
        let c = then(g(st.blur), g(st.chromaBlur))
        let r = max(yFine.count, yCoarse.count, c.count) / 2
        let n = 2 * r + 1
        func dense(_ k: [Float], _ weight: Float) -> [Float] {
            let kr = k.count / 2
            var out = [Float](repeating: 0, count: n * n)
            for y in -kr...kr { for x in -kr...kr { out[(y + r) * n + x + r] = weight * k[y + kr] * k[x + kr] } }
            return out
        }
        let mix = st.lumaBlur > 0 ? st.lumaMix : 0
        let luma = zip(dense(yFine, 1 - mix), dense(yCoarse, mix * st.lumaCoarseGain)).map { $0 + $1 }
        return (luma, dense(c, st.chromaScale), r)
    }

    /// W[c·3 + k]: the kernel (radius `wr`, dense) with which raw channel k's mosaic noise
    /// reaches output channel c through the whole linear chain (demosaic, white balance, colour
    /// matrix, YCbCr filtering): Σ_comp T⁻¹[c][comp]·(T·M)[comp][k]·g_k·(K_comp ∗ d_k).
    static func chainKernels(_ st: Settings) -> (weights: [[Float]], wr: Int) {
        let (kl, kc, r) = componentKernels(st)
        let n = 2 * r + 1, wr = r + 1, wn = 2 * wr + 1
        var tm = [Float](repeating: 0, count: 9)   // (T·M)[comp][k]
        for comp in 0..<3 {
            for k in 0..<3 {
                var sum: Float = 0
                for j in 0..<3 { sum += ycc[comp * 3 + j] * st.matrix[j * 3 + k] }
                tm[comp * 3 + k] = sum
            }
        }
        // W[c·3 + k]: E_comp = K_comp ∗ d_k (radius r + 1), then W = Σ_comp coefficient · E_comp.
        let weights: [[Float]] = (0..<9).map { ck in
            let (c, k) = (ck / 3, ck % 3)
            let d = k == 1 ? cross : box
            var w = [Float](repeating: 0, count: wn * wn)
            for comp in 0..<3 {
                let coef: Float = yccInverse[c * 3 + comp] * tm[comp * 3 + k] * st.gains[k]
                guard coef != 0 else { continue }
                let kern = comp == 0 ? kl : kc
                for ky in -r...r {
                    for kx in -r...r {
                        let kv = kern[(ky + r) * n + kx + r]
                        guard kv != 0 else { continue }
                        for dy in -1...1 {
                            for dx in -1...1 {
                                let at = (ky + dy + wr) * wn + kx + dx + wr
                                w[at] += coef * kv * d[(dy + 1) * 3 + dx + 1]
                            }
                        }
                    }
                }
            }
            return w
        }
        return (weights, wr)
    }

    /// [(c·3 + d)·3 + k] = Σ_j W_ck(p − j)·W_dk(p − j) over k's mosaic sites j (W: `chainKernels`):
    /// the covariance that a unit-variance white raw noise of camera channel k gives output
    /// channels c and d at a pixel p (the diagonal, d = c: channel c's variance), as the mean over
    /// a Bayer cell's four positions and at each of them (`positions[cellPosition]`): the noise is
    /// stronger at a channel's own mosaic sites than where the demosaic interpolated it.
    static func covarianceWeights(_ st: Settings) -> (average: [Float], positions: [[Float]]) {
        let (weights, wr) = chainKernels(st)
        let wn = 2 * wr + 1
        // Raw site j reaches p with weight W(p − j); average over p's four cell positions.
        var out = [Float](repeating: 0, count: 27), positions = [[Float]](repeating: out, count: 4)
        for c in 0..<3 {
            for e in c..<3 {
                for k in 0..<3 {
                    let a = weights[c * 3 + k], b = weights[e * 3 + k]
                    var total: Float = 0
                    for py in 0..<2 {
                        for px in 0..<2 {
                            var part: Float = 0
                            for oy in -wr...wr {
                                for ox in -wr...wr where bayer(px - ox + 8, py - oy + 8, 0) == k {
                                    let at = (oy + wr) * wn + ox + wr
                                    total += a[at] * b[at]
                                    part += a[at] * b[at]
                                }
                            }
                            positions[py * 2 + px][(c * 3 + e) * 3 + k] = part
                            positions[py * 2 + px][(e * 3 + c) * 3 + k] = part
                        }
                    }
                    out[(c * 3 + e) * 3 + k] = total / 4
                    out[(e * 3 + c) * 3 + k] = total / 4
                }
            }
        }
        return (out, positions)
    }

    /// Filters the three noise planes in YCbCr with the components' kernels (see `componentKernels`).
    static func processInCamera(_ noise: inout [Float], h: Int, w: Int, settings st: inout Settings) {
        let n = h * w
        var comp = [Float](repeating: 0, count: 3 * n)
        for i in 0..<n {
            for q in 0..<3 { comp[q * n + i] = ycc[q * 3] * noise[i] + ycc[q * 3 + 1] * noise[n + i] + ycc[q * 3 + 2] * noise[2 * n + i] }
        }
        func g(_ sigma: Float) -> [Float]? { sigma > 0 ? gaussian(sigma) : nil }
        // Luma: (1 − m)·itself + m·blurred; chroma: scaled and blurred (the common blur was applied before).
        if st.lumaBlur > 0 && st.lumaMix > 0 {
            var coarse = Array(comp[0..<n])
            if let k = g(st.lumaBlur) { blurPlane(&coarse, offset: 0, h: h, w: w, kernel: k) }
            let gain = st.lumaMix * st.lumaCoarseGain
            for i in 0..<n { comp[i] = (1 - st.lumaMix) * comp[i] + gain * coarse[i] }
        }
        for q in 1..<3 {
            if let k = g(st.chromaBlur) { blurPlane(&comp, offset: q * n, h: h, w: w, kernel: k) }
        }
        if let share = st.chromaToLuma {
            var luma: Float = 0, chroma: Float = 0
            for i in 0..<n { luma += comp[i] * comp[i] }
            for i in n..<(3 * n) { chroma += comp[i] * comp[i] }
            st.chromaScale = chroma > 0 ? (share * luma / (chroma / 2)).squareRoot() : 1
        }
        for i in n..<(3 * n) { comp[i] *= st.chromaScale }
        for i in 0..<n {
            for c in 0..<3 { noise[c * n + i] = yccInverse[c * 3] * comp[i] + yccInverse[c * 3 + 1] * comp[n + i] + yccInverse[c * 3 + 2] * comp[2 * n + i] }
        }
    }

    @inline(__always) static func toLinear(_ v: Float) -> Float {
        v <= 0.04045 ? v / 12.92 : powf((v + 0.055) / 1.055, 2.4)
    }
    @inline(__always) static func toSRGB(_ v: Float) -> Float {
        let l = min(1, max(0, v))
        return l <= 0.0031308 ? 12.92 * l : 1.055 * powf(l, 1 / 2.4) - 0.055
    }
    /// The camera's tone curve: linear light to the 0-1 display value (sRGB, then the toe).
    @inline(__always) static func display(_ v: Float, toe: Float) -> Float {
        let d = toSRGB(v)
        return toe == 0 ? d : (1 + toe) * d * d / (d + toe)
    }
    /// Its inverse: a display value to linear light.
    @inline(__always) static func linear(_ v: Float, toe: Float) -> Float {
        guard toe != 0 else { return toLinear(v) }
        // (1 + t)·d²/(d + t) = v: d² − v'·d − v'·t = 0 with v' = v/(1 + t), the positive root.
        let w = v / (1 + toe)
        return toLinear((w + (w * w + 4 * w * toe).squareRoot()) / 2)
    }
    /// Gauss–Hermite nodes and weights (5 points, weights normalised to sum 1).
    static let hermite: [(x: Float, w: Float)] = [(-2.0201829, 0.011257411), (-0.95857246, 0.22207592), (0, 0.53333336),
                                                  (0.95857246, 0.22207592), (2.0201829, 0.011257411)]

    /// The standard deviation of srgb(l + N) for N ~ N(0, variance), clipping included
    /// (Gauss–Hermite quadrature): the tone curve's first-order slope alone is off by 10-15%
    /// where the noise is as large as a dark signal.
    static func toneStd(_ l: Float, variance: Float, toe: Float) -> Float {
        let s = (2 * variance).squareRoot()
        var m: Float = 0, m2: Float = 0
        for (x, w) in hermite {
            let v = display(l + s * x, toe: toe)
            m += w * v
            m2 += w * v * v
        }
        return max(0, m2 - m * m).squareRoot()
    }

    /// The Bayer channel (0 R, 1 G, 2 B) at (x, y) for a phase.
    @inline(__always) static func bayer(_ x: Int, _ y: Int, _ phase: Int) -> Int {
        let p = cellPosition(x, y, phase), px = p & 1, py = p >> 1
        return px == py ? (px == 0 ? 0 : 2) : 1
    }
    /// Where (x, y) sits in its Bayer cell for a phase, as py·2 + px in the phase-0 pattern.
    @inline(__always) static func cellPosition(_ x: Int, _ y: Int, _ phase: Int) -> Int {
        ((y + phase >> 1) & 1) * 2 + (x + phase) & 1
    }

    /// The mean of display(l + N) for N ~ N(0, variance), clipping included: what the average of
    /// many shots of a pixel of linear level l converges to. The tone curve is concave and clips
    /// at black, so it differs from display(l) where the noise is strong against the signal (a
    /// 32-point midpoint rule over ±4σ, whose kinks Gauss–Hermite's few nodes would miss).
    static func toneMean(_ l: Float, variance: Float, toe: Float) -> Float {
        guard variance > 0 else { return display(l, toe: toe) }
        let s = variance.squareRoot()
        var m: Float = 0
        for (x, w) in toneMeanNodes { m += w * display(l + s * x, toe: toe) }
        return m
    }
    /// The midpoint rule's nodes (in σ) and weights (the normal density, normalised to sum 1).
    static let toneMeanNodes: [(x: Float, w: Float)] = {
        let x = (0..<32).map { -4 + (Float($0) + 0.5) / 4 }
        let w = x.map { exp(-$0 * $0 / 2) }, total = w.reduce(0, +)
        return zip(x, w).map { ($0, $1 / total) }
    }()

    /// Entry cd = c·3 + d of the covariance of a pixel's linear noise (before the tone curve):
    /// Σ_k weights[cd·3 + k] (`covarianceWeights`) by the pixel's raw variances a·raw_k + b.
    @inline(__always) static func linearCovariance(_ weights: [Float], entry cd: Int, rawVar: [Float], at i: Int, n: Int) -> Float {
        var v: Float = 0
        for k in 0..<3 { v += weights[cd * 3 + k] * rawVar[k * n + i] }
        return v
    }

    /// The noise in linear sRGB for linear planes `lin`: Poisson–Gaussian raw noise on a Bayer
    /// mosaic (`rawVar`: a·raw_k + b at every pixel, each channel), demosaiced, white-balanced,
    /// mixed by the colour matrix, blurred (`kernel`, when the settings blur) and, when
    /// `processed`, filtered as in-camera processing does (which may set `st.chromaScale`).
    static func linearNoise(_ lin: [Float], h: Int, w: Int, settings st: inout Settings, rng: inout RandomGenerator)
        -> (noise: [Float], rawVar: [Float], kernel: [Float]?, processed: Bool) {
        let n = h * w
        // Camera raw per channel: raw = M⁻¹·linear / g.
        let inv = invert3(st.matrix)
        // Raw noise on the mosaic, scattered into per-channel sparse planes.
        var sparse = [Float](repeating: 0, count: 3 * n)
        var rawVar = [Float](repeating: 0, count: 3 * n)
        for y in 0..<h {
            for x in 0..<w {
                let i = y * w + x
                let l = (lin[i], lin[n + i], lin[2 * n + i])
                for k in 0..<3 {
                    let cam = inv[k * 3] * l.0 + inv[k * 3 + 1] * l.1 + inv[k * 3 + 2] * l.2
                    rawVar[k * n + i] = st.shot * max(0, cam / st.gains[k]) + st.read
                }
                let k = bayer(x, y, st.bayerPhase)
                sparse[k * n + i] = rawVar[k * n + i].squareRoot() * rng.normal()
            }
        }
        let dem = demosaic(sparse, h: h, w: w, gains: st.gains)
        // Mix into linear sRGB; optional blur.
        var noise = [Float](repeating: 0, count: 3 * n)
        for i in 0..<n {
            for c in 0..<3 {
                noise[c * n + i] = st.matrix[c * 3] * dem[i] + st.matrix[c * 3 + 1] * dem[n + i] + st.matrix[c * 3 + 2] * dem[2 * n + i]
            }
        }
        let kernel = st.blur > 0 ? gaussian(st.blur) : nil
        if let kernel { for c in 0..<3 { blurPlane(&noise, offset: c * n, h: h, w: w, kernel: kernel) } }
        let processed = st.chromaScale != 1 || st.chromaBlur > 0 || (st.lumaMix > 0 && st.lumaBlur > 0) || st.chromaToLuma != nil
        if processed { processInCamera(&noise, h: h, w: w, settings: &st) }
        return (noise, rawVar, kernel, processed)
    }

    /// Bilinear demosaic of sparse per-channel mosaic planes (green with the cross kernel, red
    /// and blue with the box), each channel times its white-balance gain.
    static func demosaic(_ sparse: [Float], h: Int, w: Int, gains: [Float]) -> [Float] {
        let n = h * w
        var dem = [Float](repeating: 0, count: 3 * n)
        for k in 0..<3 {
            let kern = k == 1 ? cross : box
            for y in 0..<h {
                for x in 0..<w {
                    var s: Float = 0
                    for dy in -1...1 {
                        let yy = reflect(y + dy, h)
                        for dx in -1...1 { s += kern[(dy + 1) * 3 + dx + 1] * sparse[k * n + yy * w + reflect(x + dx, w)] }
                    }
                    dem[k * n + y * w + x] = s * gains[k]
                }
            }
        }
        return dem
    }

    /// Noisy planes and the noise map for clean RGB planes (3 x h x w, 0-1). `space`: what the
    /// map's planes measure (`.opponent`: the σ of the opponent components, from the noise's
    /// covariance across channels at each pixel, `opponentMap`). `expected`, when given, gets
    /// the mean of the noisy planes over the noise (`toneMean`, before the 8-bit and JPEG steps):
    /// the reference a mean of many shots gives, which keeps what the tone curve and clipping do
    /// to the noise's mean. It may be `clean` itself: the clean planes are all read before
    /// anything is written.
    public static func apply(_ clean: UnsafePointer<Float>, h: Int, w: Int, settings: Settings, rng: inout RandomGenerator,
                             noisy: UnsafeMutablePointer<Float>, map: UnsafeMutablePointer<Float>, space: NoiseMapSpace = .rgb,
                             expected: UnsafeMutablePointer<Float>? = nil) {
        var st = settings
        let n = h * w
        var lin = [Float](repeating: 0, count: 3 * n)
        for i in 0..<(3 * n) { lin[i] = linear(clean[i], toe: st.toe) }
        let (noise, rawVar, kernel, processed) = linearNoise(lin, h: h, w: w, settings: &st, rng: &rng)
        let chain = processed || space == .opponent || expected != nil ? covarianceWeights(st) : nil
        let weights = processed ? chain?.average : nil, covariance = space == .opponent ? chain?.average : nil
        // The per-channel gains only where neither the chain's weights nor the covariance map the variance.
        let rho = weights == nil && covariance == nil ? varianceGains(blur: kernel) : []
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 12) { scratch in
            for i in 0..<n {
                for c in 0..<3 {
                    let l = lin[c * n + i]
                    noisy[c * n + i] = (display(l + noise[c * n + i], toe: st.toe) * 255).rounded() / 255
                    if let expected, let chain {
                        let at = chain.positions[cellPosition(i % w, i / w, st.bayerPhase)]
                        expected[c * n + i] = toneMean(l, variance: linearCovariance(at, entry: c * 4, rawVar: rawVar, at: i, n: n), toe: st.toe)
                    }
                    guard covariance == nil else { continue }
                    var v: Float = 0
                    if let weights {
                        v = linearCovariance(weights, entry: c * 4, rawVar: rawVar, at: i, n: n)
                    } else {
                        for k in 0..<3 {
                            let m = st.matrix[c * 3 + k], g = st.gains[k]
                            v += m * m * g * g * rho[k] * rawVar[k * n + i]
                        }
                    }
                    map[c * n + i] = toneStd(l, variance: v, toe: st.toe)
                }
                if let covariance {
                    opponentMap(covariance, rawVar: rawVar, lin: lin, at: i, n: n, toe: st.toe, map: map, scratch: scratch.baseAddress!)
                }
            }
        }
        if let q = st.jpegQuality { JPEGQuantizer.apply(noisy, h: h, w: w, quality: q) }
    }

    /// Pixel i's map in the opponent space: the covariance of its linear noise across channels
    /// (Σ_k weights·(a·raw_k + b)), each channel scaled to the σ the tone curve gives it (`toneStd`,
    /// as the RGB map has it), then taken into the opponent components (`NoiseMapSpace`).
    /// `scratch`: room for 12 floats (the covariance and the slopes), so that no pixel allocates.
    static func opponentMap(_ weights: [Float], rawVar: [Float], lin: [Float], at i: Int, n: Int, toe: Float, map: UnsafeMutablePointer<Float>,
                            scratch: UnsafeMutablePointer<Float>) {
        let cov = scratch, slope = scratch + 9
        for cd in 0..<9 { cov[cd] = linearCovariance(weights, entry: cd, rawVar: rawVar, at: i, n: n) }
        for c in 0..<3 { slope[c] = cov[c * 4] > 0 ? toneStd(lin[c * n + i], variance: cov[c * 4], toe: toe) / cov[c * 4].squareRoot() : 0 }
        for c in 0..<3 { for d in 0..<3 { cov[c * 3 + d] *= slope[c] * slope[d] } }
        for q in 0..<3 { map[q * n + i] = NoiseMapSpace.opponent.sigma(component: q, covariance: cov) }
    }

    static func reflect(_ i: Int, _ n: Int) -> Int {
        if n == 1 { return 0 }
        var i = i
        while i < 0 || i >= n { i = i < 0 ? -i : 2 * (n - 1) - i }
        return i
    }

    static func gaussian(_ sigma: Float) -> [Float] {
        let r = max(1, Int((3 * sigma).rounded(.up)))
        var k = (-r...r).map { expf(-Float($0 * $0) / (2 * sigma * sigma)) }
        let s = k.reduce(0, +)
        for i in k.indices { k[i] /= s }
        return k
    }

    static func blurPlane(_ p: inout [Float], offset: Int, h: Int, w: Int, kernel: [Float]) {
        let r = kernel.count / 2
        var tmp = [Float](repeating: 0, count: h * w)
        for y in 0..<h {
            for x in 0..<w {
                var s: Float = 0
                for j in -r...r { s += kernel[j + r] * p[offset + y * w + reflect(x + j, w)] }
                tmp[y * w + x] = s
            }
        }
        for y in 0..<h {
            for x in 0..<w {
                var s: Float = 0
                for j in -r...r { s += kernel[j + r] * tmp[reflect(y + j, h) * w + x] }
                p[offset + y * w + x] = s
            }
        }
    }

    static func invert3(_ m: [Float]) -> [Float] {
        let (a, b, c, d, e, f, g, h, i) = (m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8])
        let det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)
        return [(e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det,
                (f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det,
                (d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det]
    }
}

/// Baseline JPEG's lossy step on RGB planes in place: RGB → YCbCr (JFIF), 8x8 DCT per block,
/// quantisation with the standard tables (Annex K) scaled by quality as libjpeg does, inverse,
/// back to 8-bit RGB. No chroma subsampling, no entropy coding (lossless anyway). Rows and columns
/// past the last full block are left as they are.
public enum JPEGQuantizer {
    static let luma: [Float] = [16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
                                14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
                                49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99]
    static let chroma: [Float] = [17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99,
                                  47, 66, 99, 99, 99, 99, 99, 99] + [Float](repeating: 99, count: 32)
    static let cosines: [Float] = (0..<64).map { i in
        let (u, x) = (i / 8, i % 8)
        return (u == 0 ? (0.125 as Float).squareRoot() : (0.25 as Float).squareRoot()) * cosf(Float(2 * x + 1) * Float(u) * .pi / 16)
    }

    static func table(_ base: [Float], quality: Int) -> [Float] {
        let q = max(1, min(100, quality))
        let scale: Float = q < 50 ? 5000 / Float(q) : Float(200 - 2 * q)
        return base.map { max(1, min(255, (($0 * scale + 50) / 100).rounded(.down))) }
    }

    public static func apply(_ rgb: UnsafeMutablePointer<Float>, h: Int, w: Int, quality: Int) {
        let tables = [table(luma, quality: quality), table(chroma, quality: quality), table(chroma, quality: quality)]
        let n = h * w
        var block = [Float](repeating: 0, count: 3 * 64), coef = [Float](repeating: 0, count: 64), tmp = coef
        for by in stride(from: 0, through: h - 8, by: 8) {
            for bx in stride(from: 0, through: w - 8, by: 8) {
                for y in 0..<8 {
                    for x in 0..<8 {
                        let i = (by + y) * w + bx + x
                        let (r, g, b) = (rgb[i] * 255, rgb[n + i] * 255, rgb[2 * n + i] * 255)
                        block[y * 8 + x] = 0.299 * r + 0.587 * g + 0.114 * b - 128
                        block[64 + y * 8 + x] = -0.168736 * r - 0.331264 * g + 0.5 * b
                        block[128 + y * 8 + x] = 0.5 * r - 0.418688 * g - 0.081312 * b
                    }
                }
                for c in 0..<3 {
                    // coef = C · X · Cᵀ, quantised, then X = Cᵀ · coef · C.
                    for u in 0..<8 { for x in 0..<8 { var s: Float = 0; for y in 0..<8 { s += cosines[u * 8 + y] * block[c * 64 + y * 8 + x] }; tmp[u * 8 + x] = s } }
                    for u in 0..<8 { for v in 0..<8 { var s: Float = 0; for x in 0..<8 { s += tmp[u * 8 + x] * cosines[v * 8 + x] }; coef[u * 8 + v] = s } }
                    for j in 0..<64 { coef[j] = (coef[j] / tables[c][j]).rounded() * tables[c][j] }
                    for y in 0..<8 { for v in 0..<8 { var s: Float = 0; for u in 0..<8 { s += cosines[u * 8 + y] * coef[u * 8 + v] }; tmp[y * 8 + v] = s } }
                    for y in 0..<8 { for x in 0..<8 { var s: Float = 0; for v in 0..<8 { s += tmp[y * 8 + v] * cosines[v * 8 + x] }; block[c * 64 + y * 8 + x] = s } }
                }
                for y in 0..<8 {
                    for x in 0..<8 {
                        let i = (by + y) * w + bx + x
                        let (yy, cb, cr) = (block[y * 8 + x] + 128, block[64 + y * 8 + x], block[128 + y * 8 + x])
                        let rgbv = (yy + 1.402 * cr, yy - 0.344136 * cb - 0.714136 * cr, yy + 1.772 * cb)
                        rgb[i] = min(255, max(0, rgbv.0.rounded())) / 255
                        rgb[n + i] = min(255, max(0, rgbv.1.rounded())) / 255
                        rgb[2 * n + i] = min(255, max(0, rgbv.2.rounded())) / 255
                    }
                }
            }
        }
    }
}
