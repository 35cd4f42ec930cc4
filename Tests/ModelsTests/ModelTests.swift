import Foundation
import Testing
@testable import Models
@testable import NN
import Tensor
@testable import Training
import TestSupport

/// 8x8 images of bars and blobs: structured, so a small model can learn them.
func syntheticDataset(count: Int, seed: UInt64) -> Dataset {
    var rng = RandomGenerator(seed: seed)
    var data: [Float] = []
    for _ in 0..<count {
        let row = Int(rng.uniform() * 8), col = Int(rng.uniform() * 8)
        let bright = 0.5 + 0.5 * rng.uniform()
        for y in 0..<8 {
            for x in 0..<8 {
                var v: Float = 0
                if y == row { v = bright }
                if x == col { v = max(v, bright * 0.8) }
                data.append(v)
            }
        }
    }
    return Dataset(width: 8, height: 8, channels: 1, data: data)
}

func batchMatrix(_ d: Dataset, _ n: Int) -> Matrix {
    Matrix(rows: n, cols: d.dim, values: Array(d.data[0..<(n * d.dim)]))
}

struct ModelGradientTests {
    static let configs: [ModelConfig] = [
        ModelConfig(kind: .vae, width: 8, height: 8, hidden: [10], latent: 3),
        ModelConfig(kind: .vae, width: 8, height: 8, hidden: [12, 7], latent: 2, activation: .tanh, decoder: .gaussian, beta: 3),
        ModelConfig(kind: .ae, width: 8, height: 8, hidden: [9], latent: 4, activation: .leakyRelu(0.1)),
        ModelConfig(kind: .dae, width: 8, height: 8, hidden: [9], latent: 4, noise: .gaussian(sigma: 0.3)),
        ModelConfig(kind: .dae, width: 8, height: 8, hidden: [9], latent: 4, noise: .mask(p: 0.3)),
        ModelConfig(kind: .sparse, width: 8, height: 8, hidden: [9], latent: 5, sparsity: .l1(weight: 0.1)),
        ModelConfig(kind: .sparse, width: 8, height: 8, hidden: [9], latent: 5, activation: .sigmoid, sparsity: .kl(target: 0.1, weight: 2)),
    ]

    /// The whole model's backward (reparameterisation, KL, penalties, fused heads) against
    /// central differences of its loss, with the same noise for every evaluation.
    @Test(arguments: configs)
    func wholeModelGradient(_ config: ModelConfig) {
        let model = ModelFile.make(config, seed: 4)
        let x = batchMatrix(syntheticDataset(count: 6, seed: 9), 6)
        func loss() -> Double {
            var rng = RandomGenerator(seed: 77)
            let l = model.trainStep(x, rng: &rng).total
            for p in model.parameters { p.zeroGrad() }
            return l
        }
        for p in model.parameters { p.zeroGrad() }
        var rng = RandomGenerator(seed: 77)
        _ = model.trainStep(x, rng: &rng)
        let analytic = model.parameters.map { $0.grad.array }
        for p in model.parameters { p.zeroGrad() }
        var worst = 0.0
        var checked = 0
        let h: Float = 2e-3
        for (pi, p) in model.parameters.enumerated() {
            // A spread of entries in every parameter.
            for i in stride(from: 0, to: p.count, by: max(1, p.count / 7)) {
                let old = p.value.data[i]
                p.value.data[i] = old + h
                let up = loss()
                p.value.data[i] = old - h
                let down = loss()
                p.value.data[i] = old
                let numeric = (up - down) / (2 * Double(h))
                let a = Double(analytic[pi][i])
                worst = max(worst, abs(a - numeric) / max(1, abs(a) + abs(numeric)))
                checked += 1
            }
        }
        #expect(checked > 20)
        #expect(worst < 2e-2, "largest relative difference \(worst) for \(config.kind) \(config.architecture)")
    }
}

extension ModelConfig: CustomTestStringConvertible {
    public var testDescription: String { "\(kind.rawValue) \(architecture) \(decoder.rawValue)\(sparsity.map { " \($0)" } ?? "")\(noise.map { " \($0)" } ?? "")" }
}

