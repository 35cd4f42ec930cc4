import CKernels
import Foundation
import NN
import Tensor

/// A small network that reads the noise of an image: for each channel, the standard deviation
/// of the noise at each pixel (a noise map, σ/50 on the 0-255 scale, as `ConvDenoiser` takes
/// it), learned from the same synthetic camera-like and white noise the colour denoiser trains
/// on (the shipped one with the correlated mode too: trained without it, it read real photos'
/// noise at about 0.65 of its pixel σ), so that spatially correlated, signal-dependent noise is
/// read for what it is (a white-noise estimator reads real photographs as almost clean). It
/// works at quarter resolution, where the map varies slowly anyway:
///
///     q  = unshuffle(unshuffle(x)) − ½           (16c, H/4, W/4): every pixel kept
///     h1 = lrelu(conv3(q));  h_i = lrelu(conv3(h_{i−1}))   i = 2…depth, `width` channels (leaky ReLU, slope 0.1)
///     m  = conv3(h_depth)                       (c, H/4, W/4): σ/50 of each 4x4 block
///
/// Loss (CBDNet's asymmetric one): Σ |α − 1[m < t]| · (m − t)², t the block means of the true
/// map and α = 0.3, so an underestimate (which leaves noise in) costs more than an
/// overestimate. H and W must be multiples of 4. The map is read as max(0, m).
///
/// With `features: .energy` the first layer also sees, for each block, how strongly its pixels
/// vary at the finest scales (below), and the output is the log of σ/50: m = ln(σ/50 + τ), τ =
/// `logFloor`, read as max(0, eᵐ − τ), and the loss is the same asymmetric one on that log. Raw
/// pixels put the noise (σ 5 is 0.02) under the picture's own levels (0-1), and the first layer
/// had to learn to cancel those exactly; so estimators with raw input alone learnt slowly even
/// on flat images (docs/colour-model.md, session 26). The features of a block, per plane (R, G,
/// B and the opponent components Y, C1, C2; the one plane of a grey image), are four σ-like
/// statistics of its 16 pixels, each equal to σ on average for white noise of σ and growing
/// with texture: from horizontal and vertical neighbour differences, the 2x2 Haar diagonal
/// detail, and the differences of its four 2x2 means (what noise correlated over a few pixels
/// keeps); each as (ln(0.5 + 255·s) − 2)/1.5; and each channel's block mean − ½. They depend on
/// the block's pixels only, so streaming is unchanged.
public final class NoiseMapEstimator {
    /// What the first layer sees: each 4x4 block's pixels (`raw`), or those and their
    /// fine-scale statistics, with the output on a log scale (`energy`).
    public enum InputFeatures: String, Sendable, CaseIterable { case raw, energy }

    public let channels: Int
    public let width: Int
    public let features: InputFeatures
    let layers: [Conv2d]
    /// α of the asymmetric loss.
    public static let alpha: Float = 0.3
    /// α this estimator trains with (`alpha` unless set; 0.5: the plain squared error, no bias
    /// either way).
    public var lossAlpha: Float = NoiseMapEstimator.alpha
    /// The network sees its input centred on mid-grey: x − inputOffset (in training and inference).
    static let inputOffset: Float = 0.5
    /// Leaky, so that no unit dies: with plain ReLUs the estimator collapsed on real photographs
    /// within a few hundred steps (every hidden unit off, the output a constant).
    static let hiddenActivation = Activation.leakyRelu(0.1)

    private var q = Matrix(rows: 0, cols: 1), half = Matrix(rows: 0, cols: 1)
    private var out: FeatureMaps?

    public init(channels: Int = 3, width: Int = 32, depth: Int = 4, features: InputFeatures = .raw, seed: UInt64) {
        precondition(depth >= 1)
        self.channels = channels
        self.width = width
        self.features = features
        layout = Self.blockLayout(channels: channels)
        var rng = RandomGenerator(seed: seed)
        layers = Self.layerShapes(channels: channels, width: width, depth: depth, features: features).map { s in
            Conv2d(s.input, s.output, kernel: 3, activation: s.relu ? Self.hiddenActivation : .identity, name: s.name,
                   computesInputGradient: s.name != "est0", rng: &rng)
        }
    }

