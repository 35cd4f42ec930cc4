import Foundation
import Testing
import PNGIO
import TestSupport

@Suite(.serialized)
struct TrainCommandTests {
    /// 60 grey 12x12 PNGs of bars, as a user's own folder of images.
    func makeImageFolder() throws -> String {
        let dir = makeTempDir("train")
        try FileManager.default.createDirectory(atPath: dir + "/data", withIntermediateDirectories: true)
        for i in 0..<60 {
            var s = [Int](repeating: 0, count: 144)
            let r = i % 12, c = (i * 5) % 12
            for k in 0..<12 { s[r * 12 + k] = 220; s[k * 12 + c] = 180 }
            try PNGWriter.write(PNGImage(width: 12, height: 12, layout: .gray, depth: 8, samples: s), to: dir + "/data/\(i).png")
        }
        return dir
    }

    @Test func trainsEvaluatesAndResumesOnAPNGFolder() throws {
        let dir = try makeImageFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = dir + "/m.safetensors"
        let r = try CLI.run(["train", "--model", "vae", "--data", dir + "/data", "--size", "12x12", "--hidden", "32", "--latent", "4",
                             "--epochs", "2", "--batch", "16", "-o", model, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[0].contains("\"epoch\":1"))
        #expect(FileManager.default.fileExists(atPath: model))
        #expect(FileManager.default.fileExists(atPath: dir + "/m.ckpt.safetensors"))
        // Resume to 3 epochs: only epoch 3 runs.
        let r2 = try CLI.run(["train", "--model", "vae", "--data", dir + "/data", "--size", "12x12", "--hidden", "32", "--latent", "4",
                              "--epochs", "3", "--batch", "16", "-o", model, "--json", "--resume"])
        #expect(r2.status == 0, "\(r2.stderr)")
        #expect(r2.stdout.split(separator: "\n").count == 1)
        #expect(r2.stdout.contains("\"epoch\":3"))
        #expect(r2.stderr.contains("resuming after epoch 2"))
        let e = try CLI.run(["eval", "--model", model, "--data", dir + "/data", "--iwae", "5", "--json"])
        #expect(e.status == 0, "\(e.stderr)")
        #expect(e.stdout.contains("\"kind\":\"vae\""))
        #expect(e.stdout.contains("\"log_likelihood\""))
    }

    @Test func daeEvalReportsPSNR() throws {
        let dir = try makeImageFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = dir + "/d.safetensors"
        let r = try CLI.run(["train", "--model", "dae", "--noise", "gaussian:0.3", "--data", dir + "/data", "--size", "12x12",
                             "--hidden", "32", "--latent", "8", "--epochs", "2", "--batch", "16", "-o", model, "-q"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.isEmpty)
        let e = try CLI.run(["eval", "--model", model, "--data", dir + "/data"])
        #expect(e.status == 0)
        #expect(e.stdout.contains("psnr_noisy"))
        #expect(e.stdout.contains("psnr_denoised"))
        #expect(e.stdout.contains("psnr_median3x3"))
    }

    @Test(arguments: [
        (["train", "--model", "gan", "--data", "x", "-o", "m"], "--model must be ae, dae, sparse, vae, conv-dae or noise-estimator"),
        (["train", "--model", "dae", "--data", "x", "-o", "m"], "--model dae needs --noise"),
        (["train", "--model", "sparse", "--data", "x", "-o", "m"], "--model sparse needs --sparsity"),
        (["train", "--model", "vae", "--data", "x", "-o", "m", "--hidden", "4x"], "--hidden wants sizes"),
        (["train", "--model", "dae", "--noise", "blur:3", "--data", "x", "-o", "m"], "unknown noise 'blur'"),
        (["train", "--model", "dae", "--noise", "gaussian:25", "--data", "x", "-o", "m"], "gaussian:25/255"),
        (["train", "--model", "conv-dae", "--noise", "gaussian:0-60", "--data", "x", "-o", "m"], "gaussian:0-60/255"),
        (["train", "--model", "conv-dae", "--rgb", "--noise", "gaussian:0-60/255", "--flat-camera-maps", "--data", "x", "-o", "m"],
         "--flat-camera-maps is for a conv-dae with --noise-map and --camera-noise"),
        (["train", "--model", "dae", "--noise", "gaussian:0.3", "--halved-copies", "--data", "x", "-o", "m"], "--halved-copies is for a conv-dae"),
        (["train", "--model", "vae", "--init-from", "m0", "--data", "x", "-o", "m"], "--init-from is for a conv-dae or a noise-estimator"),
        (["train", "--model", "conv-dae", "--rgb", "--noise-map", "--noise", "gaussian:0-60/255", "--camera-softness", "1", "--data", "x", "-o", "m"],
         "--camera-softness softens the camera-noise patches: give --camera-noise too"),
        (["train", "--model", "noise-estimator", "--rgb", "--noise", "gaussian:0-60/255", "--log-loss", "--data", "x", "-o", "m"],
         "--log-loss is for a conv-dae"),
        (["train", "--model", "conv-dae", "--noise", "gaussian:0-60/255", "--sigma-power", "0", "--data", "x", "-o", "m"],
         "--sigma-power must be a positive number"),
        (["train", "--model", "dae", "--noise", "gaussian:0.3", "--sigma-power", "2", "--data", "x", "-o", "m"], "--sigma-power is for a conv-dae"),
        (["train", "--model", "conv-dae", "--rgb", "--noise-map", "--camera-noise", "0.5", "--noise", "gaussian:0-60/255", "--reduced-chroma",
          "--correlated-noise", "--data", "x", "-o", "m"], "--correlated-noise, --reduced-chroma and --smooth-chroma are different noise mixes"),
        (["train", "--model", "conv-dae", "--rgb", "--noise", "gaussian:0-60/255", "--correlated-white", "0.5", "--data", "x", "-o", "m"],
         "--correlated-white is for a conv-dae with --noise-map and --rgb"),
        (["train", "--model", "conv-dae", "--rgb", "--noise-map", "--noise", "gaussian:0-60/255", "--correlated-white", "1.5", "--data", "x", "-o", "m"],
         "--correlated-white is a fraction between 0 and 1"),
        (["train", "--model", "conv-dae", "--rgb", "--noise-map", "--noise", "gaussian:0-60/255", "--correlated-white", "0.5", "--correlated-white-blur", "1.5", "--data", "x", "-o", "m"],
         "--correlated-white-blur is a fraction between 0 and 1"),
        (["train", "--model", "conv-dae", "--rgb", "--noise-map", "--noise", "gaussian:0-60/255", "--correlated-white-blur", "0", "--data", "x", "-o", "m"],
         "--correlated-white-blur sets how many --correlated-white patches are blurred: give --correlated-white too"),
        (["train", "--model", "noise-estimator", "--rgb", "--noise", "gaussian:0-60/255", "--camera-toe", "0.5", "--data", "x", "-o", "m"],
         "--camera-toe changes the camera-noise patches: give --camera-noise too"),
        (["train", "--model", "noise-estimator", "--rgb", "--noise", "gaussian:0-60/255", "--camera-noise", "0.5", "--camera-toe", "2", "--data", "x", "-o", "m"],
         "--camera-toe is a fraction between 0 and 1"),
        (["train", "--model", "conv-dae", "--rgb", "--noise-map", "--camera-noise", "0.5", "--noise", "gaussian:0-60/255", "--camera-target", "mean",
          "--data", "x", "-o", "m"], "--camera-target is clean, mean-of-shots or mean-of-processed-shots, not 'mean'"),
        (["train", "--model", "noise-estimator", "--rgb", "--camera-noise", "0.5", "--noise", "gaussian:0-60/255", "--camera-target", "mean-of-shots",
          "--data", "x", "-o", "m"], "--camera-target sets the camera-noise patches' target: give a conv-dae --noise-map --rgb with --camera-noise"),
        (["train", "--model", "conv-dae", "--rgb", "--noise-map", "--camera-noise", "0.5", "--noise", "gaussian:0-60/255", "--jpeg-quality", "90-70",
          "--data", "x", "-o", "m"], "--jpeg-quality wants LO-HI, two JPEG qualities 1-100 with LO ≤ HI (got '90-70')"),
        (["train", "--model", "noise-estimator", "--rgb", "--noise", "gaussian:0-60/255", "--shared-noise-as-luma", "--data", "x", "-o", "m"],
         "--shared-noise-as-luma sets a noise-estimator's targets for --correlated-white patches"),
        (["train", "--model", "conv-dae", "--rgb", "--noise", "gaussian:0-60/255", "--teacher-pairs", "d:15", "--data", "x", "-o", "m"],
         "--teacher-pairs is for a conv-dae with --noise-map and --rgb"),
        (["train", "--model", "conv-dae", "--rgb", "--noise-map", "--noise", "gaussian:0-60/255", "--teacher-pairs", "d", "--data", "x", "-o", "m"],
         "--teacher-pairs wants DIR:SIGMA"),
        (["train", "--model", "conv-dae", "--rgb", "--noise-map", "--noise", "gaussian:0-60/255", "--teacher-pairs", "d:300", "--data", "x", "-o", "m"],
         "--teacher-pairs wants DIR:SIGMA"),
        (["train", "--model", "conv-dae", "--rgb", "--noise-map", "--noise", "gaussian:0-60/255", "--teacher-fraction", "0.3", "--data", "x", "-o", "m"],
         "--teacher-fraction sets the share of --teacher-pairs patches: give --teacher-pairs too"),
        (["eval", "--model", "m", "--data", "x", "--sigma", "300"], "--sigma wants one σ between 0 and"),
        (["eval", "--model", "m", "--data", "x", "--iwae", "0"], "--iwae must be at least 1"),
    ])
    func badArguments(_ args: [String], _ message: String) throws {
        let r = try CLI.run(args)
        #expect(r.status == 64)
        #expect(r.stderr.contains(message), "stderr: \(r.stderr)")
    }

    @Test func wrongModelFileIsAClearError() throws {
        let dir = makeTempDir("badmodel")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeFile(dir + "/m.safetensors", Data("garbage!".utf8))
        let r = try CLI.run(["eval", "--model", dir + "/m.safetensors", "--data", dir])
        #expect(r.status == 2)
        #expect(r.stderr.contains("m.safetensors: not a valid safetensors file"))
        #expect(r.stderr.split(separator: "\n").count == 1)
        let r2 = try CLI.run(["eval", "--model", "no-such-model", "--data", dir])
        #expect(r2.status == 2)
        #expect(r2.stderr.contains("not a built-in model"))
    }

    @Test func missingDataIsAClearError() throws {
        let r = try CLI.run(["train", "--model", "vae", "--data", "/nonexistent/mnist", "-o", "/tmp/x.safetensors"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("/nonexistent/mnist: no such file or folder"))
    }
}

extension TrainCommandTests {
    @Test func convDaeTrainsOnAFolderAndDenoisesAnyImageSize() throws {
        let dir = makeTempDir("conv")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/train", withIntermediateDirectories: true)
        for i in 0..<6 {
            let s = (0..<(40 * 36)).map { j in 128 + Int(60 * sin(Double(j % 40 + i) / 6) * cos(Double(j / 40) / 5)) }
            try PNGWriter.write(PNGImage(width: 40, height: 36, layout: .gray, depth: 8, samples: s), to: dir + "/train/\(i).png")
        }
        let model = dir + "/c.safetensors"
        let r = try CLI.run(["train", "--model", "conv-dae", "--data", dir + "/train", "--noise", "gaussian:10-30/255", "--patch", "16",
                             "--batch", "4", "--steps-per-epoch", "5", "--epochs", "2", "--widths", "4,4,8", "-o", model, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.split(separator: "\n").count == 2)
        #expect(r.stdout.contains("\"val_psnr_25\":"))
        let e = try CLI.run(["eval", "--model", model, "--data", dir + "/train", "--sigma", "25", "--json"])
        #expect(e.status == 0, "\(e.stderr)")
        #expect(e.stdout.contains("\"psnr_denoised\":"))
        // Any size, alpha kept, provenance written.
        try writeImage(dir + "/in/odd.png", width: 37, height: 23, layout: .rgba)
        let d = try CLI.run(["denoise", dir + "/in", "-o", dir + "/out", "--model", model])
        #expect(d.status == 0, "\(d.stderr)")
        let h = try PNGReader(path: dir + "/out/odd.png").header
        #expect(h.width == 37 && h.height == 23 && h.layout == .rgba)
        let info = try CLI.run(["info", dir + "/out/odd.png"])
        #expect(info.stdout.contains("latent:chain: denoise \(model)\n"), "\(info.stdout)")

        // Upgrading it: a residual block and noise-level conditioning, fine-tuned from its weights.
        let up = dir + "/up.safetensors"
        let u = try CLI.run(["train", "--model", "conv-dae", "--data", dir + "/train", "--noise", "gaussian:10-30/255", "--patch", "16",
                             "--batch", "4", "--steps-per-epoch", "3", "--epochs", "1", "--widths", "4,4,8", "--blocks", "1", "--noise-input",
                             "--init-from", model, "-o", up])
        #expect(u.status == 0, "\(u.stderr)")
        #expect(u.stderr.contains("+1 blocks σ-conditioned"))
        // Resuming needs the same architecture options, else a clear error.
        let wrong = try CLI.run(["train", "--model", "conv-dae", "--data", dir + "/train", "--noise", "gaussian:10-30/255", "--patch", "16",
                                 "--batch", "4", "--steps-per-epoch", "3", "--epochs", "2", "--widths", "4,4,8", "--resume", "-o", up])
        #expect(wrong.status == 2 && wrong.stderr.contains("the checkpoint has blocks=1, noise_input=sigma, this run blocks=0, noise_input=none; resume with the same options"), "\(wrong.stderr)")
        // A file that is not a checkpoint is refused, not resumed at epoch 0.
        let notCkpt = dir + "/plain.safetensors"
        try FileManager.default.copyItem(atPath: up, toPath: dir + "/plain.ckpt.safetensors")
        let plain = try CLI.run(["train", "--model", "conv-dae", "--data", dir + "/train", "--noise", "gaussian:10-30/255", "--patch", "16",
                                 "--batch", "4", "--steps-per-epoch", "3", "--epochs", "2", "--widths", "4,4,8", "--blocks", "1", "--noise-input",
                                 "--resume", "-o", notCkpt])
        #expect(plain.status == 2 && plain.stderr.contains("not a training checkpoint"), "\(plain.stderr)")
        // ... and not the other way round.
        let down = try CLI.run(["train", "--model", "conv-dae", "--data", dir + "/train", "--noise", "gaussian:10-30/255", "--patch", "16",
                                "--epochs", "1", "--widths", "4,4,8", "--init-from", up, "-o", dir + "/down.safetensors"])
        #expect(down.status == 2 && down.stderr.contains("it is conditioned on the noise level, this model is not"), "\(down.stderr)")
        // Eval measures σ (blind) or takes the true one.
        let blind = try CLI.run(["eval", "--model", up, "--data", dir + "/train", "--sigma", "20", "--json"])
        #expect(blind.status == 0 && blind.stdout.contains("\"sigma_input\":\"measured in each image\""), "\(blind.stdout)\(blind.stderr)")
        let given = try CLI.run(["eval", "--model", up, "--data", dir + "/train", "--sigma", "20", "--given-sigma", "--json"])
        #expect(given.status == 0 && given.stdout.contains("\"sigma_input\":\"given (the true σ)\""))
        // Denoise records the σ it measured or was given.
        #expect(try CLI.run(["denoise", dir + "/in", "-o", dir + "/out2", "--model", up]).status == 0)
        #expect(try CLI.run(["info", dir + "/out2/odd.png"]).stdout.contains("latent:sigma: measured "))
        #expect(try CLI.run(["denoise", dir + "/in", "-o", dir + "/out3", "--model", up, "--sigma", "12"]).status == 0)
        #expect(try CLI.run(["info", dir + "/out3/odd.png"]).stdout.contains("latent:sigma: given 12.00,12.00,12.00"))
        let bad = try CLI.run(["denoise", dir + "/in", "-o", dir + "/out4", "--model", up, "--sigma", "500"])
        #expect(bad.status != 0 && bad.stderr.contains("each between 0 and 100"))
        // One σ per channel, recorded as given.
        #expect(try CLI.run(["denoise", dir + "/in", "-o", dir + "/out5", "--model", up, "--sigma", "10,12,14"]).status == 0)
        #expect(try CLI.run(["info", dir + "/out5/odd.png"]).stdout.contains("latent:sigma: given 10.00,12.00,14.00"))
        // The same model as a stage of a chain, with a σ parameter: the same bytes as denoise.
        let chained = try CLI.run(["run", "read \(dir)/in | denoise \(up) sigma=12 | write \(dir)/out6"])
        #expect(chained.status == 0, "\(chained.stderr)")
        #expect(FileManager.default.contents(atPath: dir + "/out6/odd.png") != nil)
        let viaDenoise = try CLI.run(["denoise", dir + "/in", "-o", dir + "/out7", "--model", up, "--sigma", "12"])
        #expect(viaDenoise.status == 0)
        #expect(FileManager.default.contents(atPath: dir + "/out6/odd.png") == FileManager.default.contents(atPath: dir + "/out7/odd.png"))
        // Options a convolutional model cannot use are refused, naming why.
        let tile = try CLI.run(["denoise", dir + "/in", "-o", dir + "/out8", "--model", up, "--tile"])
        #expect(tile.status == 2 && tile.stderr.contains("takes images of any size"), "\(tile.stderr)")
        let mlpSigma = try CLI.run(["run", "read \(dir)/in | denoise mnist-dae sigma=3 | write \(dir)/out9"])
        #expect(mlpSigma.status == 2 && mlpSigma.stderr.contains("not conditioned on a noise level"), "\(mlpSigma.stderr)")
    }
}

extension TrainCommandTests {
    /// `--teacher-pairs DIR:SIGMA`: a colour model trains on given pairs beside its clean photos,
    /// says so, records it in the model file, names the files it could not use, and a folder
    /// without pairs is a clear error.
    @Test func convDaeTrainsOnTeacherPairs() throws {
        let dir = makeTempDir("teacher")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for i in 0..<3 {
            try writeImage(dir + "/train/\(i).png", width: 24, height: 20, layout: .rgb, seed: i)
            try writeImage(dir + "/pairs/noisy/\(i).png", width: 24, height: 20, layout: .rgb, seed: i + 10)
            try writeImage(dir + "/pairs/teacher/\(i).png", width: 24, height: 20, layout: .rgb, seed: i)
        }
        try writeImage(dir + "/pairs/noisy/lonely.png", width: 24, height: 20, layout: .rgb)
        let base = ["train", "--model", "conv-dae", "--rgb", "--noise-map", "--data", dir + "/train", "--noise", "gaussian:0-50/255", "--patch", "16",
                    "--batch", "4", "--steps-per-epoch", "3", "--epochs", "1", "--widths", "4,4,8", "--val-data", dir + "/train"]
        let r = try CLI.run(base + ["--teacher-pairs", dir + "/pairs:20", "--teacher-fraction", "0.75", "-o", dir + "/m.safetensors"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("3 teacher pairs for 75.0% of the patches"), "\(r.stderr)")
        #expect(r.stderr.contains("pairs/noisy/lonely.png: no teacher/lonely.png beside it"), "\(r.stderr)")
        // The safetensors header (an 8-byte little-endian length, then JSON) records the pairs.
        let file = try Data(contentsOf: URL(fileURLWithPath: dir + "/m.safetensors"))
        let length = file.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let header = String(decoding: file.dropFirst(8).prefix(length), as: UTF8.self)
        #expect(header.contains("\"train_teacher_pairs\":\"3 pairs, σ 20, fraction 0.75\""), "\(header)")
        let missing = try CLI.run(base + ["--teacher-pairs", dir + "/train:20", "-o", dir + "/n.safetensors"])
        #expect(missing.status == 2 && missing.stderr.contains("train: needs the subfolders noisy/ and teacher/"), "\(missing.stderr)")
    }
}
