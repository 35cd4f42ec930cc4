import Foundation
import Testing
@testable import Imaging

/// `NoiseCorrelation`: the real-noise gate's statistic, streamed a band at a time.
struct NoiseCorrelationTests {
    /// A small deterministic generator of normal deviates (Box-Muller on a 64-bit LCG).
    struct Normal {
        var state: UInt64
        mutating func uniform() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return (Double(state >> 11) + 0.5) / Double(1 << 53)
        }
        mutating func next() -> Double { (-2 * log(uniform())).squareRoot() * cos(2 * Double.pi * uniform()) }
    }

    /// Noise of σ `sigma` (0-255), white, or made spatially correlated as a camera's is by the
    /// [1 2 1]/4 filter both ways.
    static func noise(_ w: Int, _ h: Int, sigma: Double, correlated: Bool, seed: UInt64) -> [Double] {
        var g = Normal(state: seed)
        let pad = correlated ? 1 : 0
        let pw = w + 2 * pad, ph = h + 2 * pad
        let n = (0..<(pw * ph)).map { _ in g.next() * sigma }
        guard correlated else { return n }
        let k = [0.25, 0.5, 0.25]
        var out = [Double](repeating: 0, count: w * h)
        for y in 0..<h { for x in 0..<w {
            var s = 0.0
            for dy in 0..<3 { for dx in 0..<3 { s += k[dy] * k[dx] * n[(y + dy) * pw + x + dx] } }
            out[y * w + x] = s * 2.8   // the filter keeps 0.375 of σ: about σ again
        } }
        return out
    }

    /// A gentle ramp (flat for the test: its 9x9 deviation well under 2 grey levels) on the
    /// left, strong stripes on the right, plus noise; `planes` planes (0-1).
    static func image(_ w: Int, _ h: Int, planes: Int, sigma: Double, correlated: Bool, seed: UInt64 = 3) -> FloatImage {
        var img = FloatImage(width: w, height: h, channels: planes)
        for c in 0..<planes {
            let n = noise(w, h, sigma: sigma, correlated: correlated, seed: seed + UInt64(c))
            for y in 0..<h { for x in 0..<w {
                let base = x < w / 2 ? 90 + 0.1 * Double(x) + 0.05 * Double(y) + 10 * Double(c) : ((x / 3) % 2 == 0 ? 40 : 200)
                img[x: x, y: y, c: c] = Float((base + n[y * w + x]).rounded() / 255)
            } }
        }
        return img
    }

    /// The statistic stated directly on the whole image (no rings): the same arithmetic, in the
    /// same order, as the streamed one.
    static func reference(_ img: FloatImage, planes: Int) -> Double? {
        let w = img.width, h = img.height, r = 4, b = 4
        let k0 = (-r...r).map { exp(-Float($0 * $0) / 2) }
        let total = k0.reduce(0, +)
        let k = k0.map { $0 / total }
        var luma = [Float](repeating: 0, count: w * h)
        for y in 0..<h { for x in 0..<w {
            var s: Float = 0
            for c in 0..<planes { s += img[x: x, y: y, c: c] }
            luma[y * w + x] = s * (255 / Float(planes))
        } }
        var blur = [Float](repeating: 0, count: w * h), res = blur
        for y in r..<(h - r) {
            var column = [Float](repeating: 0, count: w)
            for x in 0..<w { var s: Float = 0; for i in 0...(2 * r) { s += k[i] * luma[(y - r + i) * w + x] }; column[x] = s }
            for x in r..<(w - r) {
                var s: Float = 0
                for i in 0...(2 * r) { s += k[i] * column[x - r + i] }
                blur[y * w + x] = s; res[y * w + x] = luma[y * w + x] - s
            }
        }
        let lo = r + b
        guard w > 2 * lo + 1, h > 2 * lo else { return nil }
        var bins = [Int](repeating: -1, count: w * h)
        for y in lo..<(h - lo) { for x in lo..<(w - lo) {
            var s = 0.0, q = 0.0
            for dy in -b...b {
                var hs = 0.0, hq = 0.0
                for dx in -b...b { let v = Double(blur[(y + dy) * w + x + dx]); hs += v; hq += v * v }
                s += hs; q += hq
            }
            let mean = s / 81
            guard mean > 10 && mean < 245 else { continue }
            bins[y * w + x] = min(63, Int(max(0, q / 81 - mean * mean).squareRoot() * 4))
        } }
        // Pairs: (bin, lag, a, b).
        var pairs: [(Int, Int, Double, Double)] = []
        for y in lo..<(h - lo) { for x in lo..<(w - lo) {
            let i = y * w + x
            guard bins[i] >= 0 else { continue }
            if x + 1 < w - lo, bins[i + 1] >= 0 { pairs.append((max(bins[i], bins[i + 1]), 0, Double(res[i]), Double(res[i + 1]))) }
            if y > lo, bins[i - w] >= 0 { pairs.append((max(bins[i], bins[i - w]), 1, Double(res[i - w]), Double(res[i]))) }
        } }
        let flat = pairs.filter { $0.0 < 8 }.count
        var last = 8
        if Double(flat) < 4000 {
            let want = max(4000, Double(pairs.count) / 10)
            var taken = Double(flat)
            while last < 64 && taken < want { taken += Double(pairs.filter { $0.0 == last }.count); last += 1 }
        }
        let kept = pairs.filter { $0.0 < last }
        guard kept.count >= 100 else { return nil }
        var rho = 0.0
        for lag in 0..<2 {
            let p = kept.filter { $0.1 == lag }
            let ab = p.reduce(0.0) { $0 + $1.2 * $1.3 }, aa = p.reduce(0.0) { $0 + $1.2 * $1.2 }, bb = p.reduce(0.0) { $0 + $1.3 * $1.3 }
            rho += ab / (aa * bb).squareRoot()
        }
        return rho / 2
    }

    /// On an image with enough flat pairs (the main selection) and on a small one (the
    /// fallback: the least-varying tenth, here all of them), colour and grey, the streamed value
    /// is the direct statement's.
    @Test(arguments: [(150, 80, 3), (40, 36, 3), (150, 80, 1)])
    func matchesTheDirectStatement(size: (Int, Int, Int)) throws {
        let img = Self.image(size.0, size.1, planes: size.2, sigma: 4, correlated: true)
        let value = try #require(NoiseCorrelation.measure(img, planes: size.2))
        let expected = try #require(Self.reference(img, planes: size.2))
        #expect(abs(value - expected) < 1e-9, "\(value) against \(expected)")
    }

    /// Bands of any height give the same value, bit for bit, and planes after the colour ones
    /// (alpha) are ignored.
    @Test func bandsAndAlphaDoNotMatter() throws {
        let img = Self.image(97, 61, planes: 3, sigma: 5, correlated: true)
        let whole = try #require(NoiseCorrelation.measure(img, planes: 3))
        for band in [1, 7, 60] {
            let m = NoiseCorrelation(width: img.width, planes: 3)
            for top in stride(from: 0, to: img.height, by: band) { m.add(img.rows(top..<min(img.height, top + band))) }
            #expect(m.value() == whole, "bands of \(band)")
        }
        var rgba = FloatImage(width: img.width, height: img.height, channels: 4)
        rgba.setRows(img, at: 0, planes: 3)
        for i in (3 * img.planeSize)..<(4 * img.planeSize) { rgba.data[i] = Float(i % 7) / 7 }
        #expect(NoiseCorrelation.measure(rgba, planes: 3) == whole)
    }

    /// White noise reads below zero at every level (the blur's share of it anti-correlates the
    /// residual's neighbours); camera-like correlated noise well above.
    @Test func whiteNoiseReadsBelowZeroCorrelatedNoiseAbove() throws {
        for sigma in [2.0, 5, 25] {
            let white = try #require(NoiseCorrelation.measure(Self.image(150, 80, planes: 3, sigma: sigma, correlated: false), planes: 3))
            #expect(white < 0, "white σ \(sigma): \(white)")
        }
        for sigma in [2.0, 5] {
            let camera = try #require(NoiseCorrelation.measure(Self.image(150, 80, planes: 3, sigma: sigma, correlated: true), planes: 3))
            #expect(camera > 0.3, "correlated σ \(sigma): \(camera)")
        }
    }

    /// An image too small for any window inside it, or with no area in range (all black), reads
    /// nothing.
    @Test func nothingToReadIsNil() {
        #expect(NoiseCorrelation.measure(Self.image(18, 18, planes: 3, sigma: 5, correlated: false), planes: 3) == nil)
        #expect(NoiseCorrelation.measure(FloatImage(width: 60, height: 60, channels: 1), planes: 1) == nil)
    }
}
