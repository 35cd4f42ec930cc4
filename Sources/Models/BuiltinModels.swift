import Foundation

/// The trained models shipped with latent, found by name (`--model mnist-vae`).
public enum BuiltinModels {
    public struct Entry: Sendable {
        public var name: String
        public var summary: String
    }

    public static let catalog: [Entry] = [
        Entry(name: "mnist-vae", summary: "VAE 784-400-20 on MNIST (Bernoulli decoder)"),
        Entry(name: "mnist-vae2d", summary: "VAE 784-400-2 on MNIST, for 2-D manifold plots"),
        Entry(name: "mnist-dae", summary: "denoising autoencoder on MNIST, trained at gaussian:0.5"),
        Entry(name: "photo", summary: "convolutional denoiser (U-Net) for photographs of any size: this grey model for grey images, photo-color for colour ones (noise measured in each image)"),
        Entry(name: "photo-color", summary: "colour photographs with real camera noise: one network on RGB with a per-pixel noise map from its bundled noise estimator (noise levels 0-60)"),
    ]

    /// Folders searched for built-in model files, in order: $LATENT_MODELS_DIR, an installed
    /// tree (PREFIX/share/latent/models beside PREFIX/bin/latent, as `make install` lays it out),
    /// the resource bundle beside the executable (as SwiftPM lays it out), and the source tree it
    /// was built from.
    public static var searchPaths: [String] {
        var paths: [String] = []
        if let env = ProcessInfo.processInfo.environment["LATENT_MODELS_DIR"] { paths.append(env) }
        let exe = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath().deletingLastPathComponent()
        paths.append(exe.deletingLastPathComponent().appendingPathComponent("share/latent/models").path)
        paths.append(exe.appendingPathComponent("latent_Models.resources/Builtin").path)
        paths.append(exe.appendingPathComponent("latent_Models.resources").path)
        paths.append(Bundle.main.bundleURL.appendingPathComponent("latent_Models.resources/Builtin").path)
        paths.append(URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Builtin").path)
        return paths
    }

    /// The file of built-in model `name`, if it is installed.
    public static func path(of name: String) -> String? {
        for dir in searchPaths {
            let p = dir + "/" + name + ".safetensors"
            if FileManager.default.fileExists(atPath: p) { return p }
        }
        return nil
    }

    /// `photo` as a stage is a family: its own (grey) model for grey images, `photo-color` for
    /// colour ones when installed.
    public static let photoFamily = "photo"
    public static let photoColour = "photo-color"

    /// True if `spec` names a built-in model rather than a file.
    public static func isBuiltinName(_ spec: String) -> Bool { catalog.contains { $0.name == spec } }

    /// The file `--model` names: a built-in model's installed file, or the path given.
    public static func file(of spec: String) throws -> String {
        if isBuiltinName(spec) {
            guard let p = path(of: spec) else {
                throw ModelFileError.unreadable(file: spec, reason: "built-in model not installed (reinstall latent, or put \(spec).safetensors in a folder named by LATENT_MODELS_DIR)")
            }
            return p
        }
        if !spec.contains("/") && !spec.hasSuffix(".safetensors") && !FileManager.default.fileExists(atPath: spec) {
            throw ModelFileError.unreadable(file: spec, reason: "no such file, and not a built-in model (built-ins: \(catalog.map(\.name).joined(separator: ", ")))")
        }
        return spec
    }

    /// Resolves `--model` to an MLP model (a built-in name or a path to a safetensors file).
    public static func resolve(_ spec: String) throws -> (model: LatentModel, metadata: [String: String], path: String) {
        let p = try file(of: spec)
        let (m, meta) = try ModelFile.load(path: p)
        return (m, meta, p)
    }
}
