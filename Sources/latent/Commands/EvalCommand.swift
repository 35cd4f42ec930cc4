import ArgumentParser
import Foundation
import Models
import Pipeline
import Tensor
import Training
import Inference

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a model on a test set: loss per image, VAE ELBO split and IWAE, DAE PSNR.",
        discussion: """
            Examples:
              latent eval --model mnist-vae --data ../shared/data/mnist --iwae 1000
              latent eval --model mnist-dae --data ../shared/data/mnist --noise gaussian:0.5 --json
            """)

    @Option(help: "A built-in model name or a .safetensors file.") var model: String
    @Option(help: "MNIST folder (its t10k test set is used), an IDX images file, or a folder of PNGs.") var data: String = ""
    @Option(help: ArgumentHelp("conv-dae models: score real noisy/clean pairs, a folder with noisy/ and clean/ PNGs of the same names (PSNR and SSIM of the denoised and the noisy images against the clean ones).", valueName: "DIR"))
    var pairs: String?
    @Option(help: "Importance samples for the IWAE log-likelihood estimate (VAE).") var iwae: Int?
    @Option(help: "Corruption: gaussian:S (σ on the 0-1 scale, or S/255 in grey levels), mask:P or saltpepper:P, for the DAE figures (default: the one the model was trained with); conv-dae models take gaussian:S only, the same as --sigma.") var noise: String?
    @Option(help: "Use only the first N test images.") var limit: Int?
    @Option(help: "Seed for sampling and noise.") var seed: UInt64 = 2024
    @Option(name: [.customLong("jobs"), .customLong("threads")], help: "Threads (default: cores); --threads is the same.") var threads: Int?
    @Flag(help: "Print JSON.") var json = false
    @Flag(name: .shortAndLong, help: "No progress on stderr (errors and warnings still go there).") var quiet = false
    @Flag(help: "Fixed-size models: convert and resize a PNG folder's images to the model's input (grey or RGB, its size); without it such images are refused.") var resize = false
    @Option(help: ArgumentHelp("conv-dae models: noise σ in grey levels (0-255, or A/B; the standard protocol; default 25).", valueName: "SIGMA")) var sigma: String?
    @Flag(help: "conv-dae models: quantise the noisy images to 8 bits first, as a saved PNG would be.") var noisyPng = false
    @Flag(help: "conv-dae models conditioned on the noise level: give them the true σ instead of measuring it in each image (non-blind).") var givenSigma = false
    @Flag(help: "--pairs with a noise-map model, a diagnostic: give it the noise level function of each pair's actual noise (noisy minus clean), what a perfect estimator would read.") var oracleNoise = false
    @Option(help: "--pairs, a diagnostic: multiply the noise level the model is told (measured, or the oracle's) by this.") var noiseScale: Float = 1
    @Option(help: ArgumentHelp(ConvOptions.ensembleHelp, valueName: "N")) var ensemble: Int = 1
    @Option(help: ArgumentHelp(ConvOptions.realNoiseHelp, valueName: "auto|on|off")) var realNoise = RealNoiseMode.auto

    func validate() throws {
        if data.isEmpty && pairs == nil { throw ValidationError("give --data (a test set) or --pairs (a folder of noisy/ and clean/ pairs).") }
        if !data.isEmpty && pairs != nil { throw ValidationError("--data and --pairs exclude each other.") }
        if let iwae, iwae < 1 { throw ValidationError("--iwae must be at least 1.") }
        if let noise { do { _ = try Corruption.parse(noise) } catch { throw ValidationError("--noise \(error)") } }
        if let sigma {
            guard ParameterKind.greyLevels(counts: [1], max: Double(ConvStage.maxSigma)).check(sigma) == nil else {
                throw ValidationError("--sigma wants one σ between 0 and \(Int(ConvStage.maxSigma)) grey levels (or A/B, e.g. 25/255), not '\(sigma)'.")
            }
            if noise != nil { throw ValidationError("--sigma and --noise both give the noise level: give one.") }
        }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1.") }
        guard noiseScale > 0 && noiseScale <= 10 else { throw ValidationError("--noise-scale must be in (0, 10].") }
        try validateEnsemble(ensemble)
    }

    func convSigma() throws -> Float { try Exit.setUp { try NoiseLevel.protocolSigma(sigma: sigma, noise: noise) } }

    /// Options of the other family are refused, not ignored.
    func checkFamily(conv: Bool) throws {
        let convOnly = [("--sigma", sigma != nil), ("--noisy-png", noisyPng), ("--given-sigma", givenSigma), ("--oracle-noise", oracleNoise),
                        ("--noise-scale", noiseScale != 1), ("--ensemble", ensemble != 1), ("--real-noise on", realNoise == .on)].filter(\.1).map(\.0)
        if !conv, let first = convOnly.first { throw Exit.cannotRun("\(first) applies to convolutional (conv-dae) models; \(model) is not one") }
        if conv, iwae != nil { throw Exit.cannotRun("--iwae applies to VAEs; \(model) is a convolutional model") }
        if conv, resize { throw Exit.cannotRun("--resize applies to fixed-size models; \(model) is convolutional and takes images of any size") }
        if conv, pairs != nil, noise != nil || sigma != nil && !givenSigma {
            throw Exit.cannotRun("--pairs scores real noise: it adds none (--noise and --sigma apply to --data; --sigma with --given-sigma tells the model a level)")
        }
        if !conv, pairs != nil { throw Exit.cannotRun("--pairs takes a convolutional (photo) model") }
    }

    /// The standard denoising protocol on a folder of grey (or RGB) PNGs.
    func runConv(_ model: ConvDenoiser) throws {
        let sigma = try convSigma()
        let (all, failures) = try Exit.setUp { try PatchTrainer.loadImages(data, channels: model.channels, minSide: 4) }
        for f in failures { printError(f) }
        let images = limit.map { Array(all.prefix($0)) } ?? all
        let band = BandDenoiser(model: model, sigma: givenSigma ? [sigma] : nil, ensemble: ensemble, realNoise: realNoise)
        let report = DenoisingProtocol.run(band, images: images, sigma: sigma, seed: seed, quantized: noisyPng)
        show(report.evaluation(name: self.model, model: model, images: images.count, sigma: sigma, noisyPNG: noisyPng, given: givenSigma))
    }

    func show(_ r: EvaluationReport) { print(json ? r.json : r.text) }

    /// Real noisy/clean pairs: each noisy image denoised as `latent denoise` would.
    func runPairs(_ model: ConvDenoiser, folder: String) throws {
        let found = try Exit.setUp { try PairEvaluation.pairs(in: folder) }
        let names = limit.map { Array(found.names.prefix($0)) } ?? found.names
        if !found.unmatched.isEmpty { printError("latent: \(found.unmatched.count) noisy images without a clean partner skipped: \(found.unmatched.prefix(3).joined(separator: ", "))") }
        let given = givenSigma ? [try convSigma()] : nil
        func configured(_ m: ConvDenoiser) -> BandDenoiser {
            BandDenoiser(model: m, sigma: given, strength: noiseScale, ensemble: ensemble, realNoise: realNoise)
        }
        // The photo family, as `latent denoise` runs it: its colour model for colour pairs.
        let colour = try self.model == BuiltinModels.photoFamily
            ? BuiltinModels.path(of: BuiltinModels.photoColour).map { path -> BandDenoiser in
                guard case .conv(let c) = try Exit.setUp({ try ModelLoader.load(path: path).model }) else {
                    throw Exit.cannotRun("\(BuiltinModels.photoColour): not a convolutional model")
                }
                return configured(c)
            } : nil
        let report = PairEvaluation.run(names, folder: folder, denoiser: configured(model), colour: colour, oracle: oracleNoise)
        for f in report.failures { printError("latent: \(f)") }
        guard !report.scores.isEmpty else { throw ExitCode(1) }
        show(report.evaluation(model: self.model))
        if !report.failures.isEmpty { throw ExitCode(1) }
    }

    func run() throws {
        if let threads { BLAS.setThreads(threads) }
        let loaded = try Exit.setUp { try BuiltinModels.resolveAny(model).model }
        let m: LatentModel
        switch loaded {
        case .conv(let conv):
            try checkFamily(conv: true)
            if let pairs { return try runPairs(conv, folder: pairs) }
            return try runConv(conv)
        case .mlp(let mlp):
            try checkFamily(conv: false)
            if iwae != nil && !mlp.config.kind.isVariational {
                throw Exit.cannotRun("--iwae applies to VAEs; \(model) is a \(mlp.config.kind.rawValue)")
            }
            m = mlp
        }
        let c = m.config
        let dataset = try Exit.setUp { try DatasetLoader.load(data, width: c.width, height: c.height, channels: c.channels, resize: resize, model: model) }
        for f in dataset.failures { printError(f) }
        var test = dataset.test ?? dataset.train
        guard test.dim == c.inputSize else {
            throw Exit.cannotRun("\(data): images are \(test.width)x\(test.height)x\(test.channels), the model takes \(c.width)x\(c.height)x\(c.channels)")
        }
        if let limit { test = test.prefix(limit) }
        let tty = !json && !quiet && isatty(2) != 0
        let report = Evaluator.report(m, name: model, test: test, iwae: iwae, noise: noise.flatMap(Corruption.init), seed: seed) { done, total in
            if tty { FileHandle.standardError.write("\riwae \(done)/\(total)".data(using: .utf8)!) }
        }
        if tty { FileHandle.standardError.write("\r\u{1B}[K".data(using: .utf8)!) }
        show(report)
    }
}
