import CKernels
import Foundation
import Models
import NN
import Tensor

/// Figures of a trained model on a test set.
public enum Evaluator {
    /// Mean losses per image over a dataset.
    public static func meanLoss(_ model: LatentModel, _ data: Dataset, batch: Int = 500, rng: inout RandomGenerator) -> StepLosses {
        let m = Matrix(rows: 0, cols: data.dim)
        var sums = StepLosses()
        var i = 0
        while i < data.count {
            let rows = min(batch, data.count - i)
            m.setRows(rows)
            data.data.withUnsafeBufferPointer { m.data.update(from: $0.baseAddress! + i * data.dim, count: rows * data.dim) }
            sums += model.evaluate(m, rng: &rng, rowLoss: nil)
            i += rows
        }
        let n = Double(data.count)
        var out = StepLosses()
        out.total = sums.total / n
        out.reconstruction = sums.reconstruction / n
        out.kl = sums.kl / n
        out.penalty = sums.penalty / n
        return out
    }

    /// Importance-weighted estimate of log p(x) (Burda et al. 2015), averaged over images:
    ///   log p(x) ≈ log (1/K) Σ_k p(x|z_k) p(z_k) / q(z_k|x),   z_k ~ q(z|x).
    /// K = 1 gives the ELBO; it tightens as K grows.
    public static func iwae(_ vae: VAE, _ data: Dataset, samples k: Int, rng: inout RandomGenerator,
                            progress: ((Int, Int) -> Void)? = nil) -> Double {
        let zDim = vae.config.latent
        let imagesPerChunk = max(1, min(data.count, 8192 / max(1, k)))
        let x1 = Matrix(rows: 0, cols: data.dim)
        let xs = Matrix(rows: 0, cols: data.dim)
        let z = Matrix(rows: 0, cols: zDim)
        let log2pi = Self.log2pi
        var total = 0.0
        var i = 0
        while i < data.count {
            let nImg = min(imagesPerChunk, data.count - i)
            x1.setRows(nImg)
            data.data.withUnsafeBufferPointer { x1.data.update(from: $0.baseAddress! + i * data.dim, count: nImg * data.dim) }
            let stats = vae.posterior(x1).clone()
            // Each image k times (sample s of image j at row j·k + s), chunked so a pass stays small.
            var logW = [Double](repeating: 0, count: nImg * k)
            let rowsPerPass = 8192
            var row = 0
            while row < nImg * k {
                let rows = min(rowsPerPass, nImg * k - row)
                xs.setRows(rows)
                z.setRows(rows)
                var lq = [Double](repeating: 0, count: rows), lp = [Double](repeating: 0, count: rows)
                for r in 0..<rows {
                    let j = (row + r) / k
                    (xs.data + r * data.dim).update(from: x1.data + j * data.dim, count: data.dim)
                    let mu = stats.data + j * 2 * zDim, lv = mu + zDim
                    var q: Float = 0, p: Float = 0
                    for d in 0..<zDim {
                        let e = rng.normal()
                        let v = mu[d] + expf(0.5 * lv[d]) * e
                        z.data[r * zDim + d] = v
                        q += -0.5 * (e * e + log2pi + lv[d])
                        p += -0.5 * (v * v + log2pi)
                    }
                    lq[r] = Double(q); lp[r] = Double(p)
                }
                let nll = negativeLogLikelihood(vae, latents: z, images: xs)
                for r in 0..<rows { logW[row + r] = -Double(nll[r]) + lp[r] - lq[r] }
                row += rows
            }
            for j in 0..<nImg {
                let w = logW[(j * k)..<((j + 1) * k)]
                let mx = w.max()!
                total += mx + log(w.reduce(0.0) { $0 + exp($1 - mx) } / Double(k))
            }
            i += nImg
            progress?(i, data.count)
        }
        return total / Double(data.count)
    }

    static let log2pi = Float(log(2 * Double.pi))

