import ArgumentParser
import CKernels
import FileIO
import Foundation
import Models
import Imaging
import Inference
import PNGIO
import Training
import NN
import Tensor

/// Micro-benchmarks that back the figures in the notes (not part of the user-facing CLI).
@main
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "latent-bench",
        abstract: "Measure sgemm peak and the FLOP rate of a training step.",
        subcommands: [Gemm.self, Recon.self, Conv.self, TrainStep.self, Infer.self, NoiseStats.self, HeldOut.self, RowMemory.self, GroupFilter.self, Correlation.self])

    /// As `latent`: OpenBLAS on the kernels the CPU has (see `BLAS.upgradedCoreType`).
    static func main() {
        if let core = BLAS.upgradedCoreType() { Relaunch.withEnvironment("OPENBLAS_CORETYPE", core) }
        main(nil)
    }
}

struct Gemm: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "sgemm GFLOP/s: a large square product (the machine's practical peak) and the VAE step's shapes.")

    @Option(help: "OpenBLAS threads.") var threads: Int = 2
    @Option(help: "Training images per second to express as a fraction of peak (VAE 784-400-20 recipe).") var imagesPerSecond: Double?
    @Option(help: "Hidden,latent of the VAE for the FLOP count.") var vae: String = "400,20"

    func time(_ iters: Int, _ body: () -> Void) -> Double {
        body()
        let t0 = Date()
        for _ in 0..<iters { body() }
        return Date().timeIntervalSince(t0) / Double(iters)
    }

    func run() throws {
        BLAS.setThreads(threads)
        print("OpenBLAS \(BLAS.configuration), \(BLAS.threads) threads, OPENBLAS_CORETYPE=\(ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] ?? "unset")")
        func gflops(m: Int, n: Int, k: Int, ta: Bool = false, tb: Bool = false) -> Double {
            let a = [Float](repeating: 0.5, count: m * k), b = [Float](repeating: 0.25, count: k * n)
            var c = [Float](repeating: 0, count: m * n)
            let iters = max(3, Int(2e9 / Double(2 * m * n * k)))
            let s = a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
                time(iters) {
                    BLAS.gemm(transA: ta, transB: tb, m: m, n: n, k: k, a: ap.baseAddress!, lda: ta ? m : k,
                              b: bp.baseAddress!, ldb: tb ? k : n, c: cp.baseAddress!, ldc: n)
                }
            } } }
            return 2 * Double(m * n * k) / s / 1e9
        }
        let peak = gflops(m: 1536, n: 1536, k: 1536)
        print(String(format: "peak (1536^3 sgemm): %.1f GFLOP/s", peak))
        let hz = vae.split(separator: ",").compactMap { Int($0) }
        let h = hz.first ?? 400, z = hz.last ?? 20, d = 784, bsz = 128
        let shapes: [(String, Int, Int, Int, Bool, Bool)] = [
            ("fwd x·W1ᵀ", bsz, h, d, false, true), ("fwd h·W4ᵀ", bsz, d, h, false, true),
            ("bwd dW4=dyᵀ·h", d, h, bsz, true, false), ("bwd dW1=dhᵀ·x", h, d, bsz, true, false),
            ("bwd dh=dy·W4", bsz, h, d, false, false),
        ]
        for (name, m, n, k, ta, tb) in shapes {
            print(String(format: "  %-16@ %4dx%4dx%4d: %6.1f GFLOP/s", name as NSString, m, n, k, gflops(m: m, n: n, k: k, ta: ta, tb: tb)))
        }
        // FLOPs per image of one VAE training step: forward, weight gradients, input gradients (not for layer 1).
        let fwd = 2.0 * Double(d * h + h * 2 * z + z * h + h * d)
        let bwdW = fwd
        let bwdX = 2.0 * Double(h * 2 * z + z * h + h * d)
        let perImage = fwd + bwdW + bwdX
        print(String(format: "VAE 784-%d-%d training: %.2f MFLOP per image", h, z, perImage / 1e6))
        if let ips = imagesPerSecond {
            let rate = perImage * ips / 1e9
            print(String(format: "at %.0f images/s: %.1f GFLOP/s = %.0f%% of sgemm peak", ips, rate, 100 * rate / peak))
        }
    }
}

