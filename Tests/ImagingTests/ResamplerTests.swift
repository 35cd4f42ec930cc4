import Testing
@testable import Imaging
@testable import PNGIO

struct ResamplerTests {
    @Test func integerShrinkIsTheBlockAverage() {
        // 4x4 → 2x2: each output is the mean of a 2x2 block.
        let v: [Float] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15].map { $0 / 15 }
        let img = FloatImage(width: 4, height: 4, channels: 1, data: v)
        let out = Resampler.resize(img, width: 2, height: 2)
        let want: [Float] = [2.5, 4.5, 10.5, 12.5].map { $0 / 15 }
        for (a, b) in zip(out.data, want) { #expect(abs(a - b) < 1e-6) }
    }

    @Test func shrinkingDoesNotAlias() {
        // A one-pixel checkerboard shrunk by 3 (not an integer ratio of its period) must come out
        // flat grey; point sampling would give black and white.
        let n = 90
        var img = FloatImage(width: n, height: n, channels: 1)
        for y in 0..<n { for x in 0..<n { img[x: x, y: y, c: 0] = Float((x + y) % 2) } }
        let out = Resampler.resize(img, width: 30, height: 30)
        for v in out.data { #expect(abs(v - 0.5) < 0.06) }
        // Fractional ratio: mean is preserved.
        let out2 = Resampler.resize(img, width: 37, height: 23)
        let mean = out2.data.reduce(0, +) / Float(out2.data.count)
        #expect(abs(mean - 0.5) < 0.01)
    }

    @Test func areaWeightsSumToOne() {
        for (n, m) in [(10, 3), (7, 5), (100, 99), (3, 7), (1, 4), (5, 5)] {
            let w = Resampler.Weights(from: n, to: m)
            for o in 0..<m {
                let s = w.weights[w.offset[o]..<w.offset[o + 1]].reduce(0, +)
                #expect(abs(s - 1) < 1e-5, "\(n)→\(m) output \(o) weights sum to \(s)")
            }
        }
    }

    @Test func enlargingIsBilinear() {
        let img = FloatImage(width: 2, height: 1, channels: 1, data: [0, 1])
        let out = Resampler.resize(img, width: 4, height: 1)
        // Output centres at 0.25, 0.75, 1.25, 1.75 in input pixels → positions -0.25, 0.25, 0.75, 1.25
        #expect(out.data == [0, 0.25, 0.75, 1])
        let flat = FloatImage(width: 3, height: 2, channels: 1, value: 0.3)
        #expect(Resampler.resize(flat, width: 11, height: 7).data.allSatisfy { abs($0 - 0.3) < 1e-6 })
    }

    @Test func alphaIsPremultipliedWhileResampling() {
        // Opaque red next to fully transparent green: the transparent colour must not bleed.
        let img = PNGImage(width: 2, height: 1, layout: .rgba, depth: 8, samples: [255, 0, 0, 255, 0, 255, 0, 0])
        let out = Resampler.resize(img, width: 1, height: 1)
        #expect(out.samples == [255, 0, 0, 128])
        let up = Resampler.resize(img, width: 4, height: 1)
        for x in 0..<3 {
            #expect(up.sample(x: x, y: 0, c: 1) == 0, "green bled into pixel \(x)")
        }
    }

    @Test func sixteenBitSurvivesFloatRoundTrip() {
        let samples = Array(stride(from: 0, through: 65535, by: 7))
        let img = PNGImage(width: samples.count, height: 1, layout: .gray, depth: 16, samples: samples)
        #expect(FloatImage(img).pngImage(layout: .gray, depth: 16) == img)
        let img8 = PNGImage(width: 256, height: 1, layout: .gray, depth: 8, samples: Array(0...255))
        #expect(FloatImage(img8).pngImage(layout: .gray, depth: 8) == img8)
    }

    @Test func fitKeepsAspect() {
        #expect(Resampler.fitSize(width: 400, height: 300, longest: 100) == (100, 75))
        #expect(Resampler.fitSize(width: 300, height: 400, longest: 100) == (75, 100))
        #expect(Resampler.fitSize(width: 1000, height: 1, longest: 10) == (10, 1))
    }
}
