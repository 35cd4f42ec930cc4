import Foundation
import Imaging
import Models
import NN
import Synchronization

/// How images that are not the model's input size are handled.
public enum ModelGeometry: String, Sendable {
    /// Only images of exactly the model's size (others fail with a message that names the options).
    case exact
    /// Model-sized tiles with overlap, blended with smooth weights (no seams).
    case tile
    /// Scale to the model's size, filter, scale back.
    case resizeToModel = "resize-to-model"
}

/// `denoise MODEL [tile|resize-to-model] [overlap=0.5]` and `reconstruct MODEL [...]`:
/// x̂ = decode(encode(x)) through a trained model, batched: every tile of every image of a chunk
/// becomes a row of one matrix, run through the model `batch` rows at a time, and scattered
/// back. A grey model filters each colour plane of an RGB image; alpha is carried through.
public final class ModelStage: BatchStage, @unchecked Sendable {
    public let verb: String
    public let modelName: String
    public let modelHash: String
    public let geometry: ModelGeometry
    public let overlap: Double
    public let batch: Int
    private let model: LatentModel
    private let lock = NSLock()   // a pthread lock: ThreadSanitizer sees it (it does not see Mutex's futex)

    public var config: ModelConfig { model.config }
    public var spec: String {
        "\(verb) \(modelName)" + (geometry != .exact ? " \(geometry.rawValue)" : "") + (geometry == .tile && overlap != 0.5 ? " overlap=\(overlap)" : "")
    }

    /// A stage around a loaded model (`hash`: of its file, for provenance).
    public init(verb: String, model: LatentModel, name: String, hash: String = "in-memory", geometry: ModelGeometry = .exact,
                overlap: Double = 0.5, batch: Int = 256) throws {
        guard verb == "denoise" || verb == "reconstruct" else { throw PipelineError.unknownStage(verb) }
        guard (0..<1).contains(overlap) else { throw PipelineError.badParameter(stage: verb, reason: "overlap must be in [0, 1)") }
        guard batch >= 1 else { throw PipelineError.badParameter(stage: verb, reason: "batch must be at least 1") }
        self.verb = verb
        modelName = name
        modelHash = hash
        self.model = model
        model.setExactInference(true)
        self.geometry = geometry
        self.overlap = overlap
        self.batch = batch
    }

    public func shape(after s: ChainShape) throws -> ChainShape {
        let c = model.config
        if let planes = s.colorPlanes, planes == 1 && c.channels == 3 {
            throw PipelineError.geometry("\(modelName) takes RGB images but the chain gives it grey ones; put 'rgb' before '\(verb)'")
        }
        if geometry == .exact, let w = s.width, let h = s.height, (w, h) != (c.width, c.height) {
            throw PipelineError.geometry("\(modelName) takes \(c.width)x\(c.height) images but the chain gives it \(w)x\(h); add 'resize \(c.width)x\(c.height)', or use 'tile' or 'resize-to-model'")
        }
        return s
    }

    /// One row of the model's input: which frame, which planes, where.
    struct Row {
        var frame: Int
        var unit: Int      // first plane of this unit
        var x: Int, y: Int // tile origin in the (possibly resized) unit image
    }

    public func apply(_ frames: [Frame]) -> [Result<Frame, PipelineError>] {
        lock.withLock { applyLocked(frames) }
    }

    private func applyLocked(_ frames: [Frame]) -> [Result<Frame, PipelineError>] {
        var results = [Result<Frame, PipelineError>?](repeating: nil, count: frames.count)
        // Per frame: the planes the model sees (resized for resize-to-model), and the tile grid.
        var sources = [FloatImage?](repeating: nil, count: frames.count)
        var rows: [Row] = []
        for (i, f) in frames.enumerated() {
            switch source(f) {
            case .failure(let e): results[i] = .failure(e)
            case .success(let color):
                sources[i] = color
                let xs = Self.tileOrigins(length: color.width, tile: model.config.width, overlap: overlap)
                let ys = Self.tileOrigins(length: color.height, tile: model.config.height, overlap: overlap)
                for unit in stride(from: 0, to: f.colorPlanes, by: model.config.channels) {
                    for y in ys { for x in xs { rows.append(Row(frame: i, unit: unit, x: x, y: y)) } }
                }
            }
        }
        let outputs = infer(rows, sources: sources)
        let blended = blend(outputs, rows: rows, sources: sources)
        for (i, f) in frames.enumerated() where results[i] == nil {
            var a = blended[i]!
            if geometry == .resizeToModel { a = Resampler.resize(a, width: f.width, height: f.height) }
            var r = f
            r.image.data.replaceSubrange(0..<(f.colorPlanes * f.image.planeSize), with: a.data)
            results[i] = .success(r)
        }
        return results.map { $0! }
    }