struct LearningTests {
    @Test(arguments: [ModelKind.ae, .dae, .sparse, .vae])
    func lossFallsWellBelowItsStart(_ kind: ModelKind) throws {
        let data = syntheticDataset(count: 512, seed: 1)
        let config = ModelConfig(kind: kind, width: 8, height: 8, hidden: [32], latent: 6,
                                 noise: kind == .dae ? .gaussian(sigma: 0.2) : nil,
                                 sparsity: kind == .sparse ? .l1(weight: 1e-3) : nil)
        let model = ModelFile.make(config, seed: 1)
        var rng = RandomGenerator(seed: 5)
        let before = Evaluator.meanLoss(model, data, rng: &rng).total
        let trainer = Trainer(model: model, options: TrainingOptions(epochs: 15, batch: 32, learningRate: 3e-3, seed: 2))
        var reports: [EpochReport] = []
        try trainer.run(train: data, validation: nil) { if case .epoch(let r) = $0 { reports.append(r) } }
        var rng2 = RandomGenerator(seed: 5)
        let after = Evaluator.meanLoss(model, data, rng: &rng2).total
        #expect(reports.count == 15)
        #expect(after < 0.6 * before, "\(kind): loss \(before) → \(after)")
    }

    @Test func resumeGivesTheSameParametersAsAnUninterruptedRun() throws {
        let dir = makeTempDir("resume")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let data = syntheticDataset(count: 200, seed: 3)
        let config = ModelConfig(kind: .vae, width: 8, height: 8, hidden: [16], latent: 3)
        let full = Trainer(model: ModelFile.make(config, seed: 7), options: TrainingOptions(epochs: 4, batch: 32, seed: 7))
        try full.run(train: data, validation: nil) { _ in }

        // "Killed" after 2 epochs: only the checkpoint survives.
        let ckpt = dir + "/m.ckpt.safetensors"
        let first = Trainer(model: ModelFile.make(config, seed: 7), options: TrainingOptions(epochs: 2, batch: 32, seed: 7, checkpointPath: ckpt))
        try first.run(train: data, validation: nil) { _ in }
        let resumed = try Checkpoint.resume(path: ckpt, config: config, options: TrainingOptions(epochs: 4, batch: 32, seed: 7, checkpointPath: ckpt))
        #expect(resumed.completedEpochs == 2)
        try resumed.run(train: data, validation: nil) { _ in }
        for (a, b) in zip(full.model.parameters, resumed.model.parameters) {
            #expect(a.value.array == b.value.array, "\(a.name) differs after resuming")
        }
    }

    @Test func resumeRefusesAnotherArchitecture() throws {
        let dir = makeTempDir("resume2")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let data = syntheticDataset(count: 64, seed: 3)
        let config = ModelConfig(kind: .vae, width: 8, height: 8, hidden: [16], latent: 3)
        let ckpt = dir + "/m.ckpt.safetensors"
        try Trainer(model: ModelFile.make(config, seed: 1), options: TrainingOptions(epochs: 1, batch: 32, checkpointPath: ckpt))
            .run(train: data, validation: nil) { _ in }
        var other = config
        other.latent = 4
        #expect(throws: TrainingError.self) {
            try Checkpoint.resume(path: ckpt, config: other, options: TrainingOptions(epochs: 2, batch: 32))
        }
    }
}

struct IWAETests {
    @Test func importanceSamplingTightensTheBound() throws {
        let data = syntheticDataset(count: 300, seed: 4)
        let config = ModelConfig(kind: .vae, width: 8, height: 8, hidden: [24], latent: 3)
        let model = ModelFile.make(config, seed: 3) as! VAE
        try Trainer(model: model, options: TrainingOptions(epochs: 5, batch: 32, learningRate: 3e-3)).run(train: data, validation: nil) { _ in }
        let test = data.prefix(100)
        var r1 = RandomGenerator(seed: 1), r2 = RandomGenerator(seed: 1), r3 = RandomGenerator(seed: 1)
        let elbo = -Evaluator.meanLoss(model, test, rng: &r1).total
        let k1 = Evaluator.iwae(model, test, samples: 1, rng: &r2)
        let k100 = Evaluator.iwae(model, test, samples: 100, rng: &r3)
        // K = 1 is an ELBO estimate; more samples give a higher (tighter) bound.
        #expect(abs(k1 - elbo) < 0.05 * abs(elbo) + 1)
        #expect(k100 > k1)
    }

    @Test func medianFilterRemovesSaltAndPepper() {
        var img = [Float](repeating: 0.5, count: 25)
        img[12] = 1
        var out = [Float](repeating: 0, count: 25)
        Evaluator.median3x3(img, &out, width: 5, height: 5, planes: 1)
        #expect(out.allSatisfy { $0 == 0.5 })
        let a: [Float] = [0, 0, 0, 0], b: [Float] = [0.1, 0.1, 0.1, 0.1]
        #expect(abs(Evaluator.psnr(a, b, images: 1, dim: 4) - 20) < 1e-6)
    }
}
