import Foundation
import Imaging
import Models
import NN
import PNGIO
import Tensor
import FileIO
import Inference

/// Settings of a patch-training run for the convolutional denoiser.
public struct PatchTrainingOptions: Sendable {
    public var patch = 64
    public var batch = 16
    public var stepsPerEpoch = 500
    public var epochs = 20
    public var learningRate: Float = 1e-3
    /// Noise σ range on the 0-255 scale, drawn per patch (blind denoising).
    public var sigmaRange: ClosedRange<Float> = 0...55
    /// σ is drawn as low + (high − low)·u^power with u uniform: 1 is uniform over the range, a
    /// power above 1 trains more on weak noise (real photos' noise is weak; a power of 2 puts half
    /// the patches in the lowest quarter of the range).
    public var sigmaPower: Float = 1
    /// Fraction of patches whose noisy input is rounded to 8 bits and clipped to [0, 1], as a
    /// noisy image saved as a PNG is (what `latent denoise` sees); 0 keeps the float protocol.
    public var pngNoiseFraction: Float = 0
    /// Noise-map (colour) models: the share of patches given camera-like noise (`CameraNoise`)
    /// instead of white Gaussian noise, and the share of those also JPEG-compressed.
    public var cameraFraction: Float = 0
    public var jpegFraction: Float = 0.5
    /// The JPEG qualities of those patches, drawn uniformly. Cameras' own JPEGs are often coarser
    /// than the default range's top: both polyu-val cameras' luma quantisation steps are those of
    /// the standard table at about quality 75.
    public var jpegQualities = CameraNoise.Settings.defaultJPEGQualities
    /// Share of camera-noise patches whose tone curve has a shadow toe (`CameraNoise.Settings.toe`).
    public var cameraToe: Float = 0
    /// Camera-like noise also goes through in-camera processing (coarse luma, reduced and
    /// blurred chroma: `CameraNoise.Settings`) in two thirds of those patches.
    public var cameraProcessing: CameraNoise.Processing = .none
    /// Camera-like patches are given their map's mean per channel, the same at every pixel (as
    /// `latent denoise` gives the model a measured noise level function's mean), rather than
    /// the map pixel by pixel.
    public var flatCameraMaps = false
    /// Every patch's map is what this estimator reads on the noisy patch, as `latent denoise`
    /// gives it (`EstimatedMaps`), not the noise's exact σ: the network learns the estimator's
    /// readings, biases and all (CBDNet trains its denoiser on its estimator's maps).
    public var estimatedMaps: EstimatedMaps?
    /// A denoiser's loss per patch is the log of its mean squared error (the mean PSNR over
    /// patches is optimised: `ConvDenoiser.Loss.logPerPatch`).
    public var logLoss = false
    /// Noise-map RGB models: the share of white-noise patches whose noise is correlated across
    /// channels (a common grey component carrying 0-90% of each channel's variance) and, in half
    /// of them, over neighbouring pixels (blurred by a Gaussian of σ 0.5-1.5 pixels, then
    /// scaled back): camera noise after demosaicing and processing is mostly grey (real photos'
    /// R, G and B noise correlate about 0.7) and coarser than one pixel. The map stays each
    /// channel's σ, exact.
    public var correlatedWhite: Float = 0
    /// Share of those patches whose noise is also blurred over 1-3 pixels (correlated in space).
    public var correlatedWhiteBlur: Float = 0.5
    /// Noise-estimator training with an RGB map: the grey-correlated white patches' targets are
    /// each channel's σ times √(1 + 2ρ), the σ of their luma (for equal σ), instead of the σ:
    /// the level a per-channel denoiser that never trained on such noise does best told (on the
    /// 43 held-out photos with ρ 0.55, σ 15: 29.89 dB told σ, 31.54 told 1.4σ). The estimator
    /// then reads for the denoiser rather than the channels.
    public var sharedNoiseAsLuma = false
    /// What the noise maps' planes measure: each channel's σ, or the opponent components' σ
    /// (`NoiseMapSpace`), which says how the noise is correlated across channels.
    public var mapSpace: NoiseMapSpace = .rgb
    /// A noise-map estimator's loss: α of CBDNet's asymmetric squared error (an underestimate
    /// weighs 1 − α, an overestimate α), `NoiseMapEstimator.alpha` by default.
    public var estimatorAlpha: Float = NoiseMapEstimator.alpha
    /// Camera-like patches: the largest σ (pixels) of a Gaussian blur drawn per patch (uniform
    /// from 0) and applied to the clean patch before its noise, so that input and target are
    /// both that soft. A camera's own image is softer at the pixel level than a scanned or
    /// downsampled photo (lens, anti-aliasing filter, demosaicing, in-camera noise reduction),
    /// so under camera noise fine texture is more likely noise than detail. 0: off.
    public var cameraSoftness: Float = 0
    /// What a camera-like patch is trained towards: its clean image, or the mean of many shots of
    /// it (`CameraNoise.apply`'s expected value, or the mean of a few whole shots), the reference
    /// real photographs' pairs have.
    public var cameraTarget: CameraTarget = .clean
    /// Noise-map RGB models: pairs whose target is given (a teacher model's output on noisy
    /// inputs of known σ, `TargetPairs`), and the share of patches drawn from them instead of a
    /// clean photo with fresh noise.
    public var targetPairs: TargetPairs?
    public var targetPairFraction: Float = 0.5
    /// σ (0-255) of the validation PSNR each epoch.
    public var validationSigma: Float = 25
    public var seed: UInt64 = 1
    /// Data-parallel workers: each a model replica on batch/workers patches with one BLAS thread;
    /// their gradients are summed before the Adam step.
    public var workers = 1
    public var checkpointPath: String?
    public init() {}

