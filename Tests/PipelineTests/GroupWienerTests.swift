import CKernels
import Foundation
import Testing
@testable import Imaging
@testable import Inference
import Tensor

struct GroupWienerTests {
    /// A scene with flat areas, ramps and edges (so that blocks have look-alikes and groups
    /// form), noisy with white noise of `sigma` levels, and a pilot with a little noise of its own.
    static func scene(_ w: Int, _ h: Int, channels: Int, sigma: Float, seed: UInt64) -> (clean: FloatImage, noisy: FloatImage, pilot: FloatImage) {
        var rng = RandomGenerator(seed: seed)
        var clean = FloatImage(width: w, height: h, channels: channels)
        for c in 0..<channels { for y in 0..<h { for x in 0..<w {
            let stripe: Float = (x / 6 + y / 9) % 2 == 0 ? 0.2 : 0.6
            clean[x: x, y: y, c: c] = stripe + 0.15 * Float(c) / 3 + 0.1 * Float(y) / Float(h)
        } } }
        var noisy = clean, pilot = clean
        for i in clean.data.indices {
            noisy.data[i] += rng.normal() * sigma / 255
            pilot.data[i] += rng.normal() * 2 / 255
        }
        return (clean, noisy, pilot)
    }

    static func mse(_ a: FloatImage, _ b: FloatImage) -> Double {
        zip(a.data, b.data).map { Double($0 - $1) * Double($0 - $1) }.reduce(0, +) / Double(a.data.count)
    }

    /// Streamed in bands of any height, the output is the whole-image output bit for bit (grey
    /// and colour, odd sizes, references not on a multiple of the step at the edges).
    @Test(arguments: [1, 3])
    func bandsEqualWholeImage(channels: Int) throws {
        let (_, noisy, pilot) = Self.scene(45, 61, channels: channels, sigma: 20, seed: 3)
        let st = GroupWiener.Settings(step: 4, radius: 7, group: 8, tau: 2000, stride: 1)
        let sig = [Float](repeating: 20, count: channels)
        let whole = try GroupWiener.filter(noisy: noisy, pilot: pilot, sigma: sig, settings: st)
        for band in [1, 5, 16, 100] {
            let s = try GroupWiener.filter(noisy: noisy, pilot: pilot, sigma: sig, settings: st, bandRows: band)
            #expect(s.data == whole.data, "band \(band)")
        }
    }

    /// The AVX2 path gives the plain path's bits.
    @Test func vectorPathMatchesPlain() throws {
        let (_, noisy, pilot) = Self.scene(40, 36, channels: 3, sigma: 15, seed: 4)
        let st = GroupWiener.Settings(step: 3, radius: 6, group: 16, tau: 3000, stride: 2)
        let fast = try GroupWiener.filter(noisy: noisy, pilot: pilot, sigma: [15, 15, 15], settings: st)
        lk_simd_cap(Int32(LK_SIMD_PLAIN))
        defer { lk_simd_cap(-1) }
        let plain = try GroupWiener.filter(noisy: noisy, pilot: pilot, sigma: [15, 15, 15], settings: st)
        #expect(fast.data == plain.data)
    }

    /// Told the noise, with a close pilot, the filter takes most of the noise out.
    @Test func removesNoise() throws {
        let (clean, noisy, pilot) = Self.scene(64, 64, channels: 3, sigma: 20, seed: 5)
        let out = try GroupWiener.filter(noisy: noisy, pilot: pilot, sigma: [20, 20, 20])
        let before = Self.mse(noisy, clean), after = Self.mse(out, clean)
        #expect(after < 0.15 * before, "MSE \(before) → \(after)")
    }

    /// An image smaller than a block has no blocks: the pilot comes back.
    @Test func tinyImageKeepsPilot() throws {
        let (_, noisy, pilot) = Self.scene(7, 20, channels: 3, sigma: 20, seed: 6)
        let out = try GroupWiener.filter(noisy: noisy, pilot: pilot, sigma: [20, 20, 20])
        #expect(out.data == pilot.data)
    }