/// Writes a model's reconstructions (decode(encode(x)), floats) of raw float images, for
/// comparing with another implementation.
struct Recon: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Reconstruct raw little-endian float32 images (N x inputSize) into a raw float32 file.")

    @Option(help: "Model file or built-in name.") var model: String
    @Option(help: "Input: raw float32 images.") var input: String
    @Option(help: "Output: raw float32 reconstructions.") var output: String

    func run() throws {
        let (m, _, _) = try BuiltinModels.resolve(model)
        guard let data = FileManager.default.contents(atPath: input) else { throw ValidationError("cannot read \(input)") }
        let dim = m.config.inputSize
        let n = data.count / 4 / dim
        var values = [Float](repeating: 0, count: n * dim)
        _ = values.withUnsafeMutableBytes { data.copyBytes(to: $0) }
        let x = Matrix(rows: n, cols: dim, values: values)
        let out = m.reconstruct(x).array
        try out.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: output)) }
        print("reconstructed \(n) images of \(dim) values with \(m.config.kind.rawValue) \(m.config.architecture)")
    }
}

/// The exact direct-convolution kernel (what `latent denoise` runs) against im2col + OpenBLAS
/// sgemm (what training runs), one thread each, on the photo model's layer shapes, and the whole
/// network both ways: CPU seconds, so a busy machine skews both sides alike.
struct Conv: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Exact conv kernel vs im2col+sgemm on the photo model's layers (1 thread each).")

    @Option(help: "Side of the full-resolution test image (a multiple of 4).") var size: Int = 256
    @Option(help: "Repetitions (the best is kept).") var repeats: Int = 3

    static func cpuSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    func best(_ body: () -> Void) -> Double {
        (0..<repeats).map { _ in let t = Self.cpuSeconds(); body(); return Self.cpuSeconds() - t }.min()!
    }

    func run() throws {
        BLAS.setThreads(1)
        precondition(size % 4 == 0 && size >= 16, "--size: a multiple of 4, at least 16")
        let model = ConvDenoiser(channels: 1, widths: (32, 64, 128), seed: 1)
        print("layer      cin   cout   k    pixels   exact GF/s   sgemm GF/s   ratio (sgemm time / exact time)")
        let scales = [1, 1, 2, 2, 4, 4, 4, 4, 2, 2, 1, 1]   // resolution divisor of each layer
        for (layer, d) in zip(model.layers, scales) {
            let h = size / d, w = size / d, k = layer.kernel, cin = layer.inChannels, cout = layer.outChannels
            let hp = h + k - 1, wp = w + k - 1
            var rng = RandomGenerator(seed: 2)
            let xp = (0..<(cin * hp * wp)).map { _ in rng.uniform() }
            let x = (0..<(cin * h * w)).map { _ in rng.uniform() }
            var out = [Float](repeating: 0, count: cout * h * w)
            var cols = [Float](repeating: 0, count: cin * k * k * h * w)
            let flops = 2.0 * Double(cin * cout * k * k * h * w)
            let exact = best { lk_conv_exact(xp, cin, h, w, k, layer.weight.value.data, layer.bias.value.data, cout, Int32(LK_RELU), &out) }
            let gemm = best {
                cols.withUnsafeMutableBufferPointer { cb in
                    out.withUnsafeMutableBufferPointer { ob in
                        lk_im2col(x, cin, h, w, k, cb.baseAddress!)
                        BLAS.gemm(transA: false, transB: false, m: cout, n: h * w, k: cin * k * k, a: layer.weight.value.data, lda: cin * k * k,
                                  b: cb.baseAddress!, ldb: h * w, c: ob.baseAddress!, ldc: h * w)
                    }
                }
            }
            print(String(format: "%-8@ %5d %6d %3d %9d %12.1f %12.1f %6.2fx", layer.weight.name.replacingOccurrences(of: ".weight", with: "") as NSString,
                         cin, cout, k, h * w, flops / exact / 1e9, flops / gemm / 1e9, gemm / exact))
        }
        // The whole network on one image: exact inference vs the training path (im2col + sgemm).
        var rng = RandomGenerator(seed: 3)
        let img = (0..<(size * size)).map { _ in rng.uniform() }
        let ws = ConvWorkspace()
        var res = [Float](repeating: 0, count: size * size)
        let exact = best {
            img.withUnsafeBufferPointer { ib in res.withUnsafeMutableBufferPointer { model.infer(ib.baseAddress!, h: size, w: size, into: $0.baseAddress!, workspace: ws) } }
        }
        let batch = Matrix(rows: 1, cols: size * size, values: img)
        let train = best { _ = model.forward(FeatureMaps(data: batch, shape: FeatureShape(c: 1, h: size, w: size))) }
        let mp = Double(size * size) / 1e6
        print(String(format: "whole network %dx%d (%d MACs/pixel): exact %.2f CPU-s/MP, im2col+sgemm %.2f CPU-s/MP, ratio %.2fx",
                     size, size, model.macsPerPixel, exact / mp, train / mp, train / exact))
    }
}

