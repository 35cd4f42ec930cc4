import CKernels
import Foundation
import NN
import Tensor

/// A fully convolutional denoising autoencoder for images of any size: a small U-Net that
/// predicts the noise (residual learning, as DnCNN) — out = x − N(x).
///
///     e0 = relu(conv3(relu(conv3(x))))                          full resolution, c0 channels
///     e1 = relu(conv3(relu(conv1(unshuffle(e0)))))              1/2, c1   (learned stride-2 down)
///     e2 = relu(conv3(relu(conv3(relu(conv1(unshuffle(e1)))))))  1/4, c2
///     e2 = relu(e2 + conv3(e2))   for each of `blocks` residual blocks (zero-initialised)
///     s1 = relu(shuffle(conv1(e2)) + e1);  d1 = relu(conv3(s1)) 1/2  (learned stride-2 up + skip)
///     s0 = relu(shuffle(conv1(d1)) + e0);  d0 = relu(conv3(s0)) full
///     d0 = relu(d0 + conv3(d0))   for each of `fineBlocks` full-resolution blocks (zero-initialised)
///     N  = conv3(d0);  out = x − N
///
/// Loss: ½ Σ (out − clean)² per image. Height and width must be multiples of 4 (the caller
/// pads). Tensors: head0, head1, down1, enc1, down2, mid1, mid2, [res1, ...], up1, dec1, up0,
/// dec0, [fine1, ...], tail (`.weight` [out, in, k, k], `.bias` [out]).
///
/// With `noiseInput`, every layer is also conditioned on the noise level σ (FiLM, see `Conv2d`:
/// features s = σ/50 and s², σ on the 0-255 scale). The conditioning tensors (`.film`) start at
/// zero, so a blind model upgraded to a conditioned one computes the same function until it
/// trains; at inference it folds into the weights and costs nothing per pixel.
///
/// With `noiseMap` (the colour model), the network instead takes a per-pixel noise map as
/// `channels` extra input planes (FFDNet's conditioning): the standard deviation of the noise of
/// each channel at each pixel, σ/50 on the 0-255 scale, so each channel (and, in training,
/// brighter and darker regions) can get its own strength. head0 then sees 2·channels planes: the
/// image, then the map. `latent denoise` gives it a flat map per channel (`BandDenoiser.mapSigmas`).
public final class ConvDenoiser {
    public let channels: Int
    public let widths: (Int, Int, Int)
    /// Whether the layers are conditioned on the noise level (`forward`/`infer` then need σ).
    public let noiseInput: Bool
    /// Whether the network takes a per-pixel noise map (one plane per channel) with the image.
    public let noiseMap: Bool
    /// What the noise map's planes measure (`NoiseMapSpace`; metadata `noise_map_space`).
    public var mapSpace: NoiseMapSpace = .rgb
    /// Planes the first layer reads: the image, and the noise map when `noiseMap`.
    public var inputPlanes: Int { noiseMap ? 2 * channels : channels }
    let head0, head1, down1, enc1, down2, mid1, mid2, up1, dec1, up0, dec0, tail: Conv2d
    /// Residual blocks at quarter resolution.
    let res: [Conv2d]
    /// Residual blocks at full resolution, after dec0 (fine detail: low noise levels).
    let fine: [Conv2d]
    /// A noise-map model's estimator, when its file carries one (tensors `estimator.*`): what
    /// reads an image's noise level function for the map.
    public var estimator: NoiseMapEstimator?
    /// The largest noise level (0-255) it was trained on, from its file's `train_sigma`; nil
    /// when the file does not say.
    public var trainedSigmaMax: Float?
    private var resOut: [Matrix] = [], fineOut: [Matrix] = []
    private var features = Matrix(rows: 0, cols: 2)
    private var joined = Matrix(rows: 0, cols: 1)

    // Kept for backward.
    private var x: FeatureMaps?
    private var u0 = Matrix(rows: 0, cols: 1), u1 = Matrix(rows: 0, cols: 1)
    private var s1 = Matrix(rows: 0, cols: 1), s0 = Matrix(rows: 0, cols: 1)
    private var e0: FeatureMaps?, e1: FeatureMaps?
    private var out = Matrix(rows: 0, cols: 1)
    // backward's buffers, kept from step to step: the loss's gradient, the skip connections'
    // copies of dS0 and dS1 and the shuffles' adjoints, and the residual blocks' skips.
    private var dNoise = Matrix(rows: 0, cols: 1), dE0 = Matrix(rows: 0, cols: 1), dE1 = Matrix(rows: 0, cols: 1)
    private var dt0 = Matrix(rows: 0, cols: 1), dt1 = Matrix(rows: 0, cols: 1)
    private var resSkips = [Matrix](), fineSkips = [Matrix]()
    private var shapes: [FeatureShape] = []

    /// Rows and columns an output pixel of the default network depends on, each side (a safe
    /// bound for halos); each residual block adds 4 (a 3x3 layer at quarter resolution), each
    /// full-resolution block 1.
    public static let receptiveRadius = 24
    /// The bound for this network as inference computes it: a layer on Winograd F(4x4, 3x3)
    /// reaches 3 of its pixels each side in its rounding, not 1 (2 more at full resolution, 4 at
    /// half, 8 at quarter).
    public var receptiveRadius: Int {
        let (full, half, quarter) = tile4Chains
        func wide(_ chains: [[Conv2d]]) -> Int { chains.joined().filter(usesWinograd4).count }
        return Self.receptiveRadius + 4 * res.count + fine.count + 2 * wide(full) + 4 * wide(half) + 8 * wide(quarter)
    }