    public var metadata: [String: String] {
        var meta = ["train_patch": "\(patch)", "train_batch": "\(batch)", "train_steps_per_epoch": "\(stepsPerEpoch)", "train_epochs": "\(epochs)",
                    "train_lr": "\(learningRate)", "train_sigma": "\(sigmaRange.lowerBound)-\(sigmaRange.upperBound)", "train_seed": "\(seed)",
                    "train_png_noise": "\(pngNoiseFraction)", "train_camera_noise": "\(cameraFraction)", "train_jpeg": "\(jpegFraction)",
                    "train_camera_processing": cameraProcessing == .none ? "false" : cameraProcessing == .standard ? "true" : cameraProcessing.rawValue]
        // Keys only when the option is away from its default, so older files read the same.
        let optional: [(key: String, value: String?)] = [
            ("train_flat_camera_maps", flatCameraMaps ? "true" : nil),
            ("train_estimated_maps", estimatedMaps.map { _ in "true" }),
            ("train_loss", logLoss ? "log-mse-per-patch" : nil),
            ("train_sigma_power", sigmaPower != 1 ? "\(sigmaPower)" : nil),
            ("train_correlated_white", correlatedWhite > 0 ? "\(correlatedWhite)" : nil),
            ("train_correlated_white_blur", correlatedWhite > 0 && correlatedWhiteBlur != 0.5 ? "\(correlatedWhiteBlur)" : nil),
            ("train_camera_toe", cameraToe > 0 ? "\(cameraToe)" : nil),
            ("noise_map_space", mapSpace != .rgb ? mapSpace.rawValue : nil),
            ("train_est_alpha", estimatorAlpha != NoiseMapEstimator.alpha ? "\(estimatorAlpha)" : nil),
            ("train_camera_softness", cameraSoftness > 0 ? "\(cameraSoftness)" : nil),
            ("train_camera_target", cameraTarget != .clean ? cameraTarget.rawValue : nil),
            ("train_shared_noise_as_luma", sharedNoiseAsLuma ? "true" : nil),
            ("train_teacher_pairs", targetPairs.map { "\($0.pairs.count) pairs, σ \(Set($0.pairs.map(\.sigma)).sorted().map { String(format: "%g", $0) }.joined(separator: ",")), fraction \(targetPairFraction)" }),
            ("train_jpeg_quality", jpegQualities != CameraNoise.Settings.defaultJPEGQualities
                ? "\(jpegQualities.lowerBound)-\(jpegQualities.upperBound)" : nil),
        ]
        for (key, value) in optional { if let value { meta[key] = value } }
        return meta
    }

    /// A white-noise σ (0-255 scale) for one patch or channel: `sigmaRange` by `sigmaPower`.
    func drawSigma(_ rng: inout RandomGenerator) -> Float {
        let u = rng.uniform()
        return sigmaRange.lowerBound + (sigmaPower == 1 ? u : pow(u, sigmaPower)) * (sigmaRange.upperBound - sigmaRange.lowerBound)
    }

    /// Cosine decay from lr to lr/100 over the whole run (a function of the step only, so resuming
    /// continues the schedule exactly).
    func learningRate(step: Int) -> Float {
        let total = max(1, epochs * stepsPerEpoch)
        let t = min(1, Double(step) / Double(total))
        return learningRate * Float(0.01 + 0.99 * 0.5 * (1 + cos(Double.pi * t)))
    }
}

