/// A decoded raster: `height` rows of `width` pixels, `layout.channels` interleaved samples each,
/// 8 or 16 bits per sample. 16-bit samples are stored in host byte order, two bytes each, in
/// `bytes`. A band read from a streaming reader is a `PNGImage` too (its `height` is the band's).
public struct PNGImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var layout: PixelLayout
    /// Bits per sample: 8 or 16.
    public var depth: Int
    public var bytes: [UInt8]

    public init(width: Int, height: Int, layout: PixelLayout, depth: Int, bytes: [UInt8]) {
        precondition(depth == 8 || depth == 16, "depth must be 8 or 16")
        precondition(bytes.count == width * height * layout.channels * depth / 8, "size mismatch")
        self.width = width
        self.height = height
        self.layout = layout
        self.depth = depth
        self.bytes = bytes
    }

    /// A zero-filled image.
    public init(width: Int, height: Int, layout: PixelLayout, depth: Int = 8) {
        self.init(
            width: width, height: height, layout: layout, depth: depth,
            bytes: [UInt8](repeating: 0, count: width * height * layout.channels * depth / 8))
    }

    public var bytesPerSample: Int { depth / 8 }
    public var rowBytes: Int { width * layout.channels * bytesPerSample }
    public var sampleCount: Int { width * height * layout.channels }
    /// The largest sample value: 255 or 65535.
    public var maxValue: Int { depth == 16 ? 65535 : 255 }

    /// Sample `c` of pixel (x, y), as an integer in 0...maxValue.
    public func sample(x: Int, y: Int, c: Int) -> Int {
        let i = (y * width + x) * layout.channels + c
        if depth == 8 { return Int(bytes[i]) }
        return bytes.withUnsafeBytes { Int($0.load(fromByteOffset: 2 * i, as: UInt16.self)) }
    }

    /// Sets sample `c` of pixel (x, y).
    public mutating func setSample(x: Int, y: Int, c: Int, _ v: Int) {
        let i = (y * width + x) * layout.channels + c
        if depth == 8 {
            bytes[i] = UInt8(clamping: v)
        } else {
            bytes.withUnsafeMutableBytes {
                $0.storeBytes(of: UInt16(clamping: v), toByteOffset: 2 * i, as: UInt16.self)
            }
        }
    }

    /// All samples widened to Int (for tests and small images).
    public var samples: [Int] {
        if depth == 8 { return bytes.map(Int.init) }
        return bytes.withUnsafeBytes { raw in
            (0..<sampleCount).map { Int(raw.load(fromByteOffset: 2 * $0, as: UInt16.self)) }
        }
    }

    /// Builds an image from integer samples (clamped to the depth's range).
    public init(width: Int, height: Int, layout: PixelLayout, depth: Int, samples: [Int]) {
        self.init(width: width, height: height, layout: layout, depth: depth)
        precondition(samples.count == sampleCount, "sample count mismatch")
        if depth == 8 {
            for i in 0..<samples.count { bytes[i] = UInt8(clamping: samples[i]) }
        } else {
            bytes.withUnsafeMutableBytes { raw in
                for i in 0..<samples.count {
                    raw.storeBytes(of: UInt16(clamping: samples[i]), toByteOffset: 2 * i, as: UInt16.self)
                }
            }
        }
    }
}

/// Safety limits for reading untrusted files.
public struct PNGLimits: Sendable, Equatable {
    /// width x height budget, checked right after the header, before any pixel is allocated.
    public var maxPixels: Int
    /// Largest ancillary chunk (text, ICC profile, ...) and decompressed text accepted.
    public var maxChunkBytes: Int
    /// Most bytes libpng may hold allocated at once while decoding.
    public var maxAllocBytes: Int

    public init(maxPixels: Int = 256_000_000, maxChunkBytes: Int = 8_000_000,
                maxAllocBytes: Int = 64 << 20) {
        self.maxPixels = maxPixels
        self.maxChunkBytes = maxChunkBytes
        self.maxAllocBytes = maxAllocBytes
    }

    public static let `default` = PNGLimits()
}
