import FileIO
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

    /// Loads and validates an MLP model file (see `ModelLoader`, which loads either family).
    public static func load(path: String) throws -> (model: LatentModel, metadata: [String: String]) {
        let loaded = try ModelLoader.load(path: path)
        guard case .mlp(let model) = loaded.model else {
            throw ModelFileError.badMetadata(file: path, reason: "a convolutional (conv-dae) model, not an MLP autoencoder")
        }
        return (model, loaded.metadata)
    }

    /// The MLP configuration of a file: from latent's metadata, or, for a file without it (e.g.
    /// saved from the classic PyTorch VAE example), a 784-H-Z VAE when its tensor names say so.
    static func config(of dir: SafeTensors.Directory) throws -> ModelConfig {
        if dir.metadata["kind"] != nil { return try ModelConfig(metadata: dir.metadata, file: dir.file) }
        if let fc1 = dir.entry("fc1.weight"), let fc21 = dir.entry("fc21.weight"), fc1.shape.count == 2, fc21.shape.count == 2,
           fc1.shape[1] > 0, fc1.shape[1] <= 1 << 24, fc1.shape[0] > 0, fc21.shape[0] > 0 {
            let side = Int(Double(fc1.shape[1]).squareRoot())
            let (w, h) = side * side == fc1.shape[1] ? (side, side) : (fc1.shape[1], 1)
            return ModelConfig(kind: .vae, width: w, height: h, channels: 1, hidden: [fc1.shape[0]], latent: fc21.shape[0])
        }
        throw ModelFileError.badMetadata(file: dir.file, reason: "no latent metadata (kind, width, height, channels, hidden, latent) and not a known PyTorch layout")
    }

    /// A short content hash of the file (FNV-1a 64 over its bytes), for provenance.
    public static func contentHash(path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        var h = FNV1a()
        data.withUnsafeBytes { h.add($0) }
        return String(h.value, radix: 16)
    }
}