    private init(sharing other: NoiseMapEstimator) {
        channels = other.channels
        width = other.width
        features = other.features
        layout = other.layout
        lossAlpha = other.lossAlpha
        layers = other.layers.map { Conv2d(sharing: $0) }
    }

    /// A replica for data-parallel training: the same weights (shared memory), its own gradients
    /// and activations.
    public func replica() -> NoiseMapEstimator { NoiseMapEstimator(sharing: self) }

    static func layerShapes(channels: Int, width: Int, depth: Int, features: InputFeatures) -> [(name: String, input: Int, output: Int, relu: Bool)] {
        let first = inputChannels(channels: channels, features: features)
        return (0..<depth).map { ("est\($0)", $0 == 0 ? first : width, width, true) } + [("est\(depth)", width, channels, false)]
    }

    /// The first layer's input planes: 16 per channel (the block's pixels), and with `energy`
    /// four statistics per plane of `statisticPlanes` and each channel's block mean.
    static func inputChannels(channels: Int, features: InputFeatures) -> Int {
        features == .raw ? 16 * channels : 16 * channels + 4 * statisticPlanes(channels) + channels
    }
    /// R, G, B and the three opponent components; a grey image's one plane.
    static func statisticPlanes(_ channels: Int) -> Int { channels == 3 ? 6 : channels }

    /// ln(σ/50 + τ) is what an `energy` estimator outputs: τ (half a grey level) keeps a clean
    /// block's target finite.
    public static let logFloor: Float = 0.01

    /// σ/50 (at least 0) for an output value.
    @inline(__always) public func sigmaOver50(_ m: Float) -> Float {
        features == .raw ? max(0, m) : max(0, expf(m) - Self.logFloor)
    }

    /// Which of the 16·c unshuffled planes holds pixel (c, dy, dx) of a block: entry (c·4 + dy)·4 + dx.
    private let layout: [Int]
    static func blockLayout(channels c: Int) -> [Int] {
        let s = FeatureShape(c: c, h: 4, w: 4), s2 = FeatureShape(c: 4 * c, h: 2, w: 2)
        let index = (0..<(16 * c)).map(Float.init)
        var half = [Float](repeating: 0, count: 16 * c), q = [Float](repeating: 0, count: 16 * c)
        PixelShuffle.unshuffle(index, s, &half)
        PixelShuffle.unshuffle(half, s2, &q)
        var layout = [Int](repeating: 0, count: 16 * c)
        for (k, i) in q.enumerated() { layout[Int(i)] = k }
        return layout
    }

