import Foundation
import Imaging
import Models
import PNGIO

/// Band-streamed inference of a convolutional denoiser: the PNG is read in row bands, each band
/// (and, across the width, each tile) is denoised with a halo of at least the network's
/// receptive field around it, and the output is written band by band. Memory depends on the band
/// and tile size, not on the image's height; the result equals whole-image inference exactly
/// (bands and tiles start on multiples of 4 and the network's kernels are position-independent).
/// Grey models denoise each colour plane of an RGB image; alpha is carried through.
public struct BandDenoiser {
    public let model: ConvDenoiser
    public var bandRows: Int
    public var tileColumns: Int
    public var halo: Int
    private let pool = WorkspacePool()

    /// Pixels of one tile with its halo (workspace ≈ 129 floats a pixel at the default widths:
    /// about 80 MB), chosen for the memory bar; tiles are about square so halos cost least.
    public static let defaultRegionPixels = 160_000

    /// Tile width and band height for an image of `width`: tiles of about `regionPixels` with
    /// their halo, square unless the image is narrower (then the bands are full width and taller).
    public static func geometry(width: Int, halo: Int = ConvDenoiser.receptiveRadius,
                                regionPixels: Int = defaultRegionPixels) -> (bandRows: Int, tileColumns: Int) {
        let side = Int(Double(regionPixels).squareRoot())
        let tile = max(32, (side - 2 * halo) / 4 * 4)
        let w4 = (width + 3) / 4 * 4
        let cols = min(w4, tile)
        let rows = max(32, min(4096, (regionPixels / (cols + 2 * halo) - 2 * halo) / 4 * 4))
        return (rows, cols)
    }

    public init(model: ConvDenoiser, bandRows: Int = 128, tileColumns: Int = 1024, halo: Int = ConvDenoiser.receptiveRadius) {
        precondition(bandRows % 4 == 0 && tileColumns % 4 == 0 && halo % 4 == 0 && halo >= 20, "bands, tiles and halo are multiples of 4")
        self.model = model
        self.bandRows = bandRows
        self.tileColumns = tileColumns
        self.halo = halo
    }

    /// Denoises every colour plane (channel-major planes of a `width` x `height` image); rows
    /// are pulled from `nextRows` (any number at a time, top to bottom) and results pushed to
    /// `emit` in order, `bandRows` at a time. Planes: `colorPlanes` (1 or 3).
    public func run(width: Int, height: Int, colorPlanes: Int,
                    nextRows: () throws -> FloatImage?, emit: (FloatImage) throws -> Void) throws {
        let h4 = (height + 3) / 4 * 4, w4 = (width + 3) / 4 * 4
        let mc = model.channels
        precondition(mc == 1 || mc == colorPlanes, "model channels")
        let ws = pool.take()
        defer { pool.give(ws) }
        // Rolling window of padded-image rows [winStart, winStart + window.count): each row holds
        // colorPlanes · w4 values (the last column repeated to w4).
        var window = [[Float]]()
        var winStart = 0
        var readRows = 0
        func ensure(upTo row: Int) throws {   // rows of the padded image, exclusive
            while winStart + window.count < min(row, h4) {
                if readRows < height {
                    guard let band = try nextRows() else { throw PNGError.truncated(file: "", reason: "fewer rows than the header says") }
                    band.data.withUnsafeBufferPointer { src in
                        for y in 0..<band.height {
                            var r = [Float](repeating: 0, count: colorPlanes * w4)
                            r.withUnsafeMutableBufferPointer { dst in
                                for c in 0..<colorPlanes {
                                    let from = src.baseAddress! + c * band.planeSize + y * width, to = dst.baseAddress! + c * w4
                                    to.update(from: from, count: width)
                                    for x in width..<w4 { to[x] = from[width - 1] }
                                }
                            }
                            window.append(r)
                        }
                    }
                    readRows += band.height
                } else {
                    window.append(window[window.count - 1])   // bottom padding: the last row repeated
                }
            }
        }
        var region = [Float](), result = [Float]()
        var r0 = 0
        while r0 < height {
            let r1 = min(h4, r0 + bandRows)
            let ra = max(0, r0 - halo), rb = min(h4, r1 + halo)
            try ensure(upTo: rb)
            if ra > winStart {   // rows no longer needed
                window.removeFirst(ra - winStart)
                winStart = ra
            }
            let outRows = min(r1, height) - r0
            var out = FloatImage(width: width, height: outRows, channels: colorPlanes)
            var c0 = 0
            while c0 < width {
                let c1 = min(w4, c0 + tileColumns)
                let ca = max(0, c0 - halo), cb = min(w4, c1 + halo)
                let rh = rb - ra, cw = cb - ca, n = mc * rh * cw
                if region.count != n { region = [Float](repeating: 0, count: n); result = region }
                let outCols = min(c1, width) - c0
                for unit in stride(from: 0, to: colorPlanes, by: mc) {
                    region.withUnsafeMutableBufferPointer { reg in
                        for p in 0..<mc {
                            for y in 0..<rh {
                                window[ra + y - winStart].withUnsafeBufferPointer { row in
                                    (reg.baseAddress! + (p * rh + y) * cw).update(from: row.baseAddress! + (unit + p) * w4 + ca, count: cw)
                                }
                            }
                        }
                    }
                    region.withUnsafeBufferPointer { reg in
                        result.withUnsafeMutableBufferPointer { res in
                            model.infer(reg.baseAddress!, h: rh, w: cw, into: res.baseAddress!, workspace: ws)
                        }
                    }
                    let plane = out.planeSize
                    result.withUnsafeBufferPointer { res in
                        out.data.withUnsafeMutableBufferPointer { o in
                            for p in 0..<mc {
                                for y in r0..<(r0 + outRows) {
                                    (o.baseAddress! + (unit + p) * plane + (y - r0) * width + c0)
                                        .update(from: res.baseAddress! + (p * rh + y - ra) * cw + c0 - ca, count: outCols)
                                }
                            }
                        }
                    }
                }
                c0 = c1
            }
            try emit(out)
            r0 = r1
        }
    }

