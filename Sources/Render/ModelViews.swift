import Foundation
import Imaging
import Models
import NN
import PNGIO
import Tensor

/// Why a picture could not be made.
public enum RenderError: Error, Equatable, CustomStringConvertible {
    case needsVAE(command: String, model: String, kind: String)
    case badDimensions(String)
    case badInput(file: String, reason: String)

    public var description: String {
        switch self {
        case .needsVAE(let c, let m, let k):
            return "\(m): '\(c)' needs a VAE (it samples from the prior); this is a \(k) model — use 'interpolate' or 'compare' with it"
        case .badDimensions(let r): return r
        case .badInput(let f, let r): return "\(f): \(r)"
        }
    }
}

/// How `traverse` chooses latent dimensions.
public enum DimensionChoice: Equatable, Sendable {
    /// Every dimension whose average KL is above the collapse threshold, most informative first.
    case auto
    /// The N most informative.
    case top(Int)
    /// These, in this order.
    case list([Int])

    /// "auto", "8", "0,3,5".
    public init?(_ s: String) {
        if s == "auto" { self = .auto; return }
        if !s.contains(","), let n = Int(s), n > 0 { self = .top(n); return }
        let v = s.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !v.isEmpty, v.count == s.split(separator: ",").count, v.allSatisfy({ $0 >= 0 }) else { return nil }
        self = .list(v)
    }
}

/// Pictures of what a model has learned: everything decodes codes into tiles of the model's
/// own geometry (any size, grey or RGB), ready for `Grid`.
public final class ModelViews {
    public let model: LatentModel
    public let name: String
    /// Average KL (nats) below which a latent dimension counts as collapsed (unused by the model).
    public static let collapseThreshold = 0.05

    public init(model: LatentModel, name: String) {
        self.model = model
        self.name = name
        model.setExactInference(true)
    }

    public var config: ModelConfig { model.config }

    func requireVAE(_ command: String) throws -> VAE {
        guard let v = model as? VAE else { throw RenderError.needsVAE(command: command, model: name, kind: config.kind.rawValue) }
        return v
    }

    /// Decodes codes to tiles.
    public func decode(_ codes: [[Float]]) -> [FloatImage] {
        guard !codes.isEmpty else { return [] }
        let z = Matrix(rows: codes.count, cols: config.latent, values: codes.flatMap { $0 })
        let out = model.decode(z).array
        let dim = config.inputSize
        return (0..<codes.count).map { i in
            FloatImage(width: config.width, height: config.height, channels: config.channels, data: Array(out[(i * dim)..<((i + 1) * dim)]))
        }
    }

    /// Codes of images (a VAE's posterior mean).
    public func encode(_ images: [FloatImage]) -> [[Float]] {
        guard !images.isEmpty else { return [] }
        let x = Matrix(rows: images.count, cols: config.inputSize, values: images.flatMap(\.data))
        let z = model.encode(x).array
        return (0..<images.count).map { Array(z[($0 * config.latent)..<(($0 + 1) * config.latent)]) }
    }

    /// decode(encode(x)) of images.
    public func reconstruct(_ images: [FloatImage]) -> [FloatImage] { decode(encode(images)) }

    /// A PNG as the model's input. Unless `resize`, it must be one already (the model's size,
    /// grey or colour as the model; alpha is dropped); with `resize` it is converted to grey or
    /// RGB and resized to the model's size (area average).
    public func modelInput(_ path: String, resize: Bool = false, limits: PNGLimits = .default) throws -> FloatImage {
        let reader = try PNGReader(path: path, limits: limits)
        if !resize, let why = ModelInputFit.mismatch(reader.header, width: config.width, height: config.height, channels: config.channels, model: name) {
            throw RenderError.badInput(file: path, reason: why)
        }
        let img = try reader.readImage(layout: config.channels == 3 ? .rgb : .gray, depth: 16)
        return Resampler.resize(FloatImage(img), width: config.width, height: config.height)
    }

    /// Average KL per latent dimension over images: KL_d = ½ (μ_d² + σ_d² − log σ_d² − 1).
    public func klPerDimension(_ images: [FloatImage]) throws -> [Double] {
        let vae = try requireVAE("traverse")
        let x = Matrix(rows: images.count, cols: config.inputSize, values: images.flatMap(\.data))
        let stats = vae.posterior(x)
        let k = config.latent
        var kl = [Double](repeating: 0, count: k)
        for r in 0..<images.count {
            for d in 0..<k {
                let mu = Double(stats[r, d]), lv = Double(stats[r, k + d])
                kl[d] += 0.5 * (mu * mu + exp(lv) - lv - 1)
            }
        }
        return kl.map { $0 / Double(max(1, images.count)) }
    }

    /// Images sampled from the model itself (z ~ N(0, I), decoded), when no data is given.
    public func selfSample(count: Int, seed: UInt64) -> [FloatImage] {
        var rng = RandomGenerator(seed: seed)
        return decode((0..<count).map { _ in (0..<config.latent).map { _ in rng.normal() } })
    }

