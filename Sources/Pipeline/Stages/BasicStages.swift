import Imaging
import PNGIO

/// `gray`: colour → grey (Rec. 709 luma of the stored values); alpha kept.
public struct GrayStage: FrameStage {
    public static let descriptor = StageDescriptor(
        name: "gray", aliases: ["grey"], summary: "convert to grey (Rec. 709 luma); alpha is kept",
        shape: "size kept; 1 colour plane") { _, _ in GrayStage() }
    public var spec: String { "gray" }
    public init() {}

    public func apply(_ f: Frame) throws -> Frame {
        guard f.layout.isColor else { return f }
        let n = f.image.planeSize
        var out = FloatImage(width: f.width, height: f.height, channels: f.layout.hasAlpha ? 2 : 1)
        for p in 0..<n {
            out.data[p] = 0.2126 * f.image.data[p] + 0.7152 * f.image.data[n + p] + 0.0722 * f.image.data[2 * n + p]
        }
        if f.layout.hasAlpha { for p in 0..<n { out.data[n + p] = f.image.data[3 * n + p] } }
        var r = f
        r.image = out
        r.layout = f.layout.hasAlpha ? .grayAlpha : .gray
        return r
    }

    public func shape(after s: ChainShape) -> ChainShape { ChainShape(width: s.width, height: s.height, colorPlanes: 1) }
}

/// `rgb`: grey → RGB (replicated); alpha kept.
public struct RGBStage: FrameStage {
    public static let descriptor = StageDescriptor(
        name: "rgb", summary: "convert to RGB (grey is replicated); alpha is kept",
        shape: "size kept; 3 colour planes") { _, _ in RGBStage() }
    public var spec: String { "rgb" }
    public init() {}

    public func apply(_ f: Frame) throws -> Frame {
        guard !f.layout.isColor else { return f }
        let n = f.image.planeSize
        var out = FloatImage(width: f.width, height: f.height, channels: f.layout.hasAlpha ? 4 : 3)
        for c in 0..<3 { for p in 0..<n { out.data[c * n + p] = f.image.data[p] } }
        if f.layout.hasAlpha { for p in 0..<n { out.data[3 * n + p] = f.image.data[n + p] } }
        var r = f
        r.image = out
        r.layout = f.layout.hasAlpha ? .rgba : .rgb
        return r
    }

    public func shape(after s: ChainShape) -> ChainShape { ChainShape(width: s.width, height: s.height, colorPlanes: 3) }
}

/// `resize WxH`: area averaging when shrinking, bilinear when enlarging, premultiplied alpha.
public struct ResizeStage: FrameStage {
    public static let descriptor = StageDescriptor(
        name: "resize", summary: "resize to exactly WxH (area average when shrinking, bilinear when enlarging)",
        parameters: [.positional("WxH", .size, "the new size")],
        shape: "size WxH; colour planes kept") { a, _ in try ResizeStage(a) }
    public let width: Int
    public let height: Int
    public var spec: String { "resize \(width)x\(height)" }

    public init(width: Int, height: Int) throws {
        guard width > 0, height > 0, width <= 1 << 16, height <= 1 << 16 else {
            throw PipelineError.badParameter(stage: "resize", reason: "size must be 1-65536 on each side")
        }
        self.width = width
        self.height = height
    }

    init(_ a: StageArguments) throws {
        guard a.positional.count == 1, let (w, h) = StageArguments.size(a.positional[0]) else { throw a.fail("wants WxH, e.g. resize 28x28") }
        try self.init(width: w, height: h)
    }

    public func apply(_ f: Frame) throws -> Frame {
        var r = f
        r.image = Resampler.resize(f.image, width: width, height: height, alphaChannel: f.layout.hasAlpha ? f.layout.channels - 1 : nil)
        return r
    }

    public func shape(after s: ChainShape) -> ChainShape { ChainShape(width: width, height: height, colorPlanes: s.colorPlanes) }
}

/// `fit N`: longest side N, aspect kept.
public struct FitStage: FrameStage {
    public static let descriptor = StageDescriptor(
        name: "fit", summary: "resize so the longest side is N, keeping the aspect ratio",
        parameters: [.positional("N", .integer(1...65536), "the longest side after")],
        shape: "size depends on each image; colour planes kept") { a, _ in try FitStage(a) }
    public let longest: Int
    public var spec: String { "fit \(longest)" }

    public init(longest: Int) throws {
        guard longest > 0, longest <= 1 << 16 else { throw PipelineError.badParameter(stage: "fit", reason: "N must be 1-65536") }
        self.longest = longest
    }

    init(_ a: StageArguments) throws {
        guard a.positional.count == 1, let n = Int(a.positional[0]) else { throw a.fail("wants N, e.g. fit 256") }
        try self.init(longest: n)
    }

    public func apply(_ f: Frame) throws -> Frame {
        let s = Resampler.fitSize(width: f.width, height: f.height, longest: longest)
        var r = f
        r.image = Resampler.resize(f.image, width: s.width, height: s.height, alphaChannel: f.layout.hasAlpha ? f.layout.channels - 1 : nil)
        return r
    }

    public func shape(after s: ChainShape) -> ChainShape { ChainShape(width: nil, height: nil, colorPlanes: s.colorPlanes) }
}

