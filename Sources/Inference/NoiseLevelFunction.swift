import Foundation
import Imaging
import Models
import NN

/// How noisy an image is, per colour channel, as a function of brightness (a noise level
/// function): real camera noise is signal-dependent, so one σ per image does not describe it.
///
/// It is measured with a `NoiseMapEstimator`, which reads the noise σ of every 4x4 block of the
/// image (learnt on camera-like and white noise, so spatially correlated noise is not read as
/// clean). Each block's estimate goes into a histogram by channel and by the block's mean
/// brightness; the function is the median of each brightness bin (robust to the blocks where
/// texture is read as noise), bins with too few blocks filled from their neighbours. Counts are
/// integers, so the result does not depend on the order the blocks come in: streaming the file in
/// bands gives what the whole image gives. A block's brightness is its mean in the plane's own
/// channel, or (for a map of opponent components) over the channels. A bin's σ is bounded by
/// the spread of its blocks' own pixels (`spreadBound`). The
/// model is given each plane's mean over brightness (`BandDenoiser.mapSigmas` says why); the
/// whole function is recorded with the output.
public struct NoiseLevelFunction: Sendable, Equatable {
    /// Brightness bins over 0-1.
    public static let brightnessBins = 16
    /// σ histogram resolution and range (0-255 scale).
    static let sigmaStep: Float = 0.25
    static let sigmaBins = 480
    /// Blocks a bin needs to stand on its own.
    static let minBlocks = 16
    /// A bin's σ is at most this many times the median spread (pixel standard deviation, over
    /// `spreadWindow`) of its blocks. Noise cannot be much stronger than the variation it leaves
    /// in the pixels, and the estimator's reading can be: it learnt from camera-like noise, which
    /// the tone curve makes strongest near black, and read a real photograph's near-black blue
    /// channel (noise σ 2.8) as σ 10.5, so the model, told to expect strong noise clipped at
    /// black, lowered the channel by 2 grey levels: a colour cast, in the clean reference as
    /// much as in the noisy shot. The bound is the 99th percentile of what the estimator learnt
    /// from: on flat patches of its camera-like noise (JPEG, in-camera processing), the map's σ
    /// over the median spread is 1.36 at the median, 2.25 at the 95th percentile and 2.5 at the
    /// 99th; white noise has about 1.0, and noise clipped where the image is black 1.7. (On the
    /// real pairs, 2, 2.5 and 3 score within 0.03 dB of each other; the lower, the better clean
    /// photos come back: docs/colour-model.md, session 19.)
    public static let spreadBound: Float = 2.5
    /// Pixels a side of the window a block's spread is taken over, centred on the block: 8, so
    /// that noise correlated over several pixels (JPEG and in-camera processing leave a 4x4
    /// block nearly flat) still shows in it.
    static let spreadWindow = 8
    static func sigmaBin(_ sigma: Float) -> Int { min(sigmaBins - 1, max(0, Int(sigma / sigmaStep))) }

    /// σ (0-255) at each brightness bin's centre, per channel.
    public var table: [[Float]]

    public init(table: [[Float]]) { self.table = table }

    /// The same σ everywhere (a given `--sigma`).
    public init(constant sigma: Float, channels: Int) {
        table = Array(repeating: Array(repeating: sigma, count: Self.brightnessBins), count: channels)
    }

    /// The mean over brightness bins of each channel's σ: what a noise-map model is given
    /// (`BandDenoiser.mapSigmas`), and the summary in reports and provenance.
    public var meanSigmas: [Float] { table.map { $0.reduce(0, +) / Float($0.count) } }

    /// Block estimates, histogrammed (see the type's description).
    public final class Accumulator {
        let channels: Int
        private var counts: [Int32]
        /// Σ σ² per channel and brightness bin (for `rootMeanSquare`).
        private var squares: [Double]
        /// Histograms of the blocks' spreads, as `counts` (empty until a block comes with one).
        private var spreads: [Int32] = []

        public init(channels: Int) {
            self.channels = channels
            counts = [Int32](repeating: 0, count: channels * NoiseLevelFunction.brightnessBins * NoiseLevelFunction.sigmaBins)
            squares = [Double](repeating: 0, count: channels * NoiseLevelFunction.brightnessBins)
        }