/// The target of a camera-like training patch. A real photograph's "clean" reference is the mean
/// of many shots of the scene through the same camera (polyu-val's, SIDD's), so what the tone
/// curve and clipping at black do to the noise's mean is in the reference too: a denoiser
/// trained towards the clean image learns to undo that shift, and moves real photographs' colours
/// away from their references (most in dark channels, where clipping shifts the mean most).
public enum CameraTarget: String, Sendable, CaseIterable {
    /// The clean patch, before its noise.
    case clean
    /// The noisy patch's mean over the noise: the clean patch through the tone curve with the
    /// noise's effect on its mean (`CameraNoise.toneMean`), before the 8-bit and JPEG steps.
    case meanOfShots = "mean-of-shots"
    /// The mean of `processedShots` more shots of the patch, each through the whole pipeline (the
    /// noise, the tone curve, 8 bits and the patch's JPEG), drawn after the input's: what JPEG
    /// takes from a single noisy shot (fine detail quantised away with the noise) the mean of
    /// many shots keeps, as real references do, so a single shot does not predict it and the
    /// model learns to leave it smooth. The mean of a few shots is a noisy target, unbiased for
    /// the mean of many (the noise averages out in the loss, as in Noise2Noise).
    case meanOfProcessedShots = "mean-of-processed-shots"

    /// Shots averaged into a `meanOfProcessedShots` target.
    public static let processedShots = 4
}

public struct PatchEpochReport: Sendable {
    public var epoch: Int
    public var loss: Double
    /// The model's validation figure (`PatchModel.validation`), nil without validation images.
    public var validation: Double?
    public var seconds: Double
    public var patchesPerSecond: Double
}

/// A network trained on random patches of noisy images: the convolutional denoiser and the
/// noise-map estimator share `PatchTrainer` (patch sampling, noise, data-parallel replicas,
/// Adam, checkpoints, resume) through this.
public protocol PatchModel: AnyObject {
    var channels: Int { get }
    var parameters: [Parameter] { get }
    /// Whether each training input comes with its noise map (camera-like noise, or white noise of
    /// one σ per channel) rather than one white-noise σ.
    var trainsOnMaps: Bool { get }
    /// A copy sharing the weights, with its own gradients and buffers (a data-parallel worker).
    func patchReplica() -> PatchModel
    /// Forward and backward on a batch of noisy patches: the summed loss; gradients accumulated.
    /// `maps` when `trainsOnMaps`, else `sigmas` (one per patch, 0-255). `logLoss`: a denoiser's
    /// loss per patch is the log of its squared error (`ConvDenoiser.Loss.logPerPatch`).
    func trainStep(noisy: FeatureMaps, clean: Matrix, maps: Matrix?, sigmas: [Float], logLoss: Bool) -> Double
    func exportTensors() -> [NamedTensor]
    func importTensors(_ tensors: [String: NamedTensor], file: String) throws
    /// Metadata of a saved model (architecture and kind).
    var metadata: [String: String] { get }
    /// The metadata keys a checkpoint must share with this model to be resumed into it.
    var architectureKeys: [String] { get }
    /// A summary for the start of a run.
    var summary: String { get }
    /// The figure reported after each epoch on held-out images (fixed noise, seeded).
    func validation(_ images: [FloatImage], options: PatchTrainingOptions) -> Double
}

extension ConvDenoiser: PatchModel {
    public var trainsOnMaps: Bool { noiseMap }
    public func patchReplica() -> PatchModel { replica() }
    public func trainStep(noisy: FeatureMaps, clean: Matrix, maps: Matrix?, sigmas: [Float], logLoss: Bool) -> Double {
        _ = forward(noisy, sigmas: noiseInput ? sigmas : nil, maps: noiseMap ? maps : nil)
        return backward(clean: clean, loss: logLoss ? .logPerPatch : .sumOfSquares)
    }
    public func importTensors(_ tensors: [String: NamedTensor], file: String) throws {
        try importTensors(tensors, file: file, upgrading: false)
    }
    public var architectureKeys: [String] { ["kind", "channels", "widths", "blocks", "fine_blocks", "noise_input"] }
    public var summary: String {
        "conv-dae \(widths.0),\(widths.1),\(widths.2)\(blocks > 0 ? " +\(blocks) blocks" : "")\(fineBlocks > 0 ? " +\(fineBlocks) full-resolution blocks" : "")\(noiseInput ? " σ-conditioned" : "")\(noiseMap ? " noise-map" : "")"
            + " (\(parameterCount) parameters, \(macsPerPixel) MACs/pixel)"
    }
    /// PSNR (dB) at the options' validation σ (8-bit noisy inputs for a noise-map model).
    public func validation(_ images: [FloatImage], options: PatchTrainingOptions) -> Double {
        PatchTrainer.psnr(self, images, sigma: options.validationSigma, seed: 7, quantized: noiseMap).mean
    }
}

