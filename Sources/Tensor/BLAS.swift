import COpenBLAS

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

    /// OpenBLAS's own description of its build and the CPU kernel in use.
    public static var configuration: String {
        let core = openblas_get_corename().map { String(cString: $0) } ?? "?"
        let cfg = openblas_get_config().map { String(cString: $0) } ?? "?"
        return "\(cfg) [\(core)]"
    }
}
