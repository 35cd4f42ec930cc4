import ArgumentParser
import Foundation
import Testing
import TestSupport
@testable import latent

/// Every subcommand parsed and validated in process (no binary, no files): what each accepts,
/// what each refuses and with which message, and its help text against a golden copy.
struct CommandParsingTests {
    /// The message ArgumentParser would print for `args` (nil when they parse and validate).
    static func refusal(_ args: [String]) -> String? {
        do {
            _ = try Latent.parseAsRoot(args)
            return nil
        } catch {
            return Latent.message(for: error)
        }
    }

    @Test(arguments: [
        ["convert", "in/", "-o", "out/", "--fit", "256", "--gray", "--jobs", "2"],
        ["denoise", "in/", "-o", "out/"],
        ["denoise", "in/", "-o", "out/", "--model", "photo", "--sigma", "25"],
        ["denoise", "in/", "-o", "out/", "--sigma", "10,12,14", "--json", "--quiet"],
        ["denoise", "in/", "-o", "out/", "--model", "mnist-dae", "--tile", "--overlap", "0.25"],
        ["reconstruct", "in/", "-o", "out/", "--model", "mnist-vae", "--resize-to-model"],
        ["run", "read a | gray | write b", "--jobs", "1", "--overwrite"],
        ["stages"],
        ["models", "--json"],
        ["info", "a.png", "--json"],
        ["traverse", "--model", "mnist-vae", "-o", "t.png"],
        ["manifold", "--model", "mnist-vae2d", "-o", "m.png", "--steps", "10"],
        ["interpolate", "a.png", "b.png", "--model", "mnist-vae", "-o", "i.png"],
        ["sample", "--model", "mnist-vae", "-o", "s.png", "--count", "16"],
        ["compare", "in/", "--model", "photo", "--noise", "gaussian:0.1", "--crop", "64", "-o", "c.png"],
        ["train", "--model", "vae", "--data", "d", "-o", "m.safetensors", "--epochs", "2"],
        ["train", "--model", "conv-dae", "--data", "d", "-o", "m.safetensors", "--noise", "gaussian:0-55/255", "--epochs", "1"],
        ["train", "--model", "noise-estimator", "--rgb", "--data", "d", "-o", "e.safetensors", "--noise", "gaussian:0-60/255", "--camera-noise", "0.5", "--coarse-noise"],
        ["eval", "--model", "mnist-vae", "--data", "d", "--iwae", "10"],
        ["eval", "--model", "photo", "--pairs", "p/"],
        ["eval", "--model", "photo", "--pairs", "p/", "--jobs", "1"],
        ["eval", "--model", "photo", "--pairs", "p/", "--threads", "1"],
        ["train", "--model", "vae", "--data", "d", "-o", "m.safetensors", "--jobs", "2"],
    ])
    func accepts(_ args: [String]) {
        #expect(Self.refusal(args) == nil, "\(args)")
    }

    @Test(arguments: [
        (["convert", "in/"], "Missing expected argument '--output <OUTDIR>'"),
        (["convert", "in/", "-o", "o", "--jobs", "0"], "--jobs must be at least 1"),
        (["denoise", "in/", "-o", "o", "--sigma", "500"], "each between 0 and 100"),
        (["denoise", "in/", "-o", "o", "--sigma", "1,2"], "one number or three"),
        (["denoise", "in/", "-o", "o", "--overlap", "0.5"], "--overlap applies with --tile"),
        (["denoise", "in/", "-o", "o", "--tile", "--resize-to-model"], "Give --tile or --resize-to-model, not both"),
        (["denoise", "in/", "-o", "o", "--batch", "0"], "--batch must be at least 1"),
        (["run", "read a | write b", "--batch", "0"], "--batch must be at least 1"),
        (["run", "read a | write b", "--compression", "12"], "--compression must be 0-9"),
        (["compare", "in/", "--model", "photo", "-o", "c.jpg"], "-o wants a .png file"),
        (["compare", "in/", "--model", "photo", "-o", "c.png", "--crop", "4"], "--crop must be 8-2048"),
        (["train", "--model", "gan", "--data", "d", "-o", "m"], "--model must be ae, dae, sparse, vae, conv-dae or noise-estimator"),
        (["train", "--model", "conv-dae", "--data", "d", "-o", "m", "--noise", "gaussian:0-55/255", "--epochs", "0"], "must be at least 1"),
        (["train", "--model", "conv-dae", "--data", "d", "-o", "m", "--noise", "gaussian:0-55/255", "--lr=-1"], "--lr must be positive"),
        (["train", "--model", "conv-dae", "--data", "d", "-o", "m", "--noise", "gaussian:0-55/255", "--threads", "0"], "--jobs (--threads) must be at least 1"),
        (["train", "--model", "conv-dae", "--data", "d", "-o", "m", "--noise", "gaussian:0-55/255", "--jobs", "0"], "--jobs (--threads) must be at least 1"),
        (["train", "--model", "conv-dae", "--data", "d", "-o", "m", "--noise", "gaussian:0-55/255", "--patch", "10"], "--patch must be a multiple of 4"),
        (["eval", "--model", "photo"], "give --data (a test set) or --pairs"),
        (["sample", "--model", "mnist-vae", "-o", "s.png", "--scale", "0"], "--scale must be 1-32"),
        (["nosuch"], "Unexpected argument 'nosuch'"),
    ])
    func refuses(_ args: [String], _ message: String) {
        let m = Self.refusal(args)
        #expect(m?.contains(message) == true, "\(args): \(m ?? "accepted")")
    }

    /// Parsed options reach the command as given.
    @Test func optionsArriveParsed() throws {
        let d = try #require(try Latent.parseAsRoot(["denoise", "x", "y", "-o", "out", "--sigma", "10,12,14", "--jobs", "3"]) as? DenoiseCommand)
        #expect(d.inputs == ["x", "y"] && d.batch.output == "out" && d.sigmaValues == [10, 12, 14] && d.batch.resolvedJobs == 3)
        let r = try #require(try Latent.parseAsRoot(["run", "read a | write b", "--quiet", "--max-pixels", "99"]) as? RunCommand)
        #expect(r.processing.quiet && r.processing.limits.maxPixels == 99)
    }

    /// Each command's help against Tests/CLITests/Golden/help-NAME.txt (regenerate after a
    /// deliberate change with LATENT_UPDATE_GOLDEN=1 swift test --filter helpTextMatchesGolden).
    @Test func helpTextMatchesGolden() throws {
        let dir = repositoryRoot + "/Tests/CLITests/Golden"
        let update = ProcessInfo.processInfo.environment["LATENT_UPDATE_GOLDEN"] == "1"
        var commands: [(String, ParsableCommand.Type)] = [("latent", Latent.self)]
        for sub in Latent.configuration.subcommands { commands.append((sub.configuration.commandName!, sub)) }
        #expect(commands.count == 16)
        for (name, type) in commands {
            let help = Latent.helpMessage(for: type, columns: 100) + "\n"
            let path = dir + "/help-\(name).txt"
            if update {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                try help.write(toFile: path, atomically: true, encoding: .utf8)
                continue
            }
            let golden = try? String(contentsOfFile: path, encoding: .utf8)
            #expect(golden == help, "help of '\(name)' differs from \(path)")
        }
    }
}
