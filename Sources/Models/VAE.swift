import CKernels
import NN
import Tensor

/// Variational autoencoder (Kingma & Welling 2014).
///
///     q(z|x) = N(μ(x), diag σ²(x)),  [μ | log σ²] = heads(E(x))      (one fused Linear, 2·latent outputs)
///     z = μ + σ ⊙ ε,  ε ~ N(0, I)                                   (reparameterisation)
///     p(x|z) = Bernoulli(σ(D(z)))  (or N(D(z), I) with the Gaussian decoder)
///     loss = −ELBO = −log p(x|z) + β·KL(q(z|x) ‖ N(0, I)),  KL = −½ Σ (1 + log σ² − μ² − σ²)
///
/// β = 1 is the VAE; β > 1 a β-VAE. File tensors: encoder.{i}, mu, logvar, decoder.{i}, output
/// (the classic PyTorch example's fc1, fc21, fc22, fc3, fc4 are accepted as aliases).
public final class VAE: LatentModel {
    public let config: ModelConfig
    let encoder: Sequential
    /// μ and log σ² in one GEMM: rows 0..<latent are μ, rows latent..<2·latent are log σ².
    let heads: Linear
    let decoder: Sequential
    let output: Linear
    private let eps: Matrix
    private let z: Matrix
    private let dOut: Matrix
    private let dStats: Matrix
    private let outImage: Matrix
    private let meanCode: Matrix

    public convenience init(config: ModelConfig, seed: UInt64) {
        precondition(config.kind == .vae, "VAE needs kind vae")
        var rng = RandomGenerator(seed: seed)
        let h = config.hidden.last ?? config.inputSize
        let encoder = Sequential(config.hidden.isEmpty ? [ActivationLayer(.identity, features: config.inputSize)]
            : mlp([config.inputSize] + config.hidden, activation: config.activation, last: config.activation,
                  prefix: "encoder", firstNeedsInputGradient: false, rng: &rng))
        // PyTorch initialises fc21 and fc22 separately with the same bound; so do we, row-wise.
        let heads = Linear(h, 2 * config.latent, name: "heads", rng: &rng)
        let decSizes = [config.latent] + config.hidden.reversed()
        let dec = decSizes.count > 1 ? mlp(decSizes, activation: config.activation, last: config.activation,
                                            prefix: "decoder", firstNeedsInputGradient: true, rng: &rng) : []
        let decoder = Sequential(dec.isEmpty ? [ActivationLayer(.identity, features: config.latent)] : dec)
        let output = Linear(decSizes.last!, config.inputSize, name: "output", rng: &rng)
        self.init(config: config, encoder: encoder, heads: heads, decoder: decoder, output: output)
    }

    private init(config: ModelConfig, encoder: Sequential, heads: Linear, decoder: Sequential, output: Linear) {
        self.config = config
        self.encoder = encoder
        self.heads = heads
        self.decoder = decoder
        self.output = output
        eps = Matrix(rows: 0, cols: config.latent)
        z = Matrix(rows: 0, cols: config.latent)
        dOut = Matrix(rows: 0, cols: config.inputSize)
        dStats = Matrix(rows: 0, cols: 2 * config.latent)
        outImage = Matrix(rows: 0, cols: config.inputSize)
        meanCode = Matrix(rows: 0, cols: config.latent)
    }

    public var parameters: [Parameter] { encoder.parameters + heads.parameters + decoder.parameters + output.parameters }

    public var exactLayers: [Linear] { (encoder.layers + [heads] + decoder.layers + [output]).compactMap { $0 as? Linear } }

    public func replica() -> LatentModel {
        VAE(config: config, encoder: encoder.replica() as! Sequential, heads: heads.replica() as! Linear,
            decoder: decoder.replica() as! Sequential, output: output.replica() as! Linear)
    }

    /// [μ | log σ²] for a batch: (batch, 2·latent).
    public func posterior(_ x: Matrix) -> Matrix { heads.forward(encoder.forward(x)) }

    /// Decoder logits (or Gaussian means) for codes.
    public func decoderOutput(_ z: Matrix) -> Matrix { output.forward(decoder.forward(z)) }

    private func reconstructionLoss(_ out: Matrix, _ x: Matrix, grad: Matrix?, rowLoss: UnsafeMutablePointer<Float>?) -> Double {
        decoderLoss(config.decoder, output: out, target: x, grad: grad, rowLoss: rowLoss)
    }

    private func fillNormal(_ m: Matrix, rows: Int, rng: inout RandomGenerator) {
        m.setRows(rows)
        for i in 0..<m.count { m.data[i] = rng.normal() }
    }