    /// The 3x3 layers inference may run on F(4x4, 3x3), at full, half and quarter resolution, as
    /// chains: each layer of a chain reads the one before it.
    private var tile4Chains: (full: [[Conv2d]], half: [[Conv2d]], quarter: [[Conv2d]]) {
        ([[head0, head1], [dec0] + fine], [[enc1], [dec1]], [[mid1, mid2] + res])
    }

    /// Whether inference runs `l` on Winograd F(4x4, 3x3): the 3x3 layers but the tail (3 output
    /// channels: the direct kernel) and a head0 with fewer than 4 input planes.
    func usesWinograd4(_ l: Conv2d) -> Bool {
        guard l.kernel == 3 && lk_wino4_applies(l.inChannels, l.outChannels) != 0 else { return false }
        let (full, half, quarter) = tile4Chains
        return (full + half + quarter).joined().contains { $0 === l }
    }

    /// The row, mod 4, on which an F(4x4, 3x3) layer's tiles start: one row higher for each
    /// F(4x4) layer before it in its chain. A tile row needs one input row beyond it; with the
    /// tiles of the layer before on the same rows, that row is in the next tile row there, so each
    /// layer of a chain would wait a whole tile row (4 rows) for the one before, and the streams would hold
    /// the skip connections' rows that much longer (session 22: 171.8 MB for a 4000x3000 photo
    /// with quarter resolution on F(4x4), bar 150). Staggered, each waits one row.
    func tileRowOffset(_ l: Conv2d) -> Int {
        guard usesWinograd4(l) else { return 0 }
        let (full, half, quarter) = tile4Chains
        for chain in full + half + quarter {
            if let i = chain.filter(usesWinograd4).firstIndex(where: { $0 === l }) { return (4 - i % 4) % 4 }
        }
        return 0
    }

    /// Rows and columns a band or tile of an image must start on (a multiple of) so that every
    /// Winograd tile of every layer falls where whole-image inference puts it: 4 times the
    /// largest tile at quarter resolution.
    public var tileAlignment: Int { [mid1, mid2].contains(where: usesWinograd4) ? 16 : 8 }

    /// The exact kernel inference runs `l` with, `weights`' conditioning folded in (`infer` and
    /// `ConvRowStream` both take their kernels from here).
    func kernel(_ l: Conv2d, _ weights: InferenceWeights?) -> ConvKernel {
        let make = { ConvKernel(l, weights, tile4: self.usesWinograd4(l), rowOffset: self.tileRowOffset(l)) }
        return weights?.kernels.kernel(l, make: make) ?? make()
    }
    public var blocks: Int { res.count }
    public var fineBlocks: Int { fine.count }

    /// Conditioning features of noise level σ (0-255 scale).
    public static let featureCount = 2
    public static func features(sigma: Float) -> [Float] {
        let s = sigma / 50
        return [s, s * s]
    }

    public init(channels: Int = 1, widths: (Int, Int, Int) = (32, 64, 128), blocks: Int = 0, fineBlocks: Int = 0, noiseInput: Bool = false,
                noiseMap: Bool = false, seed: UInt64) {
        precondition(!(noiseInput && noiseMap), "a ConvDenoiser is conditioned on σ or on a noise map, not both")
        self.channels = channels
        self.widths = widths
        self.noiseInput = noiseInput
        self.noiseMap = noiseMap
        var rng = RandomGenerator(seed: seed)
        let k = noiseInput ? Self.featureCount : 0
        let l = Self.layerShapes(channels: channels, widths: widths, blocks: blocks, fineBlocks: fineBlocks, noiseMap: noiseMap).map { s in
            Conv2d(s.input, s.output, kernel: s.kernel, activation: s.relu ? .relu : .identity, name: s.name,
                   computesInputGradient: s.name != "head0", filmFeatures: k, rng: &rng)
        }
        (head0, head1, down1, enc1, down2, mid1, mid2) = (l[0], l[1], l[2], l[3], l[4], l[5], l[6])
        (up1, dec1, up0, dec0, tail) = (l[7], l[8], l[9], l[10], l[11])
        res = Array(l[12..<(12 + blocks)])
        fine = Array(l[(12 + blocks)...])
        for r in res + fine {
            r.weight.value.fill(0)
            r.bias.value.fill(0)
        }
    }

    /// The layers in `layers` order: name, input and output channels, kernel size, ReLU.
    static func layerShapes(channels: Int, widths: (Int, Int, Int), blocks: Int, fineBlocks: Int = 0, noiseMap: Bool)
        -> [(name: String, input: Int, output: Int, kernel: Int, relu: Bool)] {
        let (c0, c1, c2) = widths
        return [("head0", noiseMap ? 2 * channels : channels, c0, 3, true), ("head1", c0, c0, 3, true),
                ("down1", 4 * c0, c1, 1, true), ("enc1", c1, c1, 3, true), ("down2", 4 * c1, c2, 1, true),
                ("mid1", c2, c2, 3, true), ("mid2", c2, c2, 3, true), ("up1", c2, 4 * c1, 1, false),
                ("dec1", c1, c1, 3, true), ("up0", c1, 4 * c0, 1, false), ("dec0", c0, c0, 3, true), ("tail", c0, channels, 3, false)]
            + (0..<blocks).map { ("res\($0 + 1)", c2, c2, 3, false) } + (0..<fineBlocks).map { ("fine\($0 + 1)", c0, c0, 3, false) }
    }

