import Testing
@testable import NN
import Tensor
import CKernels

struct ConvTests {
    /// Runs `body` once per vector path this CPU has (AVX2, AVX-512), capped to it on this thread,
    /// so that each path is checked against the plain one, not only the widest; at least once.
    static func eachVectorPath(_ body: (String) -> Void) {
        let best = Int(lk_simd_level())
        for level in Int(LK_SIMD_AVX2)...max(best, Int(LK_SIMD_AVX2)) {
            lk_simd_cap(Int32(level))
            defer { lk_simd_cap(-1) }
            body(level == Int(LK_SIMD_AVX512) ? "avx512" : level <= best ? "avx2" : "plain")
        }
    }

    static func maps(_ n: Int, _ s: FeatureShape, _ rng: inout RandomGenerator) -> FeatureMaps {
        FeatureMaps(data: Matrix(rows: n, cols: s.count, values: (0..<(n * s.count)).map { _ in rng.uniform() * 2 - 1 }), shape: s)
    }

    /// L = Σ r ⊙ conv(x) recomputed in Double straight from the definition (zero padding `p`,
    /// stride `s`), so that central differences with a tiny step are exact enough even next to
    /// ReLU kinks.
    static func referenceLoss(_ W: [Double], _ B: [Double], _ x: [Double], _ r: Matrix, n: Int, cin: Int, cout: Int, k: Int,
                              h: Int, w: Int, relu: Bool, stride s: Int = 1, pad: Int? = nil) -> Double {
        var L = 0.0
        let p = pad ?? k / 2
        let ho = (h + 2 * p - k) / s + 1, wo = (w + 2 * p - k) / s + 1
        for b in 0..<n { for co in 0..<cout { for y in 0..<ho { for xx in 0..<wo {
            var acc = B[co]
            for ci in 0..<cin { for ky in 0..<k { for kx in 0..<k {
                let sy = y * s + ky - p, sx = xx * s + kx - p
                if sy >= 0 && sy < h && sx >= 0 && sx < w { acc += W[((co * cin + ci) * k + ky) * k + kx] * x[b * cin * h * w + (ci * h + sy) * w + sx] }
            } } }
            L += (relu ? max(0, acc) : acc) * Double(r.data[b * cout * ho * wo + (co * ho + y) * wo + xx])
        } } } }
        return L
    }

    /// (kernel, stride, padding (nil: k/2), activation, input and output channels): "same" layers
    /// (3x3 on the direct kernel, on Winograd in the forward (4 -> 16) and in the input gradient
    /// (16 -> 4), 5x5), strided down-sampling, "valid" (no padding) and an even kernel; each on
    /// its own training path and on im2col.
    @Test(arguments: [(3, 1, nil, Activation.identity, 3, 4), (3, 1, nil, .relu, 3, 4), (1, 1, nil, .relu, 3, 4),
                      (1, 1, nil, .identity, 3, 4), (3, 1, nil, .relu, 4, 16), (3, 1, nil, .identity, 16, 4),
                      (5, 1, nil, .relu, 3, 4), (3, 2, 1, .relu, 3, 4), (2, 2, 0, .identity, 3, 4), (3, 1, 0, .relu, 3, 4),
                      (4, 2, 1, .identity, 3, 4), (3, 3, 2, .relu, 3, 4)], [false, true])
    func conv2dGradients(_ arg: (Int, Int, Int?, Activation, Int, Int), im2col: Bool) {
        let (k, stride, pad, act, cin, cout) = arg
        var rng = RandomGenerator(seed: 5)
        // Wider layers on 4x8 maps (the Winograd weight gradient too), the narrow ones on 5x6.
        let (h, w, n) = cin * cout > 12 ? (4, 8, 1) : (5, 6, 2)
        let conv = Conv2d(cin, cout, kernel: k, stride: stride, padding: pad, activation: act, name: "c", rng: &rng)
        conv.im2colTraining = im2col
        let (ho, wo) = conv.outputSize(h: h, w: w)
        let x = Self.maps(n, FeatureShape(c: cin, h: h, w: w), &rng)
        let r = Matrix(rows: n, cols: cout * ho * wo, values: (0..<(n * cout * ho * wo)).map { _ in rng.uniform() - 0.5 })
        let y = conv.forward(x)
        #expect(y.shape == FeatureShape(c: cout, h: ho, w: wo))
        let dx = conv.backward(r.clone())!.array
        let W = conv.weight.value.array.map(Double.init), B = conv.bias.value.array.map(Double.init)
        let X = x.data.array.map(Double.init)
        let relu = act == .relu
        func L(_ W: [Double], _ B: [Double], _ X: [Double]) -> Double {
            Self.referenceLoss(W, B, X, r, n: n, cin: cin, cout: cout, k: k, h: h, w: w, relu: relu, stride: stride, pad: pad)
        }
        // The forward itself against the definition.
        #expect(abs(GradientCheckTests.dot(y.data, r) - L(W, B, X)) < 1e-4)
        let eps = 1e-6
        func central(_ which: Int, _ i: Int) -> Double {
            var (w1, b1, x1) = (W, B, X), (w2, b2, x2) = (W, B, X)
            switch which {
            case 0: w1[i] += eps; w2[i] -= eps
            case 1: b1[i] += eps; b2[i] -= eps
            default: x1[i] += eps; x2[i] -= eps
            }
            return (L(w1, b1, x1) - L(w2, b2, x2)) / (2 * eps)
        }
        let nW = (0..<W.count).map { central(0, $0) }
        let nB = (0..<B.count).map { central(1, $0) }
        let nX = (0..<X.count).map { central(2, $0) }
        #expect(GradientCheckTests.worst(conv.weight.grad.array, nW) < 1e-4, "dW")
        #expect(GradientCheckTests.worst(conv.bias.grad.array, nB) < 1e-4, "db")
        #expect(GradientCheckTests.worst(dx, nX) < 1e-4, "dx")
    }