/// One training step of the colour model (forward and backward of a batch of patches, noise map
/// included) on the training path as it is (inference's kernels for "same" layers) against
/// every layer on im2col + sgemm (the path before session 30), alternately, on one thread:
/// CPU seconds per step and the ratio, and the largest difference between the two paths' weight
/// gradients (relative to the largest gradient).
struct TrainStep: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-step",
        abstract: "A colour-model training step on inference's kernels vs on im2col+sgemm (1 thread, alternately): CPU-s per step and the ratio.")

    @Option(help: "Channels at full, 1/2 and 1/4 resolution.") var widths: String = "48,64,128"
    @Option(help: "Residual blocks at 1/4 resolution.") var blocks: Int = 2
    @Option(help: "Patch side (a multiple of 4).") var patch: Int = 128
    @Option(help: "Patches per step.") var batch: Int = 4
    @Option(help: "Steps timed on each path (alternately).") var steps: Int = 3

    func run() throws {
        BLAS.setThreads(1)
        let w = widths.split(separator: ",").compactMap { Int($0) }
        guard w.count == 3, patch % 4 == 0, patch >= 16, batch >= 1, steps >= 1 else {
            throw ValidationError("--widths: three numbers; --patch: a multiple of 4, at least 16; --batch and --steps at least 1")
        }
        let model = ConvDenoiser(channels: 3, widths: (w[0], w[1], w[2]), blocks: blocks, noiseMap: true, seed: 1)
        var rng = RandomGenerator(seed: 4)
        for l in model.layers { for p in l.parameters { for i in 0..<p.count { p.value.data[i] = (rng.uniform() - 0.5) * 0.1 } } }
        let shape = FeatureShape(c: 3, h: patch, w: patch)
        let values = { (scale: Float) in Matrix(rows: batch, cols: shape.count, values: (0..<(batch * shape.count)).map { _ in rng.uniform() * scale }) }
        let clean = values(1), noisy = values(1), maps = values(0.5)
        func step(im2col: Bool) -> (seconds: Double, grads: [Float]) {
            for l in model.layers { l.im2colTraining = im2col; for p in l.parameters { p.grad.fill(0) } }
            let t = Conv.cpuSeconds()
            _ = model.forward(FeatureMaps(data: noisy, shape: shape), maps: maps)
            _ = model.backward(clean: clean)
            return (Conv.cpuSeconds() - t, model.layers.flatMap { $0.weight.grad.array })
        }
        _ = step(im2col: false)
        var fast = [Double](), reference = [Double](), worst: Float = 0
        for _ in 0..<steps {
            let a = step(im2col: false), b = step(im2col: true)
            fast.append(a.seconds)
            reference.append(b.seconds)
            let scale = max(b.grads.map(abs).max() ?? 1, 1e-30)
            worst = max(worst, (zip(a.grads, b.grads).map { abs($0 - $1) }.max() ?? 0) / scale)
        }
        let f = fast.min()!, r = reference.min()!
        print(String(format: "colour model %@ +%d blocks (%d MACs/pixel), %d patches of %dx%d, 1 thread, best of %d:",
                     widths as NSString, blocks, model.macsPerPixel, batch, patch, patch, steps))
        print(String(format: "  inference kernels %.2f CPU-s/step, im2col+sgemm %.2f CPU-s/step, ratio %.2fx; weight gradients differ by at most %.1e of the largest",
                     f, r, r / f, worst))
    }
}

