import Foundation
import Testing
@testable import PNGIO
import TestSupport

/// Each kind of broken or hostile file gets its own exact error case, never a crash.
struct BadInputTests {
    let dir = makeTempDir("bad")

    /// A valid 8-bit grey 40x30 PNG written by our writer, as bytes.
    func goodPNG(width: Int = 40, height: Int = 30, compression: Int = 6) throws -> [UInt8] {
        let path = dir + "/good-\(width)x\(height).png"
        var rng = TestRNG(state: 99)
        let img = PNGImage(width: width, height: height, layout: .gray, depth: 8,
                           samples: (0..<(width * height)).map { _ in rng.next(256) })
        try PNGWriter.write(img, to: path, compression: compression)
        return readBytes(path)
    }

    func errorReading(_ bytes: [UInt8], limits: PNGLimits = .default, name: String = "bad.png") -> PNGError? {
        let path = dir + "/" + name
        writeBytes(bytes, path)
        do {
            _ = try PNGReader.read(path: path, limits: limits)
            return nil
        } catch let e as PNGError {
            return e
        } catch {
            return nil
        }
    }

    func path(_ name: String = "bad.png") -> String { dir + "/" + name }

    @Test func emptyFile() {
        #expect(errorReading([]) == .empty(file: path()))
    }