    /// The kernel against a plain Swift statement of the algorithm in Double (block matching on
    /// the first plane, 2-D DCT, Haar along the group, Wiener shrinkage by the pilot's
    /// coefficients, Kaiser-weighted aggregation), on a grey image (its inputs rounded to halves,
    /// as the filter holds them).
    @Test func matchesReference() throws {
        let (_, noisy, pilot) = Self.scene(29, 26, channels: 1, sigma: 25, seed: 7)
        let st = GroupWiener.Settings(step: 3, radius: 5, group: 8, tau: 1500, stride: 1)
        let out = try GroupWiener.filter(noisy: noisy, pilot: pilot, sigma: [25], settings: st)
        // The filter holds both images as halves.
        func halves(_ img: FloatImage) -> FloatImage { var h = img; lk_round_half(&h.data, h.data.count); return h }
        let ref = Self.reference(halves(noisy), halves(pilot), sigma: 25.0 / 255, st)
        var worst = 0.0
        for i in out.data.indices { worst = max(worst, abs(Double(out.data[i]) - ref[i])) }
        #expect(worst < 2e-5, "largest difference \(worst)")
    }

    static func reference(_ z: FloatImage, _ y: FloatImage, sigma: Double, _ st: GroupWiener.Settings) -> [Double] {
        let W = z.width, H = z.height, B = 8
        var num = [Double](repeating: 0, count: W * H), den = num
        func positions(_ n: Int) -> [Int] {
            var p = Array(stride(from: 0, through: n - B, by: st.step))
            if p.last != n - B { p.append(n - B) }
            return p
        }
        var c = [[Double]](repeating: [Double](repeating: 0, count: B), count: B)
        for i in 0..<B {
            let a: Double = i == 0 ? (1.0 / Double(B)).squareRoot() : (2.0 / Double(B)).squareRoot()
            for j in 0..<B {
                let angle: Double = Double.pi * Double(2 * j + 1) * Double(i) / Double(2 * B)
                c[i][j] = a * cos(angle)
            }
        }
        func i0(_ x: Double) -> Double { var s = 1.0, t = 1.0; for k in 1..<40 { t *= (x / Double(2 * k)) * (x / Double(2 * k)); s += t }; return s }
        let k1 = (0..<B).map { n -> Double in let r = 2.0 * Double(n) / Double(B - 1) - 1; return i0(2 * (1 - r * r).squareRoot()) / i0(2) }
        func dct(_ img: FloatImage, _ bx: Int, _ by: Int) -> [Double] {
            var o = [Double](repeating: 0, count: B * B)
            for u in 0..<B { for v in 0..<B {
                var s = 0.0
                for r in 0..<B { for q in 0..<B { s += c[u][r] * c[v][q] * Double(img[x: bx + q, y: by + r, c: 0]) } }
                o[u * B + v] = s
            } }
            return o
        }
        func haar(_ g: [[Double]]) -> [[Double]] {
            var g = g, len = g.count
            while len > 1 {
                let h = len / 2
                var t = g
                for i in 0..<h { for j in 0..<(B * B) {
                    t[i][j] = (g[2 * i][j] + g[2 * i + 1][j]) / 2.0.squareRoot(); t[h + i][j] = (g[2 * i][j] - g[2 * i + 1][j]) / 2.0.squareRoot()
                } }
                g = t; len = h
            }
            return g
        }
        func unhaar(_ g: [[Double]]) -> [[Double]] {
            var g = g, len = 2
            while len <= g.count {
                let h = len / 2
                var t = g
                for i in 0..<h { for j in 0..<(B * B) {
                    t[2 * i][j] = (g[i][j] + g[h + i][j]) / 2.0.squareRoot(); t[2 * i + 1][j] = (g[i][j] - g[h + i][j]) / 2.0.squareRoot()
                } }
                g = t; len *= 2
            }
            return g
        }
        for ry in positions(H) { for rx in positions(W) {
            // Distances as the kernel computes them (Float, lanes then ((0+4)+(2+6))+((1+5)+(3+7))).
            func dist(_ cx: Int, _ cy: Int) -> Float {
                var acc = [Float](repeating: 0, count: 8)
                for r in 0..<B { for j in 0..<B { let d = y[x: cx + j, y: cy + r, c: 0] - y[x: rx + j, y: ry + r, c: 0]; acc[j] = acc[j].addingProduct(d, d) } }
                return ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]))
            }
            var cands: [(d: Float, i: Int, x: Int, y: Int)] = []
            let x0 = max(0, rx - st.radius), x1 = min(W - B, rx + st.radius), y0 = max(0, ry - st.radius), y1 = min(H - B, ry + st.radius)
            for cy in y0...y1 { for cx in x0...x1 where !(cx == rx && cy == ry) {
                if (cy - ry) % st.stride != 0 || (cx - rx) % st.stride != 0 { continue }
                let d = dist(cx, cy)
                if d < st.tau / (255 * 255) * 64 { cands.append((d, (cy - y0) * (x1 - x0 + 1) + (cx - x0), cx, cy)) }
            } }
            cands.sort { $0.d < $1.d || ($0.d == $1.d && $0.i < $1.i) }
            var group = [(x: rx, y: ry)] + cands.prefix(st.group - 1).map { (x: $0.x, y: $0.y) }
            var m = 1
            while m * 2 <= group.count { m *= 2 }
            group = Array(group.prefix(m))
            let yt = haar(group.map { dct(y, $0.x, $0.y) }), zt = haar(group.map { dct(z, $0.x, $0.y) })
            var est = zt, wsum = 0.0
            for g in 0..<m { for j in 0..<(B * B) {
                let w = yt[g][j] * yt[g][j] / (yt[g][j] * yt[g][j] + sigma * sigma)
                est[g][j] *= w; wsum += w * w
            } }
            let weight = 1 / (sigma * sigma * wsum)
            let back = unhaar(est)
            for (g, pos) in group.enumerated() {
                for r in 0..<B { for q in 0..<B {
                    var v = 0.0
                    for u in 0..<B { for w in 0..<B { v += c[u][r] * c[w][q] * back[g][u * B + w] } }
                    let kw = weight * k1[r] * k1[q]
                    num[(pos.y + r) * W + pos.x + q] += kw * v; den[(pos.y + r) * W + pos.x + q] += kw
                } }
            }
        } }
        return zip(num, den).map { $0 / $1 }
    }
}

