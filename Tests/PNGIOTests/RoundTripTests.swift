import Foundation
import Testing
@testable import PNGIO
import TestSupport

/// Our writer → our reader, and our writer → libpng's simplified API, for every colour type x
/// bit depth x interlace combination PNG allows.
struct RoundTripTests {
    struct Combo: CustomTestStringConvertible, Sendable {
        var colorType: PNGColorType
        var bitDepth: Int
        var interlaced: Bool
        var testDescription: String { "\(colorType) \(bitDepth)-bit\(interlaced ? " interlaced" : "")" }
    }

    static let combos: [Combo] = {
        let depths: [(PNGColorType, [Int])] = [
            (.gray, [1, 2, 4, 8, 16]), (.grayAlpha, [8, 16]), (.rgb, [8, 16]), (.rgba, [8, 16]),
            (.palette, [1, 2, 4, 8]),
        ]
        return depths.flatMap { ct, ds in ds.flatMap { d in [false, true].map { Combo(colorType: ct, bitDepth: d, interlaced: $0) } } }
    }()

    /// Writes a random image of the given kind; returns the samples a reader must deliver.
    static func writeRandom(_ c: Combo, width: Int, height: Int, to path: String) throws -> (PixelLayout, Int, [Int]) {
        var rng = TestRNG(state: UInt64(c.bitDepth * 31 + Int(c.colorType.rawValue)))
        var format = PNGFileFormat(colorType: c.colorType, bitDepth: c.bitDepth, interlaced: c.interlaced,
                                   texts: [("Software", "latent tests"), ("Comment", "round trip ✓")])
        var raw: [UInt8] = []
        var expected: [Int] = []
        switch c.colorType {
        case .palette:
            let n = min(1 << c.bitDepth, 200)
            format.palette = (0..<n).map { _ in (UInt8(rng.next(256)), UInt8(rng.next(256)), UInt8(rng.next(256))) }
            format.paletteAlpha = (0..<(n / 2)).map { _ in UInt8(rng.next(256)) }
            for _ in 0..<(width * height) {
                let i = rng.next(n)
                raw.append(UInt8(i))
                let p = format.palette[i]
                expected += [Int(p.r), Int(p.g), Int(p.b), i < format.paletteAlpha.count ? Int(format.paletteAlpha[i]) : 255]
            }
            let w = try PNGWriter(path: path, width: width, height: height, format: format)
            try w.writeRaw(raw, rows: height)
            try w.finish()
            return (.rgba, 8, expected)
        case .gray where c.bitDepth < 8:
            let levels = 1 << c.bitDepth
            for _ in 0..<(width * height) {
                let v = rng.next(levels)
                raw.append(UInt8(v))
                expected.append(v * 255 / (levels - 1))
            }
            let w = try PNGWriter(path: path, width: width, height: height, format: format)
            try w.writeRaw(raw, rows: height)
            try w.finish()
            return (.gray, 8, expected)
        default:
            let layout = PixelLayout(pngColorType: c.colorType)!
            let maxv = c.bitDepth == 16 ? 65536 : 256
            expected = (0..<(width * height * layout.channels)).map { _ in rng.next(maxv) }
            let image = PNGImage(width: width, height: height, layout: layout, depth: c.bitDepth, samples: expected)
            let w = try PNGWriter(path: path, width: width, height: height, format: format)
            if c.interlaced {
                try w.write(image)
            } else {
                // Stream in two uneven bands.
                let split = height / 3
                let rb = image.rowBytes
                try w.writeRaw(Array(image.bytes[0..<(split * rb)]), rows: split)
                try w.writeRaw(Array(image.bytes[(split * rb)...]), rows: height - split)
            }
            try w.finish()
            return (layout, c.bitDepth, expected)
        }
    }

