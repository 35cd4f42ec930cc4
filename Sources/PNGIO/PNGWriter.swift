import CPNG
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
import FileIO
#endif

/// How a PNG is stored: colour type, bit depth, palette, interlacing, compression and text chunks.
public struct PNGFileFormat: Sendable {
    public var colorType: PNGColorType
    /// 1, 2, 4, 8 or 16, as the colour type allows.
    public var bitDepth: Int
    /// Palette entries (colour type `.palette` only).
    public var palette: [(r: UInt8, g: UInt8, b: UInt8)]
    /// Alpha per palette entry (tRNS); may be shorter than the palette.
    public var paletteAlpha: [UInt8]
    public var interlaced: Bool
    /// zlib level 0...9; nil for the default (3: fast, and writing is rarely the bottleneck).
    public var compression: Int?
    /// tEXt chunks (keyword of 1-79 Latin-1 characters, text).
    public var texts: [(key: String, text: String)]
    /// Colour-management and physical-size chunks written before the image data.
    public var metadata: PNGMetadata = .none

    public init(colorType: PNGColorType, bitDepth: Int, palette: [(r: UInt8, g: UInt8, b: UInt8)] = [],
                paletteAlpha: [UInt8] = [], interlaced: Bool = false, compression: Int? = nil,
                texts: [(key: String, text: String)] = []) {
        self.colorType = colorType
        self.bitDepth = bitDepth
        self.palette = palette
        self.paletteAlpha = paletteAlpha
        self.interlaced = interlaced
        self.compression = compression
        self.texts = texts
    }

    /// The format that stores `layout` at `depth` (8 or 16) directly.
    public init(layout: PixelLayout, depth: Int, interlaced: Bool = false, compression: Int? = nil,
                texts: [(key: String, text: String)] = []) {
        self.init(colorType: PNGColorType(rawValue: layout.pngColorType)!, bitDepth: depth,
                  interlaced: interlaced, compression: compression, texts: texts)
    }
}

/// Streaming PNG encoder. Rows go in as bands, top to bottom; an interlaced image must be
/// written in one band. Nothing is left open on error: the caller deletes the partial file (use
/// `AtomicOutput` to get that for free).
public final class PNGWriter {
    public let path: String
    public let width: Int
    public let height: Int
    public let format: PNGFileFormat
    private var handle: OpaquePointer?
    private let rowBytes: Int
    public private(set) var rowsWritten = 0

    public init(path: String, width: Int, height: Int, format: PNGFileFormat) throws {
        self.path = path
        self.width = width
        self.height = height
        self.format = format
        guard width > 0, height > 0, width <= Int(Int32.max), height <= Int(Int32.max) else {
            throw PNGError.invalidArgument(file: path, reason: "cannot write a \(width)x\(height) image")
        }
        for (k, _) in format.texts where k.isEmpty || k.utf8.count > 79 {
            throw PNGError.invalidArgument(file: path, reason: "text keyword '\(k)' must have 1-79 bytes")
        }
        let palette = format.palette.flatMap { [$0.r, $0.g, $0.b] }
        var msg = [CChar](repeating: 0, count: 512)
        var writer: OpaquePointer?
        let code: Int32 = palette.withUnsafeBufferPointer { pal in
            format.paletteAlpha.withUnsafeBufferPointer { trns in
                format.metadata.withCColor { color in
                    var spec = cpng_write_spec(
                        width: UInt32(width), height: UInt32(height), color_type: format.colorType.rawValue,
                        bit_depth: UInt8(clamping: format.bitDepth), interlaced: format.interlaced ? 1 : 0,
                        compression: Int8(clamping: format.compression ?? -1),
                        palette: pal.baseAddress, palette_count: UInt32(format.palette.count),
                        trns: trns.baseAddress, trns_count: UInt32(format.paletteAlpha.count), color: color)
                    return withCStrings(format.texts.map(\.key)) { keys in
                        withCStrings(format.texts.map(\.text)) { texts in
                            cpng_writer_open(path, &spec, keys, texts, Int32(format.texts.count), &writer,
                                             &msg, msg.count)
                        }
                    }
                }
            }
        }
        guard code == CPNG_OK, let writer else {
            throw PNGError.from(code: code, message: cMessage(msg), file: path, limits: .default)
        }
        handle = writer
        var spec = cpng_write_spec()
        spec.width = UInt32(width)
        spec.color_type = format.colorType.rawValue
        spec.bit_depth = UInt8(format.bitDepth)
        rowBytes = Int(cpng_writer_row_bytes(&spec))
    }

