import ArgumentParser
import Models
import Pipeline
import Render
import FileIO

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "A sheet with rows: originals, corrupted (with --noise), model output.",
        discussion: """
            Inputs are converted to the model's input size. With --noise the model gets the \
            corrupted images (seeded). Works with any model; a convolutional model (photo) \
            denoises each whole image and the sheet shows a centred crop (--crop).

            Example:
              latent compare samples/digits --model mnist-dae --noise gaussian:0.5 -o sheet.png
            """)

    @Argument(help: "PNG files and folders.") var inputs: [String]
    @OptionGroup var options: PictureOptions
    @Option(help: "Corrupt the inputs first: gaussian:S (σ on the 0-1 scale, or S/255 in grey levels), mask:P or saltpepper:P.") var noise: String?
    @Option(help: "At most this many images.") var limit: Int = 16
    @Option(help: "Convolutional models (photo): the side of the centred crop shown of each image (default 160).") var crop: Int?
    @Option(help: ArgumentHelp("Convolutional models: the noise level σ in grey levels (0-255, or A/B) they are told, one value or R,G,B (default: measured).", valueName: "SIGMA"))
    var sigma: String?
    @OptionGroup var convOptions: ConvOptions

    func validate() throws {
        if let noise { do { _ = try Corruption.parse(noise) } catch { throw ValidationError("--noise \(error)") } }
        guard (1...256).contains(limit) else { throw ValidationError("--limit must be 1-256.") }
        if let crop, !(8...2048).contains(crop) { throw ValidationError("--crop must be 8-2048.") }
        try validateSigmaOption(sigma)
    }

    func run() throws {
        let (loaded, hash) = try options.load()
        if case .mlp = loaded, let given = [("--crop", crop != nil), ("--sigma", sigma != nil)].first(where: \.1)?.0 ?? convOptions.given.first {
            throw Exit.cannotRun("\(given) applies to convolutional models (photo); \(options.model) takes its own size")
        }
        do {
            let paths = try InputWalker.expand(inputs, excluding: nil).prefix(limit).map(\.path)
            guard !paths.isEmpty else { throw RenderError.badInput(file: inputs.joined(separator: " "), reason: "no PNG files") }
            let corruption = noise.flatMap(Corruption.init)
            var details = [("images", "\(paths.count)"), ("noise", noise ?? "none")]
            if case .conv(let conv) = loaded {
                // The same stage as `denoise --model NAME` (photo sends colour images to photo-color).
                let stage = try ModelVerbs.make(verb: "denoise", model: options.model, sigma: sigma.flatMap(ConvStage.parseSigma),
                                                 strength: convOptions.strength, ensemble: convOptions.ensemble, realNoise: convOptions.realNoise)
                guard let stage = stage as? ConvStage else { throw Exit.cannotRun("\(options.model): not a convolutional model") }
                let sheet = try ComparisonSheet.denoiser(paths: paths, rgb: conv.channels == 3, corruption: corruption, seed: options.seed, crop: crop ?? 160,
                                                         scale: options.scale, gutter: options.gutter) { img, planes, file in
                    try stage.denoiser(forPlanes: planes).denoise(img, colorPlanes: planes, file: file).image
                }
                details.append(("crop", "\(sheet.side)"))
                // What the model was told and how it ran, as the denoise stage records it.
                details += stage.settings.map { ($0.key, $0.value) }
                return try options.write(sheet.grid, tiles: sheet.tiles, command: "compare", details: details, modelText: stage.modelDescription)
            }
            let (views, _) = try options.views("compare")
            let sheet = try ComparisonSheet.autoencoder(views, paths: paths, corruption: corruption, seed: options.seed, resize: options.resize,
                                                        scale: options.scale, gutter: options.gutter)
            try options.write(sheet.grid, tiles: sheet.tiles, command: "compare", details: details, hash: hash, views: views)
        } catch let e as ExitCode { throw e } catch { throw Exit.cannotRun(error) }
    }
}
