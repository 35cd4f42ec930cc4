import FileIO
import Foundation
import Models
import Tensor

/// What `latent eval` reports, in order: shown as "key  value" lines (after any table lines)
/// or as one JSON object. Numbers are formatted once, here, for both.
public struct EvaluationReport: Sendable {
    public enum Value: Sendable {
        case text(String)
        case number(Double, decimals: Int)
        case integer(Int)
        case flag(Bool)
        case null
        /// Text shown as is; JSON written as is (an array or object made by the caller).
        case shown(String, json: String)

        var text: String {
            switch self {
            case .text(let s): return s
            case .number(let v, let d): return String(format: "%.\(d)f", v)
            case .integer(let v): return "\(v)"
            case .flag(let b): return "\(b)"
            case .null: return "-"
            case .shown(let s, _): return s
            }
        }
        var json: String {
            switch self {
            case .text(let s): return jsonQuote(s)
            case .null: return "null"
            case .shown(_, let j): return j
            default: return text
            }
        }
    }

    public var fields: [(key: String, value: Value)] = []
    /// Lines shown before the fields in the text form (a per-image table).
    public var table: [String] = []
    /// Fields that only the JSON has (the text has them in the table).
    public var jsonOnly: Set<String> = []

    public init() {}

    public mutating func add(_ key: String, _ value: Value) { fields.append((key, value)) }

    public var text: String {
        (table + fields.filter { !jsonOnly.contains($0.key) }.map { "\($0.key.padding(toLength: 16, withPad: " ", startingAt: 0)) \($0.value.text)" })
            .joined(separator: "\n")
    }

    public var json: String { "{" + fields.map { "\(jsonQuote($0.key)):\($0.value.json)" }.joined(separator: ",") + "}" }
}

extension Evaluator {
    /// An autoencoder's figures on a test set: mean loss per image; for a VAE the ELBO split and,
    /// with `iwae` samples, the IWAE log-likelihood (`progress` hears its steps); for a DAE (or
    /// any model given a corruption) PSNR of the noisy, denoised and 3x3-median images.
    public static func report(_ m: LatentModel, name: String, test: Dataset, iwae: Int?, noise: Corruption?, seed: UInt64,
                              progress: ((Int, Int) -> Void)? = nil) -> EvaluationReport {
        let c = m.config
        var r = EvaluationReport()
        r.add("model", .text(name)); r.add("kind", .text(c.kind.rawValue)); r.add("architecture", .text(c.architecture))
        r.add("images", .integer(test.count))
        var rng = RandomGenerator(seed: seed)
        let loss = meanLoss(m, test, rng: &rng)
        r.add("loss_per_image", .number(loss.total, decimals: 3))
        if c.kind == .vae {
            r.add("reconstruction", .number(loss.reconstruction, decimals: 3))
            r.add("kl", .number(loss.kl, decimals: 3))
            r.add("negative_elbo", .number(loss.reconstruction + loss.kl, decimals: 3))
            if let k = iwae, let vae = m as? VAE {
                let ll = Evaluator.iwae(vae, test, samples: k, rng: &rng, progress: progress)
                r.add("iwae_k", .integer(k))
                r.add("log_likelihood", .number(ll, decimals: 3))
            }
        } else if let corruption = noise ?? c.noise {
            let f = denoising(m, test, noise: corruption, seed: seed)
            r.add("noise", .text(corruption.description))
            r.add("psnr_noisy", .number(f.psnrNoisy, decimals: 3))
            r.add("psnr_denoised", .number(f.psnrDenoised, decimals: 3))
            r.add("psnr_median3x3", .number(f.psnrMedian, decimals: 3))
        }
        return r
    }
}

