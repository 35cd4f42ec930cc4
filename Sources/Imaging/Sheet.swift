/// Lays out images in a grid of equal cells: each image centred in its cell, cells separated by
/// gutters, the whole scaled up by an integer factor with nearest neighbour. Grey images are
/// replicated when any image in the sheet is colour. Alpha is composited over the background.
public enum Sheet {
    /// `rows` of images (rows may be ragged; empty cells stay background). Values in [0, 1].
    public static func compose(rows: [[FloatImage?]], scale: Int = 1, gutter: Int = 2, background: Float = 1,
                               colorPlanes: [[Int]]? = nil) -> FloatImage {
        let all = rows.flatMap { $0 }.compactMap { $0 }
        let cellW = all.map(\.width).max() ?? 1, cellH = all.map(\.height).max() ?? 1
        let cols = rows.map(\.count).max() ?? 0
        let color = all.contains { $0.channels >= 3 }
        let ch = color ? 3 : 1
        let w = (cols * cellW + max(0, cols - 1) * gutter) * scale + 2 * gutter * scale
        let h = (rows.count * cellH + max(0, rows.count - 1) * gutter) * scale + 2 * gutter * scale
        var out = FloatImage(width: max(1, w), height: max(1, h), channels: ch, value: background)
        for (r, row) in rows.enumerated() {
            for (c, cell) in row.enumerated() {
                guard let img = cell else { continue }
                let ox = gutter + c * (cellW + gutter) + (cellW - img.width) / 2
                let oy = gutter + r * (cellH + gutter) + (cellH - img.height) / 2
                let planes = img.channels >= 3 ? 3 : 1
                let alpha = img.channels == 2 || img.channels == 4 ? img.channels - 1 : nil
                for y in 0..<img.height {
                    for x in 0..<img.width {
                        let a = alpha.map { img[x: x, y: y, c: $0] } ?? 1
                        for k in 0..<ch {
                            let v = img[x: x, y: y, c: planes == 3 ? k : 0] * a + background * (1 - a)
                            for sy in 0..<scale {
                                for sx in 0..<scale {
                                    out[x: (ox + x) * scale + sx, y: (oy + y) * scale + sy, c: k] = v
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }
}
