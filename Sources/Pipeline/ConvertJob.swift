import Foundation
import Imaging
import PNGIO
import FileIO

/// How to resize during conversion.
public enum ResizeSpec: Sendable, Equatable {
    case none
    /// Exactly width x height.
    case exact(width: Int, height: Int)
    /// Longest side N, keeping the aspect ratio.
    case fit(longest: Int)

    func size(width: Int, height: Int) -> (Int, Int) {
        switch self {
        case .none: return (width, height)
        case .exact(let w, let h): return (w, h)
        case .fit(let n): let s = Resampler.fitSize(width: width, height: height, longest: n); return (s.width, s.height)
        }
    }
}

/// Converts one PNG into another: channel layout, bit depth, size. Streams the image in row
/// bands when no resizing is asked for, so memory does not grow with the image.
public struct ConvertJob: Sendable {
    /// Target channel layout; nil keeps the source's (palette → RGB(A), tRNS → alpha).
    public var layout: LayoutChoice
    /// Target bits per sample (8 or 16); nil keeps the source's (1/2/4-bit become 8).
    public var depth: Int?
    public var resize: ResizeSpec
    public var compression: Int?
    public var overwrite: Bool
    public var limits: PNGLimits
    /// Bytes of decoded rows per band when streaming (the rows per band follow from the width).
    public var bandBytes: Int = 4 << 20

    public enum LayoutChoice: Sendable, Equatable {
        case keep, gray, rgb, rgba

        func resolve(_ source: PixelLayout) -> PixelLayout {
            switch self {
            case .keep: return source
            case .gray: return .gray
            case .rgb: return .rgb
            case .rgba: return .rgba
            }
        }
    }

    public init(layout: LayoutChoice = .keep, depth: Int? = nil, resize: ResizeSpec = .none,
                compression: Int? = nil, overwrite: Bool = false, limits: PNGLimits = .default) {
        self.layout = layout
        self.depth = depth
        self.resize = resize
        self.compression = compression
        self.overwrite = overwrite
        self.limits = limits
    }

    /// Converts `input` to `output` (written atomically). Returns `.skipped` if `output` exists
    /// and `overwrite` is off. Throws `PNGError` naming the file at fault.
    public func run(input: String, output: String) throws -> ItemOutcome {
        if !overwrite && FileManager.default.fileExists(atPath: output) { return .skipped }
        let reader = try PNGReader(path: input, limits: limits)
        let h = reader.header
        let outLayout = layout.resolve(h.layout)
        let outDepth = depth ?? h.depth
        let (ow, oh) = resize.size(width: h.width, height: h.height)
        let format = PNGFileFormat(layout: outLayout, depth: outDepth, compression: compression)
        try AtomicOutput.write(to: output) { tmp in
            do {
                let writer = try PNGWriter(path: tmp, width: ow, height: oh, format: format)
                if ow == h.width && oh == h.height {
                    while let band = try reader.readBand(rows: reader.bandRows(bytes: bandBytes), layout: outLayout, depth: outDepth) {
                        try writer.write(band)
                    }
                    try reader.finish()
                } else {
                    // Resample at 16 bits when either side is 16-bit, else at the output depth.
                    var whole = PNGImage(width: h.width, height: 0, layout: outLayout, depth: max(outDepth, h.depth), bytes: [])
                    while let band = try reader.readBand(rows: reader.bandRows(bytes: bandBytes), layout: outLayout, depth: whole.depth) {
                        whole.bytes.append(contentsOf: band.bytes)
                        whole.height += band.height
                    }
                    try reader.finish()
                    let resized = Resampler.resize(whole, width: ow, height: oh)
                    try writer.write(resized.converted(to: outLayout, depth: outDepth))
                }
                try writer.finish()
            } catch let e as PNGError where e.file == tmp {
                throw e.renamed(to: output)
            }
        }
        return .done
    }
}
