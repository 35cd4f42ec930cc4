import CKernels
import Imaging

/// Collaborative Wiener filtering of a noisy image guided by the network's output (BM3D's
/// second stage with our output as its pilot; the kernel is `lk_bmw_row` in CKernels): similar
/// 8x8 blocks of the pilot are grouped, and each group of noisy blocks is shrunk in a 3-D
/// transform by the Wiener weights that the pilot's own group gives. Real camera noise is
/// spatially correlated, so the network alone leaves a fine mottle that looks like detail to
/// it; averaging across similar blocks from around the image removes it where the scene
/// repeats, and keeps edges the pilot has.
///
/// Colour images are filtered in the opponent space (mean, R − B, and R − 2G + B, as BM3D's
/// colour version), blocks matched on the mean plane. Rows stream through: `push` takes bands of
/// the noisy image and of the pilot, `finish` after the last, and each finished band goes to
/// `emit` in order. The result does not depend on how the image is cut into bands.
public final class GroupWiener {
    /// The kernel's settings: reference spacing, search window ±radius, most blocks per group,
    /// and the match threshold (mean squared difference per pixel on the 0-255 scale).
    public struct Settings: Sendable, Equatable {
        public var step: Int
        public var radius: Int
        public var group: Int
        public var tau: Float
        public var stride: Int
        public init(step: Int = 3, radius: Int = 19, group: Int = 32, tau: Float = 400, stride: Int = 1) {
            self.step = step; self.radius = radius; self.group = group; self.tau = tau; self.stride = stride
        }
    }

    public let width: Int, height: Int, channels: Int
    let settings: Settings
    var params = lk_bmw_params()
    let planes: Int
    // Row tables indexed plane * height + row; a row is allocated when it arrives and freed
    // once no reference row still to come can read (z, y) or write (num, den) it. The noisy
    // image and the pilot are held as halves (on polyu-val's 41 pairs the same dB to the third
    // place as floats, for 2.5 MB less on a 4000x3000 photo).
    var z: [UnsafeMutablePointer<UInt16>?], y: [UnsafeMutablePointer<UInt16>?]
    var num: [UnsafeMutablePointer<Float>?], den: [UnsafeMutablePointer<Float>?]
    private var scratch: [Float]
    var received = 0, emitted = 0, freed = 0, nextRef: Int32 = 0
    /// An image narrower or shorter than a block (8 pixels) has no blocks: it is the pilot.
    let blockless: Bool
    /// Rows taken in at a time before the references they complete are filtered: what is held
    /// is the search window's rows plus these, whatever the bands pushed (one: 2.4 MB less than
    /// eight on a 4000x3000 photo).
    static let chunkRows = 1
    let emit: (FloatImage) throws -> Void

    /// Opponent transform rows (BM3D's 'opp'), and the scale of σ each plane gets from equal,
    /// independent noise in R, G and B.
    static let opp: [[Float]] = [[1.0 / 3, 1.0 / 3, 1.0 / 3], [0.5, 0, -0.5], [0.25, -0.5, 0.25]]
    static let inv: [[Float]] = [[1, 1, 2.0 / 3], [1, 0, -4.0 / 3], [1, -1, 2.0 / 3]]

    /// The least σ (0-255) the filter works with; a smaller one is taken as this.
    public static let minimumSigma: Float = 0.01