/// Random crops with the 8 flips/rotations, fresh noise per batch, Adam with a cosine schedule,
/// a validation figure each epoch, a checkpoint after each epoch.
public final class PatchTrainer {
    public let model: PatchModel
    public let options: PatchTrainingOptions
    public let optimizer: Adam
    public private(set) var completedEpochs = 0

    public init(model: PatchModel, options: PatchTrainingOptions) {
        self.model = model
        self.options = options
        (model as? NoiseMapEstimator)?.lossAlpha = options.estimatorAlpha
        optimizer = Adam(learningRate: options.learningRate)
    }

    /// Continues from a checkpoint written by `saveCheckpoint`: the model's weights, Adam's
    /// state and the epoch count. Refused (naming the file) when it is not a checkpoint, or of
    /// another architecture or seed.
    public func resume(from path: String) throws {
        let file = try SafeTensors.open(path: path)
        let meta = file.metadata
        guard let epoch = Int(meta["checkpoint_epoch"] ?? ""), let adamT = Int(meta["adam_t"] ?? "") else {
            throw ModelFileError.badMetadata(file: path, reason: "not a training checkpoint (no checkpoint_epoch / adam_t)")
        }
        // Keys absent from older files mean their defaults.
        let defaults = ["blocks": "0", "fine_blocks": "0", "noise_input": "none"]
        let mine = model.metadata
        let differing = model.architectureKeys.filter { (meta[$0] ?? defaults[$0] ?? "") != (mine[$0] ?? defaults[$0] ?? "") }
        if !differing.isEmpty {
            func list(_ m: [String: String]) -> String { differing.map { "\($0)=\(m[$0] ?? defaults[$0] ?? "none")" }.joined(separator: ", ") }
            throw TrainingError.checkpointMismatch(file: path, reason: "the checkpoint has \(list(meta)), this run \(list(mine)); resume with the same options")
        }
        if let s = meta["train_seed"], s != "\(options.seed)" {
            throw TrainingError.checkpointMismatch(file: path, reason: "it was trained with seed \(s)")
        }
        let tensors = try file.readTensors()
        try model.importTensors(tensors.filter { !$0.key.hasPrefix("optim.") }, file: path)
        restore(epoch: epoch, adamT: adamT, state: TrainingLoop.optimizerState(tensors, params: model.parameters))
    }

    /// Training and validation images: `folder`'s images (at least one patch a side) and
    /// `validation`'s, or, without a validation folder, a seeded tenth of `folder` held out.
    public static func loadSplit(_ folder: String, validation: String?, channels: Int, patch: Int, seed: UInt64) throws
        -> (train: [FloatImage], validation: [FloatImage], failures: [String]) {
        let (_, all, failures) = try loadNamed(folder, channels: channels, minSide: patch)
        if let validation { return (all, try loadImages(validation, channels: channels, minSide: 8).images, failures) }
        let (train, held) = splitOrder(count: all.count, seed: seed)
        return (train.map { all[$0] }, held.map { all[$0] }, failures)
    }

    /// The files of `folder` that `loadSplit` holds out for validation with `seed` (no
    /// validation folder), in its order: the photos a model trained so never saw.
    public static func heldOutPaths(_ folder: String, channels: Int, patch: Int, seed: UInt64) throws -> [String] {
        let (paths, _, _) = try loadNamed(folder, channels: channels, minSide: patch)
        return splitOrder(count: paths.count, seed: seed).validation.map { paths[$0] }
    }

    /// A seeded shuffle of `count` items: the rest, and the first tenth (at least one) held out.
    static func splitOrder(count: Int, seed: UInt64) -> (train: [Int], validation: [Int]) {
        var rng = RandomGenerator(seed: seed)
        let order = (0..<count).shuffled(using: &rng)
        let nVal = max(1, count / 10)
        return (Array(order.dropFirst(nVal)), Array(order.prefix(nVal)))
    }

    /// Grey (or RGB) images of a folder as Float planes, at their own size (at least one patch).
    public static func loadImages(_ folder: String, channels: Int, minSide: Int) throws -> (images: [FloatImage], failures: [String]) {
        let (_, images, failures) = try loadNamed(folder, channels: channels, minSide: minSide)
        return (images, failures)
    }

    /// `loadImages` with each image's path.
    static func loadNamed(_ folder: String, channels: Int, minSide: Int) throws -> (paths: [String], images: [FloatImage], failures: [String]) {
        let items = try InputWalker.expand([folder], excluding: nil)
        var paths: [String] = [], out: [FloatImage] = []
        var failures: [String] = []
        for item in items {
            do {
                let img = try PNGReader.read(path: item.path, layout: channels == 3 ? .rgb : .gray, depth: 16)
                if img.width < minSide || img.height < minSide { failures.append("\(item.path): smaller than the \(minSide)-pixel patch"); continue }
                out.append(FloatImage(img))
                paths.append(item.path)
            } catch { failures.append("\(error)") }
        }
        guard !out.isEmpty else { throw DatasetError.empty(path: folder, reason: "no usable PNG images") }
        return (paths, out, failures)
    }