    /// Parameters of a network of this shape, computed without building it (nil on overflow):
    /// what a model file's metadata implies, checked against its data before anything is allocated.
    public static func parameterCount(channels: Int, widths: (Int, Int, Int), blocks: Int, fineBlocks: Int = 0, noiseInput: Bool, noiseMap: Bool) -> Int? {
        var total = 0
        for s in layerShapes(channels: channels, widths: widths, blocks: blocks, fineBlocks: fineBlocks, noiseMap: noiseMap) {
            let perOut = s.input * s.kernel * s.kernel + 1 + (noiseInput ? 2 * featureCount : 0)
            let (n, o1) = perOut.multipliedReportingOverflow(by: s.output)
            let (t, o2) = total.addingReportingOverflow(n)
            if o1 || o2 { return nil }
            total = t
        }
        return total
    }

    private init(sharing other: ConvDenoiser) {
        channels = other.channels
        widths = other.widths
        noiseInput = other.noiseInput
        noiseMap = other.noiseMap
        let l = other.layers.map { Conv2d(sharing: $0) }
        (head0, head1, down1, enc1, down2, mid1, mid2) = (l[0], l[1], l[2], l[3], l[4], l[5], l[6])
        (up1, dec1, up0, dec0, tail) = (l[7], l[8], l[9], l[10], l[11])
        res = Array(l[12..<(12 + other.res.count)])
        fine = Array(l[(12 + other.res.count)...])
    }

    /// A replica for data-parallel training: the same weights (shared memory), its own gradients
    /// and activations.
    public func replica() -> ConvDenoiser { ConvDenoiser(sharing: self) }

    public var layers: [Conv2d] { [head0, head1, down1, enc1, down2, mid1, mid2, up1, dec1, up0, dec0, tail] + res + fine }
    public var parameters: [Parameter] { layers.flatMap(\.parameters) }
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

    public func setExactInference(_ on: Bool) { layers.forEach { $0.exactInference = on } }

    /// Multiply-adds per pixel of a forward pass.
    public var macsPerPixel: Int {
        let (c0, c1, c2) = widths
        return inputPlanes * c0 * 9 + c0 * c0 * 9 + (4 * c0 * c1 + c1 * c1 * 9) / 4 + (4 * c1 * c2 + 2 * c2 * c2 * 9) / 16
            + (c2 * 4 * c1) / 16 + (c1 * c1 * 9) / 4 + (c1 * 4 * c0) / 4 + c0 * c0 * 9 + c0 * channels * 9 + res.count * (c2 * c2 * 9) / 16
            + fine.count * c0 * c0 * 9
    }

    private func resize(_ m: inout Matrix, rows: Int, cols: Int) {
        if m.cols != cols { m = Matrix(rows: rows, cols: cols) } else { m.setRows(rows) }
    }

    /// Per image: m = unshuffle(x), x of shape s; returns the new shape (4c, h/2, w/2).
    private static func unshuffle(_ x: Matrix, _ s: FeatureShape, into m: inout Matrix) -> FeatureShape {
        let small = FeatureShape(c: 4 * s.c, h: s.h / 2, w: s.w / 2)
        if m.cols != small.count { m = Matrix(rows: x.rows, cols: small.count) } else { m.setRows(x.rows) }
        for b in 0..<x.rows { PixelShuffle.unshuffle(x.data + b * s.count, s, m.data + b * small.count) }
        return small
    }

    /// Per image: dst += shuffle(x), dst of shape s, x of shape (4c, h/2, w/2).
    private static func shuffleAdd(_ x: Matrix, onto dst: Matrix, _ s: FeatureShape) {
        for b in 0..<x.rows { PixelShuffle.shuffle(x.data + b * x.cols, s, dst.data + b * s.count, add: true) }
    }

    /// A decoder level's input: m = relu(skip + shuffle(up)).
    private static func skipJoin(skip: FeatureMaps, up: FeatureMaps, into m: inout Matrix) {
        if m.cols != skip.shape.count { m = Matrix(rows: skip.n, cols: skip.shape.count) }
        m.copy(from: skip.data)
        shuffleAdd(up.data, onto: m, skip.shape)
        Activation.relu.forward(m.data, count: m.count)
    }

    /// Denoised images for a batch of noisy ones (n, channels·H·W), H and W multiples of 4;
    /// `sigmas` (0-255 scale, one per image) when the model is conditioned on the noise level;
    /// `maps` (n, channels·H·W: σ/50 per channel and pixel) when it takes a noise map.
    public func forward(_ input: FeatureMaps, sigmas: [Float]? = nil, maps: Matrix? = nil) -> FeatureMaps {
        let s = input.shape
        precondition(s.c == channels && s.h % 4 == 0 && s.w % 4 == 0, "ConvDenoiser needs \(channels)xHxW with H, W multiples of 4, got \(s)")
        x = input
        let n = input.n
        var first = input
        if noiseMap {
            guard let maps, maps.rows == n, maps.cols == s.count else { preconditionFailure("a noise-map ConvDenoiser needs a map per image") }
            // head0's input per image: the image planes, then the map planes.
            resize(&joined, rows: n, cols: 2 * s.count)
            for b in 0..<n {
                (joined.data + 2 * b * s.count).update(from: input.data.data + b * s.count, count: s.count)
                (joined.data + (2 * b + 1) * s.count).update(from: maps.data + b * s.count, count: s.count)
            }
            first = FeatureMaps(data: joined, shape: FeatureShape(c: 2 * s.c, h: s.h, w: s.w))
        }
        if noiseInput {
            guard let sigmas, sigmas.count == n else { preconditionFailure("a noise-conditioned ConvDenoiser needs one σ per image") }
            if features.rows != n { features = Matrix(rows: n, cols: Self.featureCount) }
            for b in 0..<n { for (j, f) in Self.features(sigma: sigmas[b]).enumerated() { features.data[b * Self.featureCount + j] = f } }
            for l in layers { l.filmFeatures = features }
        }
        let a0 = head1.forward(head0.forward(first))
        e0 = a0
        let half = Self.unshuffle(a0.data, a0.shape, into: &u0)
        let a1 = enc1.forward(down1.forward(FeatureMaps(data: u0, shape: half)))
        e1 = a1
        let quarter = Self.unshuffle(a1.data, a1.shape, into: &u1)
        var a2 = mid2.forward(mid1.forward(down2.forward(FeatureMaps(data: u1, shape: quarter))))
        a2 = residualForward(res, a2, outputs: &resOut)
        Self.skipJoin(skip: a1, up: up1.forward(a2), into: &s1)
        let d1 = dec1.forward(FeatureMaps(data: s1, shape: a1.shape))
        Self.skipJoin(skip: a0, up: up0.forward(d1), into: &s0)
        let d0 = residualForward(fine, dec0.forward(FeatureMaps(data: s0, shape: a0.shape)), outputs: &fineOut)
        let noise = tail.forward(d0)
        resize(&out, rows: n, cols: s.count)
        for i in 0..<(n * s.count) { out.data[i] = input.data.data[i] - noise.data.data[i] }
        return FeatureMaps(data: out, shape: s)
    }