struct NoiseStats: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "noise-stats",
        abstract: "Statistics of the synthetic camera noise (what the colour model trains on): σ, horizontal autocorrelation at lags 1-8, cross-channel correlation, and luma and chroma apart (variance ratio, autocorrelation), to set beside scripts/noise_stats.py on real noisy/clean pairs.")
    @Option(help: "Patches (96x96, mid-grey with a gentle gradient).") var patches = 60
    @Option(help: "Share of patches JPEG-compressed.") var jpeg: Float = 0.5
    @Option(help: "Seed.") var seed: UInt64 = 3
    @Option(help: "In-camera processing: none, standard (train --camera-processing), coarse (train --coarse-noise), correlated (train --correlated-noise), reduced-chroma (train --reduced-chroma) or smooth-chroma (train --smooth-chroma).") var processing: CameraNoise.Processing = .none

    func run() {
        let h = 96, w = 96, n = h * w, lags = [1, 2, 3, 4, 6, 8]
        var rng = RandomGenerator(seed: seed)
        var ac = [Double](repeating: 0, count: lags.count), cross = [Double](repeating: 0, count: 3), sig = [Double](repeating: 0, count: 3)
        var chromaShare = [0.0, 0.0], opponentAC = [[Double]](repeating: [Double](repeating: 0, count: lags.count), count: 3)
        // Mean square of plane c of p, and the mean product of its pixels `lag` apart along rows.
        func meanSquare(_ p: [Double], _ c: Int) -> Double { p[(c * n)..<((c + 1) * n)].map { $0 * $0 }.reduce(0, +) / Double(n) }
        func lagProduct(_ p: [Double], _ c: Int, _ lag: Int) -> Double {
            var a = 0.0
            for y in 0..<h { for x in 0..<(w - lag) { a += p[c * n + y * w + x] * p[c * n + y * w + x + lag] } }
            return a / Double(h * (w - lag))
        }
        for t in 0..<patches {
            let st = CameraNoise.Settings.random(&rng, jpegFraction: jpeg, processing: processing)
            let base: [Float] = [0.35 + 0.15 * Float(t % 3), 0.4, 0.45]
            let clean = (0..<3).flatMap { c in (0..<n).map { i in base[c] + 0.05 * sinf(Float(i % w) / 9) } }
            var noisy = [Float](repeating: 0, count: 3 * n), map = noisy
            CameraNoise.apply(clean, h: h, w: w, settings: st, rng: &rng, noisy: &noisy, map: &map)
            var e = (0..<(3 * n)).map { Double(noisy[$0] - clean[$0]) * 255 }
            var v = [Double](repeating: 0, count: 3)
            for c in 0..<3 {
                let m = e[(c * n)..<((c + 1) * n)].reduce(0, +) / Double(n)
                for i in (c * n)..<((c + 1) * n) { e[i] -= m }
                v[c] = max(1e-9, meanSquare(e, c))
                sig[c] += v[c].squareRoot()
            }
            for (k, lag) in lags.enumerated() {
                for c in 0..<3 { ac[k] += lagProduct(e, c, lag) / v[c] / 3 }
            }
            for (j, (a, b)) in [(0, 1), (0, 2), (1, 2)].enumerated() {
                var s = 0.0
                for i in 0..<n { s += e[a * n + i] * e[b * n + i] }
                cross[j] += s / Double(n) / (v[a] * v[b]).squareRoot()
            }
            // Luma and the two chroma components (opponent: (R+G+B)/3, (R−B)/2, (R+B)/4 − G/2).
            let o = (0..<(3 * n)).map { j -> Double in
                let c = j / n, i = j % n, r = e[i], g = e[n + i], b = e[2 * n + i]
                return c == 0 ? (r + g + b) / 3 : c == 1 ? (r - b) / 2 : (r + b) / 4 - g / 2
            }
            let ov = (0..<3).map { c in max(1e-9, meanSquare(o, c)) }
            for c in 0..<3 {
                if c > 0 { chromaShare[c - 1] += ov[c] / ov[0] }
                for (k, lag) in lags.enumerated() { opponentAC[c][k] += lagProduct(o, c, lag) / ov[c] }
            }
        }
        let p = Double(patches)
        print("synthetic camera noise, \(patches) patches: sigma per channel " + sig.map { String(format: "%.2f", $0 / p) }.joined(separator: " "))
        print("horizontal autocorrelation at lags \(lags.map(String.init).joined(separator: ",")): " + ac.map { String(format: "%.3f", $0 / p) }.joined(separator: " "))
        print("cross-channel correlation RG RB GB: " + cross.map { String(format: "%.3f", $0 / p) }.joined(separator: " "))
        print("chroma variance / luma variance (mean per patch): " + chromaShare.map { String(format: "%.3f", $0 / p) }.joined(separator: " "))
        for (c, name) in ["luma", "chroma 1", "chroma 2"].enumerated() {
            print("\(name) autocorrelation at lags \(lags.map(String.init).joined(separator: ",")): " + opponentAC[c].map { String(format: "%.3f", $0 / p) }.joined(separator: " "))
        }
    }
}

extension CameraNoise.Processing: ExpressibleByArgument {}

