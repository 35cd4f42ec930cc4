import FileIO

extension AtomicOutput {
    /// Writes `image` to `path` atomically.
    public static func writePNG(_ image: PNGImage, to path: String, compression: Int? = nil,
                                texts: [(key: String, text: String)] = [], metadata: PNGMetadata = .none) throws {
        try write(to: path) { tmp in
            do {
                try PNGWriter.write(image, to: tmp, compression: compression, texts: texts, metadata: metadata)
            } catch let e as PNGError {
                throw e.renamed(to: path)
            }
        }
    }
}

extension PNGError {
    /// The same error naming `file` instead (a temporary file's error reported on its target).
    public func renamed(to file: String) -> PNGError {
        switch self {
        case .unreadable(_, let r): return .unreadable(file: file, reason: r)
        case .empty: return .empty(file: file)
        case .notPNG: return .notPNG(file: file)
        case .otherFormat(_, let f): return .otherFormat(file: file, format: f)
        case .truncated(_, let r): return .truncated(file: file, reason: r)
        case .crcMismatch(_, let r): return .crcMismatch(file: file, reason: r)
        case .badHeader(_, let r): return .badHeader(file: file, reason: r)
        case .overPixelBudget(_, let w, let h, let l): return .overPixelBudget(file: file, width: w, height: h, limit: l)
        case .tooLarge(_, let r): return .tooLarge(file: file, reason: r)
        case .corrupt(_, let r): return .corrupt(file: file, reason: r)
        case .writeFailed(_, let r): return .writeFailed(file: file, reason: r)
        case .invalidArgument(_, let r): return .invalidArgument(file: file, reason: r)
        }
    }
}
