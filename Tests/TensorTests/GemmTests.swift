import Testing
@testable import Tensor

struct GemmTests {
    /// op(A)·op(B) by the definition, in Double.
    static func naive(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int, transA: Bool, transB: Bool,
                      lda: Int, ldb: Int) -> [Double] {
        var c = [Double](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k {
                    let av = transA ? a[p * lda + i] : a[i * lda + p]
                    let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                    s += Double(av) * Double(bv)
                }
                c[i * n + j] = s
            }
        }
        return c
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var transA: Bool, transB: Bool
        var testDescription: String { "A\(transA ? "ᵀ" : "")·B\(transB ? "ᵀ" : "")" }
    }

    @Test(arguments: [Case(transA: false, transB: false), Case(transA: true, transB: false),
                      Case(transA: false, transB: true), Case(transA: true, transB: true)])
    func matchesNaiveLoop(_ t: Case) {
        var rng = RandomGenerator(seed: 3)
        for (m, n, k) in [(1, 1, 1), (7, 5, 3), (33, 17, 65), (128, 96, 200)] {
            // Stored shapes, with padded leading dimensions to check the strides are honoured.
            let aRows = t.transA ? k : m, aCols = t.transA ? m : k
            let bRows = t.transB ? n : k, bCols = t.transB ? k : n
            let lda = aCols + 3, ldb = bCols + 2, ldc = n + 1
            let a = (0..<(aRows * lda)).map { _ in rng.uniform() * 2 - 1 }
            let b = (0..<(bRows * ldb)).map { _ in rng.uniform() * 2 - 1 }
            let c0 = (0..<(m * ldc)).map { _ in rng.uniform() }
            var c = c0
            let alpha: Float = 0.75, beta: Float = 0.5
            a.withUnsafeBufferPointer { ap in
                b.withUnsafeBufferPointer { bp in
                    c.withUnsafeMutableBufferPointer { cp in
                        BLAS.gemm(transA: t.transA, transB: t.transB, m: m, n: n, k: k, alpha: alpha,
                                  a: ap.baseAddress!, lda: lda, b: bp.baseAddress!, ldb: ldb, beta: beta,
                                  c: cp.baseAddress!, ldc: ldc)
                    }
                }
            }
            let ref = Self.naive(a, b, m: m, n: n, k: k, transA: t.transA, transB: t.transB, lda: lda, ldb: ldb)
            var worst = 0.0
            for i in 0..<m {
                for j in 0..<n {
                    let want = Double(alpha) * ref[i * n + j] + Double(beta) * Double(c0[i * ldc + j])
                    worst = max(worst, abs(Double(c[i * ldc + j]) - want))
                }
                // Padding columns of C are untouched.
                for j in n..<ldc where c[i * ldc + j] != c0[i * ldc + j] { worst = .infinity }
            }
            #expect(worst < 1e-4 * Double(k), "m=\(m) n=\(n) k=\(k): largest difference \(worst)")
        }
    }

    @Test func generatorIsSeededAndNormal() {
        var g1 = RandomGenerator(seed: 42), g2 = RandomGenerator(seed: 42), g3 = RandomGenerator(seed: 43)
        let s1 = (0..<100).map { _ in g1.next() }
        #expect(s1 == (0..<100).map { _ in g2.next() })
        #expect(s1 != (0..<100).map { _ in g3.next() })
        var g = RandomGenerator(seed: 1)
        let n = 200_000
        let xs = (0..<n).map { _ in Double(g.normal()) }
        let mean = xs.reduce(0, +) / Double(n)
        let variance = xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n)
        #expect(abs(mean) < 0.01)
        #expect(abs(variance - 1) < 0.02)
    }
}

/// Which OpenBLAS kernels latent asks for when OpenBLAS picked kernels older than the CPU.
struct CoreTypeTests {
    @Test(arguments: [
        ("Prescott", [String: String](), true, true, "SkylakeX"),
        ("Prescott", [:], false, true, "Haswell"),
        ("Core2", [:], false, true, "Haswell"),
        ("Prescott", [:], false, false, nil),
        ("Haswell", [:], true, true, nil),
        ("SkylakeX", [:], true, true, nil),
        ("Zen", [:], false, true, nil),
        ("Prescott", ["OPENBLAS_CORETYPE": "Prescott"], true, true, nil),
    ] as [(String, [String: String], Bool, Bool, String?)])
    func upgradesOnlyAFallbackTheEnvironmentDidNotChoose(_ c: (String, [String: String], Bool, Bool, String?)) {
        #expect(BLAS.upgradedCoreType(core: c.0, environment: c.1, avx512: c.2, avx2: c.3) == c.4, "\(c)")
    }
}