    /// A frame's colour planes as the model sees them (resized for resize-to-model), or why not.
    private func source(_ f: Frame) -> Result<FloatImage, PipelineError> {
        let c = model.config, planes = f.colorPlanes
        if c.channels == 3 && planes == 1 { return .failure(.frame(file: f.item.path, reason: "\(modelName) takes RGB images, this one is grey")) }
        let color = FloatImage(width: f.width, height: f.height, channels: planes, data: Array(f.image.data[0..<(planes * f.image.planeSize)]))
        switch geometry {
        case .exact:
            guard f.width == c.width && f.height == c.height else {
                return .failure(.frame(file: f.item.path, reason: "\(f.width)x\(f.height) does not match \(modelName)'s input \(c.width)x\(c.height) (tile it or resize it to the model: the tile or resize-to-model option)"))
            }
            return .success(color)
        case .resizeToModel: return .success(Resampler.resize(color, width: c.width, height: c.height))
        case .tile: return .success(color)
        }
    }

    /// The model's output for every row (tile), `batch` rows at a time.
    private func infer(_ rows: [Row], sources: [FloatImage?]) -> [Float] {
        let c = model.config, dim = c.inputSize
        var outputs = [Float](repeating: 0, count: rows.count * dim)
        let x = Matrix(rows: 0, cols: dim)
        var start = 0
        while start < rows.count {
            let n = min(batch, rows.count - start)
            x.setRows(n)
            for r in 0..<n {
                let row = rows[start + r]
                Self.extract(sources[row.frame]!, planes: row.unit..<(row.unit + c.channels), x: row.x, y: row.y, w: c.width, h: c.height, into: x.data + r * dim)
            }
            let y = model.reconstruct(x)
            outputs.withUnsafeMutableBufferPointer { ($0.baseAddress! + start * dim).update(from: y.data, count: n * dim) }
            start += n
        }
        return outputs
    }

    /// Tiles blended back into each frame (weighted by ramps over their overlaps).
    private func blend(_ outputs: [Float], rows: [Row], sources: [FloatImage?]) -> [FloatImage?] {
        let c = model.config, mw = c.width, mh = c.height, mc = c.channels, dim = c.inputSize
        var acc = sources.map { $0.map { FloatImage(width: $0.width, height: $0.height, channels: $0.channels) } }
        var weight = sources.map { $0.map { [Float](repeating: 0, count: $0.width * $0.height) } }
        outputs.withUnsafeBufferPointer { out in
            for (k, row) in rows.enumerated() {
                let s = sources[row.frame]!
                let wx = Self.ramp(origin: row.x, tile: mw, length: s.width)
                let wy = Self.ramp(origin: row.y, tile: mh, length: s.height)
                let base = out.baseAddress! + k * dim
                for ty in 0..<mh {
                    let iy = row.y + ty
                    guard iy < s.height else { break }
                    for tx in 0..<mw {
                        let ix = row.x + tx
                        guard ix < s.width else { break }
                        let w = wx[tx] * wy[ty]
                        if row.unit == 0 { weight[row.frame]![iy * s.width + ix] += w }
                        for p in 0..<mc {
                            acc[row.frame]!.data[((row.unit + p) * s.height + iy) * s.width + ix] += w * base[(p * mh + ty) * mw + tx]
                        }
                    }
                }
            }
        }
        for i in acc.indices where acc[i] != nil {
            let n = acc[i]!.planeSize, wt = weight[i]!
            for ch in 0..<acc[i]!.channels { for p in 0..<n { acc[i]!.data[ch * n + p] /= wt[p] } }
        }
        return acc
    }

