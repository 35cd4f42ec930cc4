import FileIO
import Foundation
import Imaging
import PNGIO

/// A grid of equal cells with optional labels, as every picture of this module is (a tile
/// smaller than its cell is centred in it):
///
///     width  = labelWidth + gutter + cols·(tileW·scale + gutter)
///     height = labelHeight + gutter + rows·(tileH·scale + gutter)
///
/// Tiles are scaled up by an integer `scale` with nearest neighbour; the background (gutters and
/// label margin) is white; labels are drawn in black with the built-in 5x7 font.
public struct Grid {
    public var tileWidth: Int
    public var tileHeight: Int
    public var channels: Int
    public var rows: Int
    public var cols: Int
    public var scale: Int
    public var gutter: Int
    public var rowLabels: [String]?
    public var columnLabels: [String]?

    public init(tileWidth: Int, tileHeight: Int, channels: Int, rows: Int, cols: Int, scale: Int = 2, gutter: Int = 2,
                rowLabels: [String]? = nil, columnLabels: [String]? = nil) {
        self.tileWidth = tileWidth
        self.tileHeight = tileHeight
        self.channels = channels
        self.rows = rows
        self.cols = cols
        self.scale = max(1, scale)
        self.gutter = max(0, gutter)
        self.rowLabels = rowLabels
        self.columnLabels = columnLabels
    }

    /// Label glyph scale: readable next to the tiles.
    var labelScale: Int { max(1, min(3, tileHeight * scale / 28)) }

    public var labelWidth: Int {
        guard let r = rowLabels, !r.isEmpty else { return 0 }
        return (r.map { BitmapFont.width($0, scale: labelScale) }.max() ?? 0) + 3 * labelScale
    }

    public var labelHeight: Int {
        guard let c = columnLabels, !c.isEmpty else { return 0 }
        return BitmapFont.glyphHeight * labelScale + 2 * labelScale
    }

    public var width: Int { labelWidth + gutter + cols * (tileWidth * scale + gutter) }
    public var height: Int { labelHeight + gutter + rows * (tileHeight * scale + gutter) }

    /// Top-left pixel of tile (row, col).
    public func origin(row: Int, col: Int) -> (x: Int, y: Int) {
        (labelWidth + gutter + col * (tileWidth * scale + gutter), labelHeight + gutter + row * (tileHeight * scale + gutter))
    }

    /// Renders `tiles[row][col]` (each tileWidth x tileHeight x channels, or nil for blank).
    public func render(_ tiles: [[FloatImage?]]) -> FloatImage {
        var out = FloatImage(width: width, height: height, channels: channels, value: 1)
        for (r, row) in tiles.enumerated() where r < rows {
            for (c, tile) in row.enumerated() where c < cols {
                guard let t = tile else { continue }
                precondition(t.width <= tileWidth && t.height <= tileHeight, "tile larger than the grid's cells")
                // A smaller tile is centred in its cell; alpha (grey+alpha, RGBA) over white.
                let (cx, cy) = origin(row: r, col: c)
                let ox = cx + (tileWidth - t.width) / 2 * scale, oy = cy + (tileHeight - t.height) / 2 * scale
                let colour = t.channels >= 3, alpha = t.channels == 2 || t.channels == 4 ? t.channels - 1 : nil
                for ch in 0..<channels {
                    let src = colour ? min(ch, 2) : 0
                    for y in 0..<(t.height * scale) {
                        for x in 0..<(t.width * scale) {
                            let a = alpha.map { t[x: x / scale, y: y / scale, c: $0] } ?? 1
                            out[x: ox + x, y: oy + y, c: ch] = min(1, max(0, t[x: x / scale, y: y / scale, c: src] * a + (1 - a)))
                        }
                    }
                }
            }
        }
        let ls = labelScale
        if let labels = rowLabels {
            for (r, text) in labels.enumerated() where r < rows {
                let (_, oy) = origin(row: r, col: 0)
                let y = oy + (tileHeight * scale - BitmapFont.glyphHeight * ls) / 2
                BitmapFont.draw(text, into: &out, x: ls, y: y, scale: ls)
            }
        }
        if let labels = columnLabels {
            for (c, text) in labels.enumerated() where c < cols {
                let (ox, _) = origin(row: 0, col: c)
                let x = ox + (tileWidth * scale - BitmapFont.width(text, scale: ls)) / 2
                BitmapFont.draw(text, into: &out, x: x, y: ls, scale: ls)
            }
        }
        return out
    }
}

extension Grid {
    /// A column label for a value: one decimal, never "-0.0".
    public static func label(_ v: Float) -> String {
        let s = String(format: "%.1f", v)
        return s == "-0.0" ? "0.0" : s
    }

    /// Renders `tiles` and writes the picture to `output` (8-bit, atomically, its folder made),
    /// with provenance: the software, the command and its settings (`details`), the model.
    /// Returns the picture's size.
    public func write(_ tiles: [[FloatImage?]], to output: String, command: String, details: [(String, String)],
                      modelText: String) throws -> (width: Int, height: Int) {
        let image = render(tiles)
        let texts: [(key: String, text: String)] = [
            LatentInfo.software,
            ("latent:command", ([command] + details.map { "\($0.0)=\($0.1)" }).joined(separator: " ")),
            ("latent:model", modelText),
        ]
        let dir = (output as NSString).deletingLastPathComponent
        if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        try AtomicOutput.writePNG(image.pngImage(layout: image.channels == 3 ? .rgb : .gray, depth: 8), to: output, texts: texts)
        return (image.width, image.height)
    }

    /// The JSON description of a written picture.
    public func json(file: String, size: (width: Int, height: Int), details: [(String, String)]) -> String {
        let d = details.map { "\(jsonQuote($0.0)):\(jsonQuote($0.1))" }.joined(separator: ",")
        return "{\"file\":\(jsonQuote(file)),\"width\":\(size.width),\"height\":\(size.height),\"rows\":\(rows),\"columns\":\(cols),\(d)}"
    }
}
