import CKernels

/// Reconstruction losses, summed over pixels and batch (as PyTorch's `reduction="sum"`), each
/// returning the loss and writing ∂L/∂input.
public enum Loss {
    /// Bernoulli cross-entropy computed from logits l against targets t in [0, 1]:
    ///   L = Σ max(l, 0) − l·t + log(1 + e^−|l|)   (= −Σ t log σ(l) + (1 − t) log(1 − σ(l)))
    ///   ∂L/∂l = σ(l) − t.
    /// Stable for any l. `rowLoss` receives each row's sum when given.
    @discardableResult
    public static func bceWithLogits(logits: Matrix, target: Matrix, grad: Matrix?, rowLoss: UnsafeMutablePointer<Float>? = nil) -> Double {
        precondition(logits.rows == target.rows && logits.cols == target.cols, "bce: shapes differ")
        grad?.setRows(logits.rows)
        return lk_bce_logits(logits.data, target.data, grad?.data, rowLoss, logits.rows, logits.cols)
    }

    /// Squared error L = Σ (y − t)², ∂L/∂y = 2(y − t).
    @discardableResult
    public static func squaredError(output: Matrix, target: Matrix, grad: Matrix?, rowLoss: UnsafeMutablePointer<Float>? = nil) -> Double {
        precondition(output.rows == target.rows && output.cols == target.cols, "mse: shapes differ")
        grad?.setRows(output.rows)
        return lk_squared_error(output.data, target.data, grad?.data, rowLoss, output.rows, output.cols)
    }

    /// The Gaussian KL term of a VAE, KL(N(μ, σ²) ‖ N(0, 1)) = −½ Σ (1 + log σ² − μ² − σ²), and
    /// the reparameterised sample z = μ + ε·σ. `stats` rows are [μ | log σ²] (2·zDim columns);
    /// pass `eps` nil to take z = μ.
    @discardableResult
    public static func gaussianSample(stats: Matrix, eps: Matrix?, z: Matrix, rowKL: UnsafeMutablePointer<Float>? = nil) -> Double {
        let zDim = stats.cols / 2
        precondition(z.cols == zDim, "gaussianSample: z has \(z.cols) columns, expected \(zDim)")
        z.setRows(stats.rows)
        return lk_vae_sample(stats.data, eps?.data, z.data, rowKL, stats.rows, zDim)
    }

    /// Backward of `gaussianSample` plus β·KL:
    ///   ∂/∂μ = dz + β μ;   ∂/∂log σ² = dz·ε·σ/2 + β(σ² − 1)/2.
    public static func gaussianSampleBackward(stats: Matrix, eps: Matrix, dz: Matrix, dStats: Matrix, beta: Float) {
        dStats.setRows(stats.rows)
        lk_vae_sample_backward(stats.data, eps.data, dz.data, dStats.data, stats.rows, stats.cols / 2, beta)
    }
}
