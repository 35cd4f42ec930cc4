import Foundation
import Imaging
import Inference
import Models
import PNGIO

/// A stage that can also run file to file without holding the image: when it is the only stage
/// of a chain that writes PNGs, the runner streams each file through it instead of decoding it
/// whole (the result is the same bytes either way).
public protocol StreamingStage: Stage {
    /// Filters `input` into `output` (written atomically) with `texts` and what the stage adds
    /// to the provenance, keeping the input's colour, physical and text chunks if `keepMetadata`;
    /// `tileJobs` threads share the work on the one image; `progress` hears how far it has got
    /// (0...1). Returns what it added to the provenance and warnings for the user.
    func streamFile(input: String, output: String, limits: PNGLimits, compression: Int?,
                    texts: [(key: String, text: String)], keepMetadata: Bool, tileJobs: Int,
                    progress: @escaping @Sendable (Double) -> Void) throws -> StreamedFile
}

/// What streaming one file added: its own provenance texts (the noise level read in it, for
/// instance) and warnings for the user (none usually).
public struct StreamedFile: Sendable {
    public var texts: [(key: String, text: String)]
    public var warnings: [String]
    public init(texts: [(key: String, text: String)] = [], warnings: [String] = []) {
        self.texts = texts
        self.warnings = warnings
    }
}

/// `denoise MODEL [sigma=S | sigma=R,G,B] [strength=F] [ensemble=N]` (and `reconstruct`) for a convolutional
/// model: band streamed and tiled with a halo (`BandDenoiser`), exact (the result does not
/// depend on bands, tiles or threads), any image size. A noise-conditioned model is told the σ
/// given (0-255 scale, one value or one per colour plane) or what it measures in each image,
/// times the strength; what it was told goes into the output's provenance (`latent:sigma`). A
/// grey model filters each colour plane of an RGB image; alpha is carried through. With an
/// ensemble, each image is denoised in N orientations and the results averaged.
public final class ConvStage: FrameStage, StreamingStage, @unchecked Sendable {
    public let verb: String
    public let modelName: String
    public let modelHash: String
    public let sigma: [Float]?
    /// The factor on the σ the model is told (`BandDenoiser.strength`).
    public let strength: Float
    /// The self-ensemble (`BandDenoiser.ensemble`): 1, 2, 4 or 8 orientations.
    public let ensemble: Int
    /// The real-noise stage after the network (`BandDenoiser.realNoise`).
    public let realNoise: RealNoiseMode
    public let denoiser: BandDenoiser
    /// A second model for colour images (the photo family: a grey model for grey images, a colour
    /// one for RGB and RGBA); nil: `denoiser` for every image.
    public let colour: (denoiser: BandDenoiser, name: String, hash: String)?

    public var model: ConvDenoiser { denoiser.model }

    /// The denoiser an image of `planes` colour planes gets.
    public func denoiser(forPlanes planes: Int) -> BandDenoiser { planes == 3 ? colour?.denoiser ?? denoiser : denoiser }
    public var spec: String { "\(verb) \(modelName)" + settings.map { " \($0.key)=\($0.value)" }.joined() }
    /// The parameters given that differ from the defaults (sigma, strength, ensemble), as `spec`
    /// writes them.
    public var settings: [(key: String, value: String)] {
        (sigma.map { [("sigma", $0.map { String(format: "%g", $0) }.joined(separator: ","))] } ?? [])
            + (strength == 1 ? [] : [("strength", String(format: "%g", strength))]) + (ensemble == 1 ? [] : [("ensemble", "\(ensemble)")])
            + (realNoise == .auto ? [] : [("realnoise", realNoise.rawValue)])
    }
    /// The `latent:model` provenance line.
    public var modelDescription: String {
        func describe(_ m: ConvDenoiser, _ name: String, _ hash: String) -> String {
            "\(name) conv-dae \(m.widths.0),\(m.widths.1),\(m.widths.2)\(m.channels == 3 ? " rgb" : "")\(m.estimator != nil ? " +estimator" : "") fnv1a64:\(hash)"
        }
        guard let colour else { return describe(model, modelName, modelHash) }
        return "\(modelName): grey images \(describe(model, modelName, modelHash)); colour images \(describe(colour.denoiser.model, colour.name, colour.hash))"
    }

    /// The largest σ accepted (0-255 scale).
    public static let maxSigma: Float = 100
    /// The strengths accepted.
    public static let strengthRange: ClosedRange<Double> = 0...4
    /// The ensembles accepted (orientations).
    public static let ensembleSizes = BandDenoiser.ensembleSizes

