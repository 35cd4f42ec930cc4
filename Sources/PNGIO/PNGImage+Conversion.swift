extension PNGImage {
    /// Luma weights (Rec. 709, as libpng's default) in 1/32768 units, applied to the stored
    /// values as they are: no gamma change.
    static let lumaWeights: (r: UInt32, g: UInt32, b: UInt32) = (6966, 23436, 2366)

    /// The image with its samples converted to `layout` and `depth`.
    /// - Depth: 8 → 16 is v·257 (exact inverse); 16 → 8 is round(v / 257).
    /// - Grey → colour replicates; colour → grey is Rec. 709 luma of the stored values.
    /// - Alpha is dropped when the target has none (no compositing) and set opaque when added.
    public func converted(to layout: PixelLayout, depth: Int) -> PNGImage {
        if layout == self.layout && depth == self.depth { return self }
        precondition(depth == 8 || depth == 16, "depth must be 8 or 16")
        var out = PNGImage(width: width, height: height, layout: layout, depth: depth)
        let pixels = width * height
        let sc = self.layout.channels
        let dc = layout.channels
        let srcColor = self.layout.isColor, dstColor = layout.isColor
        let srcAlpha = self.layout.hasAlpha, dstAlpha = layout.hasAlpha
        let src16 = self.depth == 16, dst16 = depth == 16
        let opaque: UInt32 = dst16 ? 65535 : 255
        let w = PNGImage.lumaWeights
        self.bytes.withUnsafeBytes { sraw in
            out.bytes.withUnsafeMutableBytes { draw in
                let s8 = sraw.bindMemory(to: UInt8.self)
                let s16 = sraw.bindMemory(to: UInt16.self)
                let d8 = draw.bindMemory(to: UInt8.self)
                let d16 = draw.bindMemory(to: UInt16.self)
                @inline(__always) func load(_ i: Int) -> UInt32 {
                    if src16 {
                        let v = UInt32(s16[i])
                        return dst16 ? v : (v + 128) / 257
                    } else {
                        let v = UInt32(s8[i])
                        return dst16 ? v * 257 : v
                    }
                }
                @inline(__always) func store(_ i: Int, _ v: UInt32) {
                    if dst16 { d16[i] = UInt16(truncatingIfNeeded: v) } else { d8[i] = UInt8(truncatingIfNeeded: v) }
                }
                for p in 0..<pixels {
                    let si = p * sc, di = p * dc
                    if srcColor == dstColor {
                        for c in 0..<(srcColor ? 3 : 1) { store(di + c, load(si + c)) }
                    } else if srcColor {
                        let y = (w.r * load(si) + w.g * load(si + 1) + w.b * load(si + 2) + 16384) >> 15
                        store(di, y)
                    } else {
                        let g = load(si)
                        store(di, g); store(di + 1, g); store(di + 2, g)
                    }
                    if dstAlpha {
                        store(di + dc - 1, srcAlpha ? load(si + sc - 1) : opaque)
                    }
                }
            }
        }
        return out
    }
}
