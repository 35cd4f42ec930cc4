import Foundation

/// Estimates the standard deviation of additive white Gaussian noise in an image plane, fed a
/// row at a time (so a large PNG can be measured while it streams, in constant memory).
///
/// The method combines two published ones:
/// - weak-texture patches (Liu, Tanaka & Okutomi 2013): a 7x7 patch whose gradient energy
///   Σ(horizontal differences)² + Σ(vertical differences)² is below σ²·F⁻¹(0.99) of the Gamma
///   law that energy follows on pure noise is taken as flat (its variation is only noise);
/// - on those patches, the eigenvalue test of Chen, Zhu & Heng 2015: with the patch covariance's
///   eigenvalues in ascending order, drop the largest until as many lie above their mean as
///   below it; that mean is σ².
/// Starting from Chen's estimate on every patch, the selection and estimate alternate three
/// times. Patches are accumulated into bins of gradient energy (ratio 2^(1/8) apart), each
/// holding the sums the covariance needs, so any threshold can be applied afterwards without
/// keeping the patches.
///
/// On Set12 with synthetic noise it is within about ±0.5 of σ at σ = 15-50 (a prototype of it,
/// measured this way); on clean images it reads the image's own small noise and quantisation.
public final class NoiseEstimator {
    public static let patch = 7
    static let dims = patch * patch
    static let triangle = dims * (dims + 1) / 2
    static let binsPerOctave = 8.0
    static let binCount = 320
    /// F⁻¹(0.99) of the Gamma law with shape 49/2 and scale 2·168/49: the gradient energy of a
    /// 7x7 patch of unit-variance white noise (tr(DhᵀDh + DvᵀDv) = 4·7·6 = 168) stays below it
    /// 99% of the time (scipy.stats.gamma.ppf(0.99, 24.5, scale=336/49)).
    static let flatThreshold = 256.8667690576394

    public let width: Int
    public let stride: Int
    private var ring: [Float]
    private var rowsSeen = 0
    private var counts: [Double]
    private var sums: [Double]
    private var products: [Double]
    private var vector = [Double](repeating: 0, count: NoiseEstimator.dims)

    /// `stride`: distance between sampled patches, both ways (see `stride(forPixels:)`).
    public init(width: Int, stride: Int = 3) {
        precondition(stride >= 1)
        self.width = width
        self.stride = stride
        ring = []   // filled as rows arrive (a file that declares a huge width may hold no rows)
        counts = [Double](repeating: 0, count: Self.binCount)
        sums = [Double](repeating: 0, count: Self.binCount * Self.dims)
        products = [Double](repeating: 0, count: Self.binCount * Self.triangle)
    }

    /// A patch stride that samples about a million patches at most (every third pixel both ways below 9 megapixels).
    public static func stride(forPixels n: Int) -> Int { max(3, Int((Double(n) / 1e6).squareRoot().rounded(.up))) }

    /// The next row of the plane, values on the 0-1 scale.
    public func add(row: UnsafePointer<Float>) {
        let p = Self.patch
        if rowsSeen < p { ring.append(contentsOf: UnsafeBufferPointer(start: row, count: width)) } else {
            ring.withUnsafeMutableBufferPointer { $0.baseAddress!.advanced(by: (rowsSeen % p) * width).update(from: row, count: width) }
        }
        rowsSeen += 1
        let top = rowsSeen - p
        guard top >= 0, top % stride == 0, width >= p else { return }
        var x = 0
        while x + p <= width {
            addPatch(top: top, x: x)
            x += stride
        }
    }

    private func addPatch(top: Int, x: Int) {
        let p = Self.patch, d = Self.dims
        var energy = 0.0
        ring.withUnsafeBufferPointer { r in
            for dy in 0..<p {
                let src = r.baseAddress! + ((top + dy) % p) * width + x
                for dx in 0..<p { vector[dy * p + dx] = Double(src[dx]) * 255 }
            }
        }
        for dy in 0..<p {
            for dx in 0..<p {
                let v = vector[dy * p + dx]
                if dx + 1 < p { let g = vector[dy * p + dx + 1] - v; energy += g * g }
                if dy + 1 < p { let g = vector[(dy + 1) * p + dx] - v; energy += g * g }
            }
        }
        let bin = min(Self.binCount - 1, max(0, Int((log2(max(energy, 1e-3)) + 10) * Self.binsPerOctave)))
        counts[bin] += 1
        vector.withUnsafeBufferPointer { v in
            sums.withUnsafeMutableBufferPointer { s in
                let sb = s.baseAddress! + bin * d
                for i in 0..<d { sb[i] += v[i] }
            }
            products.withUnsafeMutableBufferPointer { pr in
                var k = bin * Self.triangle
                for i in 0..<d {
                    let vi = v[i]
                    for j in i..<d { pr[k] += vi * v[j]; k += 1 }
                }
            }
        }
    }

