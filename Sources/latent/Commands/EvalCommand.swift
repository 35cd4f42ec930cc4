import ArgumentParser
import Foundation
import Models
import NN
import Tensor
import Training

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a model on a test set: loss per image, VAE ELBO split and IWAE, DAE PSNR.",
        discussion: """
            Examples:
              latent eval --model mnist-vae --data ../shared/data/mnist --iwae 1000
              latent eval --model mnist-dae --data ../shared/data/mnist --noise gaussian:0.5 --json
            """)

    @Option(help: "A built-in model name or a .safetensors file.") var model: String
    @Option(help: "MNIST folder (its t10k test set is used), an IDX images file, or a folder of PNGs.") var data: String
    @Option(help: "Importance samples for the IWAE log-likelihood estimate (VAE).") var iwae: Int?
    @Option(help: "Corruption for the DAE figures (default: the one the model was trained with).") var noise: String?
    @Option(help: "Use only the first N test images.") var limit: Int?
    @Option(help: "Seed for sampling and noise.") var seed: UInt64 = 2024
    @Option(help: "OpenBLAS threads (default: cores).") var threads: Int?
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        if let iwae, iwae < 1 { throw ValidationError("--iwae must be at least 1.") }
        if let noise, Corruption(noise) == nil { throw ValidationError("--noise wants gaussian:SIGMA, mask:P or saltpepper:P.") }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1.") }
    }

    func run() throws {
        if let threads { BLAS.setThreads(threads) }
        let resolved: (model: LatentModel, metadata: [String: String], path: String)
        do { resolved = try BuiltinModels.resolve(model) } catch {
            printError("latent: \(error)")
            throw ExitCode(2)
        }
        let m = resolved.model
        let c = m.config
        var test: Dataset
        do {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: data, isDirectory: &isDir) else { throw DatasetError.missing(path: data) }
            if isDir.boolValue && MNIST.isMNISTFolder(data) {
                test = try MNIST.load(folder: data).test
            } else if !isDir.boolValue {
                test = try MNIST.load(images: data)
            } else {
                let (d, failures) = try PNGFolderDataset.load(folder: data, width: c.width, height: c.height, channels: c.channels)
                for f in failures { printError(f) }
                test = d
            }
        } catch {
            printError("latent: \(error)")
            throw ExitCode(2)
        }
        guard test.dim == c.inputSize else {
            printError("latent: \(data): images are \(test.width)x\(test.height)x\(test.channels), the model takes \(c.width)x\(c.height)x\(c.channels)")
            throw ExitCode(2)
        }
        if let limit { test = test.prefix(limit) }
        var out: [(String, String)] = [("model", model), ("kind", c.kind.rawValue), ("architecture", c.architecture), ("images", "\(test.count)")]
        var rng = RandomGenerator(seed: seed)
        let loss = Evaluator.meanLoss(m, test, rng: &rng)
        out.append(("loss_per_image", String(format: "%.3f", loss.total)))
        if c.kind == .vae {
            out.append(("reconstruction", String(format: "%.3f", loss.reconstruction)))
            out.append(("kl", String(format: "%.3f", loss.kl)))
            out.append(("negative_elbo", String(format: "%.3f", loss.reconstruction + loss.kl)))
            if let k = iwae, let vae = m as? VAE {
                let tty = !json && isatty(2) != 0
                let ll = Evaluator.iwae(vae, test, samples: k, rng: &rng) { done, total in
                    if tty { FileHandle.standardError.write("\riwae \(done)/\(total)".data(using: .utf8)!) }
                }
                if tty { FileHandle.standardError.write("\r\u{1B}[K".data(using: .utf8)!) }
                out.append(("iwae_k", "\(k)"))
                out.append(("log_likelihood", String(format: "%.3f", ll)))
            }
        } else if let corruption = noise.flatMap(Corruption.init) ?? c.noise {
            let f = Evaluator.denoising(m, test, noise: corruption, seed: seed)
            out.append(("noise", corruption.description))
            out.append(("psnr_noisy", String(format: "%.3f", f.psnrNoisy)))
            out.append(("psnr_denoised", String(format: "%.3f", f.psnrDenoised)))
            out.append(("psnr_median3x3", String(format: "%.3f", f.psnrMedian)))
        }
        if json {
            print("{" + out.map { k, v in "\(jsonString(k)):\(Double(v) != nil && k != "model" ? v : jsonString(v))" }.joined(separator: ",") + "}")
        } else {
            for (k, v) in out { print("\(k.padding(toLength: 16, withPad: " ", startingAt: 0)) \(v)") }
        }
    }
}
