import ArgumentParser

struct ReconstructCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconstruct",
        abstract: "Pass PNG files through an autoencoder: decode(encode(x)) (a VAE uses its posterior mean).",
        discussion: "Example:\n  latent reconstruct samples/digits -o recon/ --model mnist-vae --sheet recon/sheet.png")

    @Argument(help: "PNG files and folders (- reads one PNG from standard input).") var inputs: [String]
    @Option(help: "A built-in model or a .safetensors file.") var model: String
    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var batch: BatchOptions

    func run() throws {
        let stage = try makeModelStage(verb: "reconstruct", model: model, options: modelOptions)
        let (items, outcomes) = try PipelineExecution.runFiles(inputs, batch: batch, label: "reconstruct", verb: "reconstructed") { [([stage], Array($0.indices))] }
        if let sheet = modelOptions.sheet, !batch.processing.dryRun { try writeComparisonSheet(sheet, items: items, outcomes: outcomes, outDir: batch.output) }
        try Exit.ifAnyFailed(outcomes)
    }
}