/// `BandDenoiser.realNoise`: the network's output is the pilot of the stage, streamed or whole.
struct RealNoiseStageTests {
    /// Streamed in bands (the rows the network emits paired with the noisy rows read), the
    /// result is the whole-image reference's bit for bit, and the stage changes the output.
    @Test func streamedEqualsWholeImage() throws {
        let model = BandDenoiserTests.conditionedModel()
        let (_, noisy, _) = GroupWienerTests.scene(41, 35, channels: 3, sigma: 10, seed: 8)
        var reference = BandDenoiser(model: model)
        reference.realNoise = .on
        let sigmas: [Float] = [10, 10, 10]
        let whole = reference.wholeImage(noisy, sigmas: sigmas)
        let stage = try #require(reference.stageSigma(for: noisy, sigmas: sigmas))
        var plain = reference
        plain.realNoise = .off
        #expect(plain.wholeImage(noisy, sigmas: sigmas).data != whole.data)
        for (band, read) in [(4, 3), (16, 70), (64, 1)] {
            let bd = BandDenoiser(model: model, bandRows: band)
            var out = FloatImage(width: noisy.width, height: noisy.height, channels: 3)
            var next = 0, top = 0
            try bd.run(width: noisy.width, height: noisy.height, colorPlanes: 3, sigmas: sigmas, stage: stage, nextRows: {
                guard next < noisy.height else { return nil }
                let rows = next..<min(noisy.height, next + read)
                next = rows.upperBound
                return noisy.rows(rows)
            }, emit: { b in out.setRows(b, at: top, planes: 3); top += b.height })
            #expect(top == noisy.height)
            #expect(out.data == whole.data, "band \(band), \(read) rows read at a time")
        }
    }