    /// Tile origins covering `length` with tiles of `tile`, stride tile·(1 − overlap); the last
    /// tile ends at the border. One tile (at 0, padded) when the image is not larger than a tile.
    static func tileOrigins(length: Int, tile: Int, overlap: Double) -> [Int] {
        if length <= tile { return [0] }
        let stride = max(1, Int((Double(tile) * (1 - overlap)).rounded(.down)))
        var xs = Array(Swift.stride(from: 0, to: length - tile, by: stride))
        if xs.last != length - tile { xs.append(length - tile) }
        return xs
    }

    /// Blending weight along one axis of a tile: a raised cosine that falls towards the tile's
    /// edges, except on a side that lies on the image border (flat there).
    static func ramp(origin: Int, tile: Int, length: Int) -> [Float] {
        (0..<tile).map { i in
            let atStart = origin == 0 && i < tile / 2
            let atEnd = origin + tile >= length && i >= tile / 2
            if atStart || atEnd { return 1 }
            let t = (Double(i) + 0.5) / Double(tile)
            return Float(max(1e-3, 0.5 - 0.5 * cos(2 * Double.pi * t)))
        }
    }

    /// Copies a w x h window of `planes` at (x, y) into `dst` (channel-major); outside the image
    /// the edge is mirrored.
    static func extract(_ img: FloatImage, planes: Range<Int>, x: Int, y: Int, w: Int, h: Int, into dst: UnsafeMutablePointer<Float>) {
        func reflect(_ i: Int, _ n: Int) -> Int {
            if n == 1 { return 0 }
            var j = i
            while j < 0 || j >= n { j = j < 0 ? -j : 2 * (n - 1) - j }
            return j
        }
        var k = 0
        for p in planes {
            for ty in 0..<h {
                let sy = reflect(y + ty, img.height)
                let rowBase = (p * img.height + sy) * img.width
                if x + w <= img.width {
                    img.data.withUnsafeBufferPointer { (dst + k).update(from: $0.baseAddress! + rowBase + x, count: w) }
                    k += w
                } else {
                    for tx in 0..<w { dst[k] = img.data[rowBase + reflect(x + tx, img.width)]; k += 1 }
                }
            }
        }
    }

    /// Codes for frames of the model's size (used by `encode`).
    func encode(_ frames: [Frame]) -> [Result<[Float], PipelineError>] {
        lock.withLock {
            let c = model.config
            var out = [Result<[Float], PipelineError>]()
            let x = Matrix(rows: 1, cols: c.inputSize)
            for f in frames {
                guard f.width == c.width, f.height == c.height, f.colorPlanes == c.channels else {
                    out.append(.failure(.frame(file: f.item.path, reason: "\(f.width)x\(f.height)x\(f.colorPlanes) does not match \(modelName)'s input \(c.width)x\(c.height)x\(c.channels) (add resize/gray/rgb stages)")))
                    continue
                }
                x.copy(from: Array(f.image.data[0..<c.inputSize]))
                out.append(.success(model.encode(x).array))
            }
            return out
        }
    }
}

/// `encode MODEL`: latent codes instead of images; the chain then ends in `write FILE.jsonl` or
/// `write FILE.csv` (one line per image, in input order).
public final class EncodeStage: BatchStage, @unchecked Sendable {
    public static let descriptor = StageDescriptor(
        name: "encode", summary: "latent codes (the posterior mean for a VAE) instead of images; the chain then ends in write FILE.jsonl or FILE.csv",
        parameters: [.positional("MODEL", .model, "an autoencoder or VAE")],
        shape: "images become codes (the last stage before write)") { a, _ in try EncodeStage(a) }
    let inner: ModelStage
    public var spec: String { "encode \(inner.modelName)" }
    public var latent: Int { inner.config.latent }

    init(_ a: StageArguments) throws {
        guard a.positional.count == 1 else { throw a.fail("wants a model, e.g. encode mnist-vae") }
        guard let m = try ModelVerbs.make(verb: "reconstruct", model: a.positional[0]) as? ModelStage else {
            throw a.fail("\(a.positional[0]) is a convolutional denoiser: it has no latent code (encode takes an autoencoder or VAE)")
        }
        inner = m
    }

    public func shape(after s: ChainShape) throws -> ChainShape { try inner.shape(after: s) }

    public func apply(_ frames: [Frame]) -> [Result<Frame, PipelineError>] {
        zip(frames, inner.encode(frames)).map { f, r in
            r.map { code in var g = f; g.code = code; return g }
        }
    }
}