    /// `sigma`: the σ (0-255 scale) the filter is told for each of the image's colour channels.
    public init(width: Int, height: Int, channels: Int, sigma: [Float], settings: Settings = Settings(),
                emit: @escaping (FloatImage) throws -> Void) {
        precondition(channels == 1 || channels == 3, "GroupWiener: 1 or 3 colour planes")
        self.width = width; self.height = height; self.channels = channels
        self.settings = settings; self.emit = emit
        planes = channels
        let n = planes * height
        z = [UnsafeMutablePointer<UInt16>?](repeating: nil, count: n)
        y = z
        num = [UnsafeMutablePointer<Float>?](repeating: nil, count: n)
        den = num
        scratch = [Float](repeating: 0, count: 2 * width)
        blockless = width < 8 || height < 8
        params.width = Int32(width); params.height = Int32(height); params.planes = Int32(planes)
        params.step = Int32(settings.step); params.radius = Int32(settings.radius); params.stride = Int32(settings.stride)
        params.group = Int32(settings.group); params.tau = settings.tau / (255 * 255)
        // σ 0 would make every Wiener weight 0/0: a hundredth of a grey level at least.
        let s = sigma.map { max($0, Self.minimumSigma) / 255 }
        if planes == 1 {
            params.sigma.0 = s[0]
        } else {
            // Each opponent plane's σ from the channels' σs (independent noise).
            var o = [Float](repeating: 0, count: 3)
            for p in 0..<3 { o[p] = (0..<3).map { Self.opp[p][$0] * Self.opp[p][$0] * s[$0] * s[$0] }.reduce(0, +).squareRoot() }
            params.sigma = (o[0], o[1], o[2])
        }
    }

    deinit {
        for t in [z, y] { for p in t { p?.deallocate() } }
        for t in [num, den] { for p in t { p?.deallocate() } }
    }

    /// The next rows of the noisy image and of the pilot (bands of the same rows, values 0-1).
    public func push(noisy: FloatImage, pilot: FloatImage) throws {
        precondition(noisy.width == width && pilot.width == width && noisy.height == pilot.height && received + noisy.height <= height)
        if blockless {
            received += pilot.height; emitted = received
            // Planes are channel-major: the colour planes are the data's first ones.
            return try emit(pilot.channels == channels ? pilot
                            : FloatImage(width: width, height: pilot.height, channels: channels, data: Array(pilot.data.prefix(channels * pilot.planeSize))))
        }
        var top = 0
        while top < noisy.height {
            let rows = min(Self.chunkRows, noisy.height - top)
            take(noisy, pilot, rows: top..<(top + rows))
            top += rows
            try advance()
        }
    }

    /// Converts rows `band` of the bands into the row tables (opponent planes for colour).
    private func take(_ noisy: FloatImage, _ pilot: FloatImage, rows band: Range<Int>) {
        noisy.data.withUnsafeBufferPointer { zb in pilot.data.withUnsafeBufferPointer { yb in scratch.withUnsafeMutableBufferPointer { sb in
            let zf = sb.baseAddress!, yf = sb.baseAddress! + width
            for r in band {
                let row = received + r - band.lowerBound
                // Row r of colour plane c in each band.
                func zr(_ c: Int) -> UnsafePointer<Float> { zb.baseAddress! + (c * noisy.height + r) * width }
                func yr(_ c: Int) -> UnsafePointer<Float> { yb.baseAddress! + (c * pilot.height + r) * width }
                for p in 0..<planes {
                    if planes == 1 {
                        zf.update(from: zr(0), count: width); yf.update(from: yr(0), count: width)
                    } else {
                        let m = Self.opp[p]
                        let (z0, z1, z2, y0, y1, y2) = (zr(0), zr(1), zr(2), yr(0), yr(1), yr(2))
                        for x in 0..<width {
                            zf[x] = m[0] * z0[x] + m[1] * z1[x] + m[2] * z2[x]
                            yf[x] = m[0] * y0[x] + m[1] * y1[x] + m[2] * y2[x]
                        }
                    }
                    let zo = UnsafeMutablePointer<UInt16>.allocate(capacity: width)
                    let yo = UnsafeMutablePointer<UInt16>.allocate(capacity: width)
                    lk_to_half(zf, zo, width); lk_to_half(yf, yo, width)
                    z[p * height + row] = zo; y[p * height + row] = yo
                    let nr = UnsafeMutablePointer<Float>.allocate(capacity: width); nr.initialize(repeating: 0, count: width)
                    let dr = UnsafeMutablePointer<Float>.allocate(capacity: width); dr.initialize(repeating: 0, count: width)
                    num[p * height + row] = nr; den[p * height + row] = dr
                }
            }
        } } }
        received += band.count
    }

