/// The channel layouts latent works with. Palette and sub-byte images are expanded on reading.
public enum PixelLayout: Int, Sendable, CaseIterable, CustomStringConvertible {
    case gray = 1
    case grayAlpha = 2
    case rgb = 3
    case rgba = 4

    public var channels: Int { rawValue }
    public var hasAlpha: Bool { self == .grayAlpha || self == .rgba }
    public var isColor: Bool { self == .rgb || self == .rgba }
    /// The number of colour channels (without alpha).
    public var colorChannels: Int { isColor ? 3 : 1 }

    public init?(channels: Int) { self.init(rawValue: channels) }

    /// The same layout with alpha added or removed.
    public func withAlpha(_ alpha: Bool) -> PixelLayout {
        switch (isColor, alpha) {
        case (false, false): return .gray
        case (false, true): return .grayAlpha
        case (true, false): return .rgb
        case (true, true): return .rgba
        }
    }

    /// PNG colour type (IHDR) for this layout.
    public var pngColorType: UInt8 {
        switch self {
        case .gray: return 0
        case .grayAlpha: return 4
        case .rgb: return 2
        case .rgba: return 6
        }
    }

    public var description: String {
        switch self {
        case .gray: return "gray"
        case .grayAlpha: return "gray+alpha"
        case .rgb: return "rgb"
        case .rgba: return "rgba"
        }
    }
}

/// PNG colour types as written in IHDR.
public enum PNGColorType: UInt8, Sendable, CustomStringConvertible {
    case gray = 0
    case rgb = 2
    case palette = 3
    case grayAlpha = 4
    case rgba = 6

    public var description: String {
        switch self {
        case .gray: return "gray"
        case .rgb: return "rgb"
        case .palette: return "palette"
        case .grayAlpha: return "gray+alpha"
        case .rgba: return "rgba"
        }
    }
}
