import Foundation

/// How much an image's fine noise is correlated between neighbouring pixels: white
/// (synthetic) noise is not, a camera's noise is (demosaicing, in-camera denoising and JPEG
/// spread it over neighbours). Fed a band of rows at a time, in constant memory, so it can be
/// measured in the same pass that reads the noise level.
///
/// The statistic: the luma (the mean of the colour planes, 0-255) less its Gaussian blur of
/// σ = 1 is the residual r; a pixel is flat where the blurred image varies by less than 2 (its
/// standard deviation over the 9x9 window around it) and its mean there is within 10-245; the
/// value is the mean of the correlation coefficients Σ r(p)·r(q) / √(Σ r(p)² · Σ r(q)²) over
/// horizontally and vertically adjacent pairs of flat pixels. When under 4000 pairs are that
/// flat, the least-varying pairs are taken up to a tenth of all the pairs in range.
///
/// White noise reads below zero (the blur's own share of the noise makes the residual's
/// neighbours anti-correlated; about 0.1 at σ = 5, where the image's own fine texture still
/// shows), real camera noise, JPEG and clean photographs 0.2-0.35 (docs/colour-model.md,
/// session 41). Only pixels whose windows lie inside the image count.
public final class NoiseCorrelation {
    public let width: Int
    /// Colour planes averaged into luma (1 or 3); later planes (alpha) are ignored.
    public let planes: Int
    static let radius = 4            // Gaussian σ 1 truncated at 4σ, as scipy's gaussian_filter
    static let box = 4               // the 9x9 window of the flatness test
    static let flatDeviation = 2.0
    static let brightness = 10.0...245.0
    static let binsPerLevel = 4.0    // pairs binned by their larger deviation, a quarter level apart
    static let binCount = 64
    static let minimumFlatPairs = 4000.0

    private let kernel: [Float]
    private var luma: [[Float]] = []       // the last 2·radius+1 luma rows
    private var blurred: [[Float]] = []    // rows of the blur, the last 2·box+1
    private var residual: [[Float]] = []   // residual rows, aligned with `blurred`
    private var boxSums: [[Double]] = []   // horizontal 9-sums of the blur and of its square
    private var boxSquares: [[Double]] = []
    private var previousBins: [Int] = []   // the bins of the previous row tested (−1: not counted)
    private var previousResidual: [Float] = []
    // Per bin: pairs, Σab, Σa², Σb² (horizontal pairs, then vertical).
    private var sums = [Double](repeating: 0, count: NoiseCorrelation.binCount * 8)

    public init(width: Int, planes: Int) {
        precondition(planes >= 1)
        self.width = width
        self.planes = planes
        let w = (-Self.radius...Self.radius).map { exp(-Float($0 * $0) / 2) }
        let total = w.reduce(0, +)
        kernel = w.map { $0 / total }
    }

    /// The next rows (a band whose first `planes` planes are the colour planes, 0-1).
    public func add(_ band: FloatImage) {
        precondition(band.width == width && band.channels >= planes)
        guard width > 2 * (Self.radius + Self.box) + 1 else { return }
        band.data.withUnsafeBufferPointer { d in
            for y in 0..<band.height {
                var row = [Float](repeating: 0, count: width)
                for c in 0..<planes {
                    let src = d.baseAddress! + (c * band.height + y) * width
                    for x in 0..<width { row[x] += src[x] }
                }
                let scale = 255 / Float(planes)
                for x in 0..<width { row[x] *= scale }
                addLuma(row)
            }
        }
    }