    /// `images` and, after them, each one shrunk to half its size by averaging 2x2 blocks (those
    /// still at least `patch` a side): cleaner training targets, their own grain and compression
    /// artefacts mostly averaged away (photographs' "clean" references are often a mean of many
    /// shots, smoother than a single scanned photo).
    public static func withHalvedCopies(_ images: [FloatImage], patch: Int) -> [FloatImage] {
        images + images.compactMap { img in
            let w = img.width / 2, h = img.height / 2
            guard w >= patch && h >= patch else { return nil }
            var half = FloatImage(width: w, height: h, channels: img.channels)
            for c in 0..<img.channels {
                for y in 0..<h {
                    for x in 0..<w {
                        half[x: x, y: y, c: c] = (img[x: 2 * x, y: 2 * y, c: c] + img[x: 2 * x + 1, y: 2 * y, c: c]
                            + img[x: 2 * x, y: 2 * y + 1, c: c] + img[x: 2 * x + 1, y: 2 * y + 1, c: c]) / 4
                    }
                }
            }
            return half
        }
    }

    /// Where pixel (x, y) of a `size`² patch in orientation `t` (0-7: bit 0 mirrors x, bit 1
    /// mirrors y, bit 2 transposes) comes from in the unturned crop.
    @inline(__always)
    static func orientedSource(x: Int, y: Int, orientation t: Int, size p: Int) -> (x: Int, y: Int) {
        var sx = x, sy = y
        if t & 1 != 0 { sx = p - 1 - sx }
        if t & 2 != 0 { sy = p - 1 - sy }
        if t & 4 != 0 { swap(&sx, &sy) }
        return (sx, sy)
    }

    /// One random patch (with a random flip/rotation) of a random image into dst.
    static func samplePatch(_ images: [FloatImage], size p: Int, rng: inout RandomGenerator, into dst: UnsafeMutablePointer<Float>) {
        let img = images[Int(rng.next() % UInt64(images.count))]
        let x0 = Int(rng.next() % UInt64(img.width - p + 1)), y0 = Int(rng.next() % UInt64(img.height - p + 1))
        let t = Int(rng.next() % 8)
        for c in 0..<img.channels {
            for y in 0..<p {
                for x in 0..<p {
                    let (sx, sy) = orientedSource(x: x, y: y, orientation: t, size: p)
                    dst[(c * p + y) * p + x] = img.data[(c * img.height + y0 + sy) * img.width + x0 + sx]
                }
            }
        }
    }

    /// One training patch: its target, its noisy input and (`map` given: a noise-map model) its
    /// map, planes of `shape`. Drawn from the options' target pairs for their share of a
    /// noise-map model's patches; otherwise a random crop of `images` with fresh noise. Returns
    /// the white noise's σ (0-255) a σ-conditioned model is given (0 with a map).
    static func trainingPatch(_ images: [FloatImage], shape: FeatureShape, options: PatchTrainingOptions, rng: inout RandomGenerator,
                              target: UnsafeMutablePointer<Float>, noisy: UnsafeMutablePointer<Float>, map: UnsafeMutablePointer<Float>?) -> Float {
        guard let map else {
            samplePatch(images, size: shape.w, rng: &rng, into: target)
            return addNoise(target, into: noisy, count: shape.count, options: options, rng: &rng)
        }
        if let pairs = options.targetPairs, rng.uniform() < options.targetPairFraction {
            pairs.sample(shape: shape, rng: &rng, noisy: noisy, target: target, map: map)
            return 0
        }
        samplePatch(images, size: shape.w, rng: &rng, into: target)
        addNoiseWithMap(target, into: noisy, map: map, shape: shape, options: options, rng: &rng)
        options.estimatedMaps?.replace(map, readingFrom: noisy, shape: shape)
        return 0
    }

    /// A training input: clean + σ·N(0,1) with σ drawn from the options' range, rounded to 8 bits
    /// and clipped for the options' fraction of patches. Returns σ (0-255 scale).
    @discardableResult
    static func addNoise(_ clean: UnsafePointer<Float>, into noisy: UnsafeMutablePointer<Float>, count: Int,
                         options: PatchTrainingOptions, rng: inout RandomGenerator) -> Float {
        let sigma255 = options.drawSigma(&rng)
        let sigma = sigma255 / 255
        for i in 0..<count { noisy[i] = clean[i] + sigma * rng.normal() }
        if options.pngNoiseFraction > 0 && rng.uniform() < options.pngNoiseFraction {
            for i in 0..<count { noisy[i] = min(255, max(0, (noisy[i] * 255).rounded())) / 255 }
        }
        return sigma255
    }

