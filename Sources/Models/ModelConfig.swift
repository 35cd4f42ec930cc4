import NN

/// The model families latent trains.
public enum ModelKind: String, Sendable, CaseIterable {
    /// Plain undercomplete autoencoder.
    case ae
    /// Denoising autoencoder: corrupted input, loss against the clean image.
    case dae
    /// Sparse autoencoder: a penalty on the code.
    case sparse
    /// Variational autoencoder (reparameterisation trick, Gaussian posterior, N(0, I) prior).
    case vae

    public var isVariational: Bool { self == .vae }
}

/// Likelihood of the decoder: Bernoulli (logits, cross-entropy; for images in [0, 1]) or
/// Gaussian with unit variance (½·squared error).
public enum DecoderKind: String, Sendable {
    case bernoulli, gaussian
}

/// A penalty that makes the code sparse.
public enum Sparsity: Sendable, Equatable, CustomStringConvertible {
    /// λ·Σ|z| on a linear code.
    case l1(weight: Float)
    /// β·Σ_j KL(ρ ‖ ρ̂_j) on a sigmoid code, ρ̂_j the batch mean of unit j (Ng's sparse AE).
    case kl(target: Float, weight: Float)

    /// "1e-3" or "l1:1e-3"; "kl:0.05" or "kl:0.05:3".
    public init?(_ s: String) {
        let parts = s.lowercased().split(separator: ":").map(String.init)
        if parts.count == 1, let w = Float(parts[0]), w >= 0 { self = .l1(weight: w); return }
        if parts.count == 2, parts[0] == "l1", let w = Float(parts[1]), w >= 0 { self = .l1(weight: w); return }
        if parts[0] == "kl", parts.count >= 2, let r = Float(parts[1]), r > 0, r < 1 {
            let w = parts.count > 2 ? Float(parts[2]) ?? -1 : 1
            guard w >= 0 else { return nil }
            self = .kl(target: r, weight: w)
            return
        }
        return nil
    }

    public var description: String {
        switch self {
        case .l1(let w): return "l1:\(w)"
        case .kl(let r, let w): return "kl:\(r):\(w)"
        }
    }
}

/// Everything that defines a model's architecture and what it was trained to do. Stored in the
/// safetensors `__metadata__` (all strings), with a format version.
public struct ModelConfig: Sendable, Equatable {
    public static let formatVersion = "1"

    public var kind: ModelKind
    public var width: Int
    public var height: Int
    /// 1 (grey) or 3 (RGB).
    public var channels: Int
    /// Hidden layer sizes of the encoder; the decoder mirrors them.
    public var hidden: [Int]
    public var latent: Int
    public var activation: Activation
    public var decoder: DecoderKind
    /// β of a β-VAE (1 for the plain VAE).
    public var beta: Float
    /// The corruption a DAE was trained with.
    public var noise: Corruption?
    public var sparsity: Sparsity?

    public init(kind: ModelKind, width: Int = 28, height: Int = 28, channels: Int = 1, hidden: [Int] = [400],
                latent: Int = 20, activation: Activation = .relu, decoder: DecoderKind = .bernoulli,
                beta: Float = 1, noise: Corruption? = nil, sparsity: Sparsity? = nil) {
        self.kind = kind
        self.width = width
        self.height = height
        self.channels = channels
        self.hidden = hidden
        self.latent = latent
        self.activation = activation
        self.decoder = decoder
        self.beta = beta
        self.noise = noise
        self.sparsity = sparsity
    }

    public var inputSize: Int { width * height * channels }

    /// "784-400-20" style summary.
    public var architecture: String { ([inputSize] + hidden + [latent]).map(String.init).joined(separator: "-") }

