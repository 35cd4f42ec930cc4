import CPNG
import FileIO
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a PNG file holds, read from its header.
public struct PNGHeader: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var colorType: PNGColorType
    /// Bit depth as stored in the file: 1, 2, 4, 8 or 16.
    public var bitDepth: Int
    public var interlaced: Bool
    public var hasTransparency: Bool
    /// The layout and depth the reader delivers when no conversion is asked for: palette
    /// expanded to RGB, tRNS to alpha, 1/2/4-bit grey to 8 bits.
    public var layout: PixelLayout
    public var depth: Int
}

/// Streaming PNG decoder: opens the file, checks it against `PNGLimits`, then hands out row bands
/// in order, so that memory stays proportional to one band. Interlaced (Adam7) images must be
/// decoded whole; they are, within the pixel budget.
///
///     let reader = try PNGReader(path: "big.png")
///     while let band = try reader.readBand(rows: 64, layout: .gray, depth: 8) { ... }
///     let texts = try reader.finish()
public final class PNGReader {
    public let path: String
    public let header: PNGHeader
    public let limits: PNGLimits
    /// The colour-management and physical-size chunks before the image data.
    public let metadata: PNGMetadata
    private var handle: OpaquePointer?
    private let rowBytes: Int
    public private(set) var nextRow = 0

    public init(path: String, limits: PNGLimits = .default) throws {
        self.path = path
        self.limits = limits
        var climits = cpng_limits(
            max_pixels: UInt64(max(0, limits.maxPixels)),
            max_chunk_bytes: UInt64(max(0, limits.maxChunkBytes)),
            max_alloc_bytes: UInt64(max(0, limits.maxAllocBytes)))
        var info = cpng_info()
        var reader: OpaquePointer?
        var msg = [CChar](repeating: 0, count: 512)
        let code = cpng_reader_open(path, &climits, &reader, &info, &msg, msg.count)
        guard code == CPNG_OK, let reader else {
            throw PNGError.from(code: code, message: cMessage(msg), file: path, limits: limits)
        }
        handle = reader
        rowBytes = Int(info.row_bytes)
        header = PNGHeader(
            width: Int(info.width), height: Int(info.height),
            colorType: PNGColorType(rawValue: info.color_type) ?? .gray,
            bitDepth: Int(info.bit_depth), interlaced: info.interlaced != 0,
            hasTransparency: info.has_trns != 0,
            layout: PixelLayout(channels: Int(info.channels)) ?? .gray, depth: Int(info.depth))
        var color = cpng_color()
        cpng_reader_color(reader, &color)
        metadata = PNGMetadata(color)
    }

    deinit { cpng_reader_close(handle) }

    public var rowsLeft: Int { header.height - nextRow }

    /// Rows decoded at a time inside `readBand` (about this many bytes, at least one row).
    static let chunkBytes = 1 << 20

    /// Rows of a band of about `bytes` bytes of this file's delivered rows (at least one): band
    /// sizes in bytes, so memory does not grow with the width.
    public func bandRows(bytes: Int = 4 << 20) -> Int { max(1, bytes / max(1, rowBytes)) }

    /// The next `rows` rows (fewer at the end), as the file's own layout and depth, or converted to
    /// `layout` / `depth` when given. Returns nil after the last row.
    public func readBand(rows: Int, layout: PixelLayout? = nil, depth: Int? = nil) throws -> PNGImage? {
        let n = min(rows, rowsLeft)
        guard n > 0 else { return nil }
        guard let handle else { throw PNGError.invalidArgument(file: path, reason: "reader closed") }
        // The band's memory grows as its rows are decoded (a few at a time), so a file that
        // declares a huge image but holds little data fails before much is allocated.
        let step = max(1, Self.chunkBytes / max(1, rowBytes))
        var bytes: [UInt8] = []
        var done = 0
        var msg = [CChar](repeating: 0, count: 512)
        while done < n {
            let k = min(step, n - done)
            if done + k < n { bytes.reserveCapacity(min(n, 2 * (done + k)) * rowBytes) }
            bytes.append(contentsOf: repeatElement(0, count: k * rowBytes))
            let code = bytes.withUnsafeMutableBufferPointer {
                cpng_reader_read_rows(handle, $0.baseAddress! + done * rowBytes, UInt32(k), &msg, msg.count)
            }
            guard code == CPNG_OK else {
                close()
                throw PNGError.from(code: code, message: cMessage(msg), file: path, limits: limits)
            }
            done += k
        }
        nextRow += n
        let band = PNGImage(width: header.width, height: n, layout: header.layout, depth: header.depth,
                            bytes: bytes)
        return band.converted(to: layout ?? header.layout, depth: depth ?? header.depth)
    }