    /// A training input and its noise map for a noise-map model (`map`: σ/50 per channel and
    /// pixel, σ on the 0-255 scale). Camera-like noise for the options' share of RGB patches;
    /// otherwise white Gaussian noise, the same σ in every channel for 70% of patches and one σ
    /// per channel for the rest, rounded and clipped as `addNoise` does. A camera-like patch's
    /// clean planes are first softened in place (`cameraSoftness`): they are its target too; with
    /// `cameraTarget` mean-of-shots they are then replaced by their mean over the noise.
    static func addNoiseWithMap(_ clean: UnsafeMutablePointer<Float>, into noisy: UnsafeMutablePointer<Float>, map: UnsafeMutablePointer<Float>,
                                shape: FeatureShape, options: PatchTrainingOptions, rng: inout RandomGenerator) {
        let plane = shape.h * shape.w
        if shape.c == 3 && options.cameraFraction > 0 && rng.uniform() < options.cameraFraction {
            if options.cameraSoftness > 0 {
                let sigma = options.cameraSoftness * rng.uniform()
                if sigma >= 0.05 {
                    let k = CameraNoise.gaussian(sigma)
                    var planes = Array(UnsafeBufferPointer(start: clean, count: shape.count))
                    for c in 0..<3 { CameraNoise.blurPlane(&planes, offset: c * plane, h: shape.h, w: shape.w, kernel: k) }
                    clean.update(from: planes, count: shape.count)
                }
            }
            let st = CameraNoise.Settings.random(&rng, jpegFraction: options.jpegFraction, jpegQualities: options.jpegQualities,
                                                 processing: options.cameraProcessing,
                                                 toeFraction: options.cameraToe)
            // Towards the mean of many shots: the expected planes replace the clean ones in place.
            CameraNoise.apply(clean, h: shape.h, w: shape.w, settings: st, rng: &rng, noisy: noisy, map: map, space: options.mapSpace,
                              expected: options.cameraTarget == .meanOfShots ? clean : nil)
            if options.cameraTarget == .meanOfProcessedShots {
                meanOfShots(clean, shape: shape, settings: st, space: options.mapSpace, rng: &rng)
            }
            for i in 0..<shape.count { map[i] *= 255 / 50 }
            if options.flatCameraMaps {
                for c in 0..<shape.c {
                    let m = UnsafeMutableBufferPointer(start: map + c * plane, count: plane)
                    m.update(repeating: m.reduce(0, +) / Float(plane))
                }
            }
            return
        }
        let common = options.drawSigma(&rng)
        let perChannel = rng.uniform() < 0.3
        let quantise = options.pngNoiseFraction > 0 && rng.uniform() < options.pngNoiseFraction
        let unit = shape.c == 3 && options.correlatedWhite > 0 && rng.uniform() < options.correlatedWhite
            ? correlatedUnitNoise(h: shape.h, w: shape.w, blurFraction: options.correlatedWhiteBlur, rng: &rng) : nil
        var s255 = [Float](repeating: common, count: shape.c)
        let told: Float = options.sharedNoiseAsLuma && options.mapSpace == .rgb ? (1 + 2 * (unit?.rho ?? 0)).squareRoot() : 1
        for c in 0..<shape.c {
            if perChannel { s255[c] = options.drawSigma(&rng) }
            let s = s255[c] / 255
            for i in (c * plane)..<((c + 1) * plane) {
                let v = clean[i] + s * (unit?.noise[i] ?? rng.normal())
                noisy[i] = quantise ? min(255, max(0, (v * 255).rounded())) / 255 : v
                map[i] = told * s255[c] / 50
            }
        }
        if shape.c == 3 && options.mapSpace == .opponent {
            // Unit noise whose channels share a part ρ of their variance: covariance s_c·s_d·ρ off the diagonal.
            let rho = unit?.rho ?? 0
            var cov = [Float](repeating: 0, count: 9)
            for c in 0..<3 { for d in 0..<3 { cov[c * 3 + d] = s255[c] * s255[d] * (c == d ? 1 : rho) } }
            let m = NoiseMapSpace.opponent.sigmas(covariance: cov)
            for q in 0..<3 { (map + q * plane).update(repeating: m[q] / 50, count: plane) }
        }
    }