    private func addLuma(_ row: [Float]) {
        let r = Self.radius, n = 2 * r + 1
        luma.append(row)
        if luma.count > n { luma.removeFirst() }
        guard luma.count == n else { return }
        // The blur of the middle row, inside the image only (x in r..<width-r).
        // Each sum takes its terms in the order of the kernel (rows, then columns, from the top
        // left), the loops running over x innermost.
        var column = [Float](repeating: 0, count: width)
        column.withUnsafeMutableBufferPointer { col in
            for k in 0..<n {
                let w = kernel[k]
                luma[k].withUnsafeBufferPointer { src in for x in 0..<width { col[x] += w * src[x] } }
            }
        }
        var blur = [Float](repeating: 0, count: width)
        var res = [Float](repeating: 0, count: width)
        kernel.withUnsafeBufferPointer { kw in column.withUnsafeBufferPointer { col in luma[r].withUnsafeBufferPointer { middle in
            blur.withUnsafeMutableBufferPointer { bl in res.withUnsafeMutableBufferPointer { rs in
                for x in r..<(width - r) {
                    var s: Float = 0
                    for k in 0..<n { s += kw[k] * col[x - r + k] }
                    bl[x] = s
                    rs[x] = middle[x] - s
                }
            } }
        } } }
        // Horizontal 9-sums of the blur (x in r+box..<width-r-box).
        let b = Self.box
        var hs = [Double](repeating: 0, count: width), hq = [Double](repeating: 0, count: width)
        blur.withUnsafeBufferPointer { bl in hs.withUnsafeMutableBufferPointer { hsb in hq.withUnsafeMutableBufferPointer { hqb in
            for x in (r + b)..<(width - r - b) {
                var s = 0.0, q = 0.0
                for k in -b...b { let v = Double(bl[x + k]); s += v; q += v * v }
                hsb[x] = s; hqb[x] = q
            }
        } } }
        blurred.append(blur); residual.append(res); boxSums.append(hs); boxSquares.append(hq)
        let m = 2 * b + 1
        if blurred.count > m { blurred.removeFirst(); residual.removeFirst(); boxSums.removeFirst(); boxSquares.removeFirst() }
        guard blurred.count == m else { return }
        testRow(residual[b])
    }

    /// Bins the middle row of the window by its flatness and adds its pairs.
    private func testRow(_ res: [Float]) {
        let lo = Self.radius + Self.box, hi = width - Self.radius - Self.box
        var bins = [Int](repeating: -1, count: width)
        let count = Double((2 * Self.box + 1) * (2 * Self.box + 1))
        // The window's sums, its rows added top to bottom.
        var sum = [Double](repeating: 0, count: width), square = sum
        sum.withUnsafeMutableBufferPointer { sb in square.withUnsafeMutableBufferPointer { qb in
            for k in 0..<boxSums.count {
                boxSums[k].withUnsafeBufferPointer { h in boxSquares[k].withUnsafeBufferPointer { hq in
                    for x in lo..<hi { sb[x] += h[x]; qb[x] += hq[x] }
                } }
            }
        } }
        for x in lo..<hi {
            let s = sum[x], q = square[x]
            let mean = s / count
            guard Self.brightness.contains(mean) else { continue }
            let deviation = max(0, q / count - mean * mean).squareRoot()
            bins[x] = min(Self.binCount - 1, Int(deviation * Self.binsPerLevel))
        }
        for x in lo..<(hi - 1) where bins[x] >= 0 && bins[x + 1] >= 0 {
            add(bin: max(bins[x], bins[x + 1]), lag: 0, Double(res[x]), Double(res[x + 1]))
        }
        if previousBins.count == width {
            for x in lo..<hi where bins[x] >= 0 && previousBins[x] >= 0 {
                add(bin: max(bins[x], previousBins[x]), lag: 1, Double(previousResidual[x]), Double(res[x]))
            }
        }
        previousBins = bins
        previousResidual = res
    }

    private func add(bin: Int, lag: Int, _ a: Double, _ b: Double) {
        let k = bin * 8 + lag * 4
        sums[k] += 1; sums[k + 1] += a * b; sums[k + 2] += a * a; sums[k + 3] += b * b
    }

    /// The correlation (-1...1), or nil when too few pairs were flat enough to tell (an image
    /// under about 19 pixels either way, or one with no smooth area in range).
    public func value() -> Double? {
        func pairs(_ b: Int) -> Double { sums[b * 8] + sums[b * 8 + 4] }
        let all = (0..<Self.binCount).reduce(0.0) { $0 + pairs($1) }
        var last = Int(Self.flatDeviation * Self.binsPerLevel)   // bins below deviation 2
        var taken = (0..<last).reduce(0.0) { $0 + pairs($1) }
        if taken < Self.minimumFlatPairs {
            while last < Self.binCount && taken < max(Self.minimumFlatPairs, all / 10) {
                taken += pairs(last); last += 1
            }
        }
        guard taken >= 100 else { return nil }
        var rho = 0.0
        for lag in 0..<2 {
            var ab = 0.0, aa = 0.0, bb = 0.0
            for b in 0..<last {
                let k = b * 8 + lag * 4
                ab += sums[k + 1]; aa += sums[k + 2]; bb += sums[k + 3]
            }
            guard aa > 0, bb > 0 else { return nil }
            rho += ab / (aa * bb).squareRoot()
        }
        return rho / 2
    }

    /// The correlation of a whole image (its first `planes` planes).
    public static func measure(_ image: FloatImage, planes: Int) -> Double? {
        let m = NoiseCorrelation(width: image.width, planes: planes)
        m.add(image)
        return m.value()
    }
}
