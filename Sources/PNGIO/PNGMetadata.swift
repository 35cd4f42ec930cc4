import CPNG

/// A PNG's colour-management and physical-size chunks (sRGB, gAMA, cHRM, iCCP, pHYs). `latent`
/// keeps them from input to output by default, as ImageMagick keeps a profile unless `-strip`:
/// a photo's colour profile survives `convert` and `denoise`.
public struct PNGMetadata: Sendable, Equatable {
    /// An embedded ICC profile (iCCP): its name and the uncompressed profile.
    public struct ICCProfile: Sendable, Equatable {
        public var name: String
        public var data: [UInt8]
        public init(name: String, data: [UInt8]) {
            self.name = name
            self.data = data
        }
    }

    /// Pixels per unit (pHYs): per metre, or an aspect ratio only.
    public struct Physical: Sendable, Equatable {
        public var x: UInt32, y: UInt32
        public var perMetre: Bool
        public init(x: UInt32, y: UInt32, perMetre: Bool) {
            (self.x, self.y, self.perMetre) = (x, y, perMetre)
        }
    }

    /// sRGB rendering intent (0 perceptual, 1 relative colorimetric, 2 saturation, 3 absolute).
    public var srgbIntent: Int?
    /// gAMA: the file's gamma x 100000 (45455 for 1/2.2).
    public var gamma: UInt32?
    /// cHRM x 100000: white x, y; red x, y; green x, y; blue x, y.
    public var chromaticities: [Int32]?
    public var iccProfile: ICCProfile?
    public var physical: Physical?

    public init(srgbIntent: Int? = nil, gamma: UInt32? = nil, chromaticities: [Int32]? = nil, iccProfile: ICCProfile? = nil,
                physical: Physical? = nil) {
        self.srgbIntent = srgbIntent
        self.gamma = gamma
        self.chromaticities = chromaticities
        self.iccProfile = iccProfile
        self.physical = physical
    }

    public static let none = PNGMetadata()
    public var isEmpty: Bool { self == .none }

    /// One line per chunk, for `latent info`.
    public var lines: [String] {
        var out: [String] = []
        if let i = iccProfile { out.append("iCCP: ICC profile '\(i.name)', \(i.data.count) bytes") }
        if let s = srgbIntent {
            let names = ["perceptual", "relative colorimetric", "saturation", "absolute colorimetric"]
            out.append("sRGB: rendering intent \(s < names.count ? names[s] : String(s))")
        }
        if let g = gamma { out.append("gAMA: \(Double(g) / 100000)" + (g == 45455 ? " (1/2.2)" : "")) }
        if let c = chromaticities, c.count == 8 {
            let v = c.map { String(Double($0) / 100000) }
            out.append("cHRM: white \(v[0]),\(v[1]) red \(v[2]),\(v[3]) green \(v[4]),\(v[5]) blue \(v[6]),\(v[7])")
        }
        if let p = physical {
            out.append(p.perMetre ? "pHYs: \(p.x)x\(p.y) pixels per metre (\(Int((Double(p.x) * 0.0254).rounded())) dpi)"
                                  : "pHYs: aspect ratio \(p.x):\(p.y)")
        }
        return out
    }

    init(_ c: cpng_color) {
        self.init()
        if c.has_srgb != 0 { srgbIntent = Int(c.srgb_intent) }
        if c.has_gama != 0 { gamma = c.gama }
        if c.has_chrm != 0 { chromaticities = withUnsafeBytes(of: c.chrm) { Array($0.bindMemory(to: Int32.self)) } }
        if c.has_phys != 0 { physical = Physical(x: c.phys_x, y: c.phys_y, perMetre: c.phys_unit == 1) }
        if let name = c.iccp_name, let data = c.iccp, c.iccp_len > 0 {
            iccProfile = ICCProfile(name: String(cString: name), data: Array(UnsafeBufferPointer(start: data, count: Int(c.iccp_len))))
        }
    }

    /// The C description, valid inside `body` (it points into this value's profile bytes).
    func withCColor<R>(_ body: (UnsafePointer<cpng_color>?) throws -> R) rethrows -> R {
        if isEmpty { return try body(nil) }
        var c = cpng_color()
        if let s = srgbIntent { c.has_srgb = 1; c.srgb_intent = UInt8(clamping: s) }
        if let g = gamma { c.has_gama = 1; c.gama = g }
        if let ch = chromaticities, ch.count == 8 {
            c.has_chrm = 1
            withUnsafeMutableBytes(of: &c.chrm) { raw in for (i, v) in ch.enumerated() { raw.storeBytes(of: v, toByteOffset: 4 * i, as: Int32.self) } }
        }
        if let p = physical { c.has_phys = 1; c.phys_x = p.x; c.phys_y = p.y; c.phys_unit = p.perMetre ? 1 : 0 }
        guard let icc = iccProfile, !icc.data.isEmpty else { return try withUnsafePointer(to: &c) { try body($0) } }
        return try icc.name.withCString { name in
            try icc.data.withUnsafeBufferPointer { data in
                c.iccp_name = name
                c.iccp = data.baseAddress
                c.iccp_len = UInt32(data.count)
                return try withUnsafePointer(to: &c) { try body($0) }
            }
        }
    }
}

/// What an output keeps of its input's ancillary chunks (unless `--strip`): the colour and
/// physical chunks, and the input's text chunks except latent's own provenance (`latent:*`,
/// written afresh).
public struct KeptChunks: Sendable {
    public var metadata: PNGMetadata
    public var texts: [(key: String, text: String)]
    /// Whether the input had colour (an ICC profile describes RGB or grey data, not both).
    public var inputIsColour: Bool

    public static let none = KeptChunks(metadata: .none, texts: [], inputIsColour: false)

    public init(metadata: PNGMetadata, texts: [(key: String, text: String)], inputIsColour: Bool) {
        self.metadata = metadata
        self.texts = texts
        self.inputIsColour = inputIsColour
    }

    /// The chunks of an open reader (its texts before the image data).
    public init(_ reader: PNGReader) {
        self.init(metadata: reader.metadata, texts: reader.texts.filter { !$0.key.hasPrefix("latent:") },
                  inputIsColour: reader.header.layout.colorChannels == 3)
    }

    /// The colour and physical chunks for an output of `layout`: an ICC profile is dropped when
    /// the output's colour model differs from the input's (an RGB profile cannot describe grey).
    public func metadata(for layout: PixelLayout) -> PNGMetadata {
        var m = metadata
        if (layout.colorChannels == 3) != inputIsColour { m.iccProfile = nil }
        return m
    }
}