    /// relu(x + conv(x)) through each of `blocks`; each block's output is kept in `outputs` for
    /// the backward pass.
    private func residualForward(_ blocks: [Conv2d], _ x: FeatureMaps, outputs: inout [Matrix]) -> FeatureMaps {
        var a = x
        while outputs.count < blocks.count { outputs.append(Matrix(rows: 0, cols: 1)) }
        for (i, block) in blocks.enumerated() {
            resize(&outputs[i], rows: x.n, cols: a.shape.count)
            outputs[i].copy(from: a.data)
            let r = block.forward(a)
            let o = outputs[i]
            for j in 0..<o.count { o.data[j] = max(0, o.data[j] + r.data.data[j]) }
            a = FeatureMaps(data: o, shape: a.shape)
        }
        return a
    }

    /// The adjoint of `residualForward`: the gradient at the blocks' input from the one at
    /// their output (parameter gradients accumulated).
    private func residualBackward(_ blocks: [Conv2d], _ dy: Matrix, outputs: [Matrix], skips: inout [Matrix]) -> Matrix {
        var d = dy
        while skips.count < blocks.count { skips.append(Matrix(rows: 0, cols: 1)) }
        for (i, block) in blocks.enumerated().reversed() {
            Activation.relu.backward(d.data, output: outputs[i].data, count: d.count)
            let skip = copy(d, into: &skips[i])
            let dIn = block.backward(d)!
            for j in 0..<skip.count { skip.data[j] += dIn.data[j] }
            d = skip
        }
        return d
    }

    /// m = a copy of x (m reallocated only when the shape changes).
    private func copy(_ x: Matrix, into m: inout Matrix) -> Matrix {
        resize(&m, rows: x.rows, cols: x.cols)
        m.copy(from: x)
        return m
    }

    /// The loss `backward` takes the gradient of.
    public enum Loss: Sendable {
        /// ½ Σ (out − clean)² over the batch.
        case sumOfSquares
        /// Σ over patches of ½·m·K·log(MSE + ε), m a patch's values, K = `logLossScale`,
        /// ε = `logLossFloor`: the mean PSNR over patches is what is optimised, so a low-noise
        /// patch, whose squared error is small, weighs as much as a heavy-noise one (with
        /// ½ Σ (out − clean)² the heaviest noise drives training). Its gradient is the squared
        /// error's, each patch's scaled by K / (MSE + ε).
        case logPerPatch
    }
    public static let logLossScale = 1e-3, logLossFloor = 1e-5

    /// The `loss` of the batch against `clean`, with the gradient propagated to every
    /// parameter (accumulated). Call after `forward`.
    public func backward(clean: Matrix, loss kind: Loss = .sumOfSquares) -> Double {
        guard let x, let e0, let e1 else { preconditionFailure("backward before forward") }
        let n = x.n, s = x.shape
        var loss = 0.0
        // d out = out − clean; d noise = −(out − clean)
        resize(&dNoise, rows: n, cols: s.count)
        for b in 0..<n {
            var patch = 0.0
            for i in (b * s.count)..<((b + 1) * s.count) {
                let d = out.data[i] - clean.data[i]
                patch += Double(d * d)
                dNoise.data[i] = -d
            }
            switch kind {
            case .sumOfSquares: loss += patch
            case .logPerPatch:
                let mse = patch / Double(s.count)
                let weight = Float(Self.logLossScale / (mse + Self.logLossFloor))
                for i in (b * s.count)..<((b + 1) * s.count) { dNoise.data[i] *= weight }
                loss += Double(s.count) * Self.logLossScale * log(mse + Self.logLossFloor)
            }
        }
        let dd0 = residualBackward(fine, tail.backward(dNoise)!, outputs: fineOut, skips: &fineSkips)
        let dS0 = dec0.backward(dd0)!
        Activation.relu.backward(dS0.data, output: s0.data, count: dS0.count)
        let dE0 = copy(dS0, into: &self.dE0)               // skip into e0
        _ = Self.unshuffle(dS0, e0.shape, into: &dt0)           // shuffle's adjoint
        let dd1 = up0.backward(dt0)!
        let dS1 = dec1.backward(dd1)!
        Activation.relu.backward(dS1.data, output: s1.data, count: dS1.count)
        let dE1 = copy(dS1, into: &self.dE1)
        _ = Self.unshuffle(dS1, e1.shape, into: &dt1)
        let de2 = residualBackward(res, up1.backward(dt1)!, outputs: resOut, skips: &resSkips)
        let dU1 = down2.backward(mid1.backward(mid2.backward(de2)!)!)!
        Self.shuffleAdd(dU1, onto: dE1, e1.shape)               // unshuffle's adjoint
        let dU0 = down1.backward(enc1.backward(dE1)!)!
        Self.shuffleAdd(dU0, onto: dE0, e0.shape)
        _ = head0.backward(head1.backward(dE0)!)
        return 0.5 * loss
    }

