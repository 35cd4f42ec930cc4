import Foundation
import Imaging
import Models
import PNGIO
import Inference

/// Scoring a denoiser on real noisy/clean pairs: a folder with `noisy/` and `clean/` holding
/// PNGs of the same names (as PolyU's crops: one real shot and the mean of many). Each noisy
/// image is denoised as `latent denoise` would (σ per colour plane measured, or given), and
/// PSNR and SSIM are taken against the clean one, for the noisy input too.
public enum PairEvaluation {
    public struct Score: Sendable {
        public var name: String
        public var psnrNoisy, psnrDenoised, ssimNoisy, ssimDenoised: Double
        /// σ per channel the model was told (for a map of opponent components, what its planes imply).
        public var sigmas: [Float]?
        public var pixels: Int
    }

    public enum PairError: Error, CustomStringConvertible {
        case layout(folder: String, reason: String)
        public var description: String {
            switch self { case .layout(let f, let r): return "\(f): \(r)" }
        }
    }

    /// The names present in both `noisy/` and `partner/` (`clean/`, or a teacher's outputs; sorted),
    /// and the noisy ones without a partner.
    public static func pairs(in folder: String, partner: String = "clean") throws -> (names: [String], unmatched: [String]) {
        let fm = FileManager.default
        let noisyDir = folder + "/noisy", partnerDir = folder + "/" + partner
        guard let noisy = try? fm.contentsOfDirectory(atPath: noisyDir), let others = try? fm.contentsOfDirectory(atPath: partnerDir) else {
            throw PairError.layout(folder: folder, reason: "needs the subfolders noisy/ and \(partner)/ with PNGs of the same names")
        }
        let have = Set(others)
        let png = noisy.filter { $0.lowercased().hasSuffix(".png") && !$0.hasPrefix(".") }.sorted()
        let names = png.filter { have.contains($0) }
        guard !names.isEmpty else { throw PairError.layout(folder: folder, reason: "no PNG in noisy/ has a partner of the same name in \(partner)/") }
        return (names, png.filter { !have.contains($0) })
    }

    /// The noise level function of the actual noise (noisy − clean) of a pair, the σ each pixel's
    /// noise has (what a noise map gives the model): each 4x4 block's root mean square noise about
    /// the channel's mean offset (the block's own mean would take out the part of correlated
    /// noise the block shares), binned by the clean image's brightness (the noisy one's would
    /// sort blocks by their noise), each bin the root mean square of its blocks (their median
    /// reads correlated noise low). A diagnostic only (it looks at the clean image): what a
    /// perfect estimator would give the model.
    ///
    /// `space` `.opponent` (an RGB pair): the noise taken into the opponent components first, each
    /// block binned by the clean image's mean brightness over the channels.
    public static func oracleLevels(noisy: FloatImage, clean: FloatImage, space: NoiseMapSpace = .rgb) -> NoiseLevelFunction? {
        let planes = noisy.channels
        let acc = NoiseLevelFunction.Accumulator(channels: planes)
        let bw = noisy.width / 4 * 4, bh = noisy.height / 4 * 4
        let mix = space == .opponent && planes == 3 ? NoiseMapSpace.basis : nil
        var offsets = [Double](repeating: 0, count: planes)
        for c in 0..<planes {
            for y in 0..<bh { for x in 0..<bw { offsets[c] += Double(noisy[x: x, y: y, c: c] - clean[x: x, y: y, c: c]) } }
            offsets[c] /= Double(max(1, bw * bh))
        }
        // Plane q's noise at (x, y): channel q's, or its opponent component.
        func noise(_ x: Int, _ y: Int, _ q: Int) -> Double {
            func d(_ c: Int) -> Double { Double(noisy[x: x, y: y, c: c] - clean[x: x, y: y, c: c]) - offsets[c] }
            guard let mix else { return d(q) }
            return (0..<3).reduce(0.0) { $0 + Double(mix[q * 3 + $1]) * d($1) }
        }
        func brightness(_ x: Int, _ y: Int, _ q: Int) -> Double {
            mix == nil ? Double(clean[x: x, y: y, c: q]) : (0..<3).reduce(0.0) { $0 + Double(clean[x: x, y: y, c: $1]) } / 3
        }
        for q in 0..<planes {
            for by in stride(from: 0, to: bh, by: 4) {
                for bx in stride(from: 0, to: bw, by: 4) {
                    var s2 = 0.0, b = 0.0
                    for y in by..<(by + 4) {
                        for x in bx..<(bx + 4) {
                            let d = noise(x, y, q) * 255
                            s2 += d * d; b += brightness(x, y, q)
                        }
                    }
                    acc.add(channel: q, brightness: Float(b / 16), sigma: Float((s2 / 16).squareRoot()))
                }
            }
        }
        return acc.result(.rootMeanSquare)
    }

