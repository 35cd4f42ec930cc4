import ArgumentParser
import Foundation
import Models
import NN
import Tensor

/// Micro-benchmarks that back the figures in the notes (not part of the user-facing CLI).
@main
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "latent-bench",
        abstract: "Measure sgemm peak and the FLOP rate of a training step.",
        subcommands: [Gemm.self, Recon.self])
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
