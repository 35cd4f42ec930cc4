import ArgumentParser
import Inference
import Pipeline
import Render
import FileIO

/// Options shared by denoise and reconstruct.
struct ModelOptions: ParsableArguments {
    @Flag(help: "Split images larger than the model into overlapping model-sized tiles and blend the results.")
    var tile = false

    @Flag(help: "Scale images to the model's size, filter, and scale back.")
    var resizeToModel = false

    @Option(help: "Tile overlap, 0 to 0.9 (with --tile).") var overlap: Double?

    @Option(name: [.customLong("batch"), .customLong("batch-size")], help: "Rows (images or tiles) per model batch.") var batchSize: Int = 256

    @Option(help: ArgumentHelp("Also write a comparison sheet to this PNG: input | output, up to 32 pairs; an image larger than 256 pixels a side as its centred 256x256 crop, 1:1.", valueName: "FILE.png"))
    var sheet: String?

    func validate() throws {
        if tile && resizeToModel { throw ValidationError("Give --tile or --resize-to-model, not both.") }
        if let overlap, !(0...0.9).contains(overlap) { throw ValidationError("--overlap must be between 0 and 0.9.") }
        if overlap != nil && !tile { throw ValidationError("--overlap applies with --tile.") }
        if batchSize < 1 { throw ValidationError("--batch must be at least 1.") }
    }

    var geometry: ModelGeometry { tile ? .tile : resizeToModel ? .resizeToModel : .exact }
}

func makeModelStage(verb: String, model: String, options: ModelOptions, sigma: [Float]? = nil, strength: Float = 1, ensemble: Int = 1,
                    realNoise: RealNoiseMode = .auto) throws -> any Stage {
    try Exit.setUp {
        try ModelVerbs.make(verb: verb, model: model, geometry: options.geometry, overlap: options.overlap, batch: options.batchSize, sigma: sigma,
                            strength: strength, ensemble: ensemble, realNoise: realNoise)
    }
}

/// `--strength` and `--ensemble` of the commands that run convolutional models: a factor on the
/// noise level the model is told, and the orientations each image is denoised in (`strength=`
/// and `ensemble=` of the `denoise` stage).
struct ConvOptions: ParsableArguments {
    @Option(help: "Noise-conditioned models (photo): a factor on the noise level the model is told, measured or given by --sigma: above 1 removes more noise, below 1 keeps more detail (0-4).")
    var strength: Float = 1

    @Option(help: ArgumentHelp(ConvOptions.ensembleHelp, valueName: "N")) var ensemble: Int = 1

    @Option(help: ArgumentHelp(ConvOptions.realNoiseHelp, valueName: "auto|on|off")) var realNoise = RealNoiseMode.auto

    static let realNoiseHelp = "Noise-conditioned models (photo): a block-matching Wiener stage after the network, guided by its output, for photos with real camera noise. auto: on an image whose noise is correlated between neighbouring pixels, as a camera's is; not on white (synthetic) noise, where it would smooth away detail."

    static let ensembleHelp = "Convolutional models (photo): denoise each image in N orientations (1, 2, 4 or 8: as it is, mirrored, upside down, transposed) and average the results: a little cleaner, N times the CPU time; 4 and 8 hold the image in memory instead of streaming it."

    /// The options given that only convolutional models take.
    var given: [String] { [("--strength", strength != 1), ("--ensemble", ensemble != 1), ("--real-noise on", realNoise == .on)].filter(\.1).map(\.0) }

    func validate() throws {
        guard ConvStage.strengthRange.contains(Double(strength)) else { throw ValidationError("--strength must be between 0 and \(Int(ConvStage.strengthRange.upperBound)).") }
        try validateEnsemble(ensemble)
    }
}

/// `--ensemble`: 1, 2, 4 or 8.
func validateEnsemble(_ n: Int) throws {
    guard ConvStage.ensembleSizes.contains(n) else { throw ValidationError("--ensemble must be 1, 2, 4 or 8 (orientations), not \(n).") }
}

/// `--sheet`: (input, output) pairs of the first items that succeeded.
func writeComparisonSheet(_ path: String, items: [InputItem], outcomes: [ItemOutcome], outDir: String) throws {
    do { try ComparisonSheet.writePairs(to: path, items: items, outcomes: outcomes, outDir: outDir) } catch { throw Exit.failed(error) }
}

/// `--sigma` of the commands that run convolutional models: one number or three (R,G,B), each
/// 0 to `ConvStage.maxSigma`.
func validateSigmaOption(_ sigma: String?) throws {
    guard let sigma else { return }
    guard ConvStage.sigmaParameter.check(sigma) == nil else {
        throw ValidationError("--sigma must be one number or three (R,G,B), each between 0 and \(Int(ConvStage.maxSigma)) grey levels (or A/B, e.g. 25/255).")
    }
}

extension RealNoiseMode: ExpressibleByArgument {}
