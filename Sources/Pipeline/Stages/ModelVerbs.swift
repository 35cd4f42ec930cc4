import Foundation
import Models
import Inference

/// `denoise` and `reconstruct`: one verb for both model families. The model file is loaded once
/// (by the one loader) and its family picks the stage: `ModelStage` for fixed-size MLP
/// autoencoders and VAEs (batched), `ConvStage` for convolutional denoisers (any size, streamed).
public enum ModelVerbs {
    static func parameters(_ verb: String) -> [StageParameter] {
        [.positional("MODEL", .model, "the model"),
         .positional("tile|resize-to-model", .choice(["tile", "resize-to-model"]), optional: true,
                     "fixed-size models: how images of another size are fed to it"),
         .named("overlap", .number(0...0.9), default: "0.5", "with tile: overlap of neighbouring tiles"),
         .named("sigma", ConvStage.sigmaParameter, default: "measured",
                "noise-conditioned convolutional models: the noise level in grey levels (0-255; 25 and 25/255 are the same), one or R,G,B"),
         .named("strength", .number(ConvStage.strengthRange), default: "1",
                "noise-conditioned convolutional models: a factor on the noise level the model is told (measured or given); above 1 removes more, below 1 keeps more detail"),
         .named("ensemble", .choice(ConvStage.ensembleSizes.map(String.init)), default: "1",
                "convolutional models: denoise each image in N orientations (mirrored, upside down, transposed) and average; N times the work; 4 and 8 hold the image in memory"),
         .named("realnoise", .choice(RealNoiseMode.allCases.map(\.rawValue)), default: "auto",
                "noise-conditioned convolutional models: a block-matching Wiener stage after the network, guided by its output, for photos with real camera noise; auto: where the image's noise is correlated between neighbouring pixels as a camera's is (not white noise, where it would smooth away detail)")]
    }

    public static let denoise = StageDescriptor(
        name: "denoise", summary: "filter through a trained model: an autoencoder's decode(encode(x)) (batched), or a convolutional denoiser such as photo (any size, band-streamed, σ measured in each image unless given)",
        parameters: parameters("denoise"),
        shape: "kept (an MLP model needs its own size unless tile or resize-to-model)") { a, c in try make(verb: "denoise", a, batch: c.batch) }

    public static let reconstruct = StageDescriptor(
        name: "reconstruct", summary: "as denoise; for a VAE, decode of the posterior mean",
        parameters: parameters("reconstruct"),
        shape: "kept (an MLP model needs its own size unless tile or resize-to-model)") { a, c in try make(verb: "reconstruct", a, batch: c.batch) }

    /// The `denoise` / `reconstruct` stage for a model of either family (the file loaded once,
    /// by the one loader, whose message names the file and the fault). Options a model cannot
    /// use are refused: tile, resize-to-model and overlap are for fixed-size (MLP) models, sigma
    /// and strength for noise-conditioned convolutional ones, ensemble for convolutional ones.
    public static func make(verb: String, model name: String, geometry: ModelGeometry = .exact, overlap: Double? = nil,
                                  batch: Int = 256, sigma: [Float]? = nil, strength: Float = 1, ensemble: Int = 1, realNoise: RealNoiseMode = .auto) throws -> any Stage {
        let resolved: (model: AnyModel, metadata: [String: String], path: String)
        do { resolved = try BuiltinModels.resolveAny(name) } catch { throw PipelineError.badParameter(stage: verb, reason: "\(error)") }
        let hash = ModelFile.contentHash(path: resolved.path) ?? "?"
        switch resolved.model {
        case .conv(let c):
            if geometry != .exact || overlap != nil {
                throw PipelineError.badParameter(stage: verb, reason: "\(name) is convolutional and takes images of any size: \(geometry != .exact ? geometry.rawValue : "overlap") does not apply")
            }
            if (sigma != nil || strength != 1 || realNoise == .on) && !(c.noiseInput || c.noiseMap) {
                throw PipelineError.badParameter(stage: verb, reason: "\(name) is a blind model: it takes no \(sigma != nil ? "sigma" : strength != 1 ? "strength" : "realnoise")")
            }
            // The photo family: the colour model, when installed, takes the colour images.
            var colour: (model: ConvDenoiser, name: String, hash: String)?
            if name == BuiltinModels.photoFamily, let path = BuiltinModels.path(of: BuiltinModels.photoColour) {
                do {
                    guard case .conv(let cm) = try ModelLoader.load(path: path).model else {
                        throw PipelineError.badParameter(stage: verb, reason: "\(BuiltinModels.photoColour): not a convolutional model")
                    }
                    colour = (cm, BuiltinModels.photoColour, ModelFile.contentHash(path: path) ?? "?")
                } catch let e as PipelineError { throw e } catch { throw PipelineError.badParameter(stage: verb, reason: "\(error)") }
            }
            return try ConvStage(verb: verb, model: c, name: name, hash: hash, sigma: sigma, strength: strength, ensemble: ensemble, realNoise: realNoise, colour: colour)
        case .mlp(let m):
            if sigma != nil || strength != 1 {
                throw PipelineError.badParameter(stage: verb, reason: "\(name) is not conditioned on a noise level: \(sigma != nil ? "sigma" : "strength") applies to convolutional models such as photo")
            }
            if ensemble != 1 || realNoise == .on {
                throw PipelineError.badParameter(stage: verb, reason: "\(name) is a fixed-size model: \(ensemble != 1 ? "ensemble" : "realnoise") applies to convolutional models such as photo")
            }
            return try ModelStage(verb: verb, model: m, name: name, hash: hash, geometry: geometry, overlap: overlap ?? 0.5, batch: batch)
        }
    }

    /// `denoise MODEL [tile|resize-to-model] [overlap=O] [sigma=S|sigma=R,G,B] [strength=F] [ensemble=N]`; the words were
    /// checked against `parameters` by the descriptor (count, names, kinds, ranges).
    static func make(verb: String, _ a: StageArguments, batch: Int) throws -> any Stage {
        let geometry = a.positional.dropFirst().compactMap(ModelGeometry.init(rawValue:)).last ?? .exact
        return try make(verb: verb, model: a.positional[0], geometry: geometry, overlap: a.named["overlap"].flatMap(Double.init),
                        batch: batch, sigma: a.named["sigma"].flatMap(ConvStage.parseSigma), strength: a.named["strength"].flatMap(Float.init) ?? 1,
                        ensemble: a.named["ensemble"].flatMap(Int.init) ?? 1, realNoise: a.named["realnoise"].flatMap(RealNoiseMode.init(rawValue:)) ?? .auto)
    }

}
