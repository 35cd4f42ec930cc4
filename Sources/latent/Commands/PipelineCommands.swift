import ArgumentParser
import Foundation
import Imaging
import Models
import PNGIO
import Pipeline

/// Runs a plan the way every pipeline command does: walk inputs, check the chain, progress bar,
/// summary, exit code.
struct PipelineExecution {
    var plan: PipelinePlan
    var batch: BatchOptions
    var label: String

    /// Returns the items and outcomes; throws ExitCode on set-up errors.
    func run() throws -> ([InputItem], [ItemOutcome]) {
        let outDir: String?
        switch plan.sink {
        case .folder(let d): outDir = d
        case .codes: outDir = nil
        }
        let items: [InputItem]
        do { items = try InputWalker.expandNoting(plan.inputs, excluding: outDir) } catch {
            printError("latent: \(error)")
            throw ExitCode(2)
        }
        let start = Date()
        let outcomes = try execute(items: items, runner: makeRunner())
        Summary(outcomes: outcomes, verb: label == "denoise" ? "denoised" : "processed", seconds: Date().timeIntervalSince(start))
            .report(quiet: batch.quiet, json: batch.json)
        return (items, outcomes)
    }

    /// The plan's runner; a chain that cannot run is a set-up error (exit 2).
    func makeRunner() throws -> PipelineRunner {
        do {
            return try PipelineRunner(plan: plan, options: PipelineOptions(jobs: batch.resolvedJobs, overwrite: batch.overwrite,
                                                                           limits: batch.limits, compression: batch.compression))
        } catch {
            printError("latent: \(error)")
            throw ExitCode(2)
        }
    }

    /// Runs `items` through `runner` behind a progress bar; a failure of the run itself exits 1.
    func execute(items: [InputItem], runner: PipelineRunner) throws -> [ItemOutcome] {
        let bar = ProgressBar(label: label, quiet: batch.quiet)
        let outcomes: [ItemOutcome]
        do { outcomes = try runner.run(items: items) { bar.update($0) } } catch {
            bar.finish()
            printError("latent: \(error)")
            throw ExitCode(1)
        }
        bar.finish()
        return outcomes
    }
}

func exitIfFailures(_ outcomes: [ItemOutcome]) throws {
    if outcomes.contains(where: { if case .failed = $0 { return true }; return false }) { throw ExitCode(1) }
}

/// Options shared by denoise and reconstruct.
struct ModelOptions: ParsableArguments {
    @Flag(help: "Split images larger than the model into overlapping model-sized tiles and blend the results.")
    var tile = false

    @Flag(help: "Scale images to the model's size, filter, and scale back.")
    var resizeToModel = false

    @Option(help: "Tile overlap, 0 to 0.9 (with --tile).") var overlap: Double?

    @Option(name: [.customLong("batch"), .customLong("batch-size")], help: "Rows (images or tiles) per model batch.") var batchSize: Int = 256

    @Option(help: ArgumentHelp("Also write a comparison sheet (input | output, up to 32 rows) to this PNG.", valueName: "FILE.png"))
    var sheet: String?

    func validate() throws {
        if tile && resizeToModel { throw ValidationError("Give --tile or --resize-to-model, not both.") }
        if let overlap, !(0...0.9).contains(overlap) { throw ValidationError("--overlap must be between 0 and 0.9.") }
        if overlap != nil && !tile { throw ValidationError("--overlap applies with --tile.") }
        if batchSize < 1 { throw ValidationError("--batch must be at least 1.") }
    }

    var geometry: ModelGeometry { tile ? .tile : resizeToModel ? .resizeToModel : .exact }
}

func makeModelStage(verb: String, model: String, options: ModelOptions, sigma: [Float]? = nil) throws -> any Stage {
    do {
        return try ModelVerbs.make(verb: verb, model: model, geometry: options.geometry,
                                           overlap: options.overlap, batch: options.batchSize, sigma: sigma)
    } catch {
        printError("latent: \(error)")
        throw ExitCode(2)
    }
}

