/// Every way reading or writing a PNG can fail. Each case carries the file and the reason, so a
/// message can name both; tests assert the exact case for each kind of bad input.
public enum PNGError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file could not be opened or read (missing, permission, I/O error).
    case unreadable(file: String, reason: String)
    /// The file has zero bytes.
    case empty(file: String)
    /// The file does not start with the PNG signature.
    case notPNG(file: String)
    /// The file is an image of another format (JPEG, GIF, ...), whatever its name says.
    case otherFormat(file: String, format: String)
    /// The file ends before the PNG does.
    case truncated(file: String, reason: String)
    /// A critical chunk's checksum does not match its contents.
    case crcMismatch(file: String, reason: String)
    /// The IHDR header is invalid (zero or out-of-range size, bad bit depth or colour type).
    case badHeader(file: String, reason: String)
    /// width x height is over the pixel budget (`--max-pixels`).
    case overPixelBudget(file: String, width: Int, height: Int, limit: Int)
    /// A chunk, or what libpng would have to allocate for it, is over the memory limits.
    case tooLarge(file: String, reason: String)
    /// Any other decoding error: bad deflate stream, chunks out of order, missing PLTE, ...
    case corrupt(file: String, reason: String)
    /// The output could not be written.
    case writeFailed(file: String, reason: String)
    /// The caller asked for something impossible (e.g. 3 bits per sample).
    case invalidArgument(file: String, reason: String)

    public var file: String {
        switch self {
        case .unreadable(let f, _), .empty(let f), .notPNG(let f), .otherFormat(let f, _), .truncated(let f, _),
            .crcMismatch(let f, _), .badHeader(let f, _), .overPixelBudget(let f, _, _, _),
            .tooLarge(let f, _), .corrupt(let f, _), .writeFailed(let f, _),
            .invalidArgument(let f, _):
            return f
        }
    }

    /// The reason alone, without the file name.
    public var reason: String {
        switch self {
        case .unreadable(_, let r): return "cannot read: \(r)"
        case .empty: return "empty file"
        case .notPNG: return "not a PNG file (no PNG signature)"
        case .otherFormat(_, let f): return "is a \(f) file, not a PNG"
        case .truncated(_, let r): return "truncated: \(r)"
        case .crcMismatch(_, let r): return "checksum error: \(r)"
        case .badHeader(_, let r): return "invalid header: \(r)"
        case .overPixelBudget(_, let w, let h, let limit):
            return "\(w)x\(h) is over the pixel budget of \(limit) pixels"
        case .tooLarge(_, let r): return "over the memory limits: \(r)"
        case .corrupt(_, let r): return "corrupt: \(r)"
        case .writeFailed(_, let r): return "cannot write: \(r)"
        case .invalidArgument(_, let r): return "invalid argument: \(r)"
        }
    }

    public var description: String { "\(file): \(reason)" }
}

/// The NUL-terminated message in a C buffer.
func cMessage(_ buffer: [CChar]) -> String {
    let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return String(decoding: bytes, as: UTF8.self)
}