    public func exportTensors() -> [NamedTensor] {
        parameters.map { NamedTensor(name: $0.name, shape: $0.shape, values: $0.value.array) }
    }

    /// Loads every parameter from `tensors`. With `upgrading`, tensors the file lacks (the
    /// conditioning and residual blocks a blind, shallower model has none of) keep their
    /// zero initialisation, so the result computes what the file's model did.
    public func importTensors(_ tensors: [String: NamedTensor], file: String, upgrading: Bool = false) throws {
        var expected = Set<String>()
        for p in parameters {
            expected.insert(p.name)
            if upgrading && tensors[p.name] == nil && (p.name.hasSuffix(".film") || p.name.hasPrefix("res") || p.name.hasPrefix("fine")) { continue }
            guard let t = tensors[p.name] else { throw ModelFileError.missingTensor(file: file, tensor: p.name) }
            guard t.shape == p.shape else { throw ModelFileError.wrongShape(file: file, tensor: p.name, expected: p.shape, found: t.shape) }
            p.value.copy(from: t.values)
        }
        if let extra = tensors.keys.sorted().first(where: { !expected.contains($0) && !$0.hasPrefix("optim.") }) {
            throw ModelFileError.unexpectedTensor(file: file, tensor: extra)
        }
    }

    public var metadata: [String: String] {
        var m = ["format": "latent", "format_version": ModelConfig.formatVersion, "kind": "conv-dae", "channels": "\(channels)",
                 "widths": "\(widths.0),\(widths.1),\(widths.2)",
                 "blocks": "\(res.count)", "noise_input": noiseInput ? "sigma" : noiseMap ? "map" : "none"]
        if !fine.isEmpty { m["fine_blocks"] = "\(fine.count)" }
        if mapSpace != .rgb { m["noise_map_space"] = mapSpace.rawValue }
        return m
    }
}

/// Reusable buffers for `ConvDenoiser.infer`, one per thread. Tiles of one size reuse every
/// buffer: no allocation, no page faults and no re-zeroing of the padding after the first tile.
public final class ConvWorkspace {
    private struct Slot {
        var base: UnsafeMutablePointer<Float>?
        var capacity = 0
        var shape = [0, 0, 0, 0]
    }
    private var slots = [Slot](repeating: Slot(), count: 6)

    public init() {}

    deinit { for s in slots { s.base?.deallocate() } }

    /// Slot `i` as `c` planes of h x w with a zero border of `pad` pixels.
    func planes(_ i: Int, c: Int, h: Int, w: Int, pad: Int) -> Planes {
        let row = w + 2 * pad, plane = (h + 2 * pad) * row, n = c * plane
        if slots[i].capacity < n {
            slots[i].base?.deallocate()
            slots[i].base = .allocate(capacity: n)
            slots[i].capacity = n
            slots[i].shape = []
        }
        let base = slots[i].base!
        if slots[i].shape != [c, h, w, pad] {
            if pad > 0 { base.update(repeating: 0, count: n) }
            slots[i].shape = [c, h, w, pad]
        }
        return Planes(origin: base + pad * row + pad, c: c, h: h, w: w, pad: pad, row: row, plane: plane)
    }
}

/// Feature planes inside a workspace slot: `origin` is pixel (0, 0) of channel 0; rows `row` and
/// channels `plane` floats apart; `pad` zero pixels around each plane.
struct Planes {
    let origin: UnsafeMutablePointer<Float>
    let c, h, w, pad, row, plane: Int
}

extension ConvDenoiser {
    /// Layer weights as inference uses them: the layer's own, or with the noise-level
    /// conditioning folded in (one set per image, whatever the tile: tiles stay exact).
    ///
    /// They also keep each layer's kernel once it is packed (`kernel(_:_:)`), so that streams
    /// that share one value (a batch's files, for a model whose weights do not depend on σ:
    /// `dependsOnSigma`) pack every layer once. The model's weights must not change while a
    /// value is in use (inference only; a trainer makes a new one after each step).
    public struct InferenceWeights: @unchecked Sendable {
        let folded: [ObjectIdentifier: (weight: [Float], bias: [Float])]
        let kernels = KernelCache()
        public init(_ model: ConvDenoiser, sigma: Float?) {
            guard model.noiseInput else { folded = [:]; return }
            guard let sigma else { preconditionFailure("a noise-conditioned ConvDenoiser needs σ") }
            let phi = ConvDenoiser.features(sigma: sigma)
            var f: [ObjectIdentifier: (weight: [Float], bias: [Float])] = [:]
            for l in model.layers { f[ObjectIdentifier(l)] = l.effectiveWeights(phi) }
            folded = f
        }
        /// Whether the weights differ from one σ to another (σ folded into them: FiLM), so that
        /// one value cannot serve images of different noise.
        public static func dependsOnSigma(_ model: ConvDenoiser) -> Bool { model.noiseInput }
    }