    /// Dimensions to show, with their KL, most informative first for auto/top.
    public func chooseDimensions(_ choice: DimensionChoice, kl: [Double]) throws -> [Int] {
        let k = config.latent
        switch choice {
        case .list(let dims):
            if let bad = dims.first(where: { $0 >= k }) { throw RenderError.badDimensions("dimension \(bad) does not exist: \(name) has \(k) latent dimensions (0-\(k - 1))") }
            return dims
        case .top(let n):
            return Array((0..<k).sorted { kl[$0] > kl[$1] }.prefix(n))
        case .auto:
            let active = (0..<k).filter { kl[$0] > Self.collapseThreshold }.sorted { kl[$0] > kl[$1] }
            return active.isEmpty ? Array((0..<k).sorted { kl[$0] > kl[$1] }.prefix(1)) : Array(active.prefix(16))
        }
    }

    /// Rows of a traversal: for each dimension, `steps` codes from −range to +range in that
    /// dimension (prior standard deviations), the others held at `base`.
    public func traversal(base: [Float], dims: [Int], range: Float, steps: Int) throws -> [[FloatImage]] {
        _ = try requireVAE("traverse")
        return dims.map { d in
            decode((0..<steps).map { s in
                var z = base
                z[d] = steps == 1 ? 0 : -range + 2 * range * Float(s) / Float(steps - 1)
                return z
            })
        }
    }

    /// Column values of a traversal.
    public static func traversalValues(range: Float, steps: Int) -> [Float] {
        (0..<steps).map { steps == 1 ? 0 : -range + 2 * range * Float($0) / Float(steps - 1) }
    }

    /// A 2-D manifold: dims (a, b) on a steps x steps grid of Φ⁻¹(p) for p evenly spaced in
    /// (0, 1) (Kingma & Welling's MNIST figure); other dimensions held at `base`. Row 0 is the
    /// top (largest value of b).
    public func manifold(dims: (Int, Int), steps: Int, base: [Float]) throws -> [[FloatImage]] {
        _ = try requireVAE("manifold")
        let k = config.latent
        guard dims.0 < k, dims.1 < k, dims.0 != dims.1 else {
            throw RenderError.badDimensions("manifold needs two different dimensions below \(k)")
        }
        let grid = Self.manifoldValues(steps: steps)
        return (0..<steps).map { r in
            decode((0..<steps).map { c in
                var z = base
                z[dims.0] = grid[c]
                z[dims.1] = grid[steps - 1 - r]
                return z
            })
        }
    }

    public static func manifoldValues(steps: Int) -> [Float] {
        (0..<steps).map { Float(inverseNormalCDF((Double($0) + 0.5) / Double(steps))) }
    }

    /// Codes walked from each input to the next: `steps` points per segment including both ends,
    /// linear or spherical.
    public static func path(from a: [Float], to b: [Float], steps: Int, slerp: Bool) -> [[Float]] {
        (0..<steps).map { s in
            let t = steps == 1 ? 0 : Float(s) / Float(steps - 1)
            return slerp ? Self.slerp(a, b, t) : zip(a, b).map { (1 - t) * $0 + t * $1 }
        }
    }

    /// Spherical interpolation: sin((1−t)Ω)/sin Ω · a + sin(tΩ)/sin Ω · b, Ω the angle between a
    /// and b (linear when they are nearly parallel). Exact at t = 0 and t = 1.
    public static func slerp(_ a: [Float], _ b: [Float], _ t: Float) -> [Float] {
        if t == 0 { return a }
        if t == 1 { return b }
        let na = sqrt(a.reduce(0) { $0 + Double($1 * $1) }), nb = sqrt(b.reduce(0) { $0 + Double($1 * $1) })
        guard na > 1e-12, nb > 1e-12 else { return zip(a, b).map { $0 + t * ($1 - $0) } }
        let cosO = max(-1, min(1, zip(a, b).reduce(0.0) { $0 + Double($1.0 * $1.1) } / (na * nb)))
        let omega = acos(cosO)
        guard sin(omega) > 1e-6 else { return zip(a, b).map { $0 + t * ($1 - $0) } }
        let wa = Float(sin((1 - Double(t)) * omega) / sin(omega)), wb = Float(sin(Double(t) * omega) / sin(omega))
        return zip(a, b).map { wa * $0 + wb * $1 }
    }

    /// Samples from the prior, decoded.
    public func samples(count: Int, seed: UInt64) throws -> [FloatImage] {
        _ = try requireVAE("sample")
        return selfSample(count: count, seed: seed)
    }
}

/// Φ⁻¹(p), the standard normal quantile (Acklam's rational approximation, |relative error| < 1.2e-9).
public func inverseNormalCDF(_ p: Double) -> Double {
    precondition(p > 0 && p < 1, "p must be in (0, 1)")
    let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
    let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01]
    let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
    let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
    let lo = 0.02425, hi = 1 - lo
    if p < lo {
        let q = sqrt(-2 * log(p))
        return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    }
    if p > hi {
        let q = sqrt(-2 * log(1 - p))
        return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    }
    let q = p - 0.5, r = q * q
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
}