/// Writes a sheet of (input, output) pairs for the first items that succeeded.
func writeComparisonSheet(_ path: String, items: [InputItem], outcomes: [ItemOutcome], outDir: String, limit: Int = 32) throws {
    var rows: [[FloatImage?]] = []
    for (item, o) in zip(items, outcomes) where rows.count < limit {
        guard o != .skipped || FileManager.default.fileExists(atPath: (outDir as NSString).appendingPathComponent(item.relativeOutput)) else { continue }
        if case .failed = o { continue }
        guard let a = try? PNGReader.read(path: item.path),
              let b = try? PNGReader.read(path: (outDir as NSString).appendingPathComponent(item.relativeOutput)) else { continue }
        rows.append([FloatImage(a), FloatImage(b)])
    }
    guard !rows.isEmpty else { return }
    // Two pairs per sheet row keeps small images readable.
    var paired: [[FloatImage?]] = []
    var i = 0
    while i < rows.count {
        paired.append(rows[i] + [nil] + (i + 1 < rows.count ? rows[i + 1] : []))
        i += 2
    }
    let maxSide = rows.flatMap { $0 }.compactMap { $0 }.map { max($0.width, $0.height) }.max() ?? 1
    let scale = max(1, min(8, 112 / maxSide))
    let sheet = Sheet.compose(rows: paired, scale: scale, gutter: 2)
    let layout: PixelLayout = sheet.channels == 3 ? .rgb : .gray
    do {
        try AtomicOutput.writePNG(sheet.pngImage(layout: layout, depth: 8), to: path,
                                  texts: [("Software", "latent \(LatentInfo.version)"), ("Comment", "left: input, right: output")])
    } catch {
        printError("latent: \(error)")
        throw ExitCode(1)
    }
}

struct DenoiseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "denoise",
        abstract: "Denoise PNG files and folders with a trained model.",
        discussion: """
            Outputs mirror the input tree under OUTDIR, are written atomically and carry provenance \
            (latent info FILE shows it). Existing outputs are skipped unless --overwrite, so an \
            interrupted run resumes. A grey model filters each colour plane; alpha is kept.

            --model auto (the default) uses mnist-dae for 28x28 images and the convolutional photo \
            model for every other size (band-streamed: any image size, memory independent of height). \
            The photo model is told each image's noise level: measured per colour plane (a first \
            quick pass over the file), or the one --sigma gives.

            Examples:
              latent denoise samples/noisy-digits -o clean/ --sheet clean/sheet.png
              latent denoise scans/ -o clean/ --model photo
              latent denoise scans/ -o clean/ --model photo --sigma 30
              latent denoise scans/ -o clean/ --model my-dae.safetensors --tile
            """)

    @Argument(help: "PNG files and folders.") var inputs: [String]
    @Option(help: "auto, a built-in model (mnist-dae, photo) or a .safetensors file.") var model: String = "auto"
    @Option(help: ArgumentHelp("Noise level σ of the inputs on the 0-255 scale, one value or one per channel (R,G,B), for the photo model (default: measured in each image). Higher removes more.", valueName: "SIGMA"))
    var sigma: String?

    var sigmaValues: [Float]? { sigma.flatMap(ConvStage.parseSigma) }
    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var batch: BatchOptions

    func validate() throws {
        if let sigma {
            guard let v = ConvStage.parseSigma(sigma), v.count == 1 || v.count == 3, v.allSatisfy({ $0 >= 0 && $0 <= ConvStage.maxSigma }) else {
                throw ValidationError("--sigma must be one number or three (R,G,B), each between 0 and \(Int(ConvStage.maxSigma)) (the 0-255 scale).")
            }
        }
    }

    func run() throws {
        let items: [InputItem]
        do { items = try InputWalker.expandNoting(inputs, excluding: batch.output) } catch {
            printError("latent: \(error)")
            throw ExitCode(2)
        }
        let groups = model == "auto" ? AutoModel.route(items, limits: batch.limits) : [(model: model, indices: Array(items.indices))]
        var outcomes = [ItemOutcome](repeating: .skipped, count: items.count)
        let start = Date()
        for group in groups where !group.indices.isEmpty {
            let stage = try makeModelStage(verb: "denoise", model: group.model, options: modelOptions, sigma: sigmaValues)
            let plan = PipelinePlan(inputs: inputs, stages: [stage], sink: .folder(batch.output))
            let exec = PipelineExecution(plan: plan, batch: batch, label: "denoise")
            let result = try exec.execute(items: group.indices.map { items[$0] }, runner: exec.makeRunner())
            for (k, i) in group.indices.enumerated() { outcomes[i] = result[k] }
        }
        Summary(outcomes: outcomes, verb: "denoised", seconds: Date().timeIntervalSince(start)).report(quiet: batch.quiet, json: batch.json)
        if let sheet = modelOptions.sheet { try writeComparisonSheet(sheet, items: items, outcomes: outcomes, outDir: batch.output) }
        try exitIfFailures(outcomes)
    }
}