    /// Scores one pair with `denoiser` (its `sigma` set to give σ, nil to measure it; `oracle`:
    /// the noise level function of the pair's actual noise instead, see `oracleLevels`; either
    /// times its `strength`). `colour`: the denoiser colour images get instead, when the model is
    /// a family's grey one (as `latent denoise` gives the photo family's colour model colour
    /// images).
    public static func score(_ name: String, folder: String, denoiser grey: BandDenoiser, colour: BandDenoiser? = nil, oracle: Bool = false) throws -> Score {
        // Colour files stay colour (a grey model denoises each plane, as `latent denoise` does).
        let noisyFile = try PNGReader.read(path: folder + "/noisy/" + name)
        let denoiser = noisyFile.layout.colorChannels == 3 ? colour ?? grey : grey
        let layout: PixelLayout = denoiser.model.channels == 3 || noisyFile.layout.colorChannels == 3 ? .rgb : .gray
        let noisyPNG = noisyFile.converted(to: layout, depth: 8)
        let cleanPNG = try PNGReader.read(path: folder + "/clean/" + name, layout: layout, depth: 8)
        guard noisyPNG.width == cleanPNG.width && noisyPNG.height == cleanPNG.height else {
            throw PairError.layout(folder: folder, reason: "\(name): noisy is \(noisyPNG.width)x\(noisyPNG.height), clean \(cleanPNG.width)x\(cleanPNG.height)")
        }
        let noisy = FloatImage(noisyPNG), clean = FloatImage(cleanPNG)
        let oracleSigmas = oracle && denoiser.model.noiseMap ? oracleLevels(noisy: noisy, clean: clean, space: denoiser.model.mapSpace).map { denoiser.told(BandDenoiser.mapSigmas($0)) } : nil
        let sigmas = oracleSigmas ?? denoiser.sigmas(for: noisy)
        let out = denoiser.wholeImage(noisy, sigmas: sigmas)
        return Score(name: name, psnrNoisy: ImageQuality.psnr(noisy, reference: clean), psnrDenoised: ImageQuality.psnr(out, reference: clean),
                     ssimNoisy: ImageQuality.ssim(noisy, reference: clean), ssimDenoised: ImageQuality.ssim(out, reference: clean),
                     sigmas: sigmas.map(denoiser.channelSigmas), pixels: noisy.width * noisy.height)
    }

    /// Every pair of `names` scored with `denoiser`, timed; a pair that cannot be scored is
    /// reported (naming it) and the others go on.
    public struct Report: Sendable {
        public var scores: [Score] = []
        public var failures: [String] = []
        public var cpuSeconds = 0.0

        public func mean(_ k: KeyPath<Score, Double>) -> Double { scores.map { $0[keyPath: k] }.reduce(0, +) / Double(max(1, scores.count)) }
        public var cpuSecondsPerMegapixel: Double { cpuSeconds / max(1e-9, Double(scores.reduce(0) { $0 + $1.pixels }) / 1e6) }
    }

    public static func run(_ names: [String], folder: String, denoiser: BandDenoiser, colour: BandDenoiser? = nil, oracle: Bool = false) -> Report {
        var r = Report()
        for name in names {
            let t0 = CPUClock.seconds()
            do { r.scores.append(try score(name, folder: folder, denoiser: denoiser, colour: colour, oracle: oracle)) } catch { r.failures.append("\(error)") }
            r.cpuSeconds += CPUClock.seconds() - t0
        }
        return r
    }
}
