import CKernels
import Dispatch
import Foundation
import Models
import NN
import Tensor

/// Settings of a training run (recorded in the model file).
public struct TrainingOptions: Sendable {
    public var epochs: Int = 10
    public var batch: Int = 128
    public var learningRate: Float = 1e-3
    public var seed: UInt64 = 1
    /// Where to save a checkpoint after every epoch (nil: none).
    public var checkpointPath: String?
    /// Data-parallel workers: each batch is split into this many shards that run at once on
    /// model replicas (one BLAS thread each); their gradients are summed before the Adam step.
    /// Results depend on the worker count (each worker draws its own noise), not on timing.
    public var workers: Int = 1

    public init(epochs: Int = 10, batch: Int = 128, learningRate: Float = 1e-3, seed: UInt64 = 1, checkpointPath: String? = nil,
                workers: Int = 1) {
        self.epochs = epochs
        self.batch = batch
        self.learningRate = learningRate
        self.seed = seed
        self.checkpointPath = checkpointPath
        self.workers = workers
    }

    public var metadata: [String: String] {
        ["train_epochs": "\(epochs)", "train_batch": "\(batch)", "train_lr": "\(learningRate)", "train_seed": "\(seed)",
         "train_optimizer": "adam", "train_workers": "\(workers)"]
    }
}

/// One epoch's figures (losses per image).
public struct EpochReport: Sendable {
    public var epoch: Int
    public var trainLoss: Double
    public var trainReconstruction: Double
    public var trainKL: Double
    public var validationLoss: Double?
    public var seconds: Double
    public var imagesPerSecond: Double
}

/// What the trainer reports while it runs.
public enum TrainingEvent: Sendable {
    case batch(epoch: Int, done: Int, total: Int, lossPerImage: Double, imagesPerSecond: Double)
    case epoch(EpochReport)
}

/// Mini-batch training with Adam. Each epoch draws its shuffle and its noise from a generator
/// seeded by (seed, epoch), so a run resumed from the checkpoint of epoch e continues exactly as
/// the uninterrupted run would have.
public final class Trainer {
    /// The generator of the held-out loss (the VAE's samples, the corruption): one seed per run,
    /// so each epoch's validation loss and the saved model's are measured on the same draws.
    static func heldOutGenerator(seed: UInt64) -> RandomGenerator { RandomGenerator(seed: seed ^ 0xE7A1) }

    public let model: LatentModel
    public let optimizer: Adam
    public let options: TrainingOptions
    public private(set) var completedEpochs = 0

    public init(model: LatentModel, options: TrainingOptions) {
        self.model = model
        self.options = options
        optimizer = Adam(learningRate: options.learningRate)
    }

    /// Trains from `completedEpochs + 1` to `options.epochs` (`TrainingLoop`: data-parallel
    /// replicas, one generator per worker and epoch; the epoch's shuffle from worker 0's).
    public func run(train: Dataset, validation: Dataset?, progress: (TrainingEvent) -> Void) throws {
        precondition(train.dim == model.config.inputSize, "dataset images have \(train.dim) values, the model takes \(model.config.inputSize)")
        let n = train.count, dim = train.dim
        let b = max(1, min(options.batch, n))
        let w = max(1, min(options.workers, b))
        let replicas = [model] + (1..<max(1, w)).map { _ in model.replica() }
        let shards = replicas.map { _ in Matrix(rows: 0, cols: dim) }
        let loop = TrainingLoop(optimizer: optimizer, params: model.parameters, replicaParams: replicas.map(\.parameters))
        guard completedEpochs < options.epochs else { return }
        for epoch in (completedEpochs + 1)...options.epochs {
            var order = Array(0..<n)
            let start = Date()
            var lastReport = start
            let steps = (n + b - 1) / b
            let sums = try train.data.withUnsafeBufferPointer { src in
                try loop.epoch(epoch, seed: options.seed, steps: steps, prepare: { order.shuffle(using: &$0) }, work: { step, k, rng in
                    let first = step * b, rows = min(b, n - first)
                    let lo = rows * k / w, hi = rows * (k + 1) / w
                    guard hi > lo else { return StepLosses() }
                    let m = shards[k]
                    m.setRows(hi - lo)
                    for r in lo..<hi { (m.data + (r - lo) * dim).update(from: src.baseAddress! + order[first + r] * dim, count: dim) }
                    return replicas[k].trainStep(m, rng: &rng)
                }, afterStep: { step, sums in
                    let now = Date(), done = min(n, (step + 1) * b)
                    guard now.timeIntervalSince(lastReport) > 0.2 || done == n else { return }
                    lastReport = now
                    let secs = now.timeIntervalSince(start)
                    progress(.batch(epoch: epoch, done: done, total: n, lossPerImage: sums.total / Double(done), imagesPerSecond: secs > 0 ? Double(done) / secs : 0))
                })
            }
            let seconds = Date().timeIntervalSince(start)
            var valLoss: Double?
            if let validation, validation.count > 0 {
                var vrng = Trainer.heldOutGenerator(seed: options.seed)
                valLoss = Evaluator.meanLoss(model, validation, batch: 500, rng: &vrng).total
            }
            completedEpochs = epoch
            if let path = options.checkpointPath { try Checkpoint.save(self, to: path) }
            progress(.epoch(EpochReport(epoch: epoch, trainLoss: sums.total / Double(n),
                                        trainReconstruction: sums.reconstruction / Double(n), trainKL: sums.kl / Double(n),
                                        validationLoss: valLoss, seconds: seconds, imagesPerSecond: Double(n) / seconds)))
        }
    }

