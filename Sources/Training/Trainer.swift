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

    public init(epochs: Int = 10, batch: Int = 128, learningRate: Float = 1e-3, seed: UInt64 = 1, checkpointPath: String? = nil) {
        self.epochs = epochs
        self.batch = batch
        self.learningRate = learningRate
        self.seed = seed
        self.checkpointPath = checkpointPath
    }

    public var metadata: [String: String] {
        ["train_epochs": "\(epochs)", "train_batch": "\(batch)", "train_lr": "\(learningRate)", "train_seed": "\(seed)",
         "train_optimizer": "adam"]
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
    public let model: LatentModel
    public let optimizer: Adam
    public let options: TrainingOptions
    public private(set) var completedEpochs = 0

    public init(model: LatentModel, options: TrainingOptions) {
        self.model = model
        self.options = options
        optimizer = Adam(learningRate: options.learningRate)
    }

    static func epochGenerator(seed: UInt64, epoch: Int) -> RandomGenerator {
        RandomGenerator(seed: seed &+ UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15)
    }

    /// Trains from `completedEpochs + 1` to `options.epochs`.
    public func run(train: Dataset, validation: Dataset?, progress: (TrainingEvent) -> Void) throws {
        precondition(train.dim == model.config.inputSize, "dataset images have \(train.dim) values, the model takes \(model.config.inputSize)")
        let n = train.count
        let b = max(1, min(options.batch, n))
        let batch = Matrix(rows: b, cols: train.dim)
        let params = model.parameters
        guard completedEpochs < options.epochs else { return }
        for epoch in (completedEpochs + 1)...options.epochs {
            var rng = Self.epochGenerator(seed: options.seed, epoch: epoch)
            var order = Array(0..<n)
            order.shuffle(using: &rng)
            var sums = StepLosses()
            let start = Date()
            var lastReport = start
            train.data.withUnsafeBufferPointer { src in
                var i = 0
                while i < n {
                    let rows = min(b, n - i)
                    batch.setRows(rows)
                    for r in 0..<rows {
                        (batch.data + r * train.dim).update(from: src.baseAddress! + order[i + r] * train.dim, count: train.dim)
                    }
                    sums += model.trainStep(batch, rng: &rng)
                    optimizer.step(params)
                    i += rows
                    let now = Date()
                    if now.timeIntervalSince(lastReport) > 0.2 || i == n {
                        lastReport = now
                        let secs = now.timeIntervalSince(start)
                        progress(.batch(epoch: epoch, done: i, total: n, lossPerImage: sums.total / Double(i),
                                        imagesPerSecond: secs > 0 ? Double(i) / secs : 0))
                    }
                }
            }
            let seconds = Date().timeIntervalSince(start)
            if sums.total.isNaN { throw TrainingError.diverged(epoch: epoch) }
            var valLoss: Double?
            if let validation, validation.count > 0 {
                var vrng = RandomGenerator(seed: options.seed ^ 0xE7A1)
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
        case .diverged(let e): return "training diverged (loss is NaN) in epoch \(e); try a lower --lr"
        case .checkpointMismatch(let f, let r): return "\(f): cannot resume: \(r)"
        }
    }
}

/// Checkpoints: the model's tensors, Adam's moments (`optim.m.NAME`, `optim.v.NAME`) and the epoch,
/// in one safetensors file written atomically after every epoch.
public enum Checkpoint {
    public static func save(_ t: Trainer, to path: String) throws {
        var tensors = t.model.exportTensors()
        for p in t.model.parameters {
            if let s = t.optimizer.state[p.name] {
                tensors.append(NamedTensor(name: "optim.m." + p.name, shape: [p.count], values: s.m.array))
                tensors.append(NamedTensor(name: "optim.v." + p.name, shape: [p.count], values: s.v.array))
            }
        }
        var meta = t.model.config.metadata
        for (k, v) in t.options.metadata { meta[k] = v }
        meta["checkpoint_epoch"] = "\(t.completedEpochs)"
        meta["adam_t"] = "\(t.optimizer.t)"
        try SafeTensors.write(tensors, metadata: meta, to: path)
    }

    /// Loads a checkpoint into a trainer for `config` (which must match the checkpoint's).
    public static func resume(path: String, config: ModelConfig, options: TrainingOptions) throws -> Trainer {
        let (tensors, meta) = try SafeTensors.read(path: path)
        let saved = try ModelConfig(metadata: meta, file: path)
        guard saved == config else {
            throw TrainingError.checkpointMismatch(file: path, reason: "it holds a \(saved.kind.rawValue) \(saved.architecture) model, not \(config.kind.rawValue) \(config.architecture) with these settings")
        }
        if let s = meta["train_seed"], s != "\(options.seed)" {
            throw TrainingError.checkpointMismatch(file: path, reason: "it was trained with --seed \(s)")
        }
        guard let epoch = Int(meta["checkpoint_epoch"] ?? ""), let adamT = Int(meta["adam_t"] ?? "") else {
            throw ModelFileError.badMetadata(file: path, reason: "not a checkpoint (no checkpoint_epoch / adam_t)")
        }
        let model = ModelFile.make(config, seed: options.seed)
        try model.importTensors(tensors.filter { !$0.key.hasPrefix("optim.") }, file: path)
        var state: [String: (m: [Float], v: [Float])] = [:]
        for p in model.parameters {
            if let m = tensors["optim.m." + p.name], let v = tensors["optim.v." + p.name], m.values.count == p.count, v.values.count == p.count {
                state[p.name] = (m.values, v.values)
            }
        }
        let trainer = Trainer(model: model, options: options)
        trainer.restore(epoch: epoch, adamT: adamT, state: state)
        return trainer
    }
}