    public func trainStep(_ x: Matrix, rng: inout RandomGenerator) -> StepLosses {
        let stats = posterior(x)                       // (n, 2·latent)
        fillNormal(eps, rows: x.rows, rng: &rng)       // ε ~ N(0, I)
        var l = StepLosses()
        l.kl = Loss.gaussianSample(stats: stats, eps: eps, z: z)   // z = μ + σ ε
        let out = decoderOutput(z)                     // logits (n, input)
        l.reconstruction = reconstructionLoss(out, x, grad: dOut, rowLoss: nil)
        l.total = l.reconstruction + Double(config.beta) * l.kl
        guard let dh = output.backward(dOut), let dz = decoder.backward(dh) else { fatalError("decoder must return dz") }
        Loss.gaussianSampleBackward(stats: stats, eps: eps, dz: dz, dStats: dStats, beta: config.beta)
        if let dEnc = heads.backward(dStats) { _ = encoder.backward(dEnc) }
        return l
    }

    public func evaluate(_ x: Matrix, rng: inout RandomGenerator, rowLoss: UnsafeMutablePointer<Float>?) -> StepLosses {
        let stats = posterior(x)
        fillNormal(eps, rows: x.rows, rng: &rng)
        var l = StepLosses()
        var rowKL = [Float](repeating: 0, count: x.rows)
        l.kl = Loss.gaussianSample(stats: stats, eps: eps, z: z, rowKL: &rowKL)
        l.reconstruction = reconstructionLoss(decoderOutput(z), x, grad: nil, rowLoss: rowLoss)
        l.total = l.reconstruction + Double(config.beta) * l.kl
        if let rowLoss { for r in 0..<x.rows { rowLoss[r] += config.beta * rowKL[r] } }
        return l
    }

    public func encode(_ x: Matrix) -> Matrix {
        let stats = posterior(x)
        meanCode.setRows(x.rows)
        for r in 0..<x.rows { (meanCode.data + r * config.latent).update(from: stats.data + r * 2 * config.latent, count: config.latent) }
        return meanCode
    }

    public func decode(_ z: Matrix) -> Matrix {
        let out = decoderOutput(z)
        outImage.setRows(out.rows)
        switch config.decoder {
        case .bernoulli: lk_sigmoid(out.data, outImage.data, out.count)
        case .gaussian: for i in 0..<out.count { outImage.data[i] = min(1, max(0, out.data[i])) }
        }
        return outImage
    }

    public func exportTensors() -> [NamedTensor] {
        var out: [NamedTensor] = []
        for layer in encoder.layers.compactMap({ $0 as? Linear }) {
            out += [layer.weight, layer.bias].map { NamedTensor(name: $0.name, shape: $0.shape, values: $0.value.array) }
        }
        let k = config.latent, h = heads.inFeatures
        let w = heads.weight.value.array, b = heads.bias.value.array
        out.append(NamedTensor(name: "mu.weight", shape: [k, h], values: Array(w[0..<(k * h)])))
        out.append(NamedTensor(name: "mu.bias", shape: [k], values: Array(b[0..<k])))
        out.append(NamedTensor(name: "logvar.weight", shape: [k, h], values: Array(w[(k * h)...])))
        out.append(NamedTensor(name: "logvar.bias", shape: [k], values: Array(b[k...])))
        for layer in decoder.layers.compactMap({ $0 as? Linear }) + [output] {
            out += [layer.weight, layer.bias].map { NamedTensor(name: $0.name, shape: $0.shape, values: $0.value.array) }
        }
        return out
    }

    /// The classic PyTorch example's names, for one hidden layer.
    static let pytorchAliases = ["fc1": "encoder.0", "fc21": "mu", "fc22": "logvar", "fc3": "decoder.0", "fc4": "output"]

    public func importTensors(_ tensors: [String: NamedTensor], file: String) throws {
        var t = tensors
        if t["fc1.weight"] != nil {
            t = [:]
            for (name, v) in tensors {
                let parts = name.split(separator: ".", maxSplits: 1).map(String.init)
                let base = Self.pytorchAliases[parts[0]] ?? parts[0]
                let renamed = parts.count > 1 ? base + "." + parts[1] : base
                t[renamed] = NamedTensor(name: renamed, shape: v.shape, values: v.values)
            }
        }
        let k = config.latent, h = heads.inFeatures
        for (name, shape) in [("mu.weight", [k, h]), ("mu.bias", [k]), ("logvar.weight", [k, h]), ("logvar.bias", [k])] {
            guard let v = t[name] else { throw ModelFileError.missingTensor(file: file, tensor: name) }
            guard v.shape == shape else { throw ModelFileError.wrongShape(file: file, tensor: name, expected: shape, found: v.shape) }
        }
        heads.weight.value.copy(from: t["mu.weight"]!.values + t["logvar.weight"]!.values)
        heads.bias.value.copy(from: t["mu.bias"]!.values + t["logvar.bias"]!.values)
        for n in ["mu.weight", "mu.bias", "logvar.weight", "logvar.bias"] { t[n] = nil }
        let layers = (encoder.layers + decoder.layers).compactMap { $0 as? Linear } + [output]
        try load(layers.map { ($0, $0.weight.name.replacingSuffix(".weight")) }, from: t, file: file)
    }
}