    /// Parameters of the model this configuration describes, computed without building it (nil
    /// on overflow): what a file's metadata implies, checked against its data before allocating.
    public var parameterCount: Int? {
        // Dense layers between consecutive sizes: a·b weights and b biases each.
        func dense(_ sizes: [Int]) -> Int? {
            var total = 0
            for (a, b) in zip(sizes, sizes.dropFirst()) {
                let (n, o1) = (a + 1).multipliedReportingOverflow(by: b)
                let (t, o2) = total.addingReportingOverflow(n)
                if o1 || o2 { return nil }
                total = t
            }
            return total
        }
        let input = inputSize
        let parts: [Int?]
        if kind == .vae {
            let h = hidden.last ?? input
            let last = hidden.first ?? latent
            parts = [dense([input] + hidden), dense([h, 2 * latent]), dense([latent] + hidden.reversed()), dense([last, input])]
        } else {
            parts = [dense([input] + hidden + [latent]), dense([latent] + hidden.reversed() + [input])]
        }
        var total = 0
        for p in parts {
            guard let p else { return nil }
            let (t, o) = total.addingReportingOverflow(p)
            if o { return nil }
            total = t
        }
        return total
    }

    public var metadata: [String: String] {
        var m: [String: String] = [
            "format": "latent", "format_version": Self.formatVersion, "kind": kind.rawValue,
            "width": "\(width)", "height": "\(height)", "channels": "\(channels)",
            "hidden": hidden.map(String.init).joined(separator: ","), "latent": "\(latent)",
            "activation": activation.description, "decoder": decoder.rawValue,
        ]
        if kind == .vae { m["beta"] = "\(beta)" }
        if let noise { m["noise"] = noise.description }
        if let sparsity { m["sparsity"] = sparsity.description }
        return m
    }

    /// Rebuilds a configuration from metadata, with a message naming what is wrong.
    public init(metadata m: [String: String], file: String) throws {
        func need(_ k: String) throws -> String {
            guard let v = m[k] else { throw ModelFileError.badMetadata(file: file, reason: "metadata lacks '\(k)'") }
            return v
        }
        func int(_ k: String, _ range: ClosedRange<Int>) throws -> Int {
            let s = try need(k)
            guard let v = Int(s), range.contains(v) else { throw ModelFileError.badMetadata(file: file, reason: "metadata '\(k)' = '\(s)' is out of range") }
            return v
        }
        if let v = m["format_version"], v != Self.formatVersion {
            throw ModelFileError.badMetadata(file: file, reason: "model format version \(v) is not supported (this latent reads version \(Self.formatVersion))")
        }
        guard let kind = ModelKind(rawValue: try need("kind")) else {
            throw ModelFileError.badMetadata(file: file, reason: "unknown model kind '\(m["kind"]!)'")
        }
        let hiddenText = try need("hidden")
        let hidden = hiddenText.isEmpty ? [] : hiddenText.split(separator: ",").compactMap { Int($0) }
        guard hidden.count == (hiddenText.isEmpty ? 0 : hiddenText.split(separator: ",").count), hidden.allSatisfy({ $0 > 0 && $0 <= 1 << 16 }) else {
            throw ModelFileError.badMetadata(file: file, reason: "metadata 'hidden' = '\(hiddenText)' is not a list of sizes")
        }
        guard let act = Activation(m["activation"] ?? "relu") else {
            throw ModelFileError.badMetadata(file: file, reason: "unknown activation '\(m["activation"]!)'")
        }
        guard let dec = DecoderKind(rawValue: m["decoder"] ?? "bernoulli") else {
            throw ModelFileError.badMetadata(file: file, reason: "unknown decoder '\(m["decoder"]!)'")
        }
        self.init(kind: kind, width: try int("width", 1...4096), height: try int("height", 1...4096),
                  channels: try int("channels", 1...4), hidden: hidden, latent: try int("latent", 1...65536),
                  activation: act, decoder: dec, beta: Float(m["beta"] ?? "1") ?? 1,
                  noise: m["noise"].flatMap(Corruption.init), sparsity: m["sparsity"].flatMap(Sparsity.init))
        guard channels == 1 || channels == 3 else { throw ModelFileError.badMetadata(file: file, reason: "models have 1 or 3 channels, not \(channels)") }
        guard inputSize <= 1 << 24 else { throw ModelFileError.badMetadata(file: file, reason: "input of \(inputSize) values is too large for an MLP") }
    }
}
