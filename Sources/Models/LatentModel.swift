import NN
import Tensor

/// Summed losses over a batch.
public struct StepLosses: Sendable {
    /// reconstruction + β·KL + penalty: what is minimised.
    public var total: Double = 0
    /// −log p(x | z) summed (cross-entropy, or ½·squared error).
    public var reconstruction: Double = 0
    /// KL(q(z|x) ‖ p(z)) summed (VAE only).
    public var kl: Double = 0
    /// Sparsity penalty (sparse AE only).
    public var penalty: Double = 0

    public init() {}

    public static func += (a: inout StepLosses, b: StepLosses) {
        a.total += b.total
        a.reconstruction += b.reconstruction
        a.kl += b.kl
        a.penalty += b.penalty
    }
}

/// What every trained model offers. Inputs and outputs are rows of `config.inputSize` values in
/// [0, 1] (channel-major planes for colour). Returned matrices belong to the model and are
/// valid until its next call.
public protocol LatentModel: AnyObject {
    var config: ModelConfig { get }
    /// Parameters in training order (internal names).
    var parameters: [Parameter] { get }
    /// Forward, loss and backward on a batch; gradients are accumulated into the parameters.
    func trainStep(_ x: Matrix, rng: inout RandomGenerator) -> StepLosses
    /// Loss on a batch without touching gradients (a VAE still samples z, as its ELBO does).
    /// `rowLoss`, if given, receives each image's total.
    func evaluate(_ x: Matrix, rng: inout RandomGenerator, rowLoss: UnsafeMutablePointer<Float>?) -> StepLosses
    /// Codes: (batch, latent); a VAE gives the posterior mean.
    func encode(_ x: Matrix) -> Matrix
    /// Images from codes: (batch, inputSize) in [0, 1] (Bernoulli means, or clipped Gaussian means).
    func decode(_ z: Matrix) -> Matrix
    /// Tensors under their public (file) names and PyTorch shapes.
    func exportTensors() -> [NamedTensor]
    /// Sets parameters from public tensors; every expected name must be there with its shape.
    func importTensors(_ tensors: [String: NamedTensor], file: String) throws
    /// The same model sharing this one's parameter values, with its own gradients and buffers
    /// (for data-parallel training: replicas run on shards of a batch at once).
    func replica() -> LatentModel
    /// The model's Linear layers.
    var exactLayers: [Linear] { get }
}

extension LatentModel {
    /// decode(encode(x)): the model as a filter.
    public func reconstruct(_ x: Matrix) -> Matrix { decode(encode(x)) }

    /// Switches every Linear layer to the batch-independent kernel (`Linear.exactInference`):
    /// each image's result then depends only on that image, whatever it is batched with.
    public func setExactInference(_ on: Bool) {
        exactLayers.forEach { $0.exactInference = on }
    }

    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }
}

/// Builds an encoder or decoder MLP: sizes[0] → sizes[1] → ... with `activation` between layers
/// and `last` on the final one. Layers are named prefix.0, prefix.1, ...
func mlp(_ sizes: [Int], activation: Activation, last: Activation, prefix: String, firstNeedsInputGradient: Bool,
         rng: inout RandomGenerator) -> [Linear] {
    var layers: [Linear] = []
    for i in 0..<(sizes.count - 1) {
        let act = i == sizes.count - 2 ? last : activation
        layers.append(Linear(sizes[i], sizes[i + 1], activation: act, name: "\(prefix).\(i)",
                             computesInputGradient: i > 0 || firstNeedsInputGradient, rng: &rng))
    }
    return layers
}

/// Copies public tensors into layers, checking names and shapes.
func load(_ layers: [(Linear, String)], from tensors: [String: NamedTensor], file: String) throws {
    var expected = Set<String>()
    for (layer, name) in layers {
        for (p, suffix) in [(layer.weight, "weight"), (layer.bias, "bias")] {
            let key = "\(name).\(suffix)"
            expected.insert(key)
            guard let t = tensors[key] else { throw ModelFileError.missingTensor(file: file, tensor: key) }
            guard t.shape == p.shape else { throw ModelFileError.wrongShape(file: file, tensor: key, expected: p.shape, found: t.shape) }
            p.value.copy(from: t.values)
        }
    }
    if let extra = tensors.keys.sorted().first(where: { !expected.contains($0) }) {
        throw ModelFileError.unexpectedTensor(file: file, tensor: extra)
    }
}

/// −log p(x | z) up to a constant for the decoder's likelihood, with its gradient: Bernoulli
/// (cross-entropy from logits) or unit-variance Gaussian (½‖y − x‖²).
func decoderLoss(_ kind: DecoderKind, output: Matrix, target: Matrix, grad: Matrix?, rowLoss: UnsafeMutablePointer<Float>?) -> Double {
    switch kind {
    case .bernoulli:
        return Loss.bceWithLogits(logits: output, target: target, grad: grad, rowLoss: rowLoss)
    case .gaussian:
        let l = Loss.squaredError(output: output, target: target, grad: grad, rowLoss: rowLoss)
        if let grad { for i in 0..<grad.count { grad.data[i] *= 0.5 } }
        if let rowLoss { for r in 0..<output.rows { rowLoss[r] *= 0.5 } }
        return 0.5 * l
    }
}
