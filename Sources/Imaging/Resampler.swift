import PNGIO

/// Resizing that does not alias: when a side shrinks, each output sample is the area average of
/// the input samples its footprint covers (exact fractional coverage); when it grows, bilinear
/// interpolation between pixel centres. The two axes are resampled separately, each with the
/// rule its own scale calls for. Images with alpha are resampled premultiplied, so transparent
/// pixels do not bleed their colour into visible ones.
public enum Resampler {
    /// Per output index: the first input index and the weights from there on (they sum to 1).
    struct Weights {
        var start: [Int]
        var offset: [Int]   // into `weights`, count + 1 entries
        var weights: [Float]

        init(from n: Int, to m: Int) {
            start = []
            offset = [0]
            weights = []
            start.reserveCapacity(m)
            if m < n {
                let scale = Double(n) / Double(m)
                for o in 0..<m {
                    let a = Double(o) * scale, b = Double(o + 1) * scale
                    let i0 = Int(a.rounded(.down)), i1 = min(n, Int(b.rounded(.up)))
                    start.append(i0)
                    for i in i0..<i1 {
                        let cover = min(b, Double(i + 1)) - max(a, Double(i))
                        weights.append(Float(cover / scale))
                    }
                    offset.append(weights.count)
                }
            } else {
                let scale = Double(n) / Double(m)
                for o in 0..<m {
                    let centre = (Double(o) + 0.5) * scale - 0.5
                    let f = centre.rounded(.down)
                    let t = Float(centre - f)
                    let i0 = Int(f)
                    let lo = min(max(i0, 0), n - 1), hi = min(max(i0 + 1, 0), n - 1)
                    if lo == hi || t == 0 {
                        start.append(lo)
                        weights.append(1)
                    } else {
                        start.append(lo)
                        weights.append(1 - t)
                        weights.append(t)
                    }
                    offset.append(weights.count)
                }
            }
        }
    }

    /// Resizes every channel of `image` to `width` x `height`. If `alphaChannel` is given, the
    /// other channels are premultiplied by it while resampling.
    public static func resize(_ image: FloatImage, width: Int, height: Int, alphaChannel: Int? = nil) -> FloatImage {
        precondition(width > 0 && height > 0, "resize to an empty image")
        if width == image.width && height == image.height { return image }
        var src = image
        let n = image.planeSize
        if let a = alphaChannel {
            for c in 0..<image.channels where c != a {
                for p in 0..<n { src.data[c * n + p] *= image.data[a * n + p] }
            }
        }
        let wx = Weights(from: image.width, to: width)
        let wy = Weights(from: image.height, to: height)
        // Horizontal pass: (c, inH, inW) → (c, inH, outW)
        var mid = [Float](repeating: 0, count: image.channels * image.height * width)
        src.data.withUnsafeBufferPointer { s in
            mid.withUnsafeMutableBufferPointer { d in
                for row in 0..<(image.channels * image.height) {
                    let sRow = row * image.width, dRow = row * width
                    for o in 0..<width {
                        var acc: Float = 0
                        let st = wx.start[o]
                        for j in wx.offset[o]..<wx.offset[o + 1] {
                            acc += wx.weights[j] * s[sRow + st + (j - wx.offset[o])]
                        }
                        d[dRow + o] = acc
                    }
                }
            }
        }
        // Vertical pass: (c, inH, outW) → (c, outH, outW)
        var out = FloatImage(width: width, height: height, channels: image.channels)
        mid.withUnsafeBufferPointer { s in
            out.data.withUnsafeMutableBufferPointer { d in
                for c in 0..<image.channels {
                    let sPlane = c * image.height * width, dPlane = c * height * width
                    for o in 0..<height {
                        let dRow = dPlane + o * width
                        let st = wy.start[o]
                        for j in wy.offset[o]..<wy.offset[o + 1] {
                            let w = wy.weights[j]
                            let sRow = sPlane + (st + j - wy.offset[o]) * width
                            for x in 0..<width { d[dRow + x] += w * s[sRow + x] }
                        }
                    }
                }
            }
        }
        if let a = alphaChannel {
            let m = out.planeSize
            for p in 0..<m {
                let alpha = out.data[a * m + p]
                for c in 0..<out.channels where c != a {
                    out.data[c * m + p] = alpha > 0 ? out.data[c * m + p] / alpha : 0
                }
            }
        }
        return out
    }

    /// Resizes a PNG raster, keeping its layout and depth.
    public static func resize(_ image: PNGImage, width: Int, height: Int) -> PNGImage {
        if width == image.width && height == image.height { return image }
        let f = FloatImage(image)
        let alpha = image.layout.hasAlpha ? image.layout.channels - 1 : nil
        return resize(f, width: width, height: height, alphaChannel: alpha)
            .pngImage(layout: image.layout, depth: image.depth)
    }

    /// The size that makes the longest side `longest`, keeping the aspect ratio (at least 1x1).
    public static func fitSize(width: Int, height: Int, longest: Int) -> (width: Int, height: Int) {
        if width >= height {
            return (longest, max(1, Int((Double(height) * Double(longest) / Double(width)).rounded())))
        }
        return (max(1, Int((Double(width) * Double(longest) / Double(height)).rounded())), longest)
    }
}