    /// Call after the last band: emits what is left.
    public func finish() throws {
        precondition(received == height, "GroupWiener: \(received) of \(height) rows pushed")
        if !blockless { try advance() }
    }

    private func advance() throws {
        let R = settings.radius
        while nextRef >= 0 && (received == height || Int(nextRef) + R + 8 <= received) {
            z.withUnsafeBufferPointer { zb in y.withUnsafeBufferPointer { yb in
                num.withUnsafeBufferPointer { nb in den.withUnsafeBufferPointer { db in
                    withUnsafePointer(to: &params) { pp in
                        zb.withMemoryRebound(to: UnsafePointer<UInt16>?.self) { zc in
                            yb.withMemoryRebound(to: UnsafePointer<UInt16>?.self) { yc in
                                lk_bmw_row(pp, nextRef, zc.baseAddress!, yc.baseAddress!, nb.baseAddress!, db.baseAddress!)
                            }
                        }
                    }
                } }
            } }
            nextRef = lk_bmw_next_ref_row(&params, nextRef)
        }
        // Rows no reference still to come reaches are final.
        let done = nextRef < 0 ? received : max(0, min(received, Int(nextRef) - R))
        if done > emitted { try emitRows(emitted..<done) }
    }

    private func emitRows(_ range: Range<Int>) throws {
        var band = FloatImage(width: width, height: range.count, channels: channels)
        let inv = Self.inv
        band.data.withUnsafeMutableBufferPointer { out in
            for row in range {
                let r = row - range.lowerBound
                var o = [UnsafePointer<Float>](), d = [UnsafePointer<Float>]()
                for p in 0..<planes {
                    o.append(UnsafePointer(num[p * height + row]!)); d.append(UnsafePointer(den[p * height + row]!))
                }
                // Every pixel is in a reference block (references reach both last rows and
                // columns), so every weight sum is positive.
                for x in 0..<width {
                    if planes == 1 {
                        out[r * width + x] = o[0][x] / d[0][x]
                        continue
                    }
                    let v0 = o[0][x] / d[0][x], v1 = o[1][x] / d[1][x], v2 = o[2][x] / d[2][x]
                    for c in 0..<3 {
                        out[(c * range.count + r) * width + x] = inv[c][0] * v0 + inv[c][1] * v1 + inv[c][2] * v2
                    }
                }
            }
        }
        for row in range {
            for p in 0..<planes {
                for t in [num, den] { t[p * height + row]?.deallocate() }
                num[p * height + row] = nil; den[p * height + row] = nil
            }
        }
        emitted = range.upperBound
        // z and y rows below the next reference's window are no longer read.
        let keep = nextRef < 0 ? height : max(0, Int(nextRef) - settings.radius)
        while freed < min(keep, received) {
            for p in 0..<planes {
                z[p * height + freed]?.deallocate(); y[p * height + freed]?.deallocate()
                z[p * height + freed] = nil; y[p * height + freed] = nil
            }
            freed += 1
        }
        try emit(band)
    }

    /// A whole image through the stream (the same code path): pushed at once, or in bands of
    /// `bandRows` rows (the output does not depend on them).
    public static func filter(noisy: FloatImage, pilot: FloatImage, sigma: [Float], settings: Settings = Settings(),
                              bandRows: Int? = nil) throws -> FloatImage {
        var out = FloatImage(width: noisy.width, height: noisy.height, channels: noisy.channels)
        var top = 0
        let gw = GroupWiener(width: noisy.width, height: noisy.height, channels: noisy.channels, sigma: sigma, settings: settings) { band in
            out.setRows(band, at: top, planes: band.channels); top += band.height
        }
        let band = max(1, bandRows ?? noisy.height)
        for r in stride(from: 0, to: noisy.height, by: band) {
            let rows = r..<min(noisy.height, r + band)
            try gw.push(noisy: rows.count == noisy.height ? noisy : noisy.rows(rows), pilot: rows.count == noisy.height ? pilot : pilot.rows(rows))
        }
        try gw.finish()
        precondition(top == noisy.height, "GroupWiener emitted \(top) of \(noisy.height) rows")
        return out
    }
}