    deinit { cpng_writer_close(handle) }

    /// Writes rows given in the writer's raw convention: as the reader delivers them for 8- and
    /// 16-bit formats (16-bit in host order); one byte per sample holding the level for 1/2/4-bit
    /// grey; one index byte per pixel for palette images.
    public func writeRaw(_ bytes: [UInt8], rows: Int) throws {
        guard let handle else { throw PNGError.invalidArgument(file: path, reason: "writer closed") }
        guard rows >= 0, bytes.count >= rows * rowBytes else {
            throw PNGError.invalidArgument(file: path, reason: "band holds fewer bytes than \(rows) rows")
        }
        var msg = [CChar](repeating: 0, count: 512)
        let code = bytes.withUnsafeBufferPointer {
            cpng_writer_write_rows(handle, $0.baseAddress, UInt32(rows), rowBytes, &msg, msg.count)
        }
        guard code == CPNG_OK else {
            throw PNGError.from(code: code, message: cMessage(msg), file: path, limits: .default)
        }
        rowsWritten += rows
    }

    /// Writes a band of rows, converting it to the file's layout and depth (8/16-bit grey,
    /// grey+alpha, RGB or RGBA formats).
    public func write(_ band: PNGImage) throws {
        guard band.width == width else {
            throw PNGError.invalidArgument(file: path, reason: "band width \(band.width) is not \(width)")
        }
        guard format.colorType != .palette, format.bitDepth >= 8,
              let layout = PixelLayout(pngColorType: format.colorType) else {
            throw PNGError.invalidArgument(file: path, reason: "write(_:) needs an 8- or 16-bit non-palette format")
        }
        let b = band.converted(to: layout, depth: format.bitDepth)
        try writeRaw(b.bytes, rows: b.height)
    }

    /// Writes the end of the file and closes it.
    public func finish() throws {
        guard let handle else { throw PNGError.invalidArgument(file: path, reason: "writer closed") }
        var msg = [CChar](repeating: 0, count: 512)
        let code = cpng_writer_finish(handle, &msg, msg.count)
        cpng_writer_close(handle)
        self.handle = nil
        guard code == CPNG_OK else {
            throw PNGError.from(code: code, message: cMessage(msg), file: path, limits: .default)
        }
    }

    /// Writes a whole image to `path` (not atomically; see `AtomicOutput`).
    public static func write(_ image: PNGImage, to path: String, compression: Int? = nil,
                             interlaced: Bool = false, texts: [(key: String, text: String)] = [], metadata: PNGMetadata = .none) throws {
        var format = PNGFileFormat(layout: image.layout, depth: image.depth, interlaced: interlaced,
                                   compression: compression, texts: texts)
        format.metadata = metadata
        let w = try PNGWriter(path: path, width: image.width, height: image.height, format: format)
        try w.write(image)
        try w.finish()
    }
}

extension PixelLayout {
    init?(pngColorType: PNGColorType) {
        switch pngColorType {
        case .gray: self = .gray
        case .grayAlpha: self = .grayAlpha
        case .rgb: self = .rgb
        case .rgba: self = .rgba
        case .palette: return nil
        }
    }
}

/// Calls `body` with a C array of C strings that live for the call.
func withCStrings<R>(_ strings: [String], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
    var owned: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    defer { owned.forEach { free($0) } }
    owned.append(nil)
    return body(owned.map { UnsafePointer($0) })
}