    /// The reference: the whole image in one piece (padded to multiples of 4 by repeating the
    /// last row and column), for tests and small images.
    public func wholeImage(_ img: FloatImage) -> FloatImage {
        let h4 = (img.height + 3) / 4 * 4, w4 = (img.width + 3) / 4 * 4
        let mc = model.channels
        var out = FloatImage(width: img.width, height: img.height, channels: img.channels)
        let ws = pool.take()
        defer { pool.give(ws) }
        var x = [Float](repeating: 0, count: mc * h4 * w4), r = x
        for unit in stride(from: 0, to: img.channels, by: mc) {
            for p in 0..<mc {
                for y in 0..<h4 { for xx in 0..<w4 { x[(p * h4 + y) * w4 + xx] = img[x: min(xx, img.width - 1), y: min(y, img.height - 1), c: unit + p] } }
            }
            x.withUnsafeBufferPointer { xb in r.withUnsafeMutableBufferPointer { model.infer(xb.baseAddress!, h: h4, w: w4, into: $0.baseAddress!, workspace: ws) } }
            for p in 0..<mc {
                for y in 0..<img.height { for xx in 0..<img.width { out[x: xx, y: y, c: unit + p] = r[(p * h4 + y) * w4 + xx] } }
            }
        }
        return out
    }

    /// Streams `input` to `output` (written atomically), keeping alpha and the bit depth.
    public func denoiseFile(input: String, output: String, limits: PNGLimits, compression: Int?,
                            texts: [(key: String, text: String)]) throws {
        let reader = try PNGReader(path: input, limits: limits)
        let h = reader.header
        var me = self
        (me.bandRows, me.tileColumns) = Self.geometry(width: h.width, halo: halo)
        let layout = h.layout
        let depth = h.depth
        let planes = layout.colorChannels
        if model.channels == 3 && planes == 1 {
            throw PipelineError.frame(file: input, reason: "the model takes RGB images, this one is grey")
        }
        try AtomicOutput.write(to: output) { tmp in
            do {
                let writer = try PNGWriter(path: tmp, width: h.width, height: h.height,
                                           format: PNGFileFormat(layout: layout, depth: depth, compression: compression, texts: texts))
                var alphaRows: [[Float]] = []
                try me.run(width: h.width, height: h.height, colorPlanes: planes, nextRows: {
                    guard let band = try reader.readBand(rows: 16) else { return nil }
                    let f = FloatImage(band)
                    if layout.hasAlpha {
                        for y in 0..<band.height { alphaRows.append((0..<h.width).map { f[x: $0, y: y, c: planes] }) }
                    }
                    return f
                }, emit: { band in
                    var full = FloatImage(width: band.width, height: band.height, channels: layout.channels)
                    let n = band.planeSize
                    full.data.replaceSubrange(0..<(planes * n), with: band.data)
                    if layout.hasAlpha {
                        for y in 0..<band.height {
                            let a = alphaRows.removeFirst()
                            for x in 0..<band.width { full[x: x, y: y, c: planes] = a[x] }
                        }
                    }
                    try writer.write(full.pngImage(layout: layout, depth: depth))
                })
                try reader.finish()
                try writer.finish()
            } catch let e as PNGError where e.file == tmp {
                throw e.renamed(to: output)
            }
        }
    }
}

/// `ConvDenoiser.infer` keeps its state in the workspace it is given and only reads the weights;
/// workspaces come from a locked pool, one per file being denoised, so one BandDenoiser may
/// serve several files at once.
extension BandDenoiser: @unchecked Sendable {}

/// Workspaces kept between files (at most one per worker thread): a batch of same-sized images
/// allocates its buffers once per worker.
final class WorkspacePool: @unchecked Sendable {
    private let lock = NSLock()
    private var free: [ConvWorkspace] = []

    func take() -> ConvWorkspace {
        lock.lock()
        defer { lock.unlock() }
        return free.popLast() ?? ConvWorkspace()
    }

    func give(_ ws: ConvWorkspace) {
        lock.lock()
        free.append(ws)
        lock.unlock()
    }
}