    /// Reads the chunks after the image data (verifying the file to its end) and returns every
    /// text chunk of the file as (keyword, text) pairs, in file order. Call after the last band,
    /// or before the first to skip the pixels (the image data is still inflated and checked, in
    /// a small buffer: describing a file costs no memory for its pixels).
    @discardableResult
    public func finish() throws -> [(key: String, text: String)] {
        guard let handle else { throw PNGError.invalidArgument(file: path, reason: "reader closed") }
        skippedPixels = nextRow == 0 && header.height > 0
        var msg = [CChar](repeating: 0, count: 512)
        let code = cpng_reader_finish(handle, &msg, msg.count)
        guard code == CPNG_OK else {
            close()
            throw PNGError.from(code: code, message: cMessage(msg), file: path, limits: limits)
        }
        return texts
    }

    /// Text chunks seen so far (before the image data; after `finish`, all of them).
    public var texts: [(key: String, text: String)] {
        guard let handle else { return [] }
        var out: [(String, String)] = []
        for i in 0..<cpng_reader_text_count(handle) {
            var k: UnsafePointer<CChar>?
            var t: UnsafePointer<CChar>?
            if cpng_reader_text(handle, i, &k, &t) == CPNG_OK, let k, let t {
                out.append((String(cString: k), String(cString: t)))
            }
        }
        return out
    }

    /// libpng's warnings so far (for example an ancillary chunk with a bad CRC that was dropped).
    public var warnings: [String] {
        guard let handle, let w = cpng_reader_warnings(handle) else { return [] }
        let s = String(cString: w)
        let all = s.isEmpty ? [] : s.split(separator: "\n").map(String.init)
        // Finishing before the first row, libpng finds all the image data "too much".
        return skippedPixels ? all.filter { !$0.hasSuffix("Too much image data") } : all
    }

    /// Whether `finish` was called before the first row.
    private var skippedPixels = false

    /// Releases the file early; further reads throw.
    public func close() {
        cpng_reader_close(handle)
        handle = nil
    }

    /// Reads a whole image, converted to `layout` / `depth` when given, verifying the file to its end.
    public static func read(path: String, layout: PixelLayout? = nil, depth: Int? = nil,
                            limits: PNGLimits = .default) throws -> PNGImage {
        try readKeeping(path: path, layout: layout, depth: depth, limits: limits).image
    }

    /// `read`, and the ancillary chunks an output keeps of the file.
    public static func readKeeping(path: String, layout: PixelLayout? = nil, depth: Int? = nil,
                                   limits: PNGLimits = .default) throws -> (image: PNGImage, kept: KeptChunks) {
        let reader = try PNGReader(path: path, limits: limits)
        let kept = KeptChunks(reader)
        return (try reader.readImage(layout: layout, depth: depth), kept)
    }

    /// The rest of this reader's image, converted to `layout` / `depth` when given, verifying
    /// the file to its end (for a caller that looked at the header first).
    public func readImage(layout: PixelLayout? = nil, depth: Int? = nil) throws -> PNGImage {
        let outLayout = layout ?? header.layout
        let outDepth = depth ?? header.depth
        var image = PNGImage(width: header.width, height: 0, layout: outLayout, depth: outDepth, bytes: [])
        image.bytes.reserveCapacity(header.width * header.height * outLayout.channels * outDepth / 8)
        while let band = try readBand(rows: bandRows(), layout: outLayout, depth: outDepth) {
            image.bytes.append(contentsOf: band.bytes)
            image.height += band.height
        }
        try finish()
        return image
    }

    /// The rectangle of `width` x `height` pixels at column `x`, row `y` of the image (which must
    /// lie inside it, at or below `nextRow`), converted to `layout` / `depth` when given. Read
    /// band by band, keeping only the rectangle's samples: a crop of a large file costs memory
    /// for the crop, not for the file. The rows after the rectangle are not read. `bandRows`: rows
    /// read at a time (default: about 4 MB of the file's rows).
    public func readRegion(x: Int, y: Int, width: Int, height: Int, layout: PixelLayout? = nil, depth: Int? = nil,
                           bandRows band: Int? = nil) throws -> PNGImage {
        precondition(x >= 0 && width >= 0 && x + width <= header.width && y >= nextRow && height >= 0 && y + height <= header.height,
                     "readRegion: the rectangle must lie inside the rows left")
        let outLayout = layout ?? header.layout
        let outDepth = depth ?? header.depth
        let pixelBytes = outLayout.channels * outDepth / 8
        var region = PNGImage(width: width, height: 0, layout: outLayout, depth: outDepth, bytes: [])
        region.bytes.reserveCapacity(width * height * pixelBytes)
        while region.height < height, let band = try readBand(rows: min(band ?? bandRows(), y + height - nextRow), layout: outLayout, depth: outDepth) {
            let first = nextRow - band.height
            for r in max(first, y)..<max(y, nextRow) {   // none while the band ends above the rectangle
                let start = ((r - first) * header.width + x) * pixelBytes
                region.bytes.append(contentsOf: band.bytes[start..<(start + width * pixelBytes)])
                region.height += 1
            }
        }
        return region
    }
}

