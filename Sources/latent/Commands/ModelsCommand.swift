import ArgumentParser
import Foundation
import Models
import FileIO

struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "List the built-in models with their measured figures.",
        discussion: "Example:\n  latent models")

    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        var rows: [String] = []
        for entry in BuiltinModels.catalog {
            guard let path = BuiltinModels.path(of: entry.name) else {
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
        print(json ? "[" + rows.joined(separator: ",") + "]" : rows.joined(separator: "\n"))
    }
}