    /// Packed kernels by layer and by whether the CPU path in use takes packed direct weights
    /// (`lk_conv_uses_packed`, which a thread's SIMD cap can change).
    final class KernelCache: @unchecked Sendable {
        private let lock = NSLock()
        private var kernels: [Key: ConvKernel] = [:]
        private struct Key: Hashable { let layer: ObjectIdentifier, packed: Bool }
        var count: Int { lock.withLock { kernels.count } }
        func kernel(_ l: Conv2d, make: () -> ConvKernel) -> ConvKernel {
            let key = Key(layer: ObjectIdentifier(l), packed: lk_conv_uses_packed() != 0)
            if let k = lock.withLock({ kernels[key] }) { return k }
            let k = make()
            lock.withLock { kernels[key] = k }
            return k
        }
    }

    private func conv(_ layer: Conv2d, _ x: Planes, _ out: Planes, relu: Bool, _ weights: InferenceWeights) {
        let p = layer.kernel / 2
        precondition(layer.isSame && x.pad >= p && x.c == layer.inChannels && out.c == layer.outChannels && x.h == out.h && x.w == out.w)
        let k = kernel(layer, weights), lead = k.lead(0)
        guard lead > 0 else {
            k.run(x.origin - p * x.row - p, xrow: x.row, xplane: x.plane, rows: x.h, cols: x.w, relu: relu,
                  into: out.origin, orow: out.row, oplane: out.plane)
            return
        }
        // The first tile row starts `lead` rows above the map: the input padded with that many
        // more zero rows on top, the output computed with them and then dropped.
        let rows = x.h + 2 + lead, n = x.h + lead
        var input = [Float](repeating: 0, count: x.c * rows * x.row), output = [Float](repeating: 0, count: out.c * n * x.w)
        input.withUnsafeMutableBufferPointer { i in
            for c in 0..<x.c {
                (i.baseAddress! + (c * rows + lead) * x.row).update(from: x.origin + c * x.plane - x.row - 1, count: (x.h + 2) * x.row)
            }
            output.withUnsafeMutableBufferPointer { o in
                k.run(i.baseAddress!, xrow: x.row, xplane: rows * x.row, rows: n, cols: x.w, relu: relu, into: o.baseAddress!, orow: x.w, oplane: n * x.w)
                for c in 0..<out.c {
                    for y in 0..<x.h { (out.origin + c * out.plane + y * out.row).update(from: o.baseAddress! + (c * n + lead + y) * x.w, count: x.w) }
                }
            }
        }
    }

    /// x = relu(x + conv(x)) for each of `blocks`, in place, through `scratch` (the same
    /// operation as the row stream's residual blocks, lk_add_relu), each block's output rounded
    /// to halves.
    private func residual(_ blocks: [Conv2d], _ x: Planes, scratch r: Planes, _ weights: InferenceWeights) {
        for block in blocks {
            conv(block, x, r, relu: false, weights)
            for c in 0..<x.c {
                for y in 0..<x.h {
                    let xp = x.origin + c * x.plane + y * x.row
                    lk_add_relu(xp, r.origin + c * r.plane + y * r.row, xp, x.w)
                }
            }
            Self.roundToHalf(x)
        }
    }

    /// A feature map as `ConvRowStream` stores it: IEEE halves (the values both read).
    private static func roundToHalf(_ x: Planes) {
        for c in 0..<x.c { for y in 0..<x.h { lk_round_half(x.origin + c * x.plane + y * x.row, x.w) } }
    }

    private static func unshuffle(_ x: Planes, into out: Planes) {
        precondition(x.pad == 0 && out.pad == 0)
        PixelShuffle.unshuffle(x.origin, FeatureShape(c: x.c, h: x.h, w: x.w), out.origin)
    }

    private static func join(_ t: Planes, skip: Planes, into out: Planes) {
        precondition(t.pad == 0 && skip.pad == 0)
        lk_shuffle_add_relu(t.origin, skip.origin, skip.c, skip.h, skip.w, out.origin, out.row, out.plane)
    }

    /// Inference on one image: `x` planes (`inputPlanes`, h, w: the image, then the noise map
    /// of a noise-map model), h and w multiples of 4, result (the denoised `channels` planes)
    /// into `out`. Exact kernels: every output pixel depends only on the input
    /// pixels within `receptiveRadius` of it, never on the image's size or where a band or tile
    /// starts (when it starts on a multiple of 4). Layers write straight into the zero-padded
    /// buffers of the next; six buffers in all (about 129 floats per pixel at the default widths).
    public func infer(_ x: UnsafePointer<Float>, h: Int, w: Int, sigma: Float? = nil, into out: UnsafeMutablePointer<Float>, workspace ws: ConvWorkspace) {
        infer(x, h: h, w: w, weights: InferenceWeights(self, sigma: sigma), into: out, workspace: ws)
    }

