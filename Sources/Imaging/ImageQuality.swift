import Foundation

/// Full-reference quality of an image against its clean reference, both on the 8-bit scale
/// (samples of `FloatImage` in [0, 1] are scaled by 255 and the test image is rounded and
/// clipped to 8 bits first, as a saved PNG would be).
public enum ImageQuality {
    /// PSNR = 10·log10(255² / MSE) over every sample of every channel.
    public static func psnr(_ image: FloatImage, reference: FloatImage) -> Double {
        precondition(image.data.count == reference.data.count, "psnr: sizes differ")
        var se = 0.0
        for i in 0..<image.data.count {
            let d = Double(quantised(image.data[i])) - Double((reference.data[i] * 255).rounded())
            se += d * d
        }
        return 10 * log10(255 * 255 / max(1e-10, se / Double(max(1, image.data.count))))
    }

    /// SSIM (Wang et al. 2004): an 11x11 Gaussian window of σ 1.5, K1 = 0.01, K2 = 0.03,
    /// L = 255, over the positions where the window fits inside the image; the mean of the SSIM
    /// maps of all channels.
    public static func ssim(_ image: FloatImage, reference: FloatImage) -> Double {
        precondition(image.width == reference.width && image.height == reference.height && image.channels == reference.channels,
                     "ssim: sizes differ")
        let r = 5, w = image.width, h = image.height
        guard w > 2 * r, h > 2 * r else { return psnr(image, reference: reference) >= 99 ? 1 : 0 }
        let g: [Double] = {
            let k = (-r...r).map { exp(-Double($0 * $0) / (2 * 1.5 * 1.5)) }
            let s = k.reduce(0, +)
            return k.map { $0 / s }
        }()
        let c1 = (0.01 * 255) * (0.01 * 255), c2 = (0.03 * 255) * (0.03 * 255)
        var total = 0.0, count = 0
        for c in 0..<image.channels {
            let n = w * h
            var x = [Double](repeating: 0, count: n), y = x
            for i in 0..<n {
                x[i] = Double(quantised(image.data[c * n + i]))
                y[i] = Double((reference.data[c * n + i] * 255).rounded())
            }
            // Separable window sums of x, y, x², y², xy: rows first, then columns.
            let fields = [x, y, zip(x, x).map(*), zip(y, y).map(*), zip(x, y).map(*)]
            let filtered = fields.map { f -> [Double] in
                var rows = [Double](repeating: 0, count: n)
                for yy in 0..<h { for xx in r..<(w - r) { var s = 0.0; for j in -r...r { s += g[j + r] * f[yy * w + xx + j] }; rows[yy * w + xx] = s } }
                var out = [Double](repeating: 0, count: n)
                for yy in r..<(h - r) { for xx in r..<(w - r) { var s = 0.0; for j in -r...r { s += g[j + r] * rows[(yy + j) * w + xx] }; out[yy * w + xx] = s } }
                return out
            }
            for yy in r..<(h - r) {
                for xx in r..<(w - r) {
                    let i = yy * w + xx
                    let mx = filtered[0][i], my = filtered[1][i]
                    let vx = filtered[2][i] - mx * mx, vy = filtered[3][i] - my * my, cxy = filtered[4][i] - mx * my
                    total += ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
                    count += 1
                }
            }
        }
        return total / Double(max(1, count))
    }

    @inline(__always) static func quantised(_ v: Float) -> Float { min(255, max(0, (v * 255).rounded())) }
}
