import Tensor

/// How a denoising autoencoder corrupts its input (and how `noise` stages make test data).
/// Drawn fresh from the caller's generator every time.
public enum Corruption: Sendable, Equatable, CustomStringConvertible {
    /// x + σ·N(0, 1), clipped to [0, 1].
    case gaussian(sigma: Float)
    /// Each value set to 0 with probability p.
    case mask(p: Float)
    /// Each value set to 0 or 1 (equally likely) with probability p.
    case saltPepper(p: Float)

    /// Parses "gaussian:0.5", "mask:0.3", "saltpepper:0.1".
    public init?(_ s: String) {
        let parts = s.lowercased().split(separator: ":")
        guard parts.count == 2, let v = Float(parts[1]), v.isFinite, v >= 0 else { return nil }
        switch parts[0] {
        case "gaussian", "gauss": self = .gaussian(sigma: v)
        case "mask", "masking", "dropout": guard v <= 1 else { return nil }; self = .mask(p: v)
        case "saltpepper", "salt-pepper", "sp": guard v <= 1 else { return nil }; self = .saltPepper(p: v)
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .gaussian(let s): return "gaussian:\(s)"
        case .mask(let p): return "mask:\(p)"
        case .saltPepper(let p): return "saltpepper:\(p)"
        }
    }

    /// dst = corrupt(src) over n values.
    public func apply(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, count n: Int, rng: inout RandomGenerator) {
        switch self {
        case .gaussian(let sigma):
            for i in 0..<n { dst[i] = min(1, max(0, src[i] + sigma * rng.normal())) }
        case .mask(let p):
            for i in 0..<n { dst[i] = rng.uniform() < p ? 0 : src[i] }
        case .saltPepper(let p):
            for i in 0..<n {
                let u = rng.uniform()
                dst[i] = u < p ? (u < p / 2 ? 0 : 1) : src[i]
            }
        }
    }
}
