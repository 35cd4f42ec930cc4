import FileIO
import Foundation
import Imaging
import Models
import PNGIO
import Tensor

/// The tiles of `latent compare`: one column per input, rows original / corrupted (with a
/// corruption) / the model's output, for an autoencoder (inputs as the model takes them) or a
/// denoiser of any image size (a centred crop of each).
public enum ComparisonSheet {
    public struct Sheet {
        public var grid: Grid
        public var tiles: [[FloatImage?]]
        /// The crop's side (denoisers), or the model's tile width.
        public var side: Int
    }

    /// An autoencoder's sheet: each input as the model's input (`resize`: converted and resized
    /// to it, else refused when it is not one), its corruption, and the reconstruction.
    public static func autoencoder(_ views: ModelViews, paths: [String], corruption: Corruption?, seed: UInt64, resize: Bool,
                                   scale: Int, gutter: Int) throws -> Sheet {
        let c = views.config
        let originals = try paths.map { try views.modelInput($0, resize: resize) }
        var rows: [[FloatImage?]] = [originals], labels = ["IN"]
        var fed = originals
        if let corruption {
            fed = corrupted(originals, corruption, seed: seed, as8Bit: false)
            rows.append(fed)
            labels.append("NOISY")
        }
        rows.append(views.reconstruct(fed))
        labels.append("OUT")
        return Sheet(grid: Grid(tileWidth: c.width, tileHeight: c.height, channels: c.channels, rows: rows.count, cols: paths.count,
                                scale: scale, gutter: gutter, rowLabels: labels), tiles: rows, side: c.width)
    }

    /// A denoiser's sheet: the same centred crop (at most `crop` a side, 1:1 so noise and detail
    /// stay visible) of each input, of its corrupted copy (rounded to 8 bits as a saved noisy
    /// PNG) and of `denoise`'s output on the whole image (image, colour planes, file → output).
    /// `rgb`: inputs read as RGB (a colour model), else grey or colour as they are.
    public static func denoiser(paths: [String], rgb: Bool, corruption: Corruption?, seed: UInt64, crop: Int, scale: Int, gutter: Int,
                                denoise: (FloatImage, Int, String) throws -> FloatImage) throws -> Sheet {
        var images = try paths.map { path -> FloatImage in
            let png = try PNGReader.read(path: path, layout: rgb ? .rgb : nil)
            return FloatImage(png.converted(to: png.layout.withAlpha(false), depth: png.depth))
        }
        let planes = images.map(\.channels).max()!
        images = images.map { $0.channels == planes ? $0 : FloatImage(width: $0.width, height: $0.height, channels: planes,
                                                                       data: Array(repeating: $0.data, count: planes).flatMap { $0 }) }
        let side = min(crop, images.map { min($0.width, $0.height) }.min()!)
        func centre(_ img: FloatImage) -> FloatImage {
            let x0 = (img.width - side) / 2, y0 = (img.height - side) / 2
            var out = FloatImage(width: side, height: side, channels: img.channels)
            for c in 0..<img.channels { for y in 0..<side { for x in 0..<side { out[x: x, y: y, c: c] = img[x: x0 + x, y: y0 + y, c: c] } } }
            return out
        }
        var fed = images
        var rows: [[FloatImage?]] = [images.map(centre)], labels = ["IN"]
        if let corruption {
            fed = corrupted(images, corruption, seed: seed, as8Bit: true)
            rows.append(fed.map(centre))
            labels.append("NOISY")
        }
        rows.append(try zip(paths, fed).map { path, img in centre(try denoise(img, planes, path)) })
        labels.append("OUT")
        return Sheet(grid: Grid(tileWidth: side, tileHeight: side, channels: planes, rows: rows.count, cols: paths.count,
                                scale: scale, gutter: gutter, rowLabels: labels), tiles: rows, side: side)
    }

    /// The images corrupted in turn from one seeded generator; `as8Bit`: rounded and clipped to
    /// 8 bits, as a saved noisy PNG would hold them.
    public static func corrupted(_ images: [FloatImage], _ corruption: Corruption, seed: UInt64, as8Bit: Bool) -> [FloatImage] {
        var rng = RandomGenerator(seed: seed)
        return images.map { img in
            var out = img
            img.data.withUnsafeBufferPointer { s in
                out.data.withUnsafeMutableBufferPointer { d in corruption.apply(s.baseAddress!, d.baseAddress!, count: img.data.count, rng: &rng) }
            }
            if as8Bit { for i in out.data.indices { out.data[i] = (min(1, max(0, out.data[i])) * 255).rounded() / 255 } }
            return out
        }
    }

    /// A sheet of (input, output) pairs for the first `limit` items that succeeded (or whose
    /// output exists), written to `path` (denoise and reconstruct `--sheet`). An image larger
    /// than `crop` a side is shown as its centred crop of at most `crop` x `crop` pixels, 1:1 so
    /// that noise and detail stay visible (and a folder of large photos costs memory for the
    /// crops, not the photos). Small images (digits) go two pairs to a row, scaled up.
    public static func writePairs(to path: String, items: [InputItem], outcomes: [ItemOutcome], outDir: String, limit: Int = 32,
                                  crop: Int = 256) throws {
        var rows: [[FloatImage?]] = []
        for (item, o) in zip(items, outcomes) where rows.count < limit {
            let output = (outDir as NSString).appendingPathComponent(item.relativeOutput)
            guard o != .skipped || FileManager.default.fileExists(atPath: output) else { continue }
            if case .failed = o { continue }
            guard let a = try? centreCrop(item.path, side: crop), let b = try? centreCrop(output, side: crop) else { continue }
            rows.append([FloatImage(a), FloatImage(b)])
        }
        guard !rows.isEmpty else { return }
        let tiles = rows.flatMap { $0 }.compactMap { $0 }
        let cellW = tiles.map(\.width).max()!, cellH = tiles.map(\.height).max()!
        // Two pairs per sheet row (a blank cell between) keeps small images readable.
        let perRow = max(cellW, cellH) <= 64 ? 2 : 1
        let paired = stride(from: 0, to: rows.count, by: perRow).map { i in
            rows[i..<min(rows.count, i + perRow)].enumerated().flatMap { k, pair in (k > 0 ? [nil] : []) + pair }
        }
        let grid = Grid(tileWidth: cellW, tileHeight: cellH, channels: tiles.contains { $0.channels >= 3 } ? 3 : 1, rows: paired.count,
                        cols: paired.map(\.count).max()!, scale: max(1, min(8, 112 / max(cellW, cellH))), gutter: 2)
        let sheet = grid.render(paired)
        try AtomicOutput.writePNG(sheet.pngImage(layout: sheet.channels == 3 ? .rgb : .gray, depth: 8), to: path,
                                  texts: [LatentInfo.software, ("Comment", "left: input, right: output (centred crops of at most \(crop)x\(crop) pixels)")])
    }

    /// The file's centred crop of at most `side` x `side` pixels (the whole image when smaller).
    static func centreCrop(_ path: String, side: Int) throws -> PNGImage {
        let reader = try PNGReader(path: path)
        let (w, h) = (min(side, reader.header.width), min(side, reader.header.height))
        return try reader.readRegion(x: (reader.header.width - w) / 2, y: (reader.header.height - h) / 2, width: w, height: h)
    }
}