    /// Writes the `energy` planes (16·c onwards) from the unshuffled pixels (planes 0..<16·c,
    /// already − ½), at every position of an h x w grid of planes `plane` apart, rows `row` apart.
    func addStatistics(_ base: UnsafeMutablePointer<Float>, row: Int, plane: Int, h: Int, w: Int) {
        guard features == .energy else { return }
        let c = channels, np = Self.statisticPlanes(c), first = 16 * c
        let basis = NoiseMapSpace.basis
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 16 * np) { buffer in
            let px = buffer.baseAddress!
            layout.withUnsafeBufferPointer { layout in
                for y in 0..<h {
                    for x in 0..<w {
                        let o = y * row + x
                        for ch in 0..<c {
                            var sum: Float = 0
                            for k in 0..<16 { let v = base[layout[ch * 16 + k] * plane + o]; px[ch * 16 + k] = v; sum += v }
                            base[(first + 4 * np + ch) * plane + o] = sum / 16
                        }
                        if np == 6 {
                            for q in 0..<3 {
                                for k in 0..<16 { px[(3 + q) * 16 + k] = basis[q * 3] * px[k] + basis[q * 3 + 1] * px[16 + k] + basis[q * 3 + 2] * px[32 + k] }
                            }
                        }
                        for p in 0..<np {
                            let v = px + p * 16
                            var sh: Float = 0, sv: Float = 0, sd: Float = 0
                            for dy in 0..<4 {
                                for dx in 0..<3 { let d = v[dy * 4 + dx + 1] - v[dy * 4 + dx]; sh += d * d }
                            }
                            for dy in 0..<3 {
                                for dx in 0..<4 { let d = v[(dy + 1) * 4 + dx] - v[dy * 4 + dx]; sv += d * d }
                                for dx in 0..<3 {
                                    let d = (v[dy * 4 + dx] - v[dy * 4 + dx + 1] - v[(dy + 1) * 4 + dx] + v[(dy + 1) * 4 + dx + 1]) / 2
                                    sd += d * d
                                }
                            }
                            // The four 2x2 means and their differences (white noise: each mean has σ/2).
                            let m00 = (v[0] + v[1] + v[4] + v[5]) / 4, m01 = (v[2] + v[3] + v[6] + v[7]) / 4
                            let m10 = (v[8] + v[9] + v[12] + v[13]) / 4, m11 = (v[10] + v[11] + v[14] + v[15]) / 4
                            let a = m00 - m01, b = m10 - m11, e = m00 - m10, f = m01 - m11
                            let sc = (a * a + b * b + e * e + f * f) / 4 * 2
                            let out = base + (first + 4 * p) * plane + o
                            out[0] = Self.statistic(sh / 24)
                            out[plane] = Self.statistic(sv / 24)
                            out[2 * plane] = Self.statistic(sd / 9)
                            out[3 * plane] = Self.statistic(sc)
                        }
                    }
                }
            }
        }
    }

    /// A variance (0-1 scale) as the feature: (ln(0.5 + 255·σ) − 2)/1.5.
    @inline(__always) static func statistic(_ variance: Float) -> Float {
        (logf(0.5 + 255 * variance.squareRoot()) - 2) / 1.5
    }

    public var parameters: [Parameter] { layers.flatMap(\.parameters) }

    /// Parameters of an estimator of this shape, without building it.
    public static func parameterCount(channels: Int, width: Int, depth: Int, features: InputFeatures = .raw) -> Int {
        layerShapes(channels: channels, width: width, depth: depth, features: features).reduce(0) { $0 + $1.output * ($1.input * 9 + 1) }
    }
    public var depth: Int { layers.count - 1 }
    /// Full-resolution pixels an estimate depends on, each side of its 4x4 block, as `infer`
    /// computes it: 4 per layer, and 8 more per layer on Winograd F(4x4, 3x3) (its rounding
    /// reaches 3 quarter-resolution pixels each side, not 1).
    public var receptiveRadius: Int { 4 * layers.count + 3 + 8 * layers.filter(Self.onWinograd4).count }

    /// The layers `infer` runs on F(4x4, 3x3): the wide ones (all but the output layer).
    static func onWinograd4(_ l: Conv2d) -> Bool { lk_wino4_applies(l.inChannels, l.outChannels) != 0 }

    /// The quarter-resolution maps (n, c·H/4·W/4) of a batch of images (n, c·H·W).
    public func forward(_ x: FeatureMaps) -> FeatureMaps {
        let s = x.shape
        precondition(s.c == channels && s.h % 4 == 0 && s.w % 4 == 0, "NoiseMapEstimator needs \(channels)xHxW with H, W multiples of 4, got \(s)")
        let s2 = FeatureShape(c: 4 * s.c, h: s.h / 2, w: s.w / 2), s4 = FeatureShape(c: 16 * s.c, h: s.h / 4, w: s.w / 4)
        let input = FeatureShape(c: Self.inputChannels(channels: channels, features: features), h: s4.h, w: s4.w)
        if half.cols != s2.count || half.rows != x.n { half = Matrix(rows: x.n, cols: s2.count) }
        if q.cols != input.count || q.rows != x.n { q = Matrix(rows: x.n, cols: input.count) }
        for b in 0..<x.n { blockInput(x.data.data + b * s.count, s, half: half.data + b * s2.count, into: q.data + b * input.count) }
        var h = FeatureMaps(data: q, shape: input)
        for l in layers { h = l.forward(h) }
        out = h
        return h
    }

    /// The first layer's input for one image `s` (c, H, W), as the training path builds it: its
    /// 4x4 blocks' pixels − ½ (unshuffled twice; `half` is scratch of 4c·H/2·W/2 floats) and,
    /// with `energy`, their statistics.
    func blockInput(_ x: UnsafePointer<Float>, _ s: FeatureShape, half: UnsafeMutablePointer<Float>, into q: UnsafeMutablePointer<Float>) {
        let s2 = FeatureShape(c: 4 * s.c, h: s.h / 2, w: s.w / 2), s4 = FeatureShape(c: 16 * s.c, h: s.h / 4, w: s.w / 4)
        PixelShuffle.unshuffle(x, s, half)
        PixelShuffle.unshuffle(half, s2, q)
        for i in 0..<s4.count { q[i] -= Self.inputOffset }
        addStatistics(q, row: s4.w, plane: s4.h * s4.w, h: s4.h, w: s4.w)
    }

    /// The block means of full-resolution maps (n, c·H·W): the training targets.
    public static func blockMeans(_ maps: Matrix, shape s: FeatureShape) -> Matrix {
        let h4 = s.h / 4, w4 = s.w / 4
        let t = Matrix(rows: maps.rows, cols: s.c * h4 * w4)
        for b in 0..<maps.rows {
            for c in 0..<s.c {
                for y in 0..<h4 {
                    for x in 0..<w4 {
                        var sum: Float = 0
                        for dy in 0..<4 { for dx in 0..<4 { sum += maps.data[b * s.count + (c * s.h + 4 * y + dy) * s.w + 4 * x + dx] } }
                        t.data[b * t.cols + (c * h4 + y) * w4 + x] = sum / 16
                    }
                }
            }
        }
        return t
    }

    /// The asymmetric loss against `target` (n, c·H/4·W/4), summed over the batch, with the
    /// gradient propagated to every parameter (accumulated). Call after `forward`.
    public func backward(target: Matrix) -> Double {
        guard let out else { preconditionFailure("backward before forward") }
        precondition(target.rows == out.n && target.cols == out.shape.count, "target shape")
        let d = Matrix(rows: out.n, cols: out.shape.count)
        var loss = 0.0
        let log = features == .energy
        for i in 0..<d.count {
            let t = target.data[i]
            let e = out.data.data[i] - (log ? logf(max(0, t) + Self.logFloor) : t)
            let w = e < 0 ? 1 - lossAlpha : lossAlpha
            loss += Double(w * e * e)
            d.data[i] = 2 * w * e
        }
        var g: Matrix? = d
        for l in layers.reversed() { g = l.backward(g!) }
        return loss
    }

    /// Full-resolution noise maps (c, H, W) for one image (c, H, W), each 4x4 block given its
    /// estimate (σ/50, at least 0).
    public func estimate(_ image: [Float], h: Int, w: Int) -> [Float] {
        let s = FeatureShape(c: channels, h: h, w: w)
        let m = forward(FeatureMaps(data: Matrix(rows: 1, cols: s.count, values: image), shape: s))
        var map = [Float](repeating: 0, count: s.count)
        let h4 = h / 4, w4 = w / 4
        for c in 0..<channels {
            for y in 0..<h { for x in 0..<w { map[(c * h + y) * w + x] = sigmaOver50(m.data.data[(c * h4 + y / 4) * w4 + x / 4]) } }
        }
        return map
    }

    /// The layers packed for `infer`, once per estimator and image (or batch of tiles).
    public struct Kernels: @unchecked Sendable {
        let layers: [ConvKernel]
    }
    public func kernels() -> Kernels { Kernels(layers: layers.map { ConvKernel($0, tile4: Self.onWinograd4($0)) }) }

    /// Inference on one image region (c, h, w), h and w multiples of 4: its quarter-resolution
    /// map (c, h/4, w/4), per 4x4 block the output m (σ/50 is `sigmaOver50(m)`), through the exact kernels
    /// the denoiser runs (Winograd F(4x4, 3x3) for the wide layers). A block's value depends only
    /// on the pixels within `receptiveRadius` of it, not on the region, when the region starts on
    /// a multiple of 16 (whole Winograd tiles at quarter resolution). `forward` computes the same
    /// function (with other rounding): it is the training path.
    public func infer(_ kernels: Kernels, _ x: UnsafePointer<Float>, h: Int, w: Int, workspace ws: ConvWorkspace) -> [Float] {
        precondition(h % 4 == 0 && w % 4 == 0, "infer needs planes of multiples of 4")
        let s = FeatureShape(c: channels, h: h, w: w), s2 = FeatureShape(c: 4 * channels, h: h / 2, w: w / 2)
        let half = ws.planes(0, c: s2.c, h: s2.h, w: s2.w, pad: 0)
        PixelShuffle.unshuffle(x, s, half.origin)
        var cur = ws.planes(1, c: Self.inputChannels(channels: channels, features: features), h: h / 4, w: w / 4, pad: 1)
        lk_unshuffle_rows(half.origin, s2.w, s2.h * s2.w, s2.c, s2.w, s2.h / 2, cur.origin, cur.row, cur.plane)
        for c in 0..<(16 * channels) { for y in 0..<cur.h { let r = cur.origin + c * cur.plane + y * cur.row; for i in 0..<cur.w { r[i] -= Self.inputOffset } } }
        addStatistics(cur.origin, row: cur.row, plane: cur.plane, h: cur.h, w: cur.w)
        for (i, k) in kernels.layers.enumerated() {
            let last = i == kernels.layers.count - 1
            // Hidden layers take turns between two padded slots, the output a slot of its own
            // (so that no slot changes shape, and is zeroed again, from tile to tile).
            let next = last ? ws.planes(4, c: k.cout, h: cur.h, w: cur.w, pad: 0) : ws.planes(2 + i % 2, c: k.cout, h: cur.h, w: cur.w, pad: 1)
            k.run(cur.origin - cur.row - 1, xrow: cur.row, xplane: cur.plane, rows: cur.h, cols: cur.w, relu: false,
                  into: next.origin, orow: next.row, oplane: next.plane)
            if !last {
                for c in 0..<next.c { for y in 0..<next.h { Self.hiddenActivation.forward(next.origin + c * next.plane + y * next.row, count: next.w) } }
            }
            cur = next
        }
        return Array(UnsafeBufferPointer(start: cur.origin, count: cur.c * cur.plane))
    }

    public func exportTensors() -> [NamedTensor] {
        parameters.map { NamedTensor(name: $0.name, shape: $0.shape, values: $0.value.array) }
    }

    public func importTensors(_ tensors: [String: NamedTensor], file: String) throws {
        try importTensors(tensors, file: file, prefix: "")
    }

    /// Loads every parameter from the tensors named `prefix` + its name (a bundled estimator's
    /// are `estimator.*`); other tensors with that prefix are refused.
    public func importTensors(_ tensors: [String: NamedTensor], file: String, prefix: String) throws {
        var expected = Set<String>()
        for p in parameters {
            let name = prefix + p.name
            expected.insert(name)
            guard let t = tensors[name] else { throw ModelFileError.missingTensor(file: file, tensor: name) }
            guard t.shape == p.shape else { throw ModelFileError.wrongShape(file: file, tensor: name, expected: p.shape, found: t.shape) }
            p.value.copy(from: t.values)
        }
        if let extra = tensors.keys.sorted().first(where: { $0.hasPrefix(prefix) && !expected.contains($0) && !$0.hasPrefix("optim.") }) {
            throw ModelFileError.unexpectedTensor(file: file, tensor: extra)
        }
    }

    /// Starts from the weights of a model file: an estimator of the same shape, or a colour model
    /// that bundles one (its `estimator.*` tensors). Refused, naming the file, when the shapes
    /// differ or the file holds no estimator.
    public func initialise(from path: String) throws {
        let (tensors, meta) = try SafeTensors.read(path: path)
        try initialise(from: tensors, meta, path: path)
    }

    private func initialise(from tensors: [String: NamedTensor], _ meta: [String: String], path: String) throws {
        let mine = "\(width),\(depth)"
        let (prefix, theirs) = try Self.stored(meta, path: path)
        guard theirs == mine else {
            throw ModelFileError.badMetadata(file: path, reason: "its estimator is width,depth \(theirs), this one \(mine)")
        }
        guard meta["channels"] == "\(channels)" else {
            throw ModelFileError.badMetadata(file: path, reason: "it has \(meta["channels"] ?? "?") channels, this estimator \(channels)")
        }
        let theirFeatures = try Self.storedFeatures(meta, path: path)
        guard theirFeatures == features else {
            throw ModelFileError.badMetadata(file: path, reason: "its estimator's input is \(theirFeatures.rawValue), this one's \(features.rawValue)")
        }
        try importTensors(tensors, file: path, prefix: prefix)
    }

    /// The widths and depths an estimator may have (what files and `train`'s options are held to).
    public static let widths = 1...256, depths = 1...8

    /// The estimator a model file holds: an estimator file, or a colour model that bundles one
    /// (loaded and checked as a model). Refused, naming the file, when it holds none.
    public static func load(path: String) throws -> NoiseMapEstimator {
        let (tensors, meta) = try SafeTensors.read(path: path)
        let prefix = try stored(meta, path: path).prefix
        if !prefix.isEmpty, let bundled = try ConvModelFile.make(ConvModelFile.shape(metadata: meta, file: path), tensors: tensors, file: path,
                                                                  metadata: meta).estimator {
            return bundled
        }
        guard let w = meta["est_width"].flatMap({ Int($0) }), let d = meta["est_depth"].flatMap({ Int($0) }), widths.contains(w), depths.contains(d),
              let ch = meta["channels"].flatMap({ Int($0) }), ch == 1 || ch == 3 else {
            throw ModelFileError.badMetadata(file: path, reason: "its estimator's width,depth and channels are not those of a noise estimator")
        }
        let estimator = NoiseMapEstimator(channels: ch, width: w, depth: d, features: try storedFeatures(meta, path: path), seed: 0)
        try estimator.initialise(from: tensors, meta, path: path)
        return estimator
    }

    /// Where a file keeps an estimator: its tensors' prefix and its "width,depth".
    private static func stored(_ meta: [String: String], path: String) throws -> (prefix: String, widthDepth: String) {
        if meta["kind"] == "noise-estimator", let w = meta["est_width"], let d = meta["est_depth"] { return ("", "\(w),\(d)") }
        if meta["kind"] != "noise-estimator", let bundled = meta["estimator"] { return (ConvModelFile.estimatorPrefix, bundled) }
        throw ModelFileError.badMetadata(file: path, reason: "neither a noise estimator nor a model that bundles one")
    }

    /// The input features a file's estimator takes: `est_features` of an estimator file,
    /// `estimator_features` of a model that bundles one; `raw` when absent.
    static func storedFeatures(_ meta: [String: String], path: String) throws -> InputFeatures {
        let key = meta["kind"] == "noise-estimator" ? "est_features" : "estimator_features"
        guard let v = meta[key] else { return .raw }
        guard let f = InputFeatures(rawValue: v) else { throw ModelFileError.badMetadata(file: path, reason: "unknown \(key) '\(v)'") }
        return f
    }

    public var metadata: [String: String] {
        var m = ["format": "latent", "format_version": ModelConfig.formatVersion, "kind": "noise-estimator", "channels": "\(channels)",
                 "est_width": "\(width)", "est_depth": "\(depth)"]
        if features != .raw { m["est_features"] = features.rawValue }
        return m
    }
}