    /// Sets the epoch count and optimizer state from a checkpoint.
    func restore(epoch: Int, adamT: Int, state: [String: (m: [Float], v: [Float])]) {
        completedEpochs = epoch
        optimizer.restore(t: adamT, state: state)
    }
}

public enum TrainingError: Error, CustomStringConvertible, Equatable {
    case diverged(epoch: Int)
    case checkpointMismatch(file: String, reason: String)

    public var description: String {
        switch self {
        case .diverged(let e): return "training diverged (loss is NaN) in epoch \(e); try a lower learning rate"
        case .checkpointMismatch(let f, let r): return "\(f): cannot resume: \(r)"
        }
    }
}

/// Checkpoints: the model's tensors, Adam's moments (`optim.m.NAME`, `optim.v.NAME`) and the epoch,
/// in one safetensors file written atomically after every epoch.
public enum Checkpoint {
    public static func save(_ t: Trainer, to path: String) throws {
        var meta = t.model.config.metadata
        for (k, v) in t.options.metadata { meta[k] = v }
        try TrainingLoop.writeCheckpoint(t.model.exportTensors(), params: t.model.parameters, optimizer: t.optimizer, epoch: t.completedEpochs,
                                         metadata: meta, to: path)
    }

    /// Loads a checkpoint into a trainer for `config` (which must match the checkpoint's).
    public static func resume(path: String, config: ModelConfig, options: TrainingOptions) throws -> Trainer {
        let (tensors, meta) = try SafeTensors.read(path: path)
        let saved = try ModelConfig(metadata: meta, file: path)
        guard saved == config else {
            throw TrainingError.checkpointMismatch(file: path, reason: "it holds a \(saved.kind.rawValue) \(saved.architecture) model, not \(config.kind.rawValue) \(config.architecture) with these settings")
        }
        if let s = meta["train_seed"], s != "\(options.seed)" {
            throw TrainingError.checkpointMismatch(file: path, reason: "it was trained with seed \(s)")
        }
        guard let epoch = Int(meta["checkpoint_epoch"] ?? ""), let adamT = Int(meta["adam_t"] ?? "") else {
            throw ModelFileError.badMetadata(file: path, reason: "not a checkpoint (no checkpoint_epoch / adam_t)")
        }
        let model = ModelFile.make(config, seed: options.seed)
        try model.importTensors(tensors.filter { !$0.key.hasPrefix("optim.") }, file: path)
        let trainer = Trainer(model: model, options: options)
        trainer.restore(epoch: epoch, adamT: adamT, state: TrainingLoop.optimizerState(tensors, params: model.parameters))
        return trainer
    }
}

/// Adds the gradients of replicas 1... (`replicaParams[r]`, parallel to `params`) into `params`
/// and clears them; the `part`-th of `parts` workers takes that slice of every parameter.
func sumReplicaGradients(into params: [Parameter], from replicaParams: [[Parameter]], part: Int, of parts: Int) {
    for (j, p) in params.enumerated() {
        let lo = p.count * part / parts, hi = p.count * (part + 1) / parts
        guard hi > lo else { continue }
        for r in 1..<replicaParams.count {
            let g = replicaParams[r][j].grad.data
            lk_axpy(p.grad.data + lo, g + lo, 1, hi - lo)
            (g + lo).update(repeating: 0, count: hi - lo)
        }
    }
}

