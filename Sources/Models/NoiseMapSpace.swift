/// What the planes of a colour model's noise map measure.
///
/// - `rgb`: each plane is the noise σ of one channel (R, G, B). It does not say how the channels'
///   noise is correlated, and that matters: camera noise is 0.5-0.7 correlated across channels
///   (demosaicing, the colour matrix), so its luma is up to √(1 + 2ρ) ≈ 1.5 times stronger
///   than independent noise of the same per-channel σ, and its chroma weaker. A network told
///   per-channel σ has to guess which it faces (issue 11, session 18).
/// - `opponent`: each plane is the σ of one component in an orthonormal opponent basis,
///   Y = (R + G + B)/√3, C1 = (R − B)/√2, C2 = (R − 2G + B)/√6. Independent noise of σ in
///   every channel is σ in every component (the same map as `rgb`); grey-correlated noise has
///   a larger Y and smaller C1, C2.
public enum NoiseMapSpace: String, Sendable, CaseIterable {
    case rgb, opponent

    /// The orthonormal opponent basis, row-major (component, channel).
    public static let basis: [Float] = {
        let a = Float(1 / 3.0).squareRoot(), b = Float(1 / 2.0).squareRoot(), c = Float(1 / 6.0).squareRoot()
        return [a, a, a, b, 0, -b, c, -2 * c, c]
    }()

    /// The map's σ per plane for noise with this 3x3 covariance (row-major, any scale: σ comes
    /// out on the covariance's scale, squared-rooted).
    public func sigmas(covariance cov: [Float]) -> [Float] {
        cov.withUnsafeBufferPointer { c in (0..<3).map { sigma(component: $0, covariance: c.baseAddress!) } }
    }

    /// One plane's σ of `sigmas(covariance:)` (9 floats, row-major), without allocating.
    public func sigma(component q: Int, covariance cov: UnsafePointer<Float>) -> Float {
        switch self {
        case .rgb: return cov[q * 4].squareRoot()
        case .opponent:
            let o = Self.basis
            var v: Float = 0
            for c in 0..<3 { for d in 0..<3 { v += o[q * 3 + c] * o[q * 3 + d] * cov[c * 3 + d] } }
            return max(0, v).squareRoot()
        }
    }

    /// The map's σ per plane for independent noise of these per-channel σ (what `--sigma`
    /// gives: one value, or one per channel).
    public func sigmas(independentRGB s: [Float]) -> [Float] {
        sigmas(covariance: [s[0] * s[0], 0, 0, 0, s[1] * s[1], 0, 0, 0, s[2] * s[2]])
    }

    /// Each channel's σ for a map's σ per plane, taking the planes' noise as uncorrelated (for
    /// `opponent`, the per-channel σ that reports show; exact when the noise is independent
    /// across channels or grey-correlated with the same σ in each).
    public func rgbSigmas(_ m: [Float]) -> [Float] {
        switch self {
        case .rgb: return m
        case .opponent:
            let o = Self.basis
            return (0..<3).map { (c: Int) -> Float in
                var v: Float = 0
                for q in 0..<3 { v += o[q * 3 + c] * o[q * 3 + c] * m[q] * m[q] }
                return v.squareRoot()
            }
        }
    }
}
