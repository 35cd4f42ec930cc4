import ArgumentParser
import Foundation
import Models
import Pipeline
import NN
import Tensor
import Training

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train an autoencoder (ae, dae, sparse, vae) on MNIST or a folder of PNGs.",
        discussion: """
            A checkpoint is written after every epoch beside the output (NAME.ckpt.safetensors); \
            --resume continues a killed run exactly where it stopped.

            Examples:
              latent train --model vae --data ../shared/data/mnist --epochs 10 --latent 20 --hidden 400 -o mnist-vae.safetensors
              latent train --model dae --noise gaussian:0.5 --hidden 512 --latent 128 --data mnist/ -o dae.safetensors
              latent train --model sparse --sparsity l1:1e-3 --data faces/ --size 32x32 --rgb -o faces.safetensors
            """)

    @Option(help: "Model kind: ae, dae, sparse or vae.")
    var model: String

    @Option(help: "MNIST folder (standard IDX names, gzipped or not), an IDX images file, or a folder of PNGs.")
    var data: String

    @Option(name: [.short, .customLong("output")], help: "Model file to write (safetensors).")
    var output: String

    @Option(help: "Epochs.") var epochs: Int = 10
    @Option(help: "Images per batch.") var batch: Int = 128
    @Option(help: "Adam learning rate.") var lr: Float = 1e-3
    @Option(help: "Latent (code) size.") var latent: Int = 20
    @Option(help: "Hidden layer sizes, e.g. 400 or 512,128.") var hidden: String = "400"
    @Option(help: "Hidden activation: relu, leakyrelu[:slope], tanh, sigmoid.") var activation: String = "relu"
    @Option(help: "Decoder likelihood: bernoulli or gaussian.") var decoder: String = "bernoulli"
    @Option(help: "KL weight of a VAE (beta-VAE when > 1).") var beta: Float = 1
    @Option(help: "Corruption: gaussian:S (σ on the 0-1 scale, or S/255 in grey levels), mask:P or saltpepper:P (DAE); gaussian:LO-HI or LO-HI/255, the range of σ drawn per patch (conv-dae, noise-estimator).") var noise: String?
    @Option(help: "Sparse AE penalty: l1:WEIGHT or kl:RHO[:WEIGHT].") var sparsity: String?
    @Option(help: "Seed for initialisation, shuffling and noise.") var seed: UInt64 = 1
    @Option(name: [.customLong("jobs"), .customLong("threads")], help: "Threads (default: cores): the batch is split into this many shards trained at once; --threads is the same.") var threads: Int?
    @Option(help: "Data-parallel workers (default: --jobs); with 1, OpenBLAS uses all the threads instead.") var workers: Int?
    @Option(help: "Held-out fraction of a PNG folder (or of MNIST's training set with --val-from-train).") var val: Double = 0.1
    @Option(help: ArgumentHelp("Image size for a PNG folder (MNIST is 28x28).", valueName: "WxH")) var size: String = "28x28"
    @Flag(help: "Train on RGB images (PNG folders; default grey).") var rgb = false
    @Flag(help: "Continue from the checkpoint beside the output.") var resume = false
    @Option(help: "conv-dae: patch side (multiple of 4).") var patch: Int = 64
    @Option(help: "conv-dae: batches per epoch.") var stepsPerEpoch: Int = 500
    @Option(help: "conv-dae: channels at full, 1/2 and 1/4 resolution.") var widths: String = "32,64,128"
    @Option(help: "conv-dae or noise-estimator: start from the weights of this model file (fine-tuning or a longer schedule). A conv-dae with fewer --blocks or without --noise-input is upgraded: the new parts start at zero, computing what the file's model did. A noise-estimator starts from an estimator file or from the estimator a colour model bundles.") var initFrom: String?
    @Option(help: "conv-dae: residual 3x3 blocks at quarter resolution (each costs 9216 multiply-adds per pixel at the default widths).") var blocks: Int = 0
    @Option(help: "conv-dae: residual 3x3 blocks at full resolution, before the last layer (fine detail; each costs 9216 multiply-adds per pixel at the default widths, 20736 at 48 channels).") var fineBlocks: Int = 0
    @Flag(help: "conv-dae: condition every layer on the noise level σ (given with --sigma when denoising, or estimated from the image).") var noiseInput = false
    @Flag(help: "conv-dae: take a per-pixel noise map (σ of each channel at each pixel) with the image instead of one σ (the colour model).") var noiseMap = false
    @Option(help: "conv-dae --noise-map --rgb: share of patches with camera-like noise (Poisson-Gaussian in linear light, demosaiced, colour-mixed, tone-mapped, 8-bit) instead of white Gaussian noise.") var cameraNoise: Float = 0
    @Option(help: "conv-dae: share of camera-noise patches also JPEG-compressed (quality 70-97).") var jpeg: Float = 0.5
    @Option(help: ArgumentHelp("conv-dae, noise-estimator: the JPEG qualities of those patches, drawn uniformly (cameras' own JPEGs are often near 75).", valueName: "LO-HI")) var jpegQuality: String = "70-97"
    @Option(help: "conv-dae, noise-estimator: share of camera-noise patches whose tone curve has a shadow toe, so that their noise weakens towards black as real cameras' does (the plain sRGB curve makes it strongest there).") var cameraToe: Float = 0
    @Flag(help: "conv-dae, noise-estimator: camera-like noise also goes through in-camera processing (coarser luma noise, reduced and blurred chroma noise) in two thirds of its patches.") var cameraProcessing = false
    @Flag(help: "conv-dae, noise-estimator: --camera-processing, and half of those patches get blotchy luma noise 3-8 pixels wide (strong in-camera noise reduction and JPEG).") var coarseNoise = false
    @Flag(help: "conv-dae: also train on each training photo shrunk to half its size (2x2 averages): cleaner targets, their grain and JPEG artefacts mostly averaged away. Validation photos stay as they are.") var halvedCopies = false
    @Flag(help: "conv-dae: each patch's loss is the log of its mean squared error (the mean PSNR over patches is optimised), so low-noise patches weigh as much as heavy-noise ones.") var logLoss = false
    @Option(help: "conv-dae, noise-estimator: white noise's σ is drawn as low + (high − low)·u^P, u uniform: 1 is uniform over --noise's range, 2 puts half the patches in its lowest quarter (more training on weak noise).") var sigmaPower: Float = 1
    @Option(help: "--camera-noise patches: the largest σ (pixels) of a Gaussian blur drawn per patch and applied to its clean image before the noise, so that input and target are both that soft (a camera's own image is softer than a scanned photo). 0: off.") var cameraSoftness: Float = 0
    @Option(help: "conv-dae --camera-noise: what a camera-noise patch is trained towards: clean (its image before the noise), mean-of-shots (the mean of the noisy patch over the noise, as real photographs' references are made: the tone curve and clipping shift the noise's mean, and the reference keeps that shift) or mean-of-processed-shots (the mean of 4 more shots, each through 8 bits and the patch's JPEG: detail a single shot's JPEG loses stays in the target).") var cameraTarget: String = "clean"
    @Option(help: "conv-dae --noise-map --rgb, noise-estimator --rgb: share of white-noise patches whose noise is correlated across channels (a grey part with 0-90% of the variance) and, in half of them, over 1-3 pixels, as camera noise is.") var correlatedWhite: Float = 0
    @Option(help: "With --correlated-white: the share of those patches whose noise is also correlated over 1-3 pixels (the rest: across channels only).") var correlatedWhiteBlur: Float = 0.5
    @Option(help: "conv-dae --noise-map --rgb, noise-estimator --rgb: what the noise map's planes measure: rgb (each channel's σ) or opponent (the σ of luma and two chroma components, which says how the noise is correlated across channels).") var mapSpace: String = "rgb"
    @Flag(help: "noise-estimator --rgb --correlated-white: the grey-correlated patches' targets are each channel's σ times √(1 + 2ρ), the σ of their luma: what the per-channel denoiser, which never trained on such noise, does best told.") var sharedNoiseAsLuma = false
    @Flag(help: "conv-dae (noise map): camera-like patches are given their noise map's mean per channel, the same at every pixel (what `latent denoise` gives the model), not the map pixel by pixel.") var flatCameraMaps = false
    @Option(help: ArgumentHelp("conv-dae --noise-map --rgb: every patch's map is what this file's noise estimator (an estimator file, or a colour model that bundles one) reads on the noisy patch, flat, as `latent denoise` gives it, not the noise's exact σ.", valueName: "FILE")) var estimatedMaps: String?
    @Flag(help: "conv-dae, noise-estimator: --coarse-noise, and half of the camera patches get a luma component correlated 2-10 pixels away with 5-50% of the noise's variance and chroma noise cut to 10-60% (real photos' noise: correlated far and across channels).") var correlatedNoise = false
    @Flag(help: "conv-dae, noise-estimator: --coarse-noise, and half of the camera patches get chroma noise blurred over 2-4.5 pixels and scaled to 4-80% of luma's variance (real photos' chroma noise after the camera's noise reduction: weak and smooth).") var reducedChroma = false
    @Flag(help: "conv-dae, noise-estimator: --coarse-noise, and half of the camera patches get fine luma noise (as the demosaic leaves it) with a part correlated 3-10 pixels away, and chroma noise blurred over 2.5-4.5 pixels at 12-50% of luma's variance (real noise where a photo is flat).") var smoothChroma = false
    @Option(help: ArgumentHelp("conv-dae --noise-map --rgb: also train on given pairs (distillation): DIR holds noisy/ and teacher/ with PNGs of the same names, the noisy inputs at white-noise σ SIGMA (0-255) and the targets a teacher model's output on them (scripts/make_teacher_targets.sh makes them). Repeat for several folders. The pairs are kept in memory at 8 bits.", valueName: "DIR:SIGMA")) var teacherPairs: [String] = []
    @Option(help: "With --teacher-pairs: the share of patches drawn from the pairs (the rest: clean photos with fresh noise, as without).") var teacherFraction: Float = 0.5
    @Option(help: "noise-estimator: channels of its layers.") var estWidth: Int = 32
    @Option(help: "noise-estimator: 3x3 layers before its output layer (at quarter resolution).") var estDepth: Int = 4
    @Option(help: "noise-estimator: what its first layer sees: raw (each 4x4 block's pixels) or energy (those and, per plane of R, G, B and the opponent components, four fine-scale noise statistics of the block, with the output and loss on log σ).") var estFeatures: String = "raw"
    @Option(help: "noise-estimator: α of its asymmetric loss, 0-1 (an underestimate weighs 1 - α, an overestimate α; 0.5 is the plain squared error).") var estAlpha: Float = 0.3
    @Option(help: "conv-dae: fraction of patches whose noisy input is rounded to 8 bits and clipped to 0-255, as in a saved noisy PNG.")
    var pngNoise: Float = 0
    @Option(help: "conv-dae: folder of validation PNGs (PSNR at σ=25 each epoch; default: 10% of --data).") var valData: String?
    @Option(help: "Use only the first N training images (quick runs).") var limit: Int?
    @Flag(name: .shortAndLong, help: "Print nothing but errors.") var quiet = false
    @Flag(help: "Print one JSON object per epoch on stdout.") var json = false

    /// The colour models' training-noise options (camera noise, grey-correlated white noise,
    /// the map space and the targets): each only where it changes something.
    func validateColourNoise() throws {
        guard cameraSoftness >= 0 && cameraSoftness <= 3 else { throw ValidationError("--camera-softness is a blur σ in pixels, 0-3.") }
        if cameraSoftness > 0 && cameraNoise == 0 { throw ValidationError("--camera-softness softens the camera-noise patches: give --camera-noise too.") }
        guard (0...1).contains(correlatedWhite) else { throw ValidationError("--correlated-white is a fraction between 0 and 1.") }
        guard (0...1).contains(correlatedWhiteBlur) else { throw ValidationError("--correlated-white-blur is a fraction between 0 and 1.") }
        if correlatedWhiteBlur != 0.5 && correlatedWhite == 0 { throw ValidationError("--correlated-white-blur sets how many --correlated-white patches are blurred: give --correlated-white too.") }
        guard (0...1).contains(cameraToe) else { throw ValidationError("--camera-toe is a fraction between 0 and 1.") }
        let mapsRGB = rgb && ((model == "conv-dae" && noiseMap) || model == "noise-estimator")
        if correlatedWhite > 0 && !mapsRGB { throw ValidationError("--correlated-white is for a conv-dae with --noise-map and --rgb, or a noise-estimator with --rgb.") }
        if cameraToe > 0 && (!mapsRGB || cameraNoise == 0) { throw ValidationError("--camera-toe changes the camera-noise patches: give --camera-noise too (a conv-dae with --noise-map and --rgb, or a noise-estimator with --rgb).") }
        guard Self.parseQualities(jpegQuality) != nil else { throw ValidationError("--jpeg-quality wants LO-HI, two JPEG qualities 1-100 with LO ≤ HI (got '\(jpegQuality)').") }
        if sharedNoiseAsLuma && (model != "noise-estimator" || correlatedWhite == 0 || mapSpace != "rgb") {
            throw ValidationError("--shared-noise-as-luma sets a noise-estimator's targets for --correlated-white patches (rgb map space).")
        }
        guard let target = CameraTarget(rawValue: cameraTarget) else { throw ValidationError("--camera-target is clean, mean-of-shots or mean-of-processed-shots, not '\(cameraTarget)'.") }
        if target != .clean && (model != "conv-dae" || !mapsRGB || cameraNoise == 0) { throw ValidationError("--camera-target sets the camera-noise patches' target: give a conv-dae --noise-map --rgb with --camera-noise.") }
        if !teacherPairs.isEmpty {
            guard model == "conv-dae" && noiseMap && rgb && mapSpace == "rgb" else { throw ValidationError("--teacher-pairs is for a conv-dae with --noise-map and --rgb (rgb map space).") }
            for spec in teacherPairs where Self.parsePairs(spec) == nil {
                throw ValidationError("--teacher-pairs wants DIR:SIGMA, a folder and its noisy inputs' σ from 0 to 255 (got '\(spec)').")
            }
        }
        guard (0...1).contains(teacherFraction) else { throw ValidationError("--teacher-fraction is a fraction between 0 and 1.") }
        if teacherFraction != 0.5 && teacherPairs.isEmpty { throw ValidationError("--teacher-fraction sets the share of --teacher-pairs patches: give --teacher-pairs too.") }
        guard let space = NoiseMapSpace(rawValue: mapSpace) else { throw ValidationError("--map-space is rgb or opponent, not '\(mapSpace)'.") }
        if space != .rgb && !mapsRGB { throw ValidationError("--map-space opponent is for a conv-dae with --noise-map and --rgb, or a noise-estimator with --rgb.") }
    }

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--jobs (--threads) must be at least 1.") }
        if let workers, workers < 1 { throw ValidationError("--workers must be at least 1.") }
        guard val > 0 && val < 1 else { throw ValidationError("--val must be between 0 and 1.") }
        if halvedCopies && model != "conv-dae" { throw ValidationError("--halved-copies is for a conv-dae.") }
        if logLoss && model != "conv-dae" { throw ValidationError("--log-loss is for a conv-dae.") }
        if initFrom != nil && model != "conv-dae" && model != "noise-estimator" { throw ValidationError("--init-from is for a conv-dae or a noise-estimator.") }
        if [correlatedNoise, reducedChroma, smoothChroma].filter({ $0 }).count > 1 {
            throw ValidationError("--correlated-noise, --reduced-chroma and --smooth-chroma are different noise mixes: give one.")
        }
        guard sigmaPower > 0 && sigmaPower.isFinite else { throw ValidationError("--sigma-power must be a positive number.") }
        if sigmaPower != 1 && model != "conv-dae" && model != "noise-estimator" { throw ValidationError("--sigma-power is for a conv-dae or a noise-estimator.") }
        try validateColourNoise()
        if model == "conv-dae" || model == "noise-estimator" {
            guard let noise else {
                throw ValidationError("--model \(model) wants --noise gaussian:LO-HI, e.g. gaussian:0-55/255 (grey levels) or gaussian:0-0.2 (the 0-1 scale).")
            }
            do { _ = try NoiseLevel.trainingRange(noise) } catch { throw ValidationError("--noise \(error)") }
            guard patch >= 8, patch % 4 == 0 else { throw ValidationError("--patch must be a multiple of 4, at least 8.") }
            guard Self.parseWidths(widths) != nil else { throw ValidationError("--widths wants three channel counts, e.g. 32,64,128.") }
            guard (0...16).contains(blocks) else { throw ValidationError("--blocks must be 0-16.") }
            guard (0...8).contains(fineBlocks) else { throw ValidationError("--fine-blocks must be 0-8.") }
            guard !(noiseMap && noiseInput) else { throw ValidationError("--noise-map and --noise-input exclude each other.") }
            guard (0...1).contains(cameraNoise), (0...1).contains(jpeg), (0...1).contains(pngNoise) else {
                throw ValidationError("--camera-noise, --jpeg and --png-noise are fractions between 0 and 1.")
            }
            guard cameraNoise == 0 || ((noiseMap || model == "noise-estimator") && rgb) else {
                throw ValidationError("--camera-noise needs --rgb (and --noise-map for a conv-dae).")
            }
            guard !flatCameraMaps || (model == "conv-dae" && noiseMap && cameraNoise > 0) else {
                throw ValidationError("--flat-camera-maps is for a conv-dae with --noise-map and --camera-noise.")
            }
            guard estimatedMaps == nil || (model == "conv-dae" && noiseMap && rgb && mapSpace == "rgb") else {
                throw ValidationError("--estimated-maps is for a conv-dae with --noise-map and --rgb (rgb map space).")
            }
            guard NoiseMapEstimator.widths.contains(estWidth), NoiseMapEstimator.depths.contains(estDepth) else { throw ValidationError("--est-width must be 1-256 and --est-depth 1-8.") }
            guard NoiseMapEstimator.InputFeatures(rawValue: estFeatures) != nil else { throw ValidationError("--est-features must be raw or energy.") }
            guard estAlpha > 0 && estAlpha < 1 else { throw ValidationError("--est-alpha must be between 0 and 1.") }
            guard epochs >= 1, batch >= 1, stepsPerEpoch >= 1 else { throw ValidationError("--epochs, --batch and --steps-per-epoch must be at least 1.") }
            guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be positive.") }
            return
        }
        guard ModelKind(rawValue: model) != nil else { throw ValidationError("--model must be ae, dae, sparse, vae, conv-dae or noise-estimator (got '\(model)').") }
        guard epochs >= 1, batch >= 1, latent >= 1 else { throw ValidationError("--epochs, --batch and --latent must be at least 1.") }
        guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be positive.") }
        guard parseHidden() != nil else { throw ValidationError("--hidden wants sizes like 400 or 512,128 (got '\(hidden)').") }
        guard Activation(activation) != nil else { throw ValidationError("--activation must be relu, leakyrelu, tanh or sigmoid.") }
        guard DecoderKind(rawValue: decoder) != nil else { throw ValidationError("--decoder must be bernoulli or gaussian.") }
        if let noise { do { _ = try Corruption.parse(noise) } catch { throw ValidationError("--noise \(error)") } }
        if model == "dae" && noise == nil { throw ValidationError("--model dae needs --noise, e.g. gaussian:0.5.") }
        if let sparsity, Sparsity(sparsity) == nil { throw ValidationError("--sparsity wants l1:WEIGHT or kl:RHO[:WEIGHT] (got '\(sparsity)').") }
        if model == "sparse" && sparsity == nil { throw ValidationError("--model sparse needs --sparsity, e.g. l1:1e-3.") }
        guard StageArguments.size(size) != nil else { throw ValidationError("--size wants WxH (got '\(size)').") }
    }

    func parseHidden() -> [Int]? {
        let parts = hidden.split(separator: ",")
        let v = parts.compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        return v.count == parts.count && v.allSatisfy({ $0 > 0 && $0 <= 65536 }) ? v : nil
    }

    static func parseQualities(_ s: String) -> ClosedRange<Int>? {
        let v = s.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
        guard v.count == 2, let lo = v[0], let hi = v[1], 1 <= lo, lo <= hi, hi <= 100 else { return nil }
        return lo...hi
    }

    /// `DIR:SIGMA` (the last colon splits, so DIR may hold colons).
    static func parsePairs(_ s: String) -> (folder: String, sigma: Float)? {
        guard let colon = s.lastIndex(of: ":"), let sigma = Float(s[s.index(after: colon)...]), sigma >= 0, sigma <= 255 else { return nil }
        let folder = String(s[..<colon])
        return folder.isEmpty ? nil : (folder, sigma)
    }

    static func parseWidths(_ s: String) -> (Int, Int, Int)? {
        let v = s.split(separator: ",").compactMap { Int($0) }
        guard v.count == 3, v.allSatisfy({ $0 > 0 && $0 <= 1024 }) else { return nil }
        return (v[0], v[1], v[2])
    }

    /// The patch trainer's options as the command line gives them (validated by `validate`).
    func patchOptions() throws -> PatchTrainingOptions {
        var opts = PatchTrainingOptions()
        opts.patch = patch
        opts.batch = batch
        opts.stepsPerEpoch = stepsPerEpoch
        opts.pngNoiseFraction = pngNoise
        opts.cameraFraction = cameraNoise
        opts.jpegFraction = jpeg
        opts.jpegQualities = Self.parseQualities(jpegQuality) ?? CameraNoise.Settings.defaultJPEGQualities
        opts.cameraToe = cameraToe
        opts.cameraProcessing = smoothChroma ? .smoothChroma : reducedChroma ? .reducedChroma : correlatedNoise ? .correlated : coarseNoise ? .coarse : cameraProcessing ? .standard : .none
        opts.flatCameraMaps = flatCameraMaps
        if let estimatedMaps {
            let estimator = try Exit.setUp { try NoiseMapEstimator.load(path: estimatedMaps) }
            guard estimator.channels == 3 else { throw ValidationError("--estimated-maps: \(estimatedMaps) holds a \(estimator.channels)-channel estimator, not an RGB one.") }
            opts.estimatedMaps = EstimatedMaps(estimator: estimator, space: .rgb)
        }
        opts.logLoss = logLoss
        opts.sigmaPower = sigmaPower
        opts.correlatedWhite = correlatedWhite
        opts.correlatedWhiteBlur = correlatedWhiteBlur
        opts.mapSpace = NoiseMapSpace(rawValue: mapSpace) ?? .rgb
        opts.estimatorAlpha = estAlpha
        opts.cameraSoftness = cameraSoftness
        opts.cameraTarget = CameraTarget(rawValue: cameraTarget) ?? .clean
        opts.sharedNoiseAsLuma = sharedNoiseAsLuma
        if !teacherPairs.isEmpty {
            var pairs = TargetPairs()
            for spec in teacherPairs {
                let (folder, sigma) = Self.parsePairs(spec)!
                try Exit.setUp { try pairs.add(folder: folder, sigma: sigma, minSide: patch) }
            }
            for f in pairs.failures { printError(f) }
            opts.targetPairs = pairs
            opts.targetPairFraction = teacherFraction
        }
        opts.epochs = epochs
        opts.learningRate = lr
        opts.sigmaRange = try NoiseLevel.trainingRange(noise!)
        opts.seed = seed
        opts.workers = workers ?? threads ?? ProcessInfo.processInfo.activeProcessorCount
        opts.checkpointPath = Checkpoint.path(for: output)
        return opts
    }

    /// A new network of the kind `--model` names (a noise-estimator or a conv-dae), before any
    /// `--init-from` or `--resume`.
    func patchModel(channels: Int) -> PatchModel {
        if model == "noise-estimator" {
            return NoiseMapEstimator(channels: channels, width: estWidth, depth: estDepth, features: NoiseMapEstimator.InputFeatures(rawValue: estFeatures)!, seed: seed)
        }
        return ConvDenoiser(channels: channels, widths: Self.parseWidths(widths)!, blocks: blocks, fineBlocks: fineBlocks,
                            noiseInput: noiseInput, noiseMap: noiseMap, seed: seed)
    }

    func runConv() throws {
        if let threads { BLAS.setThreads(threads) }
        let channels = rgb ? 3 : 1
        let split = try Exit.setUp { try PatchTrainer.loadSplit(data, validation: valData, channels: channels, patch: patch, seed: seed) }
        for f in split.failures { printError(f) }
        let some = limit.map { Array(split.train.prefix($0)) } ?? split.train, val = split.validation
        let train = halvedCopies ? PatchTrainer.withHalvedCopies(some, patch: patch) : some
        let opts = try patchOptions()
        let model = patchModel(channels: channels)
        let trainer = PatchTrainer(model: model, options: opts)
        if let note = try Exit.setUp({ try trainer.prepare(resume: resume, initFrom: initFrom) }), !quiet { printError(note) }
        if !quiet {
            printError("training \(model.summary)\(cameraNoise > 0 ? " camera noise \(cameraNoise)" : "") on \(train.count) images, "
                + "\(val.count) for validation, patches \(patch)x\(patch), σ \(opts.sigmaRange.lowerBound)-\(opts.sigmaRange.upperBound)" + (opts.sigmaPower != 1 ? " (power \(opts.sigmaPower))" : "")
                + (opts.targetPairs.map { ", \($0.pairs.count) teacher pairs for \(opts.targetPairFraction * 100)% of the patches" } ?? "") + ", " + (opts.workers > 1 ? "\(opts.workers) data-parallel workers" : "\(BLAS.threads) BLAS threads"))
        }
        let tty = !quiet && isatty(2) != 0
        let isEstimator = model is NoiseMapEstimator
        try trainer.run(train: train, validation: val, progress: { r in
            if tty { FileHandle.standardError.write("\r\u{1B}[K".data(using: .utf8)!) }
            if json { FileHandle.standardOutput.write((r.json(estimator: isEstimator) + "\n").data(using: .utf8)!) }
            if !quiet { printError(r.line(epochs: epochs, estimator: isEstimator)) }
        }, batchProgress: { done, total, loss in
            guard tty else { return }
            FileHandle.standardError.write(String(format: "\rbatch %d/%d  loss %.4f ", done, total, loss).data(using: .utf8)!)
        })
        try trainer.save(to: output)
        if !quiet { printError("wrote \(output)") }
    }

    func run() throws {
        if model == "conv-dae" || model == "noise-estimator" { return try runConv() }
        if let threads { BLAS.setThreads(threads) }
        let nWorkers = workers ?? threads ?? ProcessInfo.processInfo.activeProcessorCount
        let (train, validation, test) = try loadData()
        let config = ModelConfig(kind: ModelKind(rawValue: model)!, width: train.width, height: train.height,
                                 channels: train.channels, hidden: parseHidden()!, latent: latent,
                                 activation: Activation(activation)!, decoder: DecoderKind(rawValue: decoder)!,
                                 beta: beta, noise: noise.flatMap(Corruption.init), sparsity: sparsity.flatMap(Sparsity.init))
        let ckpt = Checkpoint.path(for: output)
        let options = TrainingOptions(epochs: epochs, batch: batch, learningRate: lr, seed: seed, checkpointPath: ckpt, workers: nWorkers)
        let (trainer, note) = try Exit.setUp { try Trainer.start(config: config, options: options, resume: resume, seed: seed) }
        if let note, !quiet { printError(note) }
        if !quiet {
            printError("training \(config.kind.rawValue) \(config.architecture) (\(trainer.model.parameterCount) parameters) on \(train.count) images, "
                + "\(validation.map { "\($0.count) held out, " } ?? "")"
                + (nWorkers > 1 ? "\(nWorkers) data-parallel workers" : "\(BLAS.threads) BLAS threads"))
        }
        let tty = !quiet && isatty(2) != 0
        try trainer.run(train: train, validation: validation) { event in
            switch event {
            case .batch(let e, let done, let total, let loss, let rate):
                if tty { FileHandle.standardError.write(("\r" + EpochReport.progressLine(epoch: e, of: epochs, done: done, total: total, loss: loss, rate: rate)).data(using: .utf8)!) }
            case .epoch(let r):
                if tty { FileHandle.standardError.write("\r\u{1B}[K".data(using: .utf8)!) }
                if json { FileHandle.standardOutput.write((r.json + "\n").data(using: .utf8)!) }
                if !quiet { printError(r.line(epochs: epochs, vae: config.kind == .vae, heldOut: test != nil ? "test" : "val")) }
            }
        }
        try trainer.save(to: output, dataName: (data as NSString).lastPathComponent, trainImages: train.count,
                         heldOut: test ?? validation, heldOutIsTest: test != nil, seed: seed)
        if !quiet { printError("wrote \(output)") }
    }

    /// (train, validation-or-test, test if the data has one)
    func loadData() throws -> (Dataset, Dataset?, Dataset?) {
        let (w, h) = StageArguments.size(size)!
        let sets = try Exit.setUp { try DatasetLoader.trainingSets(data, width: w, height: h, channels: rgb ? 3 : 1, limit: limit, validation: val, seed: seed) }
        for f in sets.failures { printError(f) }
        if !sets.failures.isEmpty { printError("skipped \(sets.failures.count) unreadable PNG files") }
        return (sets.train, sets.heldOut, sets.test)
    }
}