    /// Training on inference's kernels (Winograd F(4x4, 3x3) forward for 8 -> 24 and 24 -> 24,
    /// and input gradient for 24 -> 8 and 24 -> 24; the direct kernel otherwise) and the weight
    /// gradient (on Winograd for 3x3 layers on 16x16, per offset on the other sizes, which end
    /// inside a tile) agree with im2col + sgemm up to float rounding, over a batch of three, on
    /// each vector path the CPU has.
    @Test(arguments: [(8, 24, 3), (24, 8, 3), (24, 24, 3), (3, 5, 3), (4, 6, 5)])
    func trainingPathsAgree(_ arg: (Int, Int, Int)) {
        let (cin, cout, k) = arg
        var rng = RandomGenerator(seed: 21)
        let fast = Conv2d(cin, cout, kernel: k, activation: .relu, name: "c", rng: &rng)
        let reference = Conv2d(sharing: fast)
        reference.im2colTraining = true
        // 16x16, 8x40 and 4x72: 4, 10 and 18 tiles a row (the vector transforms take 8 or 16).
        for (h, w) in [(16, 16), (8, 40), (4, 72), (13, 22), (7, 5)] { Self.eachVectorPath { path in
            let x = Self.maps(3, FeatureShape(c: cin, h: h, w: w), &rng)
            let r = Matrix(rows: 3, cols: cout * h * w, values: (0..<(3 * cout * h * w)).map { _ in rng.uniform() - 0.5 })
            let (a, b) = (fast.forward(x).data.array, reference.forward(x).data.array)
            let (da, db) = (fast.backward(r.clone())!.array, reference.backward(r.clone())!.array)
            func worst(_ p: [Float], _ q: [Float]) -> Float { zip(p, q).map { abs($0 - $1) / max(1, abs($1)) }.max()! }
            #expect(worst(a, b) < 1e-5, "\(path) \(cin)->\(cout) k\(k) \(h)x\(w): forward")
            #expect(worst(da, db) < 1e-5, "\(cin)->\(cout) k\(k) \(h)x\(w): dx")
            #expect(worst(fast.weight.grad.array, reference.weight.grad.array) < 1e-4, "\(path) \(cin)->\(cout) k\(k) \(h)x\(w): dW")
            #expect(worst(fast.bias.grad.array, reference.bias.grad.array) < 1e-4, "\(cin)->\(cout) k\(k) \(h)x\(w): db")
            #expect(fast.weight.grad.array.contains { $0 != 0 })
            for l in [fast, reference] { for p in l.parameters { p.grad.fill(0) } }
        } }
    }