/// Whole-image inference of a convolutional model on PNG files, one thread, timed in CPU
/// seconds around the network alone (what `bench/photo_vs_pytorch.py` compares with PyTorch).
/// Each image is cropped to multiples of 4 and given σ (a noise-map model: σ/50 in every map
/// plane); the outputs can be written as raw float32 (planes of each image in order) so another
/// implementation can be checked against them.
struct Infer: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Time whole-image inference of a conv model on PNG files (CPU seconds per megapixel).")

    @Option(help: "Model: a built-in name or a .safetensors file.") var model = "photo"
    @Option(help: "Noise level (0-255) the model is given.") var sigma: Float = 25
    @Option(help: "Repetitions of the whole set (the fastest is reported).") var repeats = 1
    @Option(help: "Write the outputs here as raw little-endian float32.") var out: String?
    @Argument(help: "PNG files (grey for a grey model, RGB for a colour one).") var files: [String]

    func run() throws {
        BLAS.setThreads(1)
        let (net, _) = try ConvModelFile.load(path: try BuiltinModels.file(of: model))
        let layout: PixelLayout = net.channels == 3 ? .rgb : .gray
        var images: [(x: [Float], h: Int, w: Int)] = []
        for f in files {
            let img = FloatImage(try PNGReader.read(path: f, layout: layout, depth: 8))
            let h = img.height / 4 * 4, w = img.width / 4 * 4
            var x = [Float](repeating: net.noiseMap ? sigma / 50 : 0, count: net.inputPlanes * h * w)
            for c in 0..<net.channels { for y in 0..<h { for xx in 0..<w { x[(c * h + y) * w + xx] = img[x: xx, y: y, c: c] } } }
            images.append((x, h, w))
        }
        let weights = ConvDenoiser.InferenceWeights(net, sigma: net.noiseInput ? sigma : nil)
        let ws = ConvWorkspace()
        var outputs = images.map { [Float](repeating: 0, count: net.channels * $0.h * $0.w) }
        var best = Double.infinity
        for _ in 0..<max(1, repeats) {
            let t0 = Conv.cpuSeconds()
            for i in images.indices {
                images[i].x.withUnsafeBufferPointer { xb in
                    outputs[i].withUnsafeMutableBufferPointer { net.infer(xb.baseAddress!, h: images[i].h, w: images[i].w, weights: weights, into: $0.baseAddress!, workspace: ws) }
                }
            }
            best = min(best, Conv.cpuSeconds() - t0)
        }
        if let out {
            var bytes = Data()
            for o in outputs { o.withUnsafeBytes { bytes.append(contentsOf: $0) } }
            try bytes.write(to: URL(fileURLWithPath: out))
        }
        let mp = Double(images.reduce(0) { $0 + $1.h * $1.w }) / 1e6
        print(String(format: "{\"images\":%d,\"megapixels\":%.4f,\"cpu_seconds\":%.4f,\"cpu_s_per_mp\":%.4f,\"macs_per_pixel\":%d}",
                     images.count, mp, best, best / mp, net.macsPerPixel))
    }
}

/// The photos a `latent train --model conv-dae|noise-estimator` run held out for validation (no
/// --val-data: a seeded tenth of the folder), one path a line, from the trainer's own split
/// (`scripts/heldout_photos.py` copies them into a folder to score models on).
struct HeldOut: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "heldout", abstract: "List the photos a training run held out for validation.")

    @Argument(help: "The training folder (--data).") var data: String
    @Option(help: "The run's --seed.") var seed: UInt64
    @Option(help: "The run's --patch (smaller images are not used at all).") var patch = 96
    @Flag(help: "The run had --rgb.") var rgb = false

    func run() throws {
        for path in try PatchTrainer.heldOutPaths(data, channels: rgb ? 3 : 1, patch: patch, seed: seed) { print(path) }
    }
}

/// The rolling rows a conv model's row stream holds at a width: what bounds the memory of
/// `latent denoise` on wide images (the rest is the runtime, the model and the PNG rows).
struct RowMemory: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rows", abstract: "Bytes of the rolling rows a conv model's row stream holds at a width, per feature map.")

    @Option(help: "Model: a built-in name or a .safetensors file.") var model = "photo-color"
    @Option(help: "Image width (a multiple of 4).") var width = 4000
    @Option(help: "Rows to stream (enough for the windows to reach their steady size).") var height = 256

    func run() throws {
        guard width > 0, width % 4 == 0, height > 0, height % 4 == 0 else { throw ValidationError("--width and --height must be positive multiples of 4.") }
        let (net, _) = try ConvModelFile.load(path: try BuiltinModels.file(of: model))
        let stream = ConvRowStream(model: net, weights: ConvDenoiser.InferenceWeights(net, sigma: net.noiseInput ? 25 : nil),
                                   width: width, height: height) { _, _ in }
        stream.feed(height) { _, _, dst in dst.update(repeating: 0.5, count: width) }
        let f = stream.footprint
        print(String(format: "%@ at %d columns: %.1f MB of rolling rows", model, width, Double(f.bytes) / 1e6))
        print("maps (channels x rows held): " + f.maps.map { "\($0.c)x\($0.rows)" }.joined(separator: " "))
    }
}

