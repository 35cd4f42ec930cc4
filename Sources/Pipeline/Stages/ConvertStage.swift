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

/// `latent convert` as a stage: one PNG into another (channel layout, bit depth, size), streamed
/// file to file in row bands when no resizing is asked for, so memory does not grow with the
/// image. It runs only as a chain's one stage (`PipelineRunner` streams files through it).
public struct ConvertStage: StreamingStage {
    /// Target channel layout; nil keeps the source's (palette → RGB(A), tRNS → alpha).
    public var layout: LayoutChoice
    /// Target bits per sample (8 or 16); nil keeps the source's (1/2/4-bit become 8).
    public var depth: Int?
    public var resize: ResizeSpec
    /// Bytes of decoded rows per band when streaming (the rows per band follow from the width).
    public var bandBytes: Int = 4 << 20

    public enum LayoutChoice: String, Sendable, Equatable {
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

    public init(layout: LayoutChoice = .keep, depth: Int? = nil, resize: ResizeSpec = .none) {
        self.layout = layout
        self.depth = depth
        self.resize = resize
    }

    public var spec: String {
        var words = ["convert"]
        if layout != .keep { words.append(layout.rawValue) }
        if let depth { words.append("depth=\(depth)") }
        switch resize {
        case .none: break
        case .exact(let w, let h): words.append("resize=\(w)x\(h)")
        case .fit(let n): words.append("fit=\(n)")
        }
        return words.joined(separator: " ")
    }

    public func shape(after s: ChainShape) -> ChainShape {
        var out = s
        switch layout {
        case .keep: break
        case .gray: out.colorPlanes = 1
        case .rgb, .rgba: out.colorPlanes = 3
        }
        switch resize {
        case .none: break
        case .exact(let w, let h): (out.width, out.height) = (w, h)
        case .fit: (out.width, out.height) = (nil, nil)
        }
        return out
    }

    public func streamFile(input: String, output: String, limits: PNGLimits, compression: Int?,
                           texts: [(key: String, text: String)], keepMetadata: Bool, tileJobs: Int,
                           progress: @escaping @Sendable (Double) -> Void) throws -> StreamedFile {
        try run(input: input, output: output, limits: limits, compression: compression, texts: texts, keepMetadata: keepMetadata)
        return StreamedFile()
    }

    /// Converts `input` to `output` (written atomically, with `texts`, and the input's colour,
    /// physical and text chunks if `keepMetadata`). Throws `PNGError` naming the file at fault.
    public func run(input: String, output: String, limits: PNGLimits = .default, compression: Int? = nil,
                    texts: [(key: String, text: String)] = [], keepMetadata: Bool = true) throws {
        let reader = try PNGReader(path: input, limits: limits)
        let h = reader.header
        let outLayout = layout.resolve(h.layout)
        let outDepth = depth ?? h.depth
        let (ow, oh) = resize.size(width: h.width, height: h.height)
        let kept = keepMetadata ? KeptChunks(reader) : .none
        var format = PNGFileFormat(layout: outLayout, depth: outDepth, compression: compression, texts: kept.texts + texts)
        format.metadata = kept.metadata(for: outLayout)
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
    }
}