    /// Replaces `clean` by the mean of `CameraTarget.processedShots` shots of it with `settings`.
    static func meanOfShots(_ clean: UnsafeMutablePointer<Float>, shape: FeatureShape, settings: CameraNoise.Settings, space: NoiseMapSpace,
                            rng: inout RandomGenerator) {
        let k = CameraTarget.processedShots
        var sum = [Float](repeating: 0, count: shape.count), shot = sum, map = sum
        for _ in 0..<k {
            CameraNoise.apply(clean, h: shape.h, w: shape.w, settings: settings, rng: &rng, noisy: &shot, map: &map, space: space)
            for i in 0..<shape.count { sum[i] += shot[i] }
        }
        for i in 0..<shape.count { clean[i] = sum[i] / Float(k) }
    }

    /// Three planes of unit-variance Gaussian noise correlated across channels (a common part
    /// with a share ρ, 0-0.9, of the variance) and, half the time, over neighbouring pixels (a
    /// Gaussian blur of σ 0.5-1.5 pixels, divided by the kernel's norm, so the variance stays
    /// one away from the borders).
    static func correlatedUnitNoise(h: Int, w: Int, blurFraction: Float = 0.5, rng: inout RandomGenerator) -> (noise: [Float], rho: Float) {
        let plane = h * w
        let rho = 0.9 * rng.uniform()
        let a = rho.squareRoot(), b = (1 - rho).squareRoot()
        let blur: Float? = rng.uniform() < blurFraction ? 0.5 + rng.uniform() : nil
        var common = [Float](repeating: 0, count: plane)
        for i in 0..<plane { common[i] = rng.normal() }
        var out = [Float](repeating: 0, count: 3 * plane)
        for c in 0..<3 { for i in 0..<plane { out[c * plane + i] = a * common[i] + b * rng.normal() } }
        if let blur {
            let k = CameraNoise.gaussian(blur)
            let norm = k.reduce(0) { $0 + $1 * $1 }   // one axis; the 2-D kernel's squared norm is norm²
            for c in 0..<3 { CameraNoise.blurPlane(&out, offset: c * plane, h: h, w: w, kernel: k) }
            for i in 0..<out.count { out[i] /= norm }
        }
        return (out, rho)
    }

    public func restore(epoch: Int, adamT: Int, state: [String: (m: [Float], v: [Float])]) {
        completedEpochs = epoch
        optimizer.restore(t: adamT, state: state)
    }

    public func run(train: [FloatImage], validation: [FloatImage], progress: (PatchEpochReport) -> Void,
                    batchProgress: ((Int, Int, Double) -> Void)? = nil) throws {
        let options = self.options, model = self.model
        let p = options.patch, ch = model.channels
        let shape = FeatureShape(c: ch, h: p, w: p)
        let w = max(1, min(options.workers, options.batch))
        let replicas = [model] + (1..<w).map { _ in model.patchReplica() }
        let shares = (0..<w).map { k in options.batch * (k + 1) / w - options.batch * k / w }
        let clean = shares.map { Matrix(rows: $0, cols: shape.count) }
        let noisy = shares.map { Matrix(rows: $0, cols: shape.count) }
        let maps = shares.map { Matrix(rows: model.trainsOnMaps ? $0 : 0, cols: shape.count) }
        let sigmas = UnsafeMutableBufferPointer<[Float]>.allocate(capacity: w)
        sigmas.initialize(repeating: [])
        defer { sigmas.deallocate() }
        let loop = TrainingLoop(optimizer: optimizer, params: model.parameters, replicaParams: replicas.map(\.parameters))
        guard completedEpochs < options.epochs else { return }
        for epoch in (completedEpochs + 1)...options.epochs {
            let start = Date()
            let sums = try loop.epoch(epoch, seed: options.seed, steps: options.stepsPerEpoch,
                                      learningRate: { options.learningRate(step: (epoch - 1) * options.stepsPerEpoch + $0) },
                                      work: { _, k, rng in
                let c = clean[k], x = noisy[k]
                sigmas[k] = (0..<shares[k]).map { b in
                    Self.trainingPatch(train, shape: shape, options: options, rng: &rng, target: c.data + b * shape.count,
                                       noisy: x.data + b * shape.count, map: model.trainsOnMaps ? maps[k].data + b * shape.count : nil)
                }
                var l = StepLosses()
                l.total = replicas[k].trainStep(noisy: FeatureMaps(data: x, shape: shape), clean: c, maps: model.trainsOnMaps ? maps[k] : nil, sigmas: sigmas[k],
                                                   logLoss: options.logLoss)
                return l
            }, afterStep: { step, sums in batchProgress?(step + 1, options.stepsPerEpoch, sums.total / Double((step + 1) * options.batch)) })
            let lossSum = sums.total
            let seconds = Date().timeIntervalSince(start)
            let figure = validation.isEmpty ? nil : model.validation(validation, options: options)
            completedEpochs = epoch
            if let path = options.checkpointPath { try saveCheckpoint(to: path) }
            progress(PatchEpochReport(epoch: epoch, loss: lossSum / Double(options.stepsPerEpoch * options.batch), validation: figure,
                                      seconds: seconds, patchesPerSecond: Double(options.stepsPerEpoch * options.batch) / seconds))
        }
    }