    @Test(arguments: combos)
    func writesWhatItReadsBack(_ c: Combo) throws {
        let dir = makeTempDir("roundtrip")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/img.png"
        let (layout, depth, expected) = try Self.writeRandom(c, width: 37, height: 23, to: path)
        let reader = try PNGReader(path: path)
        #expect(reader.header.colorType == c.colorType)
        #expect(reader.header.bitDepth == c.bitDepth)
        #expect(reader.header.interlaced == c.interlaced)
        #expect(reader.header.layout == layout)
        #expect(reader.header.depth == depth)
        var got: [Int] = []
        while let band = try reader.readBand(rows: 5) { got += band.samples }
        let texts = try reader.finish()
        #expect(got == expected)
        #expect(texts.map(\.key) == ["Software", "Comment"])
        #expect(texts.last?.text == "round trip ✓")
    }

    @Test(arguments: combos)
    func aRegionIsThoseSamplesOfTheWholeImage(_ c: Combo) throws {
        let dir = makeTempDir("region")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/img.png"
        let (width, height) = (37, 23)
        let (layout, depth, expected) = try Self.writeRandom(c, width: width, height: height, to: path)
        let ch = layout.channels
        let rectangles: [(x: Int, y: Int, w: Int, h: Int)] = [(5, 7, 11, 9), (0, 0, width, height), (36, 22, 1, 1), (3, 0, 30, 1), (0, 10, 5, 0)]
        for (x, y, w, h) in rectangles {
            // Bands of 4 rows: a rectangle starts and ends inside bands and spans several.
            let region = try PNGReader(path: path).readRegion(x: x, y: y, width: w, height: h, bandRows: 4)
            #expect(region.width == w && region.height == h && region.layout == layout && region.depth == depth)
            var want: [Int] = []
            for r in y..<(y + h) { want += expected[((r * width + x) * ch)..<((r * width + x + w) * ch)] }
            #expect(region.samples == want, "region \(w)x\(h) at \(x),\(y)")
        }
        // Converted on the way, as a band is.
        let grey = try PNGReader(path: path).readRegion(x: 2, y: 3, width: 4, height: 5, layout: .gray, depth: 8)
        let whole = try PNGReader.read(path: path, layout: .gray, depth: 8)
        var want: [Int] = []
        for r in 3..<8 { want += whole.samples[(r * width + 2)..<(r * width + 6)] }
        #expect(grey.samples == want)
    }

    @Test(arguments: combos)
    func libpngDecodesWhatWeWrite(_ c: Combo) throws {
        let dir = makeTempDir("roundtrip-libpng")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/img.png"
        let (layout, depth, expected) = try Self.writeRandom(c, width: 19, height: 11, to: path)
        // Files without alpha: the simplified API must give exactly our samples (16-bit read as
        // linear, which libpng leaves unchanged for files without gAMA).
        if !layout.hasAlpha || depth == 8 {
            let theirs = try simpleRead(path, layout: layout, linear16: depth == 16)
            #expect(theirs == expected)
        } else {
            // 16-bit with alpha: libpng's linear output is premultiplied.
            let theirs = try simpleRead(path, layout: layout, linear16: true)
            let ch = layout.channels
            var ok = true
            for p in 0..<(theirs.count / ch) {
                let a = expected[p * ch + ch - 1]
                for c in 0..<(ch - 1) where abs(theirs[p * ch + c] - (expected[p * ch + c] * a + 32767) / 65535) > 1 { ok = false }
                if theirs[p * ch + ch - 1] != a { ok = false }
            }
            #expect(ok)
        }
    }

    @Test func compressionLevelsAllDecode() throws {
        let dir = makeTempDir("levels")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var rng = TestRNG(state: 7)
        let image = PNGImage(width: 64, height: 64, layout: .rgb, depth: 8,
                             samples: (0..<(64 * 64 * 3)).map { i in (i / 3 % 64) * 4 + rng.next(3) })
        var sizes: [Int] = []
        for level in 0...9 {
            let path = dir + "/l\(level).png"
            try PNGWriter.write(image, to: path, compression: level)
            #expect(try PNGReader.read(path: path) == image)
            sizes.append(readBytes(path).count)
        }
        #expect(sizes[9] < sizes[0])
    }
}