    /// A scene with camera-like (spatially correlated) noise or with white noise, colour or grey.
    static func scene(correlated: Bool, planes: Int) -> FloatImage {
        var rng = RandomGenerator(seed: correlated ? 21 : 22)
        let w = 120, h = 70
        var n = [Float](repeating: 0, count: planes * (w + 2) * (h + 2))
        for i in n.indices { n[i] = rng.normal() * 6 }
        var img = FloatImage(width: w, height: h, channels: planes)
        let k: [Float] = [0.25, 0.5, 0.25]
        for c in 0..<planes { for y in 0..<h { for x in 0..<w {
            var v: Float
            if correlated {
                v = 0
                for dy in 0..<3 { for dx in 0..<3 { v += k[dy] * k[dx] * n[(c * (h + 2) + y + dy) * (w + 2) + x + dx] } }
                v *= 2.8
            } else {
                v = n[(c * (h + 2) + y + 1) * (w + 2) + x + 1]
            }
            let base: Float = x < 70 ? 80 + 0.2 * Float(x) + 15 * Float(c) : ((x / 4 + y / 5) % 2 == 0 ? 50 : 190)
            img[x: x, y: y, c: c] = min(1, max(0, (base + v).rounded() / 255))
        } } }
        return img
    }

    /// `auto`: the noise-reading pass reads the correlation, the stage runs on camera-like noise
    /// (the output that of `on`) and not on white noise (that of `off`), colour and grey; the
    /// reading and its provenance say which (the same reading with σ given); in memory and
    /// whole-image give the same.
    @Test(arguments: [3, 1])
    func autoRunsTheStageOnCorrelatedNoiseOnly(planes: Int) throws {
        let model = BandDenoiserTests.conditionedModel()
        for correlated in [true, false] {
            let img = Self.scene(correlated: correlated, planes: planes)
            func run(_ mode: RealNoiseMode) throws -> (image: FloatImage, noise: BandDenoiser.NoiseReading) {
                var bd = BandDenoiser(model: model, bandRows: 16)
                bd.realNoise = mode
                return try bd.denoise(img, colorPlanes: planes, file: "x.png")
            }
            let auto = try run(.auto), on = try run(.on), off = try run(.off)
            #expect(on.image != off.image)
            let correlation = try #require(auto.noise.correlation)
            #expect((correlation > BandDenoiser.realNoiseGate) == correlated, "correlation \(correlation)")
            #expect(auto.image == (correlated ? on.image : off.image))
            #expect((auto.noise.stage != nil) == correlated)
            let text = try #require(auto.noise.texts.first { $0.key == "latent:real-noise" }?.text)
            #expect(text.hasPrefix(String(format: "auto: noise correlation %.3f", correlation)), "\(text)")
            #expect(text.hasSuffix(correlated ? "(4.5 times the mean level told)" : "no stage"), "\(text)")
            #expect(off.noise.texts.allSatisfy { $0.key != "latent:real-noise" } && off.noise.correlation == nil)
            // With σ given nothing else reads the image: the gate takes a pass of its own.
            let given = try BandDenoiser(model: model, sigma: [6], realNoise: .auto).denoise(img, colorPlanes: planes, file: "x.png")
            #expect(given.noise.correlation == correlation)
            var whole = BandDenoiser(model: model)
            whole.realNoise = .auto
            #expect(whole.wholeImage(img, sigmas: auto.noise.sigmas) == auto.image)
        }
    }

    /// A σ of 0 (a clean image's reading) runs no stage, even when it is on; the filter itself
    /// takes σ 0 as its least σ instead of dividing by it.
    @Test func noStageAtSigmaZero() throws {
        let model = BandDenoiserTests.conditionedModel()
        let (_, noisy, pilot) = GroupWienerTests.scene(30, 30, channels: 3, sigma: 5, seed: 4)
        var bd = BandDenoiser(model: model)
        bd.realNoise = .on
        #expect(bd.stageSigma(for: noisy, sigmas: [0, 0, 0]) == nil)
        #expect(bd.stageSigma(for: noisy, sigmas: [1, 1, 1]) != nil)
        let out = try GroupWiener.filter(noisy: noisy, pilot: pilot, sigma: [0, 0, 0])
        #expect(out.data.allSatisfy { $0.isFinite })
    }
}