    @Test func missingFile() {
        let p = dir + "/nope.png"
        #expect(throws: PNGError.unreadable(file: p, reason: "No such file or directory")) {
            try PNGReader(path: p)
        }
    }

    @Test func notAPNG() {
        #expect(errorReading(Array("GIF89a this is not a png at all".utf8)) == .otherFormat(file: path(), format: "GIF"))
        #expect(errorReading([0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10] + Array("JFIF".utf8)) == .otherFormat(file: path(), format: "JPEG"))
        #expect(PNGError.otherFormat(file: "a.png", format: "JPEG").description == "a.png: is a JPEG file, not a PNG")
        #expect(errorReading(Array("plain text, no image".utf8)) == .notPNG(file: path()))
        #expect(errorReading([0x89, 0x50]) == .notPNG(file: path()))
    }

    @Test func truncatedInIHDR() throws {
        let good = try goodPNG()
        guard case .truncated(let f, _)? = errorReading(Array(good[0..<20])) else {
            Issue.record("expected .truncated"); return
        }
        #expect(f == path())
    }

    @Test func truncatedInIDAT() throws {
        let good = try goodPNG()
        let chunks = Chunk.parse(good)
        let idatStart = 8 + chunks.prefix { $0.type != "IDAT" }.reduce(0) { $0 + 12 + $1.data.count }
        let cut = idatStart + 8 + chunks.first { $0.type == "IDAT" }!.data.count / 2
        guard case .truncated? = errorReading(Array(good[0..<cut])) else {
            Issue.record("expected .truncated, got \(String(describing: errorReading(Array(good[0..<cut]))))"); return
        }
    }

    @Test func missingIEND() throws {
        let good = try goodPNG()
        guard case .truncated? = errorReading(Array(good.dropLast(12))) else {
            Issue.record("expected .truncated"); return
        }
    }

    @Test func ihdrCRCFlipped() throws {
        var chunks = Chunk.parse(try goodPNG())
        chunks[0].crc = chunks[0].crc! ^ 1
        guard case .crcMismatch(_, let reason)? = errorReading(Chunk.serialise(chunks)) else {
            Issue.record("expected .crcMismatch"); return
        }
        #expect(reason.contains("IHDR"))
    }

    @Test func idatCRCFlipped() throws {
        var chunks = Chunk.parse(try goodPNG())
        let i = chunks.firstIndex { $0.type == "IDAT" }!
        chunks[i].crc = chunks[i].crc! ^ 0x8000_0000
        guard case .crcMismatch(_, let reason)? = errorReading(Chunk.serialise(chunks)) else {
            Issue.record("expected .crcMismatch"); return
        }
        #expect(reason.contains("IDAT"))
    }

    @Test func corruptDeflateStream() throws {
        var chunks = Chunk.parse(try goodPNG())
        let i = chunks.firstIndex { $0.type == "IDAT" }!
        // Break the zlib header's check bits; the CRC is recomputed so only inflate can notice.
        chunks[i].data[1] ^= 0x1F
        chunks[i].crc = nil
        guard case .corrupt(let f, _)? = errorReading(Chunk.serialise(chunks)) else {
            Issue.record("expected .corrupt"); return
        }
        #expect(f == path())
        // Garbage in the middle of the compressed data.
        var chunks2 = Chunk.parse(try goodPNG())
        let j = chunks2.firstIndex { $0.type == "IDAT" }!
        for k in 2..<chunks2[j].data.count - 4 { chunks2[j].data[k] = 0xFF }
        chunks2[j].crc = nil
        guard case .corrupt? = errorReading(Chunk.serialise(chunks2)) else {
            Issue.record("expected .corrupt for garbage data, got \(String(describing: errorReading(Chunk.serialise(chunks2))))"); return
        }
    }

    func withIHDR(width: UInt32? = nil, height: UInt32? = nil, colorType: UInt8? = nil, bitDepth: UInt8? = nil) throws -> [UInt8] {
        var chunks = Chunk.parse(try goodPNG())
        if let width { chunks[0].data.replaceSubrange(0..<4, with: bytes32(width)) }
        if let height { chunks[0].data.replaceSubrange(4..<8, with: bytes32(height)) }
        if let colorType { chunks[0].data[9] = colorType }
        if let bitDepth { chunks[0].data[8] = bitDepth }
        chunks[0].crc = nil
        return Chunk.serialise(chunks)
    }

    @Test func widthZero() throws {
        guard case .badHeader(_, let reason)? = errorReading(try withIHDR(width: 0)) else {
            Issue.record("expected .badHeader"); return
        }
        #expect(reason.lowercased().contains("width"))
    }

    @Test func width2pow31() throws {
        guard case .badHeader? = errorReading(try withIHDR(width: 0x8000_0000)) else {
            Issue.record("expected .badHeader, got \(String(describing: errorReading(try withIHDR(width: 0x8000_0000))))"); return
        }
    }

    @Test func invalidBitDepthForColourType() throws {
        guard case .badHeader? = errorReading(try withIHDR(colorType: 2, bitDepth: 4)) else {
            Issue.record("expected .badHeader"); return
        }
    }

    @Test func hugeHeaderWithTinyIDATIsRejectedByTheBudget() throws {
        let clock = ContinuousClock()
        var err: PNGError?
        let elapsed = clock.measure { err = try? { () throws -> PNGError? in
            errorReading(try withIHDR(width: 100_000, height: 100_000))
        }() }
        #expect(err == .overPixelBudget(file: path(), width: 100_000, height: 100_000, limit: PNGLimits.default.maxPixels))
        _ = elapsed  // printed by the benchmark, not asserted
    }

    /// 1,000,000 x 256 RGBA 16-bit (inside the pixel budget) with a few bytes of image data: the
    /// band grows only with decoded rows, so this fails on the first rows (it allocated and
    /// zeroed 2 GB before). Peak memory is measured by the CLI test and scripts, not here.
    @Test func hugeDeclaredImageWithTinyIDATFailsOnTheFirstRows() throws {
        var chunks = Chunk.parse(try withIHDR(width: 1_000_000, height: 256, colorType: 6, bitDepth: 16))
        chunks = chunks.filter { $0.type != "IDAT" }
        chunks.insert(Chunk(type: "IDAT", data: [0x78, 0x9C, 0x63, 0x60, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01]), at: chunks.count - 1)
        writeBytes(Chunk.serialise(chunks), path("huge-declared.png"))
        let reader = try PNGReader(path: path("huge-declared.png"))
        #expect(reader.header.width == 1_000_000 && reader.bandRows() == 1)
        #expect(throws: PNGError.corrupt(file: path("huge-declared.png"), reason: "Not enough image data")) { try reader.readBand(rows: 256) }
        // Described without decoding pixels: the header, and no pixel memory.
        let again = try PNGReader(path: path("huge-declared.png"))
        #expect(try again.finish().isEmpty)
    }

    /// Wider or taller than libpng writes: refused when read, naming the input.
    @Test func sideOverTheWritersLimit() throws {
        let e = errorReading(try withIHDR(width: 1_000_001, height: 10))
        guard case .badHeader(let f, let reason)? = e else { Issue.record("expected .badHeader, got \(String(describing: e))"); return }
        #expect(f == path() && reason.contains("1000001x10") && reason.contains("1000000"))
        guard case .badHeader? = errorReading(try withIHDR(width: 10, height: 1_000_001)) else { Issue.record("expected .badHeader"); return }
    }

    /// `finish` before the first band skips the pixels and still reads the text after the image
    /// data and checks the compressed stream.
    @Test func finishWithoutReadingRows() throws {
        var chunks = Chunk.parse(try goodPNG())
        chunks.insert(Chunk(type: "tEXt", data: Array("Late\0after IDAT".utf8)), at: chunks.count - 1)
        writeBytes(Chunk.serialise(chunks), path("late-text.png"))
        let reader = try PNGReader(path: path("late-text.png"))
        let texts = try reader.finish()
        #expect(texts.contains { $0.key == "Late" && $0.text == "after IDAT" })
        // A broken deflate stream is still noticed (libpng reports it as a warning when it only
        // checks the data).
        var bad = Chunk.parse(try goodPNG())
        let i = bad.firstIndex { $0.type == "IDAT" }!
        for k in 2..<min(40, bad[i].data.count) { bad[i].data[k] ^= 0x5A }
        bad[i].crc = nil
        writeBytes(Chunk.serialise(bad), path("bad-deflate.png"))
        let badReader = try PNGReader(path: path("bad-deflate.png"))
        do {
            try badReader.finish()
            #expect(!badReader.warnings.isEmpty, "a broken deflate stream passed unnoticed")
        } catch {
            #expect(error is PNGError)
        }
    }

    @Test func budgetIsSettable() throws {
        let bytes = try goodPNG()
        #expect(errorReading(bytes, limits: PNGLimits(maxPixels: 1199)) ==
                .overPixelBudget(file: path(), width: 40, height: 30, limit: 1199))
        #expect(errorReading(bytes, limits: PNGLimits(maxPixels: 1200)) == nil)
        // One side alone over the budget: libpng's user limit stops it inside IHDR.
        #expect(errorReading(bytes, limits: PNGLimits(maxPixels: 35)) ==
                .overPixelBudget(file: path(), width: 40, height: 30, limit: 35))
    }

    @Test func textChunkClaiming2GBFailsFast() throws {
        var chunks = Chunk.parse(try goodPNG())
        // A tEXt chunk whose length field says 0x7fffffff but holds a few bytes.
        chunks.insert(Chunk(type: "tEXt", data: Array("Comment\0hello".utf8), declaredLength: 0x7FFF_FFFF), at: 1)
        guard case .tooLarge(_, let reason)? = errorReading(Chunk.serialise(chunks)) else {
            Issue.record("expected .tooLarge, got \(String(describing: errorReading(Chunk.serialise(chunks))))"); return
        }
        #expect(reason.contains("tEXt"))
    }

    @Test func paletteImageWithoutPLTE() throws {
        // Colour type 3 declared, no PLTE chunk.
        guard case .corrupt(_, let reason)? = errorReading(try withIHDR(colorType: 3, bitDepth: 8)) else {
            Issue.record("expected .corrupt, got \(String(describing: errorReading(try withIHDR(colorType: 3, bitDepth: 8))))"); return
        }
        #expect(reason.contains("PLTE"))
    }

    @Test func ancillaryChunkWithBadCRCIsDroppedWithAWarning() throws {
        var chunks = Chunk.parse(try goodPNG())
        chunks.insert(Chunk(type: "tEXt", data: Array("Comment\0hi".utf8), crc: 12345), at: 1)
        let p = path("anc.png")
        writeBytes(Chunk.serialise(chunks), p)
        let r = try PNGReader(path: p)
        while try r.readBand(rows: 8) != nil {}
        let texts = try r.finish()
        #expect(texts.isEmpty)
        #expect(r.warnings.contains { $0.contains("CRC") })
    }

    @Test func randomCorruptionNeverCrashes() throws {
        let good = try goodPNG(width: 23, height: 17)
        var rng = TestRNG(state: 4242)
        var failures = 0
        for trial in 0..<300 {
            var b = good
            for _ in 0..<(1 + rng.next(4)) { b[8 + rng.next(b.count - 8)] = UInt8(rng.next(256)) }
            if trial % 3 == 0 { b = Array(b.prefix(8 + rng.next(b.count - 8))) }
            if errorReading(b, name: "fuzz.png") != nil { failures += 1 }
        }
        #expect(failures > 100)  // most damaged files are caught (CRC), none crashed
    }

    @Test func messagesNameTheFileAndTheReason() {
        let e = PNGError.crcMismatch(file: "a/b.png", reason: "IDAT: CRC error")
        #expect(e.description == "a/b.png: checksum error: IDAT: CRC error")
        #expect(PNGError.overPixelBudget(file: "x.png", width: 3, height: 4, limit: 5).description == "x.png: 3x4 is over the pixel budget of 5 pixels")
    }
}