extension PNGError {
    /// The image format a file's first bytes show, for a file that is not a PNG.
    static func sniffFormat(_ file: String) -> String? {
        guard let fp = fopen(file, "rb") else { return nil }
        defer { fclose(fp) }
        var b = [UInt8](repeating: 0, count: 12)
        let n = fread(&b, 1, 12, fp)
        return sniffFormat(Array(b.prefix(n)))
    }

    static func sniffFormat(_ b: [UInt8]) -> String? {
        func starts(_ p: [UInt8], at i: Int = 0) -> Bool { b.count >= i + p.count && Array(b[i..<(i + p.count)]) == p }
        if starts([0xFF, 0xD8, 0xFF]) { return "JPEG" }
        if starts(Array("GIF8".utf8)) { return "GIF" }
        if starts(Array("RIFF".utf8)) && starts(Array("WEBP".utf8), at: 8) { return "WebP" }
        if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A]) { return "TIFF" }
        if starts(Array("BM".utf8)) { return "BMP" }
        if starts(Array("ftyp".utf8), at: 4) { return "HEIF/AVIF" }
        if starts([0xFF, 0x0A]) || starts([0x00, 0x00, 0x00, 0x0C, 0x4A, 0x58, 0x4C, 0x20]) { return "JPEG XL" }
        return nil
    }

    static func from(code: Int32, message: String, file: String, limits: PNGLimits) -> PNGError {
        switch Int(code) {
        case Int(CPNG_E_OPEN): return .unreadable(file: file, reason: message)
        case Int(CPNG_E_EMPTY): return .empty(file: file)
        case Int(CPNG_E_NOT_PNG): return sniffFormat(file).map { .otherFormat(file: file, format: $0) } ?? .notPNG(file: file)
        case Int(CPNG_E_TRUNCATED): return .truncated(file: file, reason: message)
        case Int(CPNG_E_CRC): return .crcMismatch(file: file, reason: message)
        case Int(CPNG_E_HEADER): return .badHeader(file: file, reason: message)
        case Int(CPNG_E_BUDGET):
            var (w, h) = parseSize(message)
            if w == 0 { (w, h) = headerSize(file) }
            return .overPixelBudget(file: file, width: w, height: h, limit: limits.maxPixels)
        case Int(CPNG_E_TOO_LARGE): return .tooLarge(file: file, reason: message)
        case Int(CPNG_E_WRITE): return .writeFailed(file: file, reason: message)
        case Int(CPNG_E_ARGUMENT): return .invalidArgument(file: file, reason: message)
        default: return .corrupt(file: file, reason: message)
        }
    }

    /// Width and height straight from the IHDR bytes (when libpng stopped on one side alone).
    private static func headerSize(_ file: String) -> (Int, Int) {
        guard let fp = fopen(file, "rb") else { return (0, 0) }
        defer { fclose(fp) }
        var b = [UInt8](repeating: 0, count: 24)
        guard fread(&b, 1, 24, fp) == 24 else { return (0, 0) }
        func be(_ o: Int) -> Int { b[o..<o + 4].reduce(0) { $0 << 8 | Int($1) } }
        return (be(16), be(20))
    }

    /// "WxH is ..." → (W, H); (0, 0) when libpng rejected one side alone before we saw both.
    private static func parseSize(_ message: String) -> (Int, Int) {
        let head = message.prefix { $0 != " " }
        let parts = head.split(separator: "x")
        if parts.count == 2, let w = Int(parts[0]), let h = Int(parts[1]) { return (w, h) }
        return (0, 0)
    }
}

extension PNGReader {
    /// What `latent info` says of a file, read to its end without decoding pixels (`finish`
    /// checks the image data and reads the chunks after it): a text block, or one JSON object.
    public static func describe(path: String, limits: PNGLimits, json: Bool) throws -> String {
        let r = try PNGReader(path: path, limits: limits)
        let texts = try r.finish()
        let h = r.header
        if json {
            let t = texts.map { "\(jsonQuote($0.key)):\(jsonQuote($0.text))" }.joined(separator: ",")
            let m = r.metadata.lines.map(jsonQuote).joined(separator: ",")
            return "{\"file\":\(jsonQuote(path)),\"width\":\(h.width),\"height\":\(h.height),"
                + "\"color_type\":\"\(h.colorType)\",\"bit_depth\":\(h.bitDepth),"
                + "\"interlaced\":\(h.interlaced),\"transparency\":\(h.hasTransparency),\"chunks\":[\(m)],\"text\":{\(t)}}"
        }
        let first = "\(path): \(h.width)x\(h.height) \(h.colorType) \(h.bitDepth)-bit" + (h.interlaced ? " interlaced" : "") + (h.hasTransparency ? " tRNS" : "")
        return ([first] + r.metadata.lines.map { "  \($0)" } + texts.map { "  \($0.key): \($0.text)" } + r.warnings.map { "  warning: \($0)" })
            .joined(separator: "\n")
    }
}
