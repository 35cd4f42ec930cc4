import ArgumentParser
import Models
import Pipeline

struct DenoiseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "denoise",
        abstract: "Denoise PNG files and folders with a trained model.",
        discussion: """
            Outputs mirror the input tree under OUTDIR, are written atomically and carry provenance \
            (latent info FILE shows it). Existing outputs are skipped unless --overwrite, so an \
            interrupted run resumes. A grey model filters each colour plane; alpha is kept.

            --model auto (the default) uses mnist-dae for 28x28 grey images and the convolutional \
            photo models for every other image: photo-color for RGB and RGBA, photo for grey \
            (band-streamed: any image size, memory independent of height). They are told each \
            image's noise level: measured per colour plane (a first quick pass over the file), or \
            the one --sigma gives (one value, or R,G,B); --strength scales it. --ensemble 8 denoises \
            each image in its 8 orientations and averages them (8 times the CPU time). With auto, these \
            options apply to the images the photo models take.

            latent denoise IN -o OUT --model M is the chain 'latent run "read IN | denoise M | write \
            OUT"' and writes the same bytes.

            Examples:
              latent denoise samples/noisy-digits -o clean/ --sheet clean/sheet.png
              latent denoise scans/ -o clean/ --model photo
              latent denoise scans/ -o clean/ --model photo --sigma 30
              latent denoise photos/ -o clean/ --strength 1.5
              latent denoise scans/ -o clean/ --model my-dae.safetensors --tile
            """)

    @Argument(help: "PNG files and folders (- reads one PNG from standard input).") var inputs: [String]
    @Option(help: "auto, a built-in model (mnist-dae, photo, photo-color) or a .safetensors file.") var model: String = "auto"
    @Option(help: ArgumentHelp("Noise level σ of the inputs in grey levels (0-255; 25 and 25/255 are the same), one value or one per channel (R,G,B), for the photo models (default: measured in each image). Higher removes more.", valueName: "SIGMA"))
    var sigma: String?

    var sigmaValues: [Float]? { sigma.flatMap(ConvStage.parseSigma) }
    @OptionGroup var conv: ConvOptions
    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var batch: BatchOptions

    func validate() throws {
        try validateSigmaOption(sigma)
    }

    func run() throws {
        let (items, outcomes) = try PipelineExecution.runFiles(inputs, batch: batch, label: "denoise", verb: "denoised") { items in
            let groups = model == "auto" ? AutoModel.route(items, limits: batch.limits) : [(model: model, indices: Array(items.indices))]
            return try groups.filter { !$0.indices.isEmpty }.map { g in
                // auto: the photo models' options (σ, strength, ensemble) are for the images that
                // go to them; the digits that go to mnist-dae are denoised without, and told so.
                if model == "auto" && g.model != BuiltinModels.photoFamily {
                    let given = (sigma != nil ? ["--sigma"] : []) + conv.given
                    if !given.isEmpty {
                        printError("latent: \(given.joined(separator: ", ")) \(given.count == 1 ? "applies" : "apply") to the photo models: the \(g.indices.count) 28x28 grey image\(g.indices.count == 1 ? "" : "s") going to \(g.model) \(g.indices.count == 1 ? "is" : "are") denoised without")
                    }
                    return ([try makeModelStage(verb: "denoise", model: g.model, options: modelOptions)], g.indices)
                }
                return ([try makeModelStage(verb: "denoise", model: g.model, options: modelOptions, sigma: sigmaValues,
                                            strength: conv.strength, ensemble: conv.ensemble, realNoise: conv.realNoise)], g.indices)
            }
        }
        if let sheet = modelOptions.sheet, !batch.processing.dryRun { try writeComparisonSheet(sheet, items: items, outcomes: outcomes, outDir: batch.output) }
        try Exit.ifAnyFailed(outcomes)
    }
}
