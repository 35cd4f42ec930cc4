import Foundation
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

    /// Parses "gaussian:0.5", "mask:0.3", "saltpepper:0.1"; nil where `parse` throws.
    public init?(_ s: String) {
        guard let c = try? Corruption.parse(s) else { return nil }
        self = c
    }

    /// What the noise specs accept, for messages and help.
    public static let syntax = "gaussian:S (σ on the 0-1 scale, or S/255 in grey levels), mask:P or saltpepper:P"

    /// Parses a corruption spec, with the reason when it is not one. One noise scale everywhere:
    /// `gaussian:S` is σ as a fraction of the full range (0-1), and a written unit `S/255` (any
    /// `A/B`: A of a range of B) says grey levels; a bare σ above 1 is refused with the
    /// spelling that was probably meant.
    public static func parse(_ s: String) throws -> Corruption {
        let parts = s.lowercased().split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw NoiseSpecError("'\(s)' is not a noise spec: want \(syntax)") }
        let kind = String(parts[0]), value = String(parts[1])
        switch kind {
        case "gaussian", "gauss":
            guard let v = NoiseLevel.fraction(value) else { throw NoiseSpecError("'\(s)': σ wants a number ≥ 0, or A/B") }
            guard v <= 1 else {
                throw NoiseSpecError("'\(s)': σ is on the 0-1 scale (a fraction of the full range); for \(value) grey levels write gaussian:\(value)/255")
            }
            return .gaussian(sigma: v)
        case "mask", "masking", "dropout", "saltpepper", "salt-pepper", "sp":
            guard let p = NoiseLevel.fraction(value), p <= 1 else { throw NoiseSpecError("'\(s)': the probability wants a number in 0-1") }
            return kind.hasPrefix("s") ? .saltPepper(p: p) : .mask(p: p)
        default:
            throw NoiseSpecError("'\(s)': unknown noise '\(kind)'; want \(syntax)")
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

/// A noise spec that cannot be used, with the reason.
public struct NoiseSpecError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Noise levels as the specs and options write them: a bare number in the option's own scale,
/// or `A/B` with the unit written (A of a full range of B: `25/255` is 25 grey levels of 8 bits
/// on any option).
public enum NoiseLevel {
    /// "A" or "A/B" split into the value's text and the written unit B (nil without one); nil
    /// when B is not a number > 0. `trimming`: spaces around A and B allowed.
    static func valueAndUnit(_ text: String, trimming: Bool = false) -> (value: String, unit: Float?)? {
        func trim(_ s: Substring) -> String { trimming ? s.trimmingCharacters(in: .whitespaces) : String(s) }
        guard let slash = text.lastIndex(of: "/") else { return (trim(text[...]), nil) }
        guard let b = Float(trim(text[text.index(after: slash)...])), b.isFinite, b > 0 else { return nil }
        return (trim(text[..<slash]), b)
    }

    /// A number ≥ 0 and its written unit, spaces allowed.
    static func level(_ text: String) -> (a: Float, unit: Float?)? {
        guard let (value, unit) = valueAndUnit(text, trimming: true), let a = Float(value), a.isFinite, a >= 0 else { return nil }
        return (a, unit)
    }

    /// A level as a fraction of the full range: "0.1" → 0.1, "25/255" → 0.098. Nil unless
    /// finite and ≥ 0 (and B > 0).
    public static func fraction(_ text: String) -> Float? {
        level(text).map { l in l.unit.map { l.a / $0 } ?? l.a }
    }

    /// A level in grey levels of 0-255: a bare number is taken as grey levels (`--sigma 25`),
    /// `A/B` as A of a range of B ("25/255" → 25, "0.1/1" → 25.5).
    public static func greyLevels(_ text: String) -> Float? {
        level(text).map { l in l.unit.map { $0 == 255 ? l.a : l.a * 255 / $0 } ?? l.a }
    }

    /// The σ (grey levels) of the denoising protocol: `sigma` (grey levels, or A/B), or a
    /// gaussian `noise` spec, or 25.
    public static func protocolSigma(sigma: String?, noise: String?) throws -> Float {
        if let sigma {
            guard let v = greyLevels(sigma) else { throw NoiseSpecError("--sigma '\(sigma)': want a number of grey levels, or A/B") }
            return v
        }
        guard let noise else { return 25 }
        guard case .gaussian(let s) = try Corruption.parse(noise) else {
            throw NoiseSpecError("--noise: conv-dae models are scored on gaussian noise (gaussian:S or S/255), not '\(noise)'")
        }
        return s * 255
    }

    /// A training range "gaussian:LO-HI" or "gaussian:S", in grey levels of 0-255: bare values
    /// on the 0-1 scale as every gaussian spec ("gaussian:0-0.2"), or with the unit written
    /// ("gaussian:0-50/255", the grey levels the photo models are described in).
    public static func trainingRange(_ spec: String) throws -> ClosedRange<Float> {
        let parts = spec.lowercased().split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0] == "gaussian" || parts[0] == "gauss" else {
            throw NoiseSpecError("'\(spec)' is not a gaussian noise range: want gaussian:LO-HI (σ on the 0-1 scale) or gaussian:LO-HI/255 (grey levels)")
        }
        guard let (body, unit) = valueAndUnit(String(parts[1])) else { throw NoiseSpecError("'\(spec)': the unit after / wants a number > 0") }
        let ends = body.split(separator: "-", omittingEmptySubsequences: false).map { Float($0) }
        guard (ends.count == 1 || ends.count == 2), ends.allSatisfy({ $0 != nil && $0!.isFinite && $0! >= 0 }) else {
            throw NoiseSpecError("'\(spec)': want gaussian:LO-HI with numbers ≥ 0")
        }
        let lo = ends[0]!, hi = ends.last!!
        guard hi >= lo else { throw NoiseSpecError("'\(spec)': the range runs from \(lo) down to \(hi)") }
        let toGrey: (Float) -> Float = { v in unit.map { $0 == 255 ? v : v * 255 / $0 } ?? v * 255 }
        if unit == nil && hi > 1 {
            throw NoiseSpecError("'\(spec)': σ is on the 0-1 scale (a fraction of the full range); for grey levels write gaussian:\(body)/255")
        }
        guard toGrey(hi) <= 255 else { throw NoiseSpecError("'\(spec)': σ above the full range") }
        return toGrey(lo)...toGrey(hi)
    }
}