    /// Lower gradient-energy edge of a bin.
    private static func binFloor(_ b: Int) -> Double { pow(2, Double(b) / binsPerOctave - 10) }

    /// σ on the 0-255 scale, or nil when the plane is too small to measure.
    public func estimate() -> Float? {
        let all = Array(0..<Self.binCount)
        guard var s2 = chen(bins: all) else { return nil }
        for _ in 0..<3 {
            let tau = s2 * Self.flatThreshold
            let flat = all.filter { Self.binFloor($0) < tau }
            guard flat.reduce(0.0, { $0 + counts[$1] }) >= Double(4 * Self.dims), let next = chen(bins: flat) else { break }
            s2 = next
        }
        return Float(s2.squareRoot())
    }

    /// Chen et al.'s noise variance from the covariance of the patches in `bins`.
    private func chen(bins: [Int]) -> Double? {
        let d = Self.dims
        let n = bins.reduce(0.0) { $0 + counts[$1] }
        guard n >= Double(2 * d) else { return nil }
        var mean = [Double](repeating: 0, count: d)
        var cov = [Double](repeating: 0, count: d * d)
        for b in bins where counts[b] > 0 {
            for i in 0..<d { mean[i] += sums[b * d + i] }
            var k = b * Self.triangle
            for i in 0..<d { for j in i..<d { cov[i * d + j] += products[k]; k += 1 } }
        }
        for i in 0..<d { mean[i] /= n }
        for i in 0..<d {
            for j in i..<d {
                let c = cov[i * d + j] / n - mean[i] * mean[j]
                cov[i * d + j] = c
                cov[j * d + i] = c
            }
        }
        let ev = SymmetricEigen.values(cov, n: d).sorted()
        var k = d, m = 0.0
        while k > 0 {
            m = ev[..<k].reduce(0, +) / Double(k)
            let above = ev[..<k].filter { $0 > m }.count, below = ev[..<k].filter { $0 < m }.count
            if above == below { break }
            k -= 1
        }
        return max(0, m)
    }

    /// Every row of plane `c` of `img` (a whole image, or the next band of one).
    public func add(_ img: FloatImage, plane c: Int) {
        img.data.withUnsafeBufferPointer { b in
            for y in 0..<img.height { add(row: b.baseAddress! + (c * img.height + y) * img.width) }
        }
    }

    /// σ of each colour plane of an image (alpha excluded), 0-255 scale; nil for planes too small.
    public static func estimate(_ img: FloatImage, planes: Int? = nil) -> [Float?] {
        (0..<(planes ?? img.channels)).map { c in
            let e = NoiseEstimator(width: img.width, stride: stride(forPixels: img.width * img.height))
            e.add(img, plane: c)
            return e.estimate()
        }
    }
}

/// Eigenvalues of a small symmetric matrix by cyclic Jacobi rotations.
enum SymmetricEigen {
    static func values(_ matrix: [Double], n: Int) -> [Double] {
        var m = matrix
        m.withUnsafeMutableBufferPointer { rotate($0.baseAddress!, n: n) }
        return (0..<n).map { m[$0 * n + $0] }
    }

    /// Jacobi sweeps in place (on a pointer: the inner loops run without bounds checks).
    private static func rotate(_ a: UnsafeMutablePointer<Double>, n: Int) {
        for _ in 0..<60 {
            var off = 0.0
            for i in 0..<n { for j in (i + 1)..<n { off += a[i * n + j] * a[i * n + j] } }
            var diag = 0.0
            for i in 0..<n { diag += a[i * n + i] * a[i * n + i] }
            if off <= 1e-24 * max(diag, 1e-300) { break }
            for p in 0..<n {
                for q in (p + 1)..<n {
                    let apq = a[p * n + q]
                    if abs(apq) < 1e-300 { continue }
                    let theta = (a[q * n + q] - a[p * n + p]) / (2 * apq)
                    let t = (theta >= 0 ? 1 : -1) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<n {
                        let akp = a[k * n + p], akq = a[k * n + q]
                        a[k * n + p] = c * akp - s * akq
                        a[k * n + q] = s * akp + c * akq
                    }
                    for k in 0..<n {
                        let apk = a[p * n + k], aqk = a[q * n + k]
                        a[p * n + k] = c * apk - s * aqk
                        a[q * n + k] = s * apk + c * aqk
                    }
                }
            }
        }
    }
}