struct GroupFilter: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "group-wiener",
        abstract: "GroupWiener on a folder: each noisy PNG filtered with the same-named PNG of PILOTS as its pilot, at σ = FACTOR × the mean of the given per-file σs (or --sigma), written to OUT; prints CPU seconds per megapixel.")
    @Argument var noisy: String
    @Argument var pilots: String
    @Argument var out: String
    @Option(help: "A fixed σ (0-255).") var sigma: Float = 25
    @Option var step = 3
    @Option var radius = 19
    @Option var group = 32
    @Option var tau: Float = 400
    @Option(name: .customLong("stride")) var searchStride = 1
    @Option(help: "Band height for streaming (0: the whole image).") var band = 0
    @Option(help: "`latent eval --pairs DIR --json` output: each file's σ reading, times --factor, instead of --sigma.") var readings: String?
    @Option(help: "With --readings: σ = factor × the mean of the file's per-channel reading.") var factor: Float = 5.5

    func run() throws {
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let names = try FileManager.default.contentsOfDirectory(atPath: noisy).filter { $0.hasSuffix(".png") }.sorted()
        var cpu = 0.0, mp = 0.0
        var read: [String: Float] = [:]
        if let readings {
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: readings))) as! [String: Any]
            for im in json["per_image"] as! [[String: Any]] {
                let s = (im["sigma"] as! String).split(separator: ",").compactMap { Float(String($0)) }
                read[im["name"] as! String] = s.reduce(0, +) / Float(s.count)
            }
        }
        for n in names {
            let sigma = readings == nil ? sigma : factor * read[n]!
            let z = FloatImage(try PNGReader.read(path: noisy + "/" + n, layout: .rgb, depth: 8))
            let y = FloatImage(try PNGReader.read(path: pilots + "/" + n, layout: .rgb, depth: 8))
            let t0 = clock()
            let st = GroupWiener.Settings(step: step, radius: radius, group: group, tau: tau, stride: searchStride)
            let o = try GroupWiener.filter(noisy: z, pilot: y, sigma: [sigma, sigma, sigma], settings: st, bandRows: band == 0 ? nil : band)
            cpu += Double(clock() - t0) / Double(CLOCKS_PER_SEC)
            mp += Double(z.width * z.height) / 1e6
            try PNGWriter.write(o.pngImage(layout: .rgb, depth: 8), to: out + "/" + n)
        }
        print(String(format: "%d files, %.2f CPU-s/MP", names.count, cpu / mp))
    }
}

struct Correlation: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "noise-correlation",
        abstract: "NoiseCorrelation (the real-noise gate's statistic) of every PNG in each folder (a pairs folder: its noisy/): the range per folder, each file with --each, and the CPU seconds per megapixel.")
    @Argument var folders: [String]
    @Flag var each = false

    func run() throws {
        var cpu = 0.0, mp = 0.0
        for folder in folders {
            let dir = FileManager.default.fileExists(atPath: folder + "/noisy") ? folder + "/noisy" : folder
            let names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".png") }.sorted()
            var values: [Double] = []
            for n in names {
                let png = try PNGReader.read(path: dir + "/" + n)
                let planes = png.layout.colorChannels
                let img = FloatImage(png)
                let t0 = clock()
                let v = NoiseCorrelation.measure(img, planes: planes)
                cpu += Double(clock() - t0) / Double(CLOCKS_PER_SEC)
                mp += Double(img.width * img.height) / 1e6
                if each { print(n, v.map { String(format: "%.3f", $0) } ?? "-") }
                if let v { values.append(v) }
            }
            values.sort()
            guard !values.isEmpty else { print(folder, "no values"); continue }
            print((folder as NSString).lastPathComponent + String(format: " n=%d min %.3f median %.3f max %.3f", values.count,
                         values.first!, values[values.count / 2], values.last!))
        }
        print(String(format: "%.3f CPU-s/MP", cpu / max(mp, 1e-9)))
    }
}