    /// −log p(x|z) of each row of `images` under the decoder, given the row's latent in `latents`.
    static func negativeLogLikelihood(_ vae: VAE, latents z: Matrix, images xs: Matrix) -> [Float] {
        var nll = [Float](repeating: 0, count: xs.rows)
        let out = vae.decoderOutput(z)
        switch vae.config.decoder {
        case .bernoulli: _ = Loss.bceWithLogits(logits: out, target: xs, grad: nil, rowLoss: &nll)
        case .gaussian:
            // A unit-variance Gaussian: half the squared error plus the normaliser per pixel.
            _ = Loss.squaredError(output: out, target: xs, grad: nil, rowLoss: &nll)
            let c = Float(xs.cols) * 0.5 * log2pi
            for r in 0..<xs.rows { nll[r] = 0.5 * nll[r] + c }
        }
        return nll
    }

    /// Mean over images of 10·log10(1 / MSE), pixels in [0, 1].
    public static func psnr(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, images: Int, dim: Int) -> Double {
        var total = 0.0
        for i in 0..<images {
            var se = 0.0
            for j in 0..<dim { let d = Double(a[i * dim + j] - b[i * dim + j]); se += d * d }
            total += 10 * log10(1 / max(se / Double(dim), 1e-10))
        }
        return total / Double(images)
    }

    /// 3x3 median filter of each image (edges replicated): the classic baseline denoiser.
    public static func median3x3(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, width: Int, height: Int, planes: Int) {
        var win = [Float](repeating: 0, count: 9)
        for p in 0..<planes {
            let s = src + p * width * height, d = dst + p * width * height
            for y in 0..<height {
                for x in 0..<width {
                    var n = 0
                    for dy in -1...1 {
                        for dx in -1...1 {
                            let yy = min(max(y + dy, 0), height - 1), xx = min(max(x + dx, 0), width - 1)
                            win[n] = s[yy * width + xx]; n += 1
                        }
                    }
                    win.sort()
                    d[y * width + x] = win[4]
                }
            }
        }
    }

    public struct DenoiseFigures: Sendable {
        public var noise: Corruption
        public var psnrNoisy: Double
        public var psnrDenoised: Double
        public var psnrMedian: Double
    }

    /// PSNR of noisy, denoised and median-filtered images against the clean ones, with noise
    /// drawn from `seed` (the same images and noise for every model).
    public static func denoising(_ model: LatentModel, _ data: Dataset, noise: Corruption, seed: UInt64) -> DenoiseFigures {
        var rng = RandomGenerator(seed: seed)
        let n = data.count, dim = data.dim
        var noisy = [Float](repeating: 0, count: n * dim)
        data.data.withUnsafeBufferPointer { noise.apply($0.baseAddress!, &noisy, count: n * dim, rng: &rng) }
        var denoised = [Float](repeating: 0, count: n * dim)
        var median = [Float](repeating: 0, count: n * dim)
        let m = Matrix(rows: 0, cols: dim)
        var i = 0
        while i < n {
            let rows = min(500, n - i)
            m.setRows(rows)
            noisy.withUnsafeBufferPointer { m.data.update(from: $0.baseAddress! + i * dim, count: rows * dim) }
            let out = model.reconstruct(m)
            denoised.withUnsafeMutableBufferPointer { ($0.baseAddress! + i * dim).update(from: out.data, count: rows * dim) }
            i += rows
        }
        noisy.withUnsafeBufferPointer { src in
            median.withUnsafeMutableBufferPointer { dst in
                for j in 0..<n {
                    median3x3(src.baseAddress! + j * dim, dst.baseAddress! + j * dim, width: data.width, height: data.height, planes: data.channels)
                }
            }
        }
        return data.data.withUnsafeBufferPointer { clean in
            DenoiseFigures(noise: noise,
                           psnrNoisy: psnr(noisy, clean.baseAddress!, images: n, dim: dim),
                           psnrDenoised: psnr(denoised, clean.baseAddress!, images: n, dim: dim),
                           psnrMedian: psnr(median, clean.baseAddress!, images: n, dim: dim))
        }
    }
}
