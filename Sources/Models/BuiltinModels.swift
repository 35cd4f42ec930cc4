import FileIO
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
        Entry(name: "photo-color", summary: "colour photographs with real camera noise: one network on RGB with a noise map per channel from its bundled noise estimator (noise levels 0-60)"),
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

extension BuiltinModels {
    /// `latent models`: each built-in model with its kind, shape and the figures measured when
    /// it was trained (text, or a JSON array).
    public static func listing(json: Bool) -> String {
        var rows: [String] = []
        for entry in catalog {
            guard let path = path(of: entry.name) else {
                rows.append(json ? "{\"name\":\(jsonQuote(entry.name)),\"installed\":false}" : "\(entry.name)  (not installed)  \(entry.summary)")
                continue
            }
            if let meta = try? SafeTensors.open(path: path).metadata, ConvModelFile.isConv(meta) {
                let figs = ["val_psnr_25", "test_psnr_set12_25"].compactMap { k in meta[k].map { "\(k) \($0)" } }
                rows.append(json ? "{\"name\":\(jsonQuote(entry.name)),\"installed\":true,\"path\":\(jsonQuote(path)),\"kind\":\"conv-dae\"}"
                    : "\(entry.name.padding(toLength: 12, withPad: " ", startingAt: 0)) conv-dae \(meta["widths"] ?? "?") any size  \(entry.summary)"
                    + (figs.isEmpty ? "" : "\n              " + figs.joined(separator: ", ")))
                continue
            }
            do {
                let (model, meta) = try ModelFile.load(path: path)
                let c = model.config
                var figures: [String] = []
                for key in ["test_loss", "test_kl", "test_iwae", "psnr_noisy", "psnr_denoised", "psnr_median"] {
                    if let v = meta[key] { figures.append("\(key) \(v)") }
                }
                if json {
                    let m = meta.sorted { $0.key < $1.key }.map { "\(jsonQuote($0.key)):\(jsonQuote($0.value))" }.joined(separator: ",")
                    rows.append("{\"name\":\(jsonQuote(entry.name)),\"installed\":true,\"path\":\(jsonQuote(path)),\"metadata\":{\(m)}}")
                } else {
                    rows.append("\(entry.name.padding(toLength: 12, withPad: " ", startingAt: 0)) \(c.kind.rawValue) \(c.architecture) "
                        + "\(c.width)x\(c.height)x\(c.channels)\(c.noise.map { " noise \($0)" } ?? "")  \(entry.summary)"
                        + (figures.isEmpty ? "" : "\n              " + figures.joined(separator: ", ")))
                }
            } catch {
                rows.append("\(entry.name)  (unusable: \(error))")
            }
        }
        return json ? "[" + rows.joined(separator: ",") + "]" : rows.joined(separator: "\n")
    }
}
