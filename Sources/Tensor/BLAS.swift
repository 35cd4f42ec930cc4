import CKernels
import COpenBLAS
import Foundation

/// The one door to OpenBLAS: every matrix product in latent goes through `gemm`.
public enum BLAS {
    /// C = alpha · op(A) · op(B) + beta · C, row-major.
    ///
    /// - op(A) is m×k (A is m×k, or k×m when `transA`), op(B) is k×n (B is k×n, or n×k when
    ///   `transB`), C is m×n. `lda`, `ldb`, `ldc` are the row strides of A, B and C as stored.
    @inlinable
    public static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        precondition(m >= 0 && n >= 0 && k >= 0, "gemm: negative size")
        precondition(lda >= max(1, transA ? m : k), "gemm: lda too small")
        precondition(ldb >= max(1, transB ? k : n), "gemm: ldb too small")
        precondition(ldc >= max(1, n), "gemm: ldc too small")
        if m == 0 || n == 0 { return }
        cblas_sgemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c,
            blasint(ldc))
    }

    /// Stops OpenBLAS's worker threads until a product needs them again. The library starts
    /// them when it loads, and they spin for a while (about 0.1 CPU-s each) even in a process
    /// that never multiplies a matrix; a command that may not need BLAS calls this first.
    public static func parkThreads() { _ = blas_thread_shutdown_() }

    /// Sets the number of OpenBLAS threads.
    public static func setThreads(_ n: Int) { openblas_set_num_threads(Int32(max(1, n))) }

    /// The number of threads OpenBLAS will use.
    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// The kernel set OpenBLAS picked for this CPU (its name for it: "Haswell", "SkylakeX", ...).
    public static var coreName: String { openblas_get_corename().map { String(cString: $0) } ?? "?" }

    /// The kernel set OpenBLAS should be told to use (through OPENBLAS_CORETYPE, which it reads
    /// when it loads) because the one it picked is older than the CPU: OpenBLAS 0.3.21, Debian
    /// 12's, does not recognise processors newer than itself (Intel's Emerald Rapids, for one)
    /// and falls back to its SSE3 kernels ("Prescott"), with which training runs 2.4x slower
    /// than with its AVX-512 ones. nil when OpenBLAS picked a vector kernel set, or when
    /// OPENBLAS_CORETYPE already says which.
    public static func upgradedCoreType() -> String? {
        upgradedCoreType(core: coreName, environment: ProcessInfo.processInfo.environment,
                         avx512: lk_cpu_has(Int32(LK_SIMD_AVX512)) != 0, avx2: lk_cpu_has(Int32(LK_SIMD_AVX2)) != 0)
    }

    /// OpenBLAS's x86-64 kernel sets that use AVX or wider vectors (lowercased).
    public static let vectorCores: Set<String> = ["sandybridge", "haswell", "skylakex", "cooperlake", "sapphirerapids", "zen",
                                           "bulldozer", "piledriver", "steamroller", "excavator"]

    /// The decision of `upgradedCoreType()` on given facts: "SkylakeX" on a CPU with AVX-512,
    /// "Haswell" on one with AVX2 and FMA, when OpenBLAS runs a set without AVX and the
    /// environment does not choose.
    public static func upgradedCoreType(core: String, environment: [String: String], avx512: Bool, avx2: Bool) -> String? {
        guard environment["OPENBLAS_CORETYPE"] == nil, !vectorCores.contains(core.lowercased()) else { return nil }
        return avx512 ? "SkylakeX" : avx2 ? "Haswell" : nil
    }

    /// OpenBLAS's own description of its build and the CPU kernel in use.
    public static var configuration: String {
        let cfg = openblas_get_config().map { String(cString: $0) } ?? "?"
        return "\(cfg) [\(coreName)]"
    }
}