struct ReconstructCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconstruct",
        abstract: "Pass PNG files through an autoencoder: decode(encode(x)) (a VAE uses its posterior mean).",
        discussion: "Example:\n  latent reconstruct samples/digits -o recon/ --model mnist-vae --sheet recon/sheet.png")

    @Argument(help: "PNG files and folders.") var inputs: [String]
    @Option(help: "A built-in model or a .safetensors file.") var model: String
    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var batch: BatchOptions

    func run() throws {
        let stage = try makeModelStage(verb: "reconstruct", model: model, options: modelOptions)
        let plan = PipelinePlan(inputs: inputs, stages: [stage], sink: .folder(batch.output))
        let (items, outcomes) = try PipelineExecution(plan: plan, batch: batch, label: "reconstruct").run()
        if let sheet = modelOptions.sheet { try writeComparisonSheet(sheet, items: items, outcomes: outcomes, outDir: batch.output) }
        try exitIfFailures(outcomes)
    }
}

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a chain of stages: \"read IN | stage | ... | write OUT\".",
        discussion: """
            'latent stages' lists the stages. The output folder comes from 'write'.

            Examples:
              latent run "read samples/digits | gray | noise gaussian:0.5 | denoise mnist-dae | write out/"
              latent run "read photos/ | fit 256 | gray | write small/" --jobs 4
              latent run "read samples/digits | encode mnist-vae | write codes.jsonl"
              find scans -name '*.png' | latent run "read - | denoise mnist-dae tile | write clean/"
            """)

    @Argument(help: "The chain, quoted.") var chain: String
    @Option(help: "Files processed in parallel (default: cores).") var jobs: Int?
    @Option(name: [.customLong("batch"), .customLong("batch-size")], help: "Rows per model batch.") var batchSize: Int = 256
    @Flag(help: "Replace outputs that exist.") var overwrite = false
    @Option(help: "zlib compression level 0-9 of the outputs.") var compression: Int?
    @Option(help: "Refuse images of more pixels than this.") var maxPixels: Int = PNGLimits.default.maxPixels
    @Flag(name: .shortAndLong, help: "Print nothing but errors.") var quiet = false
    @Flag(help: "Print a machine-readable summary on standard output.") var json = false

    func validate() throws {
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1.") }
        if batchSize < 1 { throw ValidationError("--batch must be at least 1.") }
        if let compression, !(0...9).contains(compression) { throw ValidationError("--compression must be 0-9.") }
    }

    func run() throws {
        let plan: PipelinePlan
        do {
            plan = try StageCatalog.parse(chain, batch: batchSize) {
                var paths: [String] = []
                while let line = readLine() { let t = line.trimmingCharacters(in: .whitespaces); if !t.isEmpty { paths.append(t) } }
                return paths
            }
        } catch {
            printError("latent: \(error)")
            throw ExitCode(2)
        }
        var outDir = "."
        if case .folder(let d) = plan.sink { outDir = d }
        var b = try BatchOptions.parse(["-o", outDir])
        b.jobs = jobs
        b.overwrite = overwrite
        b.compression = compression
        b.maxPixels = maxPixels
        b.quiet = quiet
        b.json = json
        let (_, outcomes) = try PipelineExecution(plan: plan, batch: b, label: "run").run()
        try exitIfFailures(outcomes)
    }
}

struct StagesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stages", abstract: "List the stages 'latent run' understands.")

    func run() throws {
        print(StageCatalog.listing(), terminator: "")
    }
}