    @Test(arguments: [(1, 3, 1), (1, 3, 3), (5, 7, 3), (8, 4, 1)])
    func exactKernelMatchesIm2colPath(_ arg: (Int, Int, Int)) {
        let (cin, cout, k) = arg
        var rng = RandomGenerator(seed: 9)
        let conv = Conv2d(cin, cout, kernel: k, activation: .relu, name: "c", rng: &rng)
        for (h, w) in [(5, 7), (16, 33), (3, 17), (9, 16)] {
            let x = Self.maps(2, FeatureShape(c: cin, h: h, w: w), &rng)
            conv.exactInference = false
            let a = conv.forward(x).data.array
            conv.exactInference = true
            let b = conv.forward(x).data.array
            let worst = zip(a, b).map { abs($0 - $1) }.max()!
            #expect(worst < 1e-5, "\(cin)->\(cout) k\(k) \(h)x\(w): \(worst)")
        }
    }

    /// The vector kernels (AVX2: 16-pixel blocks, the last block of a row overlapping the one
    /// before, rows split into chunks, 32-pixel blocks for layers of up to 3 output channels;
    /// AVX-512: 32-pixel blocks for 1x1 layers, 64 for the narrow ones, AVX2 below those widths)
    /// must give every pixel exactly the plain one-at-a-time sum.
    @Test(arguments: [(3, 7, 3), (5, 13, 3), (16, 20, 1), (2, 1, 3), (5, 3, 3)])
    func vectorKernelEqualsPlainSumsBitForBit(_ arg: (Int, Int, Int)) {
        let (cin, cout, k) = arg
        var rng = RandomGenerator(seed: 11)
        for (h, w) in [(5, 4), (3, 16), (4, 17), (2, 31), (3, 47), (2, 64), (3, 133), (2, 300)] {
            let hp = h + k - 1, wp = w + k - 1
            let x = (0..<(cin * hp * wp)).map { _ in rng.uniform() * 2 - 1 }
            let wt = (0..<(cout * cin * k * k)).map { _ in rng.uniform() - 0.5 }
            let b = (0..<cout).map { _ in rng.uniform() - 0.5 }
            var plain = [Float](repeating: .nan, count: cout * h * w)
            lk_conv_reference(x, cin, h, w, k, wt, b, cout, Int32(LK_RELU), &plain)
            Self.eachVectorPath { path in
                var fast = [Float](repeating: .nan, count: cout * h * w)
                lk_conv_exact(x, cin, h, w, k, wt, b, cout, Int32(LK_RELU), &fast)
                #expect(fast.map(\.bitPattern) == plain.map(\.bitPattern), "\(path) \(cin)->\(cout) k\(k) \(h)x\(w)")
            }
        }
    }

