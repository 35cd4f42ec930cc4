import CKernels
import NN
import Tensor

/// Deterministic autoencoders: plain (`ae`), denoising (`dae`) and sparse (`sparse`).
///
///     code  z = E(x̃)           x̃ = x, or corrupt(x) for a DAE (fresh noise every batch)
///     recon x̂ = σ(D(z))        Bernoulli decoder (logits → sigmoid), or D(z) for Gaussian
///     loss  L = Σ BCE(D(z), x)  (or ½‖D(z) − x‖²) against the CLEAN x,
///               + λ Σ|z|  (sparse, L1)  or  + β Σ_j KL(ρ ‖ ρ̂_j)  (sparse, KL on a sigmoid code)
///
/// Encoder: input → hidden... → latent (linear code; sigmoid for KL sparsity).
/// Decoder: latent → reversed hidden... → input. Tensors: encoder.{i}, decoder.{i}.
public final class Autoencoder: LatentModel {
    public let config: ModelConfig
    let encoder: Sequential
    let decoder: Sequential
    private let corrupted: Matrix
    private let dOut: Matrix
    private let outImage: Matrix
    private let rowBuffer: Matrix

    public convenience init(config: ModelConfig, seed: UInt64) {
        precondition(config.kind != .vae, "use VAE for kind vae")
        var rng = RandomGenerator(seed: seed)
        var codeAct: Activation = .identity
        if case .kl? = config.sparsity { codeAct = .sigmoid }
        let encoder = Sequential(mlp([config.inputSize] + config.hidden + [config.latent], activation: config.activation,
                                     last: codeAct, prefix: "encoder", firstNeedsInputGradient: false, rng: &rng))
        let decoder = Sequential(mlp([config.latent] + config.hidden.reversed() + [config.inputSize], activation: config.activation,
                                     last: .identity, prefix: "decoder", firstNeedsInputGradient: true, rng: &rng))
        self.init(config: config, encoder: encoder, decoder: decoder)
    }

    private init(config: ModelConfig, encoder: Sequential, decoder: Sequential) {
        self.config = config
        self.encoder = encoder
        self.decoder = decoder
        corrupted = Matrix(rows: 0, cols: config.inputSize)
        dOut = Matrix(rows: 0, cols: config.inputSize)
        outImage = Matrix(rows: 0, cols: config.inputSize)
        rowBuffer = Matrix(rows: 1, cols: 1)
    }

    public var parameters: [Parameter] { encoder.parameters + decoder.parameters }

    public var exactLayers: [Linear] { (encoder.layers + decoder.layers).compactMap { $0 as? Linear } }

    public func replica() -> LatentModel {
        Autoencoder(config: config, encoder: encoder.replica() as! Sequential, decoder: decoder.replica() as! Sequential)
    }

    /// Reconstruction loss and its gradient into dOut.
    private func reconstructionLoss(_ out: Matrix, _ x: Matrix, grad: Matrix?, rowLoss: UnsafeMutablePointer<Float>?) -> Double {
        decoderLoss(config.decoder, output: out, target: x, grad: grad, rowLoss: rowLoss)
    }

    public func trainStep(_ x: Matrix, rng: inout RandomGenerator) -> StepLosses {
        var input = x
        if config.kind == .dae, let noise = config.noise {
            corrupted.setRows(x.rows)
            noise.apply(x.data, corrupted.data, count: x.count, rng: &rng)
            input = corrupted
        }
        let z = encoder.forward(input)
        let out = decoder.forward(z)
        var losses = StepLosses()
        losses.reconstruction = reconstructionLoss(out, x, grad: dOut, rowLoss: nil)
        guard let dz = decoder.backward(dOut) else { fatalError("decoder must return dz") }
        if config.kind == .sparse, let sparsity = config.sparsity {
            losses.penalty = Self.addSparsityGradient(sparsity, z: z, dz: dz)
        }
        _ = encoder.backward(dz)
        losses.total = losses.reconstruction + losses.penalty
        return losses
    }

    /// Adds the penalty's gradient to dz; returns the penalty.
    static func addSparsityGradient(_ s: Sparsity, z: Matrix, dz: Matrix) -> Double {
        switch s {
        case .l1(let w):
            var total = 0.0
            for i in 0..<z.count {
                let v = z.data[i]
                total += Double(abs(v))
                dz.data[i] += v > 0 ? w : (v < 0 ? -w : 0)
            }
            return Double(w) * total
        case .kl(let rho, let w):
            let b = z.rows, k = z.cols
            var total = 0.0
            for j in 0..<k {
                var mean: Float = 0
                for r in 0..<b { mean += z[r, j] }
                mean = min(max(mean / Float(b), 1e-6), 1 - 1e-6)
                total += Double(rho * logf(rho / mean) + (1 - rho) * logf((1 - rho) / (1 - mean)))
                let g = w * (-rho / mean + (1 - rho) / (1 - mean)) / Float(b)
                for r in 0..<b { dz[r, j] += g }
            }
            return Double(w) * total
        }
    }

    public func evaluate(_ x: Matrix, rng: inout RandomGenerator, rowLoss: UnsafeMutablePointer<Float>?) -> StepLosses {
        var input = x
        if config.kind == .dae, let noise = config.noise {
            corrupted.setRows(x.rows)
            noise.apply(x.data, corrupted.data, count: x.count, rng: &rng)
            input = corrupted
        }
        let out = decoder.forward(encoder.forward(input))
        var l = StepLosses()
        l.reconstruction = reconstructionLoss(out, x, grad: nil, rowLoss: rowLoss)
        l.total = l.reconstruction
        return l
    }

    public func encode(_ x: Matrix) -> Matrix { encoder.forward(x) }

    public func decode(_ z: Matrix) -> Matrix {
        let out = decoder.forward(z)
        outImage.setRows(out.rows)
        switch config.decoder {
        case .bernoulli: lk_sigmoid(out.data, outImage.data, out.count)
        case .gaussian: for i in 0..<out.count { outImage.data[i] = min(1, max(0, out.data[i])) }
        }
        return outImage
    }

    var namedLayers: [(Linear, String)] {
        encoder.layers.map { ($0 as! Linear, ($0 as! Linear).weight.name.replacingSuffix(".weight")) }
            + decoder.layers.map { ($0 as! Linear, ($0 as! Linear).weight.name.replacingSuffix(".weight")) }
    }

    public func exportTensors() -> [NamedTensor] {
        parameters.map { NamedTensor(name: $0.name, shape: $0.shape, values: $0.value.array) }
    }

    public func importTensors(_ tensors: [String: NamedTensor], file: String) throws {
        try load(namedLayers, from: tensors, file: file)
    }
}

extension String {
    func replacingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}

#if canImport(Glibc)
import Glibc
#endif
