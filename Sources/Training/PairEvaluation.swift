import Foundation
import Imaging
import Models
import PNGIO
import Pipeline

/// Scoring a denoiser on real noisy/clean pairs: a folder with `noisy/` and `clean/` holding
/// PNGs of the same names (as PolyU's crops: one real shot and the mean of many). Each noisy
/// image is denoised as `latent denoise` would (σ per colour plane measured, or given), and
/// PSNR and SSIM are taken against the clean one, for the noisy input too.
public enum PairEvaluation {
    public struct Score: Sendable {
        public var name: String
        public var psnrNoisy, psnrDenoised, ssimNoisy, ssimDenoised: Double
        public var sigmas: [Float]?
        public var pixels: Int
    }

    public enum PairError: Error, CustomStringConvertible {
        case layout(folder: String, reason: String)
        public var description: String {
            switch self { case .layout(let f, let r): return "\(f): \(r)" }
        }
    }

    /// The names present in both `noisy/` and `clean/` (sorted), and the noisy ones without a clean partner.
    public static func pairs(in folder: String) throws -> (names: [String], unmatched: [String]) {
        let fm = FileManager.default
        let noisyDir = folder + "/noisy", cleanDir = folder + "/clean"
        guard let noisy = try? fm.contentsOfDirectory(atPath: noisyDir), let clean = try? fm.contentsOfDirectory(atPath: cleanDir) else {
            throw PairError.layout(folder: folder, reason: "needs the subfolders noisy/ and clean/ with PNGs of the same names")
        }
        let cleanSet = Set(clean)
        let png = noisy.filter { $0.lowercased().hasSuffix(".png") && !$0.hasPrefix(".") }.sorted()
        let names = png.filter { cleanSet.contains($0) }
        guard !names.isEmpty else { throw PairError.layout(folder: folder, reason: "no PNG in noisy/ has a partner of the same name in clean/") }
        return (names, png.filter { !cleanSet.contains($0) })
    }

    /// Scores one pair with `denoiser` (its `sigma` set to give σ, nil to measure it).
    public static func score(_ name: String, folder: String, denoiser: BandDenoiser) throws -> Score {
        // Colour files stay colour (a grey model denoises each plane, as `latent denoise` does).
        let noisyFile = try PNGReader.read(path: folder + "/noisy/" + name)
        let layout: PixelLayout = denoiser.model.channels == 3 || noisyFile.layout.colorChannels == 3 ? .rgb : .gray
        let noisyPNG = noisyFile.converted(to: layout, depth: 8)
        let cleanPNG = try PNGReader.read(path: folder + "/clean/" + name, layout: layout, depth: 8)
        guard noisyPNG.width == cleanPNG.width && noisyPNG.height == cleanPNG.height else {
            throw PairError.layout(folder: folder, reason: "\(name): noisy is \(noisyPNG.width)x\(noisyPNG.height), clean \(cleanPNG.width)x\(cleanPNG.height)")
        }
        let noisy = FloatImage(noisyPNG), clean = FloatImage(cleanPNG)
        let levels = denoiser.noiseLevels(for: noisy)
        let sigmas = levels?.meanSigmas ?? denoiser.sigmas(for: noisy)
        let out = denoiser.wholeImage(noisy, sigmas: sigmas, noiseLevels: levels)
        return Score(name: name, psnrNoisy: ImageQuality.psnr(noisy, reference: clean), psnrDenoised: ImageQuality.psnr(out, reference: clean),
                     ssimNoisy: ImageQuality.ssim(noisy, reference: clean), ssimDenoised: ImageQuality.ssim(out, reference: clean),
                     sigmas: sigmas, pixels: noisy.width * noisy.height)
    }
}