    /// Winograd F(2x2, 3x3) and F(4x4, 3x3): the vector path equals the plain one bit for bit
    /// (sizes that end inside a tile, output channels not a multiple of the 6-channel block,
    /// widths with and without whole 8-tile vector blocks); computing the rows in two calls split
    /// at the end of a tile row, or the columns at a multiple of 16, changes nothing; and it
    /// agrees with the direct convolution up to float rounding.
    @Test(arguments: [(2, 16, 16), (2, 16, 20), (2, 24, 17), (4, 16, 16), (4, 16, 20), (4, 24, 17), (4, 48, 48), (4, 6, 48), (4, 96, 20)])
    func winogradIsExactAndAgreesWithDirect(_ arg: (Int, Int, Int)) {
        let (tile, cin, cout) = arg
        #expect((tile == 2 ? lk_wino_applies(cin, cout) : lk_wino4_applies(cin, cout)) != 0)
        let relu = Int32(LK_RELU)
        func pack(_ wt: [Float]) -> [Float] {
            var u = [Float](repeating: 0, count: tile == 2 ? lk_wino_packed_size(cin, cout) : lk_wino4_packed_size(cin, cout))
            if tile == 2 { lk_wino_pack(wt, cin, cout, &u) } else { lk_wino4_pack(wt, cin, cout, &u) }
            return u
        }
        // Rows h x columns w from x (pixel (−1, −1); rows wp apart, planes hp · wp) into out (rows
        // `ow` apart, planes `oplane`), on the vector path or the plain reference.
        func layer(_ x: UnsafePointer<Float>, _ wp: Int, _ hp: Int, _ h: Int, _ w: Int, _ u: [Float], _ b: [Float],
                   _ out: UnsafeMutablePointer<Float>, _ ow: Int, _ oplane: Int, plain: Bool = false) {
            switch (tile, plain) {
            case (2, false): lk_conv3_wino(x, wp, hp * wp, cin, h, w, u, b, cout, relu, out, ow, oplane)
            case (2, true): lk_conv3_wino_reference(x, wp, hp * wp, cin, h, w, u, b, cout, relu, out, ow, oplane)
            case (_, false): lk_conv3_wino4(x, wp, hp * wp, cin, h, w, u, b, cout, relu, out, ow, oplane)
            default: lk_conv3_wino4_reference(x, wp, hp * wp, cin, h, w, u, b, cout, relu, out, ow, oplane)
            }
        }
        var rng = RandomGenerator(seed: 12)
        for (h, w) in [(1, 18), (2, 40), (3, 17), (5, 37), (2, 64), (3, 66), (4, 70), (4, 150), (6, 37), (8, 150), (11, 301)] {
            let hp = h + 2, wp = w + 2
            let x = (0..<(cin * hp * wp)).map { _ in rng.uniform() * 2 - 1 }
            let wt = (0..<(cout * cin * 9)).map { _ in rng.uniform() - 0.5 }
            let b = (0..<cout).map { _ in rng.uniform() - 0.5 }
            let u = pack(wt)
            var plain = [Float](repeating: .nan, count: cout * h * w), direct = plain
            layer(x, wp, hp, h, w, u, b, &plain, w, h * w, plain: true)
            lk_conv_exact(x, cin, h, w, 3, wt, b, cout, relu, &direct)
            let worst = zip(plain, direct).map { abs($0 - $1) }.max()!
            #expect(worst < 1e-4 * Float(cin).squareRoot(), "F\(tile) \(cin)->\(cout) \(h)x\(w): Winograd vs direct \(worst)")
            Self.eachVectorPath { path in
                var fast = [Float](repeating: .nan, count: cout * h * w), split = fast
                layer(x, wp, hp, h, w, u, b, &fast, w, h * w)
                #expect(fast.map(\.bitPattern) == plain.map(\.bitPattern), "\(path) F\(tile) \(cin)->\(cout) \(h)x\(w)")
                // Rows [0, tile) and [tile, h) in two calls, or columns [0, 16) and [16, w).
                x.withUnsafeBufferPointer { xb in
                    split.withUnsafeMutableBufferPointer { sb in
                        let xp = xb.baseAddress!, o = sb.baseAddress!
                        if h > tile {
                            layer(xp, wp, hp, tile, w, u, b, o, w, h * w)
                            layer(xp + tile * wp, wp, hp, h - tile, w, u, b, o + tile * w, w, h * w)
                        } else {
                            layer(xp, wp, hp, h, 16, u, b, o, w, h * w)
                            layer(xp + 16, wp, hp, h, w - 16, u, b, o + 16, w, h * w)
                        }
                    }
                }
                #expect(split.map(\.bitPattern) == fast.map(\.bitPattern), "\(path) F\(tile) \(cin)->\(cout) \(h)x\(w) split")
            }
        }
    }

    /// Exact inference: a pixel's value does not depend on how wide or tall the map is, only on
    /// its neighbourhood.
    @Test func exactKernelIsIndependentOfMapSize() {
        var rng = RandomGenerator(seed: 2)
        let conv = Conv2d(4, 5, kernel: 3, activation: .relu, name: "c", rng: &rng)
        conv.exactInference = true
        let big = Self.maps(1, FeatureShape(c: 4, h: 12, w: 40), &rng)
        let full = conv.forward(big).data.array
        // A window of rows 2..<10 and columns 5..<29: interior outputs (away from its edges) must match.
        let (h, w) = (8, 24)
        let small = Matrix(rows: 1, cols: 4 * h * w)
        for c in 0..<4 { for y in 0..<h { for x in 0..<w { small.data[(c * h + y) * w + x] = big.data.data[(c * 12 + y + 2) * 40 + x + 5] } } }
        let part = conv.forward(FeatureMaps(data: small, shape: FeatureShape(c: 4, h: h, w: w))).data.array
        var same = true
        for c in 0..<5 { for y in 1..<(h - 1) { for x in 1..<(w - 1) where part[(c * h + y) * w + x] != full[(c * 12 + y + 2) * 40 + x + 5] { same = false } } }
        #expect(same)
    }

