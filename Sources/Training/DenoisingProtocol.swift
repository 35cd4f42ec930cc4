#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Imaging
import Inference
import Models
import Tensor

/// CPU time of this process (user + system, all threads), for cost per megapixel.
public enum CPUClock {
    public static func seconds() -> Double {
        var u = rusage()
        #if canImport(Glibc)
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u)
        #else
        getrusage(RUSAGE_SELF, &u)
        #endif
        return Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) / 1e6 + Double(u.ru_stime.tv_sec) + Double(u.ru_stime.tv_usec) / 1e6
    }
}

/// The standard denoising protocol for white Gaussian noise: the clean image in 8 bits, noisy =
/// clean + σ·N(0, 1) in floating point (seeded per image), output rounded and clipped to 8 bits,
/// PSNR = 10·log10(255²/MSE) over the whole image. Training's validation and `latent eval` both
/// use it.
public enum DenoisingProtocol {
    /// Image `index`'s noisy copy (0-1 scale). `quantized`: rounded and clipped to 8 bits, as a
    /// saved noisy PNG is.
    public static func noisy(_ img: FloatImage, sigma: Float, seed: UInt64, index: Int, quantized: Bool) -> FloatImage {
        var rng = RandomGenerator(seed: seed &+ UInt64(index))
        let data = img.data.map { v -> Float in
            let n = (v * 255).rounded() + sigma * rng.normal()
            return (quantized ? min(255, max(0, n.rounded())) : n) / 255
        }
        return FloatImage(width: img.width, height: img.height, channels: img.channels, data: data)
    }

    /// What one run of the protocol measured.
    public struct Report: Sendable {
        public var psnrDenoised: [Double] = []
        public var psnrNoisy: [Double] = []
        /// Measured σ minus the true σ, per colour plane of each image (a conditioned model told nothing).
        public var sigmaErrors: [Double] = []
        public var cpuSeconds = 0.0
        public var pixels = 0

        public var meanDenoised: Double { psnrDenoised.reduce(0, +) / Double(max(1, psnrDenoised.count)) }
        public var meanNoisy: Double { psnrNoisy.reduce(0, +) / Double(max(1, psnrNoisy.count)) }
        public var cpuSecondsPerMegapixel: Double { cpuSeconds / max(1e-9, Double(pixels) / 1e6) }
        public var meanAbsSigmaError: Double? { sigmaErrors.isEmpty ? nil : sigmaErrors.map(abs).reduce(0, +) / Double(sigmaErrors.count) }
    }

    /// Denoises each image's noisy copy with `denoiser` as `latent denoise` would (a conditioned
    /// model measures σ in each plane unless the denoiser was given one), timing the
    /// measurement and the inference.
    public static func run(_ denoiser: BandDenoiser, images: [FloatImage], sigma: Float, seed: UInt64, quantized: Bool) -> Report {
        var r = Report()
        for (i, img) in images.enumerated() {
            let input = noisy(img, sigma: sigma, seed: seed, index: i, quantized: quantized)
            r.psnrNoisy.append(ImageQuality.psnr(input, reference: img))
            let t0 = CPUClock.seconds()
            let used = denoiser.sigmas(for: input)
            if denoiser.sigma == nil, let used { r.sigmaErrors += used.map { Double($0 - sigma) } }
            let out = denoiser.wholeImage(input, sigmas: used)
            r.cpuSeconds += CPUClock.seconds() - t0
            r.pixels += img.width * img.height
            r.psnrDenoised.append(ImageQuality.psnr(out, reference: img))
        }
        return r
    }
}