        /// A block's reading. `spread`: the standard deviation of the block's own pixels (0-255),
        /// which bounds what its noise can be (see `spreadBound`).
        public func add(channel: Int, brightness: Float, sigma: Float, spread: Float? = nil) {
            let b = min(NoiseLevelFunction.brightnessBins - 1, max(0, Int(brightness * Float(NoiseLevelFunction.brightnessBins))))
            let bin = channel * NoiseLevelFunction.brightnessBins + b
            counts[bin * NoiseLevelFunction.sigmaBins + NoiseLevelFunction.sigmaBin(sigma)] += 1
            squares[bin] += Double(sigma) * Double(sigma)
            if let spread {
                if spreads.isEmpty { spreads = [Int32](repeating: 0, count: counts.count) }
                spreads[bin * NoiseLevelFunction.sigmaBins + NoiseLevelFunction.sigmaBin(spread)] += 1
            }
        }

        /// How a bin's blocks are summarised: their median (robust to blocks where texture is
        /// read as noise: the estimator's readings) or their root mean square (each block's σ
        /// being the RMS of known noise: the bin's pixel σ, which a median of blocks reads low
        /// when the noise is correlated over more than a block).
        public enum Statistic: Sendable { case median, rootMeanSquare }

        /// The bins' summaries; nil if the image gave no blocks at all.
        public func result(_ statistic: Statistic = .median) -> NoiseLevelFunction? {
            let nb = NoiseLevelFunction.brightnessBins, ns = NoiseLevelFunction.sigmaBins
            func median(_ hist: ArraySlice<Int32>) -> Float? {
                let total = hist.reduce(0) { $0 + Int($1) }
                guard total > 0 else { return nil }
                var seen = 0
                for (k, c) in hist.enumerated() {
                    seen += Int(c)
                    if 2 * seen >= total { return (Float(k) + 0.5) * NoiseLevelFunction.sigmaStep }
                }
                return nil
            }
            // `spreadBound` times the median of a histogram of blocks' spreads (none: no bound).
            func bound(_ spreadHist: ArraySlice<Int32>) -> Float {
                median(spreadHist).map { $0 * NoiseLevelFunction.spreadBound } ?? .infinity
            }
            var table: [[Float]] = []
            for c in 0..<channels {
                let base = c * nb * ns
                // The channel's overall median, for bins with no neighbour to borrow from.
                var all = [Int32](repeating: 0, count: ns)
                var enough = [Bool](repeating: false, count: nb)
                var row = [Float](repeating: 0, count: nb)
                var allSpreads = [Int32](repeating: 0, count: spreads.isEmpty ? 0 : ns)
                var allSquares = 0.0
                for b in 0..<nb {
                    let h = counts[(base + b * ns)..<(base + (b + 1) * ns)]
                    for (k, v) in h.enumerated() { all[k] += v }
                    let sh = spreads.isEmpty ? [] : spreads[(base + b * ns)..<(base + (b + 1) * ns)]
                    for (k, v) in sh.enumerated() { allSpreads[k] += v }
                    let n = h.reduce(0, { $0 + Int($1) })
                    let sq = squares[c * nb + b]
                    allSquares += sq
                    guard n >= NoiseLevelFunction.minBlocks, let m = median(h) else { continue }
                    row[b] = statistic == .median ? min(m, bound(sh)) : Float((sq / Double(n)).squareRoot())
                    enough[b] = true
                }
                guard var overall = median(all[...]) else { return nil }
                if statistic == .rootMeanSquare {
                    overall = Float((allSquares / Double(all.reduce(0) { $0 + Int($1) })).squareRoot())
                } else {
                    overall = min(overall, bound(allSpreads[...]))
                }
                let known = (0..<nb).filter { enough[$0] }
                for b in 0..<nb where !enough[b] {
                    // The nearest bin with enough blocks (the lower one on a tie), else the overall median.
                    row[b] = known.min { abs($0 - b) < abs($1 - b) }.map { row[$0] } ?? overall
                }
                table.append(row)
            }
            return NoiseLevelFunction(table: table)
        }
    }