    public func infer(_ x: UnsafePointer<Float>, h: Int, w: Int, weights iw: InferenceWeights, into out: UnsafeMutablePointer<Float>, workspace ws: ConvWorkspace) {
        precondition(h % 4 == 0 && w % 4 == 0, "infer needs planes of multiples of 4")
        let (c0, c1, c2) = widths, mc = channels
        let (h2, w2, h4, w4) = (h / 2, w / 2, h / 4, w / 4)
        let xin = ws.planes(0, c: inputPlanes, h: h, w: w, pad: 1)
        for c in 0..<inputPlanes { for y in 0..<h { (xin.origin + c * xin.plane + y * xin.row).update(from: x + (c * h + y) * w, count: w) } }
        let a0 = ws.planes(1, c: c0, h: h, w: w, pad: 1)
        conv(head0, xin, a0, relu: true, iw)
        Self.roundToHalf(a0)
        let e0 = ws.planes(2, c: c0, h: h, w: w, pad: 0)
        conv(head1, a0, e0, relu: true, iw)
        Self.roundToHalf(e0)
        let u0 = ws.planes(1, c: 4 * c0, h: h2, w: w2, pad: 0)
        Self.unshuffle(e0, into: u0)
        let d = ws.planes(3, c: c1, h: h2, w: w2, pad: 1)
        conv(down1, u0, d, relu: true, iw)
        Self.roundToHalf(d)
        let e1 = ws.planes(4, c: c1, h: h2, w: w2, pad: 0)
        conv(enc1, d, e1, relu: true, iw)
        Self.roundToHalf(e1)
        let u1 = ws.planes(1, c: 4 * c1, h: h4, w: w4, pad: 0)
        Self.unshuffle(e1, into: u1)
        let m0 = ws.planes(3, c: c2, h: h4, w: w4, pad: 1)
        conv(down2, u1, m0, relu: true, iw)
        Self.roundToHalf(m0)
        let m1 = ws.planes(5, c: c2, h: h4, w: w4, pad: 1)
        conv(mid1, m0, m1, relu: true, iw)
        Self.roundToHalf(m1)
        let m2 = ws.planes(3, c: c2, h: h4, w: w4, pad: res.isEmpty ? 0 : 1)
        conv(mid2, m1, m2, relu: true, iw)
        Self.roundToHalf(m2)
        residual(res, m2, scratch: ws.planes(5, c: c2, h: h4, w: w4, pad: 0), iw)
        let t1 = ws.planes(1, c: 4 * c1, h: h4, w: w4, pad: 0)
        conv(up1, m2, t1, relu: false, iw)
        let s1 = ws.planes(3, c: c1, h: h2, w: w2, pad: 1)
        Self.join(t1, skip: e1, into: s1)
        Self.roundToHalf(s1)
        let d1 = ws.planes(5, c: c1, h: h2, w: w2, pad: 0)
        conv(dec1, s1, d1, relu: true, iw)
        Self.roundToHalf(d1)
        let t0 = ws.planes(1, c: 4 * c0, h: h2, w: w2, pad: 0)
        conv(up0, d1, t0, relu: false, iw)
        let s0 = ws.planes(3, c: c0, h: h, w: w, pad: 1)
        Self.join(t0, skip: e0, into: s0)
        Self.roundToHalf(s0)
        let d0 = ws.planes(1, c: c0, h: h, w: w, pad: 1)
        conv(dec0, s0, d0, relu: true, iw)
        Self.roundToHalf(d0)
        residual(fine, d0, scratch: ws.planes(2, c: c0, h: h, w: w, pad: 0), iw)   // e0's buffer: no longer needed
        let noise = ws.planes(4, c: mc, h: h, w: w, pad: 0)
        conv(tail, d0, noise, relu: false, iw)
        for i in 0..<(mc * h * w) { out[i] = x[i] - noise.origin[i] }
    }

    /// `infer` on arrays with a workspace of its own (tests, one-off calls).
    public func infer(_ x: [Float], h: Int, w: Int, sigma: Float? = nil) -> [Float] {
        precondition(x.count == inputPlanes * h * w, "infer: \(x.count) values for \(inputPlanes)x\(h)x\(w)")
        var out = [Float](repeating: 0, count: channels * h * w)
        x.withUnsafeBufferPointer { xb in out.withUnsafeMutableBufferPointer { infer(xb.baseAddress!, h: h, w: w, sigma: sigma, into: $0.baseAddress!, workspace: ConvWorkspace()) } }
        return out
    }
}

extension ConvDenoiser {
    /// Fine-tuning or a longer schedule: starts from the weights of the model file at `path`. The
    /// file must have the same widths and noise input; a file with fewer residual blocks or
    /// without noise-level conditioning is upgraded (the new parts start at zero, computing what
    /// the file's model did). Refused, naming the file and the difference, otherwise.
    public func initialise(from path: String) throws {
        let (tensors, meta) = try SafeTensors.read(path: path)
        let mine = "\(widths.0),\(widths.1),\(widths.2)"
        guard meta["widths"] == mine || meta["widths"] == nil else {
            throw ModelFileError.badMetadata(file: path, reason: "its widths \(meta["widths"] ?? "?") differ from this model's \(mine)")
        }
        let file = try ConvModelFile.extras(meta, file: path)
        if file.noiseMap != noiseMap {
            throw ModelFileError.badMetadata(file: path, reason: file.noiseMap ? "it takes a noise map, this model does not" : "it takes no noise map, this model does")
        }
        if file.noiseInput && !noiseInput {
            throw ModelFileError.badMetadata(file: path, reason: "it is conditioned on the noise level, this model is not")
        }
        if file.blocks > blocks {
            throw ModelFileError.badMetadata(file: path, reason: "it has \(file.blocks) residual blocks, this model \(blocks)")
        }
        if file.fineBlocks > fineBlocks {
            throw ModelFileError.badMetadata(file: path, reason: "it has \(file.fineBlocks) full-resolution blocks, this model \(fineBlocks)")
        }
        try importTensors(tensors, file: path, upgrading: true)
    }
}

/// Loading convolutional denoisers (metadata kind "conv-dae").
public enum ConvModelFile {
    public static func isConv(_ metadata: [String: String]) -> Bool { metadata["kind"] == "conv-dae" }

    public static func load(path: String) throws -> (model: ConvDenoiser, metadata: [String: String]) {
        let loaded = try ModelLoader.load(path: path)
        guard case .conv(let model) = loaded.model else { throw ModelFileError.badMetadata(file: path, reason: "not a conv-dae model (kind '\(loaded.metadata["kind"] ?? "none")')") }
        return (model, loaded.metadata)
    }