    public init(verb: String, model: ConvDenoiser, name: String, hash: String, sigma: [Float]? = nil, strength: Float = 1,
                ensemble: Int = 1, realNoise: RealNoiseMode = .auto, colour: (model: ConvDenoiser, name: String, hash: String)? = nil) throws {
        guard verb == "denoise" || verb == "reconstruct" else { throw PipelineError.unknownStage(verb) }
        if let sigma {
            guard sigma.count == 1 || sigma.count == 3 else {
                throw PipelineError.badParameter(stage: verb, reason: "sigma is one value or three (R,G,B), not \(sigma.count)")
            }
            guard sigma.allSatisfy({ $0 >= 0 && $0 <= Self.maxSigma }) else {
                throw PipelineError.badParameter(stage: verb, reason: "sigma must be between 0 and \(Int(Self.maxSigma)) (the 0-255 scale)")
            }
        }
        guard Self.strengthRange.contains(Double(strength)) else {
            throw PipelineError.badParameter(stage: verb, reason: "strength must be between 0 and \(Int(Self.strengthRange.upperBound))")
        }
        guard Self.ensembleSizes.contains(ensemble) else {
            throw PipelineError.badParameter(stage: verb, reason: "ensemble is 1, 2, 4 or 8 orientations, not \(ensemble)")
        }
        self.verb = verb
        modelName = name
        modelHash = hash
        self.sigma = sigma
        self.strength = strength
        self.ensemble = ensemble
        self.realNoise = realNoise
        func told(_ m: ConvDenoiser) -> BandDenoiser {
            BandDenoiser(model: m, sigma: sigma, strength: strength, ensemble: ensemble, realNoise: realNoise)
        }
        denoiser = told(model)
        self.colour = colour.map { (told($0.model), $0.name, $0.hash) }
    }

    /// What `sigma=` and `--sigma` take: one σ, or one per channel (R,G,B), in grey levels.
    public static let sigmaParameter = ParameterKind.greyLevels(counts: [1, 3], max: Double(maxSigma))

    /// "25", "25/255" or "20,25,30" → σ values in grey levels (nil if not levels).
    public static func parseSigma(_ text: String) -> [Float]? {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { NoiseLevel.greyLevels(String($0)) }
        guard !parts.isEmpty, parts.allSatisfy({ $0 != nil }) else { return nil }
        return parts.map { $0! }
    }

    public func shape(after s: ChainShape) throws -> ChainShape {
        if let planes = s.colorPlanes {
            if planes == 1 && model.channels == 3 && colour == nil {
                throw PipelineError.geometry("\(modelName) takes RGB images but the chain gives it grey ones; put 'rgb' before '\(verb)'")
            }
            if let sigma, sigma.count != 1 && sigma.count != planes {
                throw PipelineError.geometry("'\(spec)' gives \(sigma.count) noise levels but the chain gives it images of \(planes) colour plane\(planes == 1 ? "" : "s")")
            }
        }
        return s
    }

    public func apply(_ frame: Frame) throws -> Frame {
        let (image, noise): (FloatImage, BandDenoiser.NoiseReading)
        do { (image, noise) = try denoiser(forPlanes: frame.colorPlanes).denoise(frame.image, colorPlanes: frame.colorPlanes, file: frame.item.path) }
        catch let e as InferenceError { throw PipelineError.frame(file: frame.item.path, reason: "\(e)".replacingOccurrences(of: frame.item.path + ": ", with: "")) }
        var out = frame
        out.image = image
        out.texts += noise.texts
        return out
    }

    public func streamFile(input: String, output: String, limits: PNGLimits, compression: Int?,
                           texts: [(key: String, text: String)], keepMetadata: Bool, tileJobs: Int,
                           progress: @escaping @Sendable (Double) -> Void) throws -> StreamedFile {
        // One reader picks the model (grey or colour) and serves the main pass.
        let reader = try PNGReader(path: input, limits: limits)
        var d = denoiser(forPlanes: reader.header.layout.colorChannels)
        d.jobs = tileJobs
        let reading = try d.denoiseFile(input: input, output: output, limits: limits, compression: compression, texts: texts,
                                        keepMetadata: keepMetadata, opened: reader, progress: progress)
        return StreamedFile(texts: reading.texts, warnings: reading.warning.map { [$0] } ?? [])
    }
}