extension DenoisingProtocol.Report {
    /// The standard protocol's figures for `model` (named `name`); `given`: the model was told
    /// the true σ (else it measured it, or is blind).
    public func evaluation(name: String, model: ConvDenoiser, images: Int, sigma: Float, noisyPNG: Bool, given: Bool) -> EvaluationReport {
        let sigmaInput = !(model.noiseInput || model.noiseMap) ? "none (blind model)" : given ? "given (the true σ)" : "measured in each image"
        let description = "conv-dae \(model.widths.0),\(model.widths.1),\(model.widths.2)" + (model.blocks > 0 ? " +\(model.blocks) blocks" : "")
            + (model.fineBlocks > 0 ? " +\(model.fineBlocks) full-resolution blocks" : "")
        let model = name
        var r = EvaluationReport()
        r.add("model", .shown("\(model) (\(description))", json: jsonQuote(model)))
        r.add("images", .integer(images))
        r.add("sigma", .shown("\(sigma)" + (noisyPNG ? " (noisy images quantised to 8 bits)" : ""), json: "\(sigma)"))
        r.add("noisy_png", .flag(noisyPNG)); r.jsonOnly.insert("noisy_png")
        let error = meanAbsSigmaError.map { String(format: " (estimate off by %.2f on average)", $0) } ?? ""
        r.add("sigma_input", .shown(sigmaInput + error, json: jsonQuote(sigmaInput)))
        r.add("psnr_noisy", .number(meanNoisy, decimals: 3))
        r.add("psnr_denoised", .number(meanDenoised, decimals: 3))
        r.add("cpu_s_per_mp", .number(cpuSecondsPerMegapixel, decimals: 3))
        r.add("sigma_estimate_mean_abs_error", meanAbsSigmaError.map { .number($0, decimals: 3) } ?? .null)
        r.jsonOnly.insert("sigma_estimate_mean_abs_error")
        r.add("per_image", .shown(psnrDenoised.map { String(format: "%.2f", $0) }.joined(separator: " "),
                                  json: "[" + psnrDenoised.map { String(format: "%.3f", $0) }.joined(separator: ",") + "]"))
        return r
    }
}

extension PairEvaluation.Report {
    /// Real pairs: a table of each image (PSNR and SSIM noisy → denoised, the σ read) and the
    /// means; in JSON the same per image.
    public func evaluation(model: String) -> EvaluationReport {
        func sig(_ s: PairEvaluation.Score) -> String { s.sigmas.map { $0.map { String(format: "%.2f", $0) }.joined(separator: ",") } ?? "none" }
        var r = EvaluationReport()
        r.table = ["image                                PSNR noisy → denoised    SSIM noisy → denoised   σ"]
            + scores.map { s in
                s.name.padding(toLength: 36, withPad: " ", startingAt: 0)
                    + String(format: " %6.2f → %6.2f dB       %.4f → %.4f      ", s.psnrNoisy, s.psnrDenoised, s.ssimNoisy, s.ssimDenoised) + sig(s)
            }
            + [String(format: "mean (%d pairs)                       %6.2f → %6.2f dB       %.4f → %.4f", scores.count, mean(\.psnrNoisy),
                      mean(\.psnrDenoised), mean(\.ssimNoisy), mean(\.ssimDenoised))]
        r.add("model", .text(model)); r.add("pairs", .integer(scores.count)); r.add("failed", .integer(failures.count))
        r.add("psnr_noisy", .number(mean(\.psnrNoisy), decimals: 3)); r.add("psnr_denoised", .number(mean(\.psnrDenoised), decimals: 3))
        r.add("ssim_noisy", .number(mean(\.ssimNoisy), decimals: 4)); r.add("ssim_denoised", .number(mean(\.ssimDenoised), decimals: 4))
        r.jsonOnly = ["model", "pairs", "failed", "psnr_noisy", "psnr_denoised", "ssim_noisy", "ssim_denoised", "per_image"]
        r.add("cpu_s_per_mp", .number(cpuSecondsPerMegapixel, decimals: 3))
        let each = scores.map { s in
            "{\"name\":\(jsonQuote(s.name)),\"psnr_noisy\":\(String(format: "%.3f", s.psnrNoisy)),\"psnr_denoised\":\(String(format: "%.3f", s.psnrDenoised)),"
                + "\"ssim_noisy\":\(String(format: "%.4f", s.ssimNoisy)),\"ssim_denoised\":\(String(format: "%.4f", s.ssimDenoised)),\"sigma\":\(jsonQuote(sig(s)))}"
        }
        r.add("per_image", .shown("", json: "[" + each.joined(separator: ",") + "]"))
        return r
    }
}