    @Test func pixelShuffleInvertsUnshuffle() {
        var rng = RandomGenerator(seed: 1)
        let s = FeatureShape(c: 3, h: 6, w: 8)
        let x = (0..<s.count).map { _ in rng.uniform() }
        var small = [Float](repeating: 0, count: s.count), back = [Float](repeating: 0, count: s.count)
        x.withUnsafeBufferPointer { xp in small.withUnsafeMutableBufferPointer { PixelShuffle.unshuffle(xp.baseAddress!, s, $0.baseAddress!) } }
        small.withUnsafeBufferPointer { sp in back.withUnsafeMutableBufferPointer { PixelShuffle.shuffle(sp.baseAddress!, s, $0.baseAddress!) } }
        #expect(back == x)
        #expect(small[0] == x[0] && small[1] == x[2], "channel 0 holds the even rows' even columns")
    }

    /// Half-precision storage: the vector conversions, the plain ones and Swift's own Float16
    /// agree bit for bit on every kind of value (normal, subnormal, ties to even, overflow,
    /// infinity, zero, negative), and a row unshuffled or joined from halves equals the same
    /// row rounded to halves in float.
    @Test func halfStorageRoundsToNearestEven() {
        var rng = SystemRandomNumberGenerator()
        var x: [Float] = [0, -0, 1, -1, 65504, 65519, 65520, 1e6, -1e6, .infinity, -.infinity, 6.1e-5, 5.9e-8, 2.9e-8, 3e-8, 1e-10,
                          Float(bitPattern: 0x3F80_1000), Float(bitPattern: 0x3F80_3000), Float(bitPattern: 0x3880_0000)]
        for _ in 0..<4000 { x.append(Float(sign: Bool.random(using: &rng) ? .minus : .plus, exponent: Int.random(in: -30...17, using: &rng),
                                           significand: Float.random(in: 1..<2, using: &rng))) }
        let n = x.count
        var fast = [UInt16](repeating: 0, count: n), plain = fast
        lk_to_half_reference(x, &plain, n)
        #expect(plain == x.map { Float16($0).bitPattern }, "Swift's Float16 rounds the same way")
        var back = [Float](repeating: 0, count: n), backPlain = back
        lk_from_half_reference(plain, &backPlain, n)
        Self.eachVectorPath { path in
            lk_to_half(x, &fast, n)
            #expect(fast == plain, "\(path)")
            lk_from_half(fast, &back, n)
            #expect(back.map(\.bitPattern) == backPlain.map(\.bitPattern), "\(path)")
        }
        #expect(back.map(\.bitPattern) == x.map { Float(Float16($0)).bitPattern })
        var rounded = x
        lk_round_half(&rounded, n)
        #expect(rounded.map(\.bitPattern) == back.map(\.bitPattern))
        var nan: [Float] = [.nan], nanHalf: [UInt16] = [0]
        lk_to_half(nan, &nanHalf, 1)
        lk_round_half(&nan, 1)
        #expect(Float16(bitPattern: nanHalf[0]).isNaN && nan[0].isNaN)

        // A 2-channel map of 2 rows and 8 columns, stored as halves, unshuffled and joined.
        let (c, w) = (2, 8)
        let map = (0..<(c * 2 * w)).map { _ in Float.random(in: -3...3, using: &rng) }
        var halves = [UInt16](repeating: 0, count: map.count), asFloat = map
        lk_to_half(map, &halves, map.count)
        lk_round_half(&asFloat, map.count)
        var u1 = [Float](repeating: 0, count: 4 * c * w / 2), u2 = u1, row = [Float](repeating: 0, count: 2 * w)
        lk_unshuffle_rows(asFloat, w, 2 * w, c, w, 1, &u1, w / 2, w / 2)
        lk_unshuffle_rows_half(halves, w, 2 * w, c, w, 1, &u2, w / 2, w / 2, &row)
        #expect(u1 == u2)
        let t = (0..<(4 * c * w / 2)).map { _ in Float.random(in: -3...3, using: &rng) }
        var j1 = [Float](repeating: 0, count: c * 2 * w), j2 = j1
        lk_shuffle_add_relu_rows(t, w / 2, w / 2, asFloat, w, 2 * w, c, w, 0, 2, &j1, w, 2 * w)
        lk_shuffle_add_relu_rows_half(t, w / 2, w / 2, halves, w, 2 * w, c, w, 0, 2, &j2, w, 2 * w, &row)
        #expect(j1 == j2)
    }
}
