import PNGIO

/// A raster as Float planes in [0, 1]: `channels` planes of `height` rows of `width` values
/// (planar, so a channel is one contiguous block a model can take as a row of a matrix).
public struct FloatImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var channels: Int
    /// channel-major: data[(c * height + y) * width + x]
    public var data: [Float]

    public init(width: Int, height: Int, channels: Int, data: [Float]) {
        precondition(data.count == width * height * channels, "FloatImage: size mismatch")
        self.width = width
        self.height = height
        self.channels = channels
        self.data = data
    }

    public init(width: Int, height: Int, channels: Int, value: Float = 0) {
        self.init(width: width, height: height, channels: channels,
                  data: [Float](repeating: value, count: width * height * channels))
    }

    public var planeSize: Int { width * height }

    public subscript(x x: Int, y y: Int, c c: Int) -> Float {
        get { data[(c * height + y) * width + x] }
        set { data[(c * height + y) * width + x] = newValue }
    }

    /// Rows `range` of every plane, as an image of their own.
    public func rows(_ range: Range<Int>) -> FloatImage {
        var out = FloatImage(width: width, height: range.count, channels: channels)
        for c in 0..<channels {
            out.data.replaceSubrange((c * range.count * width)..<((c + 1) * range.count * width),
                                     with: data[((c * height + range.lowerBound) * width)..<((c * height + range.upperBound) * width)])
        }
        return out
    }

    /// Puts the first `planes` planes of `band` in place at row `top` (the other planes kept).
    public mutating func setRows(_ band: FloatImage, at top: Int, planes: Int) {
        precondition(band.width == width && top + band.height <= height && planes <= min(channels, band.channels))
        for c in 0..<planes {
            data.replaceSubrange(((c * height + top) * width)..<((c * height + top + band.height) * width),
                                 with: band.data[(c * band.height * width)..<((c + 1) * band.height * width)])
        }
    }

    /// Samples scaled to [0, 1]: v / 255 or v / 65535. Interleaved channels become planes.
    public init(_ image: PNGImage) {
        let ch = image.layout.channels
        let n = image.width * image.height
        var data = [Float](repeating: 0, count: n * ch)
        let scale: Float = 1 / Float(image.maxValue)
        image.bytes.withUnsafeBytes { raw in
            data.withUnsafeMutableBufferPointer { out in
                if image.depth == 8 {
                    let s = raw.bindMemory(to: UInt8.self)
                    for p in 0..<n { for c in 0..<ch { out[c * n + p] = Float(s[p * ch + c]) * scale } }
                } else {
                    let s = raw.bindMemory(to: UInt16.self)
                    for p in 0..<n { for c in 0..<ch { out[c * n + p] = Float(s[p * ch + c]) * scale } }
                }
            }
        }
        self.init(width: image.width, height: image.height, channels: ch, data: data)
    }

    /// Quantises to `depth` bits: round(clamp(v, 0, 1) · max). NaN becomes 0.
    public func pngImage(layout: PixelLayout, depth: Int) -> PNGImage {
        precondition(layout.channels == channels, "layout \(layout) does not have \(channels) channels")
        var out = PNGImage(width: width, height: height, layout: layout, depth: depth)
        let n = planeSize
        let ch = channels
        let maxv = Float(depth == 16 ? 65535 : 255)
        data.withUnsafeBufferPointer { src in
            out.bytes.withUnsafeMutableBytes { raw in
                @inline(__always) func q(_ v: Float) -> Float {
                    let c = v.isNaN ? 0 : Swift.min(Swift.max(v, 0), 1)
                    return (c * maxv).rounded()
                }
                if depth == 8 {
                    let d = raw.bindMemory(to: UInt8.self)
                    for p in 0..<n { for c in 0..<ch { d[p * ch + c] = UInt8(q(src[c * n + p])) } }
                } else {
                    let d = raw.bindMemory(to: UInt16.self)
                    for p in 0..<n { for c in 0..<ch { d[p * ch + c] = UInt16(q(src[c * n + p])) } }
                }
            }
        }
        return out
    }
}

/// Whether a PNG is a fixed-size model's input as it is: its size and whether it is grey or
/// colour (alpha aside). The commands that feed such models refuse other images unless asked
/// to resize them (`--resize`), rather than resizing or converting them silently.
public enum ModelInputFit {
    /// nil when the header fits, else "96x64 colour, not the 28x28 grey input of NAME".
    public static func mismatch(_ h: PNGHeader, width: Int, height: Int, channels: Int, model: String) -> String? {
        let planes = h.layout.withAlpha(false).channels
        guard h.width != width || h.height != height || planes != channels else { return nil }
        func kind(_ c: Int) -> String { c == 3 ? "colour" : "grey" }
        return "\(h.width)x\(h.height) \(kind(planes)), not the \(width)x\(height) \(kind(channels)) input of \(model) (--resize converts and resizes it)"
    }
}