/// `crop WxH[+X+Y]`: a WxH window at (X, Y), or centred.
public struct CropStage: FrameStage {
    public static let descriptor = StageDescriptor(
        name: "crop", summary: "cut out a WxH window at X,Y (centred when no offset is given)",
        parameters: [.positional("WxH[+X+Y]", .window, "the window")],
        shape: "size WxH (an image smaller than the window fails); colour planes kept") { a, _ in try CropStage(a) }
    public let width: Int
    public let height: Int
    public let origin: (x: Int, y: Int)?
    public var spec: String { "crop \(width)x\(height)" + (origin.map { "+\($0.x)+\($0.y)" } ?? "") }

    public init(width: Int, height: Int, origin: (x: Int, y: Int)? = nil) throws {
        guard width > 0, height > 0 else { throw PipelineError.badParameter(stage: "crop", reason: "size must be positive") }
        if let o = origin, o.x < 0 || o.y < 0 { throw PipelineError.badParameter(stage: "crop", reason: "offset must not be negative") }
        self.width = width
        self.height = height
        self.origin = origin
    }

    init(_ a: StageArguments) throws {
        guard a.positional.count == 1 else { throw a.fail("wants WxH or WxH+X+Y") }
        let parts = a.positional[0].split(separator: "+")
        guard (parts.count == 1 || parts.count == 3), let (w, h) = StageArguments.size(String(parts[0])) else { throw a.fail("wants WxH or WxH+X+Y") }
        if parts.count == 3 {
            guard let x = Int(parts[1]), let y = Int(parts[2]) else { throw a.fail("offset must be +X+Y") }
            try self.init(width: w, height: h, origin: (x, y))
        } else {
            try self.init(width: w, height: h)
        }
    }

    public func apply(_ f: Frame) throws -> Frame {
        let x0 = origin?.x ?? max(0, (f.width - width) / 2), y0 = origin?.y ?? max(0, (f.height - height) / 2)
        guard x0 + width <= f.width, y0 + height <= f.height else {
            throw PipelineError.frame(file: f.item.path, reason: "\(spec) does not fit in a \(f.width)x\(f.height) image")
        }
        var out = FloatImage(width: width, height: height, channels: f.image.channels)
        for c in 0..<f.image.channels {
            for y in 0..<height {
                for x in 0..<width { out[x: x, y: y, c: c] = f.image[x: x0 + x, y: y0 + y, c: c] }
            }
        }
        var r = f
        r.image = out
        return r
    }

    public func shape(after s: ChainShape) -> ChainShape { ChainShape(width: width, height: height, colorPlanes: s.colorPlanes) }
}

/// `pad WxH [value=V]`: centre the image on a WxH canvas (no smaller than the image).
public struct PadStage: FrameStage {
    public static let descriptor = StageDescriptor(
        name: "pad", summary: "centre the image on a WxH canvas of a constant value (alpha 0 outside)",
        parameters: [.positional("WxH", .size, "the canvas, no smaller than the image"),
                     .named("value", .number(0...1), default: "0", "the canvas's value")],
        shape: "size WxH (a larger image fails); colour planes kept") { a, _ in try PadStage(a) }
    public let width: Int
    public let height: Int
    public let value: Float
    public var spec: String { "pad \(width)x\(height)" + (value != 0 ? " value=\(value)" : "") }

    public init(width: Int, height: Int, value: Float = 0) throws {
        guard width > 0, height > 0, width <= 1 << 16, height <= 1 << 16 else { throw PipelineError.badParameter(stage: "pad", reason: "size must be 1-65536") }
        guard (0...1).contains(value) else { throw PipelineError.badParameter(stage: "pad", reason: "value must be in 0...1") }
        self.width = width
        self.height = height
        self.value = value
    }

    init(_ a: StageArguments) throws {
        guard a.positional.count == 1, let (w, h) = StageArguments.size(a.positional[0]) else { throw a.fail("wants WxH") }
        guard let v = Float(a.named["value"] ?? "0") else { throw a.fail("value must be a number") }
        try self.init(width: w, height: h, value: v)
    }

    public func shape(after s: ChainShape) throws -> ChainShape {
        if let w = s.width, let h = s.height, w > width || h > height {
            throw PipelineError.geometry("'\(spec)': the chain gives it \(w)x\(h) images, larger than the canvas; use fit or crop first")
        }
        return ChainShape(width: width, height: height, colorPlanes: s.colorPlanes)
    }

    public func apply(_ f: Frame) throws -> Frame {
        guard f.width <= width && f.height <= height else {
            throw PipelineError.frame(file: f.item.path, reason: "\(f.width)x\(f.height) is larger than the canvas of '\(spec)'; use fit or crop first")
        }
        let w = width, h = height
        let x0 = (w - f.width) / 2, y0 = (h - f.height) / 2
        var out = FloatImage(width: w, height: h, channels: f.image.channels, value: value)
        if f.layout.hasAlpha {
            let a = f.image.channels - 1
            for i in 0..<(w * h) { out.data[a * w * h + i] = 0 }
        }
        for c in 0..<f.image.channels {
            for y in 0..<f.height { for x in 0..<f.width { out[x: x0 + x, y: y0 + y, c: c] = f.image[x: x, y: y, c: c] } }
        }
        var r = f
        r.image = out
        return r
    }
}