    /// Rows of a band when measuring and columns of a tile (multiples of 16), by default. Each
    /// band and tile is read with a halo that covers the estimator's receptive field, so a block's
    /// estimate is what it would be in the whole image and the function depends only on the
    /// image, not on these sizes. (The halo is 64 pixels a side for the shipped estimator on
    /// F(4x4, 3x3), so bands of 128 rows and tiles of 512 columns would read 2.25 times a large
    /// image: `regions` makes the bands longer.)
    public static let defaultBandRows = 128, defaultTileColumns = 512
    /// Pixels of the image's full width a band may hold: an image up to this size (a 1 MP
    /// photo, say) is measured in one band, with no halo rows read twice (session 23: the
    /// estimator was about a tenth of `latent denoise`'s time on 512x512 photos, read in bands of
    /// 128 rows); a 4000-wide one in bands of 256 rows. The rows a band holds grow with the
    /// width: at least `defaultBandRows`.
    public static let bandPixels = 1 << 20

    /// The band rows and tile columns `measure` uses for an image of that size unless told:
    /// bands of up to `bandPixels` of the full width (at least `defaultBandRows` rows), and one
    /// tile across an image up to twice `defaultTileColumns` wide.
    public static func regions(width: Int, height: Int) -> (bandRows: Int, tileColumns: Int) {
        let w16 = (width + 15) / 16 * 16, h16 = (height + 15) / 16 * 16
        return (max(defaultBandRows, min(h16, bandPixels / w16 / 16 * 16)), w16 <= 2 * defaultTileColumns ? w16 : defaultTileColumns)
    }

    /// Measures an image in memory, read in bands as a file's pass reads it (the same function).
    public static func measure(with estimator: NoiseMapEstimator, image: FloatImage, space: NoiseMapSpace = .rgb,
                               kernels: NoiseMapEstimator.Kernels? = nil) -> NoiseLevelFunction? {
        try? measure(with: estimator, width: image.width, height: image.height, space: space, kernels: kernels,
                     nextRows: BandDenoiser.memoryPass(image).next)
    }

    /// Measures an image of `channels` planes streamed top to bottom (`nextRows` gives any
    /// number of rows at a time, nil at the end); bands and tiles by default as `regions` says.
    /// `kernels`: the estimator's, when the caller keeps them (packed here otherwise).
    public static func measure(with estimator: NoiseMapEstimator, width: Int, height: Int, bandRows: Int? = nil,
                               tileColumns: Int? = nil, space: NoiseMapSpace = .rgb, kernels: NoiseMapEstimator.Kernels? = nil,
                               nextRows: () throws -> FloatImage?) throws -> NoiseLevelFunction? {
        let regions = regions(width: width, height: height)
        let bandRows = bandRows ?? regions.bandRows, tileColumns = tileColumns ?? regions.tileColumns
        precondition(bandRows > 0 && bandRows % 16 == 0 && tileColumns > 0 && tileColumns % 16 == 0,
                     "bands and tiles of whole 16x16 blocks (whole F(4x4) Winograd tiles at quarter resolution)")
        let kernels = kernels ?? estimator.kernels()
        let workspace = ConvWorkspace()   // buffers of its own: files may be measured at once
        let ch = estimator.channels
        let halo = (estimator.receptiveRadius + 15) / 16 * 16
        let w4 = (width + 3) / 4 * 4, h4 = (height + 3) / 4 * 4
        let acc = Accumulator(channels: ch)
        // Rows of the padded image (the last row and column repeated), channel-major per row.
        let source = RowSource(width: width, height: height, planes: ch, rows: bandRows + 2 * halo + BandDenoiser.readRows)
        var x: [Float] = []
        var block = BlockPixels(channels: ch, space: space, h4: h4, w4: w4)
        var r0 = 0
        while r0 < h4 {
            let r1 = min(h4, r0 + bandRows)
            let ra = max(0, r0 - halo), rb = min(h4, r1 + halo)
            source.drop(below: ra)
            try source.ensure(upTo: rb, nextRows: nextRows)
            var c0 = 0
            while c0 < w4 {
                let c1 = min(w4, c0 + tileColumns)
                let ca = max(0, c0 - halo), cb = min(w4, c1 + halo)
                let rh = rb - ra, cw = cb - ca
                x.removeAll(keepingCapacity: true)
                x.reserveCapacity(ch * rh * cw)
                for c in 0..<ch {
                    for y in 0..<rh { x.append(contentsOf: UnsafeBufferPointer(start: source.row(ra + y) + c * w4 + ca, count: cw)) }
                }
                let m = estimator.infer(kernels, x, h: rh, w: cw, workspace: workspace)
                let qw = cw / 4
                // The blocks of this band and tile (inside the image).
                x.withUnsafeBufferPointer { x in
                    for by in stride(from: r0, to: min(r1, height), by: 4) {
                        for bx in stride(from: c0, to: min(c1, width), by: 4) {
                            let qy = (by - ra) / 4, qx = (bx - ca) / 4
                            block.read(x.baseAddress!, rows: ra, rh, columns: ca, cw, block: by, bx)
                            for q in 0..<ch {
                                let est = estimator.sigmaOver50(m[(q * (rh / 4) + qy) * qw + qx]) * 50
                                acc.add(channel: q, brightness: block.brightness[q], sigma: est, spread: block.spreads[q])
                            }
                        }
                    }
                }
                c0 = c1
            }
            r0 = r1
        }
        return acc.result()
    }
}

