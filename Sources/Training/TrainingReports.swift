import FileIO
import Foundation
import Models
import Tensor

/// What `latent train` shows of a run: one line and one JSON object per epoch, the checkpoint
/// beside the output, and the set-up steps both families share (resume, start from a file).
extension Checkpoint {
    /// NAME.safetensors → NAME.ckpt.safetensors (the file saved after every epoch).
    public static func path(for output: String) -> String {
        output.hasSuffix(".safetensors") ? String(output.dropLast(12)) + ".ckpt.safetensors" : output + ".ckpt"
    }

    /// The checkpoint a run resumes from, refused when there is none.
    static func existing(_ path: String?) throws -> String {
        let ckpt = path ?? ""
        guard FileManager.default.fileExists(atPath: ckpt) else { throw TrainingSetupError("\(ckpt): no checkpoint to resume from") }
        return ckpt
    }
}

/// A training set-up step that cannot go on (no checkpoint, a bad --init-from file), with the reason.
public struct TrainingSetupError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

func fmt4(_ v: Double) -> String { String(format: "%.4f", v) }

extension EpochReport {
    /// "epoch 3/50  train loss 101.234 (rec 75.1 + KL 26.1)  val loss 99.8  2.1 s  28000 img/s".
    public func line(epochs: Int, vae: Bool, heldOut: String) -> String {
        var line = String(format: "epoch %d/%d  train loss %.3f", epoch, epochs, trainLoss)
        if vae { line += String(format: " (rec %.3f + KL %.3f)", trainReconstruction, trainKL) }
        if let v = validationLoss { line += String(format: "  %@ loss %.3f", heldOut, v) }
        return line + String(format: "  %.1f s  %.0f img/s", seconds, imagesPerSecond)
    }

    public var json: String {
        "{\"epoch\":\(epoch),\"train_loss\":\(fmt4(trainLoss)),\"train_kl\":\(fmt4(trainKL)),"
            + "\"val_loss\":\(validationLoss.map(fmt4) ?? "null"),\"seconds\":\(fmt4(seconds)),\"images_per_s\":\(fmt4(imagesPerSecond))}"
    }
}

extension EpochReport {
    /// The line a terminal shows during an epoch: "epoch 3/50 [=====   ] loss 101.2  28000 img/s  ETA 0:02".
    public static func progressLine(epoch: Int, of epochs: Int, done: Int, total: Int, loss: Double, rate: Double) -> String {
        let eta = rate > 0 ? Double(total - done) / rate : 0
        let bar = String(repeating: "=", count: 24 * done / total) + String(repeating: " ", count: 24 - 24 * done / total)
        return String(format: "epoch %d/%d [%@] loss %.2f  %.0f img/s  ETA %@ ", epoch, epochs, bar, loss, rate, BatchSummary.clock(eta))
    }
}

extension Trainer {
    /// A trainer for `config`: resumed from the checkpoint (`options.checkpointPath`) or new.
    /// Returns what to tell the user.
    public static func start(config: ModelConfig, options: TrainingOptions, resume: Bool, seed: UInt64) throws -> (Trainer, String?) {
        guard resume else { return (Trainer(model: ModelFile.make(config, seed: seed), options: options), nil) }
        let ckpt = try Checkpoint.existing(options.checkpointPath)
        let t = try Checkpoint.resume(path: ckpt, config: config, options: options)
        return (t, "resuming after epoch \(t.completedEpochs) from \(ckpt)")
    }
}

extension PatchEpochReport {
    /// "epoch 3/80  loss 15.2  val PSNR(σ=25) 30.12 dB  180 s  16.6 patches/s" (the estimator: val σ error).
    public func line(epochs: Int, estimator: Bool) -> String {
        String(format: "epoch %d/%d  loss %.4f  %@ %@  %.0f s  %.1f patches/s", epoch, epochs, loss,
               estimator ? "val σ error" : "val PSNR(σ=25)",
               validation.map { String(format: estimator ? "%.3f" : "%.2f dB", $0) } ?? "-", seconds, patchesPerSecond)
    }

    public func json(estimator: Bool) -> String {
        "{\"epoch\":\(epoch),\"loss\":\(fmt4(loss)),\"\(estimator ? "val_sigma_error" : "val_psnr_25")\":\(validation.map(fmt4) ?? "null"),"
            + "\"seconds\":\(fmt4(seconds)),\"patches_per_s\":\(fmt4(patchesPerSecond))}"
    }
}

extension PatchTrainer {
    /// Before the first epoch: resume from the checkpoint (`resume`), or start from the weights
    /// of a model file (`initFrom`: a conv-dae's, or a noise estimator's from an estimator file or
    /// a colour model that bundles one). Returns what to tell the user.
    public func prepare(resume: Bool, initFrom: String?) throws -> String? {
        if resume {
            let ckpt = try Checkpoint.existing(options.checkpointPath)
            try self.resume(from: ckpt)
            return "resuming after epoch \(completedEpochs) from \(ckpt)"
        }
        if let initFrom {
            if let model = model as? ConvDenoiser {
                try model.initialise(from: initFrom)
            } else if let model = model as? NoiseMapEstimator {
                try model.initialise(from: initFrom)
            } else {
                preconditionFailure("--init-from is for a conv-dae or a noise-estimator")
            }
            return "starting from the weights of \(initFrom)"
        }
        return nil
    }

    /// Writes the trained model with its metadata and the training settings.
    public func save(to output: String) throws {
        var meta = model.metadata
        for (k, v) in options.metadata { meta[k] = v }
        try SafeTensors.write(model.exportTensors(), metadata: meta, to: output)
    }
}

extension Trainer {
    /// Writes the trained model with the training settings, the data's name and size, and the
    /// loss on the held-out images (test set, or validation split).
    public func save(to output: String, dataName: String, trainImages: Int, heldOut: Dataset?, heldOutIsTest: Bool, seed: UInt64) throws {
        var extra = options.metadata
        extra["train_data"] = dataName
        extra["train_images"] = "\(trainImages)"
        if let heldOut {
            var rng = Trainer.heldOutGenerator(seed: seed)
            let l = Evaluator.meanLoss(model, heldOut, rng: &rng)
            extra[heldOutIsTest ? "test_loss" : "val_loss"] = String(format: "%.3f", l.total)
            if model.config.kind == .vae { extra["test_kl"] = String(format: "%.3f", l.kl) }
        }
        try ModelFile.save(model, to: output, extra: extra)
    }
}
