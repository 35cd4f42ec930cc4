import Foundation
import NN

/// Loading and saving models as safetensors files with their configuration in `__metadata__`.
public enum ModelFile {
    /// A fresh model of `config`, initialised from `seed` (PyTorch's initialisation).
    public static func make(_ config: ModelConfig, seed: UInt64) -> LatentModel {
        config.kind == .vae ? VAE(config: config, seed: seed) : Autoencoder(config: config, seed: seed)
    }

    /// Saves atomically. `extra` metadata (training settings, figures) is stored beside the
    /// configuration.
    public static func save(_ model: LatentModel, to path: String, extra: [String: String] = [:]) throws {
        var meta = model.config.metadata
        for (k, v) in extra where meta[k] == nil { meta[k] = v }
        try SafeTensors.write(model.exportTensors(), metadata: meta, to: path)
    }

    /// Loads and validates a model file. A file without latent's metadata (e.g. saved from the
    /// classic PyTorch VAE example) is taken as a 784-H-Z VAE when its tensor names say so.
    public static func load(path: String) throws -> (model: LatentModel, metadata: [String: String]) {
        let (tensors, meta) = try SafeTensors.read(path: path)
        let config: ModelConfig
        if meta["kind"] != nil {
            config = try ModelConfig(metadata: meta, file: path)
        } else if let fc1 = tensors["fc1.weight"], let fc21 = tensors["fc21.weight"], fc1.shape.count == 2, fc21.shape.count == 2 {
            let side = Int(Double(fc1.shape[1]).squareRoot())
            let (w, h) = side * side == fc1.shape[1] ? (side, side) : (fc1.shape[1], 1)
            config = ModelConfig(kind: .vae, width: w, height: h, channels: 1, hidden: [fc1.shape[0]], latent: fc21.shape[0])
        } else {
            throw ModelFileError.badMetadata(file: path, reason: "no latent metadata (kind, width, height, channels, hidden, latent) and not a known PyTorch layout")
        }
        let model = make(config, seed: 0)
        try model.importTensors(tensors, file: path)
        return (model, meta)
    }

    /// A short content hash of the file (FNV-1a 64 over its bytes), for provenance.
    public static func contentHash(path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        data.withUnsafeBytes { raw in
            for b in raw { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        }
        return String(h, radix: 16)
    }
}