/// What `NoiseLevelFunction.measure` takes from a 4x4 block's own pixels, per plane of the map:
/// its brightness (the block's mean in the plane's channel, or over the channels for a map of
/// opponent components) and its spread (the standard deviation, 0-255, of the plane's values
/// over the `spreadWindow` around the block).
private struct BlockPixels {
    let channels: Int, space: NoiseMapSpace
    /// The map's planes as combinations of the channels (rows); nil: the planes are the channels.
    let basis: [Float]?
    /// The spread window (`spreadWindow` a side, less in a smaller image) and the padded image's size.
    let sy: Int, sx: Int, h4: Int, w4: Int
    private(set) var brightness: [Float], spreads: [Float]
    /// The window's pixels in the map's planes.
    private var planePixels: [Float]

    init(channels: Int, space: NoiseMapSpace, h4: Int, w4: Int) {
        self.channels = channels
        self.space = space
        basis = space == .rgb || channels != 3 ? nil : NoiseMapSpace.basis
        sy = min(NoiseLevelFunction.spreadWindow, h4)
        sx = min(NoiseLevelFunction.spreadWindow, w4)
        self.h4 = h4
        self.w4 = w4
        brightness = [Float](repeating: 0, count: channels)
        spreads = [Float](repeating: 0, count: channels)
        planePixels = [Float](repeating: 0, count: channels * sy * sx)
    }

    /// The block at (`by`, `bx`) of the padded image, from `x`: channel-major rows `ra`..<`ra + rh`
    /// and columns `ca`..<`ca + cw` of it (a band and tile with its halo).
    mutating func read(_ x: UnsafePointer<Float>, rows ra: Int, _ rh: Int, columns ca: Int, _ cw: Int, block by: Int, _ bx: Int) {
        let ch = channels, sn = sy * sx
        for c in 0..<ch {
            var sum: Float = 0
            for dy in 0..<4 { for dx in 0..<4 { sum += x[(c * rh + by - ra + dy) * cw + bx - ca + dx] } }
            brightness[c] = sum / 16
        }
        if space != .rgb {
            let mean = brightness.reduce(0, +) / Float(ch)
            for c in 0..<ch { brightness[c] = mean }
        }
        // The window: 8x8 around the block (2 pixels before it), inside the padded image, so the
        // same whatever the band and tile (their halo covers it).
        let wy = min(max(0, by - 2), h4 - sy), wx = min(max(0, bx - 2), w4 - sx)
        let (sy, sx, basis) = (sy, sx, basis)
        planePixels.withUnsafeMutableBufferPointer { planes in
            if basis != nil { planes.update(repeating: 0) }
            for c in 0..<ch {
                for dy in 0..<sy {
                    let row = x + (c * rh + wy - ra + dy) * cw + wx - ca
                    for dx in 0..<sx {
                        guard let basis else { planes[c * sn + dy * sx + dx] = row[dx]; continue }
                        for q in 0..<ch { planes[q * sn + dy * sx + dx] += basis[q * ch + c] * row[dx] }
                    }
                }
            }
            for q in 0..<ch {
                var sum: Float = 0, ss: Float = 0
                for i in (q * sn)..<((q + 1) * sn) { sum += planes[i] }
                let mean = sum / Float(sn)
                for i in (q * sn)..<((q + 1) * sn) { ss += (planes[i] - mean) * (planes[i] - mean) }
                spreads[q] = (ss / Float(max(1, sn - 1))).squareRoot() * 255
            }
        }
    }
}