    public func saveCheckpoint(to path: String) throws {
        var meta = model.metadata
        for (k, v) in options.metadata { meta[k] = v }
        try TrainingLoop.writeCheckpoint(model.exportTensors(), params: model.parameters, optimizer: optimizer, epoch: completedEpochs,
                                         metadata: meta, to: path)
    }

    /// `DenoisingProtocol` with the training network's own forward pass (σ given): the
    /// validation figure of each epoch. Returns the per-image PSNRs and their mean.
    public static func psnr(_ model: ConvDenoiser, _ images: [FloatImage], sigma: Float, seed: UInt64,
                            quantized: Bool = false) -> (mean: Double, each: [Double]) {
        var each: [Double] = []
        for (i, img) in images.enumerated() {
            let noisy = DenoisingProtocol.noisy(img, sigma: sigma, seed: seed, index: i, quantized: quantized)
            let out = denoise(model, noisy, sigma: sigma)
            each.append(ImageQuality.psnr(out, reference: img))
        }
        return (each.reduce(0, +) / Double(max(1, each.count)), each)
    }

    /// Whole-image denoising: pads to multiples of 4 (edge replicate), runs, crops. `sigma` is
    /// the noise level a conditioned model is given (ignored by a blind one).
    public static func denoise(_ model: ConvDenoiser, _ img: FloatImage, sigma: Float) -> FloatImage {
        let h4 = (img.height + 3) / 4 * 4, w4 = (img.width + 3) / 4 * 4
        let shape = FeatureShape(c: img.channels, h: h4, w: w4)
        let x = Matrix(rows: 1, cols: shape.count)
        for c in 0..<img.channels {
            for y in 0..<h4 {
                for xx in 0..<w4 {
                    x.data[(c * h4 + y) * w4 + xx] = img[x: min(xx, img.width - 1), y: min(y, img.height - 1), c: c]
                }
            }
        }
        let maps = Matrix(rows: model.noiseMap ? 1 : 0, cols: shape.count)
        if model.noiseMap { maps.data.update(repeating: sigma / 50, count: shape.count) }
        let out = model.forward(FeatureMaps(data: x, shape: shape), sigmas: model.noiseInput ? [sigma] : nil, maps: model.noiseMap ? maps : nil)
        var r = FloatImage(width: img.width, height: img.height, channels: img.channels)
        for c in 0..<img.channels {
            for y in 0..<img.height { for xx in 0..<img.width { r[x: xx, y: y, c: c] = out.data.data[(c * h4 + y) * w4 + xx] } }
        }
        return r
    }
}

/// A noise-map denoiser's training maps as `latent denoise` makes them: the estimator's noise
/// level function of the noisy patch, each channel's mean over brightness, the same at every
/// pixel (`BandDenoiser.mapSigmas`). With exact maps the network learns what to do when told the
/// truth, and at inference it is told the estimator's reading, which is off in known ways (low on
/// noise the channels share, high on texture): trained on the readings, it learns to act on them.
/// That needs an estimator that reads the synthetic noise as it reads real photos: with the
/// shipped one (session 24) the network learnt to discount its high readings of synthetic camera
/// noise and left real photos' noise in (docs/colour-model.md).
public struct EstimatedMaps: @unchecked Sendable {
    let estimator: NoiseMapEstimator
    let kernels: NoiseMapEstimator.Kernels
    let space: NoiseMapSpace

    /// Inference only reads the estimator's weights (each measurement has its own workspace), so
    /// workers measure their patches at once.
    public init(estimator: NoiseMapEstimator, space: NoiseMapSpace) {
        self.estimator = estimator
        kernels = estimator.kernels()
        self.space = space
    }

    /// `map` (σ/50 per plane and pixel) replaced by the reading of `noisy` (planes of `shape`).
    func replace(_ map: UnsafeMutablePointer<Float>, readingFrom noisy: UnsafePointer<Float>, shape: FeatureShape) {
        let image = FloatImage(width: shape.w, height: shape.h, channels: shape.c, data: Array(UnsafeBufferPointer(start: noisy, count: shape.count)))
        let sigmas = NoiseLevelFunction.measure(with: estimator, image: image, space: space, kernels: kernels)
            .map(BandDenoiser.mapSigmas) ?? [Float](repeating: 0, count: shape.c)
        let plane = shape.h * shape.w
        for c in 0..<shape.c { (map + c * plane).update(repeating: sigmas[c] / 50, count: plane) }
    }
}