    /// The residual blocks and noise conditioning a file's metadata declares (none when absent,
    /// as in files written before they existed).
    public static func extras(_ meta: [String: String], file: String) throws -> (blocks: Int, fineBlocks: Int, noiseInput: Bool, noiseMap: Bool) {
        guard let blocks = Int(meta["blocks"] ?? "0"), (0...16).contains(blocks) else { throw ModelFileError.badMetadata(file: file, reason: "blocks must be 0-16") }
        guard let fine = Int(meta["fine_blocks"] ?? "0"), (0...8).contains(fine) else {
            throw ModelFileError.badMetadata(file: file, reason: "fine_blocks must be 0-8")
        }
        let noise = meta["noise_input"] ?? "none"
        guard ["none", "sigma", "map"].contains(noise) else { throw ModelFileError.badMetadata(file: file, reason: "unknown noise_input '\(noise)'") }
        return (blocks, fine, noise == "sigma", noise == "map")
    }

    /// The architecture a conv-dae file's metadata declares, checked.
    struct Shape {
        var channels: Int, widths: (Int, Int, Int), blocks: Int, fineBlocks: Int, noiseInput: Bool, noiseMap: Bool
        var mapSpace: NoiseMapSpace = .rgb
        /// The bundled noise-map estimator's width and depth (metadata `estimator` = "W,D").
        var estimator: (width: Int, depth: Int)?
        /// Its input (metadata `estimator_features`).
        var estimatorFeatures: NoiseMapEstimator.InputFeatures = .raw
        var parameterCount: Int? {
            guard let n = ConvDenoiser.parameterCount(channels: channels, widths: widths, blocks: blocks, fineBlocks: fineBlocks, noiseInput: noiseInput,
                                                      noiseMap: noiseMap)
            else { return nil }
            guard let e = estimator else { return n }
            return n + NoiseMapEstimator.parameterCount(channels: channels, width: e.width, depth: e.depth, features: estimatorFeatures)
        }
    }

    static func shape(metadata meta: [String: String], file: String) throws -> Shape {
        guard isConv(meta) else { throw ModelFileError.badMetadata(file: file, reason: "not a conv-dae model (kind '\(meta["kind"] ?? "none")')") }
        if let v = meta["format_version"], v != ModelConfig.formatVersion {
            throw ModelFileError.badMetadata(file: file, reason: "model format version \(v) is not supported")
        }
        guard let ch = Int(meta["channels"] ?? ""), ch == 1 || ch == 3 else { throw ModelFileError.badMetadata(file: file, reason: "channels must be 1 or 3") }
        let w = (meta["widths"] ?? "").split(separator: ",").compactMap { Int($0) }
        guard w.count == 3, w.allSatisfy({ $0 > 0 && $0 <= 1024 }) else { throw ModelFileError.badMetadata(file: file, reason: "widths must be three channel counts") }
        let (blocks, fineBlocks, noiseInput, noiseMap) = try extras(meta, file: file)
        var estimator: (Int, Int)?
        if let e = meta["estimator"] {
            let v = e.split(separator: ",").compactMap { Int($0) }
            guard noiseMap, v.count == 2, NoiseMapEstimator.widths.contains(v[0]), NoiseMapEstimator.depths.contains(v[1]) else {
                throw ModelFileError.badMetadata(file: file, reason: "metadata 'estimator' = '\(e)' is not WIDTH,DEPTH of a noise-map model's estimator")
            }
            estimator = (v[0], v[1])
        }
        let space = meta["noise_map_space"] ?? "rgb"
        guard let mapSpace = NoiseMapSpace(rawValue: space) else { throw ModelFileError.badMetadata(file: file, reason: "unknown noise_map_space '\(space)'") }
        guard mapSpace == .rgb || (noiseMap && ch == 3) else {
            throw ModelFileError.badMetadata(file: file, reason: "noise_map_space '\(space)' is for an RGB model that takes a noise map")
        }
        return Shape(channels: ch, widths: (w[0], w[1], w[2]), blocks: blocks, fineBlocks: fineBlocks, noiseInput: noiseInput, noiseMap: noiseMap,
                     mapSpace: mapSpace, estimator: estimator, estimatorFeatures: try NoiseMapEstimator.storedFeatures(meta, path: file))
    }

    /// Tensors of a bundled estimator carry this prefix in the file.
    public static let estimatorPrefix = "estimator."

    static func make(_ s: Shape, tensors: [String: NamedTensor], file: String, metadata: [String: String] = [:]) throws -> ConvDenoiser {
        let model = ConvDenoiser(channels: s.channels, widths: s.widths, blocks: s.blocks, fineBlocks: s.fineBlocks, noiseInput: s.noiseInput,
                                 noiseMap: s.noiseMap, seed: 0)
        model.mapSpace = s.mapSpace
        let own = tensors.filter { !$0.key.hasPrefix(estimatorPrefix) }
        try model.importTensors(s.estimator == nil ? tensors : own, file: file)
        if let e = s.estimator {
            let est = NoiseMapEstimator(channels: s.channels, width: e.width, depth: e.depth, features: s.estimatorFeatures, seed: 0)
            try est.importTensors(tensors, file: file, prefix: estimatorPrefix)
            model.estimator = est
        }
        if let range = metadata["train_sigma"], let hi = range.split(separator: "-").last.flatMap({ Float($0) }), hi > 0 {
            model.trainedSigmaMax = hi
        }
        model.setExactInference(true)
        return model
    }
}
