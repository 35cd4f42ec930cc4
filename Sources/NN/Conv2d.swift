import CKernels
import Tensor

/// Shape of one image's feature map: channels x height x width, stored channel-major.
public struct FeatureShape: Equatable, Sendable, CustomStringConvertible {
    public var c: Int
    public var h: Int
    public var w: Int
    public init(c: Int, h: Int, w: Int) { self.c = c; self.h = h; self.w = w }
    public var count: Int { c * h * w }
    public var description: String { "\(c)x\(h)x\(w)" }
}

/// A batch of feature maps: rows of a Matrix, each row one image's (c, h, w) map.
public struct FeatureMaps {
    public var data: Matrix
    public var shape: FeatureShape
    public var n: Int { data.rows }
    public init(data: Matrix, shape: FeatureShape) {
        precondition(data.cols == shape.count, "feature maps: \(data.cols) values per row for shape \(shape)")
        self.data = data
        self.shape = shape
    }
}

/// 2-D convolution, k x k, stride s, zero padding p (default: stride 1, padding k/2 for odd k, the
/// "same" convolution), with a fused activation:
///
///     y[co, oy, ox] = f(b[co] + Σ_{ci, ky, kx} W[co, ci, ky, kx] · x[ci, oy·s + ky − p, ox·s + kx − p])
///
/// - Shapes: x (n, Cin·H·W), y (n, Cout·Ho·Wo) with Ho = (H + 2p − k)/s + 1 (likewise Wo);
///   W [Cout, Cin, k, k] as PyTorch's `nn.Conv2d`.
/// - Training path, by geometry:
///   - "same" layers of k > 1: the forward on inference's kernels (Winograd F(4x4, 3x3) where
///     `lk_wino4_applies`, else the direct `lk_conv_exact`) over a zero-padded copy of each image;
///     with dz = dy ⊙ f'(y), the input gradient is the same convolution of dz with the weights
///     turned 180° and transposed (Cin and Cout swapped); dW of a 3x3 layer on maps of sides
///     that are multiples of 4 on F(4x4, 3x3) too (Gᵀ [Σ_tiles (A dz Aᵀ) ⊙ (Bᵀ x B)] G, one
///     sgemm per transform element over the batch's tiles), otherwise one sgemm per kernel
///     offset: dz against the padded input shifted by (ky, kx), both laid out on the padded row
///     width (dz's extra columns zero);
///   - 1x1 layers: y_b (Cout, HW) = W · x_b, dW += dz_b · x_bᵀ, dx_b = Wᵀ · dz_b (sgemm);
///   - strided and "valid" layers: im2col + sgemm, y_b = W (Cout, Cin·k²) · cols_b, dW += dz_b ·
///     cols_bᵀ, dcols = Wᵀ · dz_b, then col2im. `im2colTraining = true` puts every layer on this
///     path (the tests compare the two).
///   db += Σ dz throughout.
/// - Inference path (`exactInference`): `lk_conv_exact`, where every output pixel is computed with
///   the same instruction sequence whatever the image size: band- or tile-wise inference then
///   equals whole-image inference bit for bit. (Stride-1 "same" layers only; others keep the
///   training path.)
/// - Initialisation (PyTorch's): W and b uniform in ±1/√(Cin·k²).
/// - Optional conditioning (FiLM) on K per-image features φ (the noise level, say): the
///   pre-activation becomes (W·x + b)·(1 + φ·G) + φ·V, G and V of K x Cout stored together as
///   `film` [2K, Cout], zero-initialised (so adding it to a trained layer changes nothing). At
///   inference this folds into the weights: W' = diag(1 + φ·G)·W, b' = (1 + φ·G)·b + φ·V.
public final class Conv2d {
    public let weight: Parameter
    public let bias: Parameter
    public let film: Parameter?
    /// The conditioning features for the next forward: (n, K), one row per image of the batch.
    public var filmFeatures: Matrix?
    public let inChannels: Int
    public let outChannels: Int
    public let kernel: Int
    public let stride: Int
    public let padding: Int
    public var activation: Activation
    public var computesInputGradient: Bool
    public var exactInference = false
    /// Train every layer on im2col + sgemm (see the type's doc); off by default.
    public var im2colTraining = false

    private var input: FeatureMaps?
    private var output = Matrix(rows: 0, cols: 1)
    private var outShape = FeatureShape(c: 0, h: 0, w: 0)
    private var cols = [Float]()
    private var dcols = [Float]()
    private var dInput = Matrix(rows: 0, cols: 1)
    private var padded = [Float]()
    private var winograd = [Float]()
    private var paddedDz = [Float]()
    private var offsetGrads = [Float]()
    private var tilesIn = [Float]()
    private var tilesOut = [Float]()
    private var preFilm = Matrix(rows: 0, cols: 1)

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int? = nil,
                activation: Activation = .identity, name: String, computesInputGradient: Bool = true, filmFeatures k: Int = 0,
                rng: inout RandomGenerator) {
        precondition(kernel >= 1 && stride >= 1 && (padding ?? 0) >= 0, "kernel and stride at least 1, padding at least 0")
        precondition(padding != nil || kernel % 2 == 1, "the default padding (k/2, same size) needs an odd kernel")
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding ?? kernel / 2
        self.activation = activation
        self.computesInputGradient = computesInputGradient
        let fanIn = inChannels * kernel * kernel
        weight = Parameter(name: name + ".weight", shape: [outChannels, inChannels, kernel, kernel], rows: outChannels, cols: fanIn)
        bias = Parameter(name: name + ".bias", shape: [outChannels], rows: 1, cols: outChannels)
        let bound = 1 / Float(fanIn).squareRoot()
        for i in 0..<weight.count { weight.value.data[i] = (rng.uniform() * 2 - 1) * bound }
        for i in 0..<bias.count { bias.value.data[i] = (rng.uniform() * 2 - 1) * bound }
        film = k > 0 ? Parameter(name: name + ".film", shape: [2 * k, outChannels], rows: 2 * k, cols: outChannels) : nil
        film?.value.fill(0)
    }

    /// A layer sharing `other`'s weights (the same memory) with gradients and buffers of its own:
    /// for data-parallel replicas.
    public init(sharing other: Conv2d) {
        inChannels = other.inChannels
        outChannels = other.outChannels
        kernel = other.kernel
        stride = other.stride
        padding = other.padding
        activation = other.activation
        computesInputGradient = other.computesInputGradient
        exactInference = other.exactInference
        weight = Parameter(sharing: other.weight)
        bias = Parameter(sharing: other.bias)
        film = other.film.map { Parameter(sharing: $0) }
    }

    public var parameters: [Parameter] { [weight, bias] + (film.map { [$0] } ?? []) }

    /// K, the number of conditioning features (0: none).
    public var filmCount: Int { (film?.value.rows ?? 0) / 2 }

    /// Per output channel, the scale 1 + φ·G and shift φ·V for features φ (K values).
    public func filmScaleShift(_ phi: UnsafePointer<Float>) -> (scale: [Float], shift: [Float]) {
        var scale = [Float](repeating: 1, count: outChannels), shift = [Float](repeating: 0, count: outChannels)
        guard let film else { return (scale, shift) }
        let k = filmCount
        for j in 0..<k {
            for co in 0..<outChannels {
                scale[co] += phi[j] * film.value.data[j * outChannels + co]
                shift[co] += phi[j] * film.value.data[(k + j) * outChannels + co]
            }
        }
        return (scale, shift)
    }

    /// Weights and bias with the conditioning for features φ folded in (the plain ones without
    /// conditioning): what inference convolves with.
    public func effectiveWeights(_ phi: UnsafePointer<Float>?) -> (weight: [Float], bias: [Float]) {
        var w = weight.value.array, b = bias.value.array
        guard film != nil, let phi else { return (w, b) }
        let (scale, shift) = filmScaleShift(phi)
        let fan = w.count / outChannels
        for co in 0..<outChannels {
            for i in 0..<fan { w[co * fan + i] *= scale[co] }
            b[co] = b[co] * scale[co] + shift[co]
        }
        return (w, b)
    }

    private func filmRow(_ b: Int) -> UnsafePointer<Float>? {
        guard film != nil else { return nil }
        guard let f = filmFeatures, f.cols == filmCount, b < f.rows else {
            preconditionFailure("\(weight.name): conditioned layer run without features for image \(b)")
        }
        return UnsafePointer(f.data + b * f.cols)
    }

    /// "Same" geometry (stride 1, padding k/2, odd k): the fast im2col and the exact kernel apply.
    public var isSame: Bool { stride == 1 && kernel % 2 == 1 && padding == kernel / 2 }

    /// Output size for an input of h x w.
    public func outputSize(h: Int, w: Int) -> (h: Int, w: Int) {
        ((h + 2 * padding - kernel) / stride + 1, (w + 2 * padding - kernel) / stride + 1)
    }

    private func im2col(_ x: UnsafePointer<Float>, h: Int, w: Int, ho: Int, wo: Int, _ cols: UnsafeMutablePointer<Float>) {
        if isSame { lk_im2col(x, inChannels, h, w, kernel, cols) } else { lk_im2col_strided(x, inChannels, h, w, kernel, stride, padding, ho, wo, cols) }
    }

    private func col2imAdd(_ cols: UnsafePointer<Float>, h: Int, w: Int, ho: Int, wo: Int, _ dx: UnsafeMutablePointer<Float>) {
        if isSame { lk_col2im_add(cols, inChannels, h, w, kernel, dx) } else { lk_col2im_add_strided(cols, inChannels, h, w, kernel, stride, padding, ho, wo, dx) }
    }

    public func forward(_ x: FeatureMaps) -> FeatureMaps {
        precondition(x.shape.c == inChannels, "\(weight.name): input has \(x.shape.c) channels, expected \(inChannels)")
        input = x
        let (h, w) = (x.shape.h, x.shape.w), k = kernel
        let (ho, wo) = outputSize(h: h, w: w), hw = ho * wo
        precondition(ho >= 1 && wo >= 1, "\(weight.name): a \(h)x\(w) input is smaller than the \(k)x\(k) kernel")
        outShape = FeatureShape(c: outChannels, h: ho, w: wo)
        if output.cols != outShape.count { output = Matrix(rows: x.n, cols: outShape.count) } else { output.setRows(x.n) }
        if exactInference && isSame { return forwardExact(x) }
        let kdim = inChannels * k * k
        switch trainingPath {
        case .padded:
            paddedConv(x.data.data, count: x.n, inputChannels: inChannels, h: h, w: w, weights: weight.value.array,
                       bias: bias.value.data, outputChannels: outChannels, into: output.data)
        case .pointwise:
            for b in 0..<x.n {
                let y = output.data + b * outShape.count
                for co in 0..<outChannels { (y + co * hw).update(repeating: bias.value.data[co], count: hw) }
                BLAS.gemm(transA: false, transB: false, m: outChannels, n: hw, k: kdim, a: weight.value.data, lda: kdim,
                          b: x.data.data + b * x.shape.count, ldb: hw, beta: 1, c: y, ldc: hw)
            }
        case .im2col:
            if cols.count < kdim * hw { cols = [Float](repeating: 0, count: kdim * hw) }
            cols.withUnsafeMutableBufferPointer { cb in
                for b in 0..<x.n {
                    let y = output.data + b * outShape.count
                    im2col(x.data.data + b * x.shape.count, h: h, w: w, ho: ho, wo: wo, cb.baseAddress!)
                    for co in 0..<outChannels { (y + co * hw).update(repeating: bias.value.data[co], count: hw) }
                    BLAS.gemm(transA: false, transB: false, m: outChannels, n: hw, k: kdim, a: weight.value.data, lda: kdim,
                              b: cb.baseAddress!, ldb: hw, beta: 1, c: y, ldc: hw)
                }
            }
        }
        if film != nil {
            // Keep W·x + b for the gradient of G, then modulate.
            if preFilm.cols != output.cols { preFilm = Matrix(rows: x.n, cols: output.cols) } else { preFilm.setRows(x.n) }
            preFilm.copy(from: output)
            for b in 0..<x.n {
                let (scale, shift) = filmScaleShift(filmRow(b)!)
                for co in 0..<outChannels {
                    let y = output.data + b * outShape.count + co * hw
                    let (g, v) = (scale[co], shift[co])
                    for i in 0..<hw { y[i] = y[i] * g + v }
                }
            }
        }
        activation.forward(output.data, count: output.count)
        return FeatureMaps(data: output, shape: outShape)
    }

    private enum TrainingPath { case padded, pointwise, im2col }
    private var trainingPath: TrainingPath {
        if im2colTraining || !isSame { return .im2col }
        return kernel == 1 ? .pointwise : .padded
    }

    /// count maps of `inputChannels` x h x w at `x` (one after another) convolved "same" (the
    /// layer's kernel size) with `weights` (outputChannels, inputChannels, k, k) plus `bias` (nil:
    /// none), no activation, into count maps at `out`: each map zero-padded, then inference's
    /// kernels, Winograd F(4x4, 3x3) where it applies, else the direct one.
    private func paddedConv(_ x: UnsafePointer<Float>, count: Int, inputChannels c: Int, h: Int, w: Int, weights: [Float],
                            bias: UnsafePointer<Float>?, outputChannels cout: Int, into out: UnsafeMutablePointer<Float>) {
        let k = kernel, p = k / 2, hp = h + 2 * p, wp = w + 2 * p
        let onWinograd = k == 3 && lk_wino4_applies(c, cout) != 0
        if onWinograd {
            let size = lk_wino4_packed_size(c, cout)
            if winograd.count < size { winograd = [Float](repeating: 0, count: size) }
            lk_wino4_pack(weights, c, cout, &winograd)
        }
        if padded.count < c * hp * wp { padded = [Float](repeating: 0, count: c * hp * wp) }
        let zeros = [Float](repeating: 0, count: cout)
        padded.withUnsafeMutableBufferPointer { pb in
            let base = pb.baseAddress!
            base.update(repeating: 0, count: c * hp * wp)
            for b in 0..<count {
                Self.copyPadded(x + b * c * h * w, channels: c, h: h, w: w, pad: p, into: base)
                let y = out + b * cout * h * w
                zeros.withUnsafeBufferPointer { z in
                    let bias = bias ?? z.baseAddress!
                    if onWinograd {
                        lk_conv3_wino4(base, wp, hp * wp, c, h, w, winograd, bias, cout, Int32(LK_IDENTITY), y, w, h * w)
                    } else {
                        lk_conv_exact(base, c, h, w, k, weights, bias, cout, Int32(LK_IDENTITY), y)
                    }
                }
            }
        }
    }

    /// dW += the weight gradient of a 3x3 "same" layer on F(4x4, 3x3), h and w multiples of 4:
    /// the input's and dz's tiles of the whole batch transformed (`lk_wino4_grad_input`,
    /// `lk_wino4_grad_output`), one sgemm per transform element summing over the tiles, and
    /// `lk_wino4_grad_weights` back to 3x3 (a quarter of the per-offset sgemms' multiply-adds).
    private func addWinogradWeightGradients(_ x: FeatureMaps, _ dy: Matrix) {
        let (h, w) = (x.shape.h, x.shape.w), hp = h + 2, wp = w + 2, (c, cout) = (inChannels, outChannels)
        let tiles = (h / 4) * (w / 4), ld = x.n * tiles
        if padded.count < c * hp * wp { padded = [Float](repeating: 0, count: c * hp * wp) }
        if tilesIn.count < 36 * c * ld { tilesIn = [Float](repeating: 0, count: 36 * c * ld) }
        if tilesOut.count < 36 * cout * ld { tilesOut = [Float](repeating: 0, count: 36 * cout * ld) }
        var products = [Float](repeating: 0, count: 36 * cout * c)
        padded.withUnsafeMutableBufferPointer { pb in
            tilesIn.withUnsafeMutableBufferPointer { vb in
                tilesOut.withUnsafeMutableBufferPointer { ub in
                    let xp = pb.baseAddress!, v = vb.baseAddress!, u = ub.baseAddress!
                    xp.update(repeating: 0, count: c * hp * wp)
                    for b in 0..<x.n {
                        Self.copyPadded(x.data.data + b * c * h * w, channels: c, h: h, w: w, pad: 1, into: xp)
                        lk_wino4_grad_input(xp, wp, hp * wp, c, h, w, v + b * tiles, ld, c * ld)
                        lk_wino4_grad_output(dy.data + b * outShape.count, cout, h, w, u + b * tiles, ld, cout * ld)
                    }
                    products.withUnsafeMutableBufferPointer { mb in
                        for e in 0..<36 {
                            BLAS.gemm(transA: false, transB: true, m: cout, n: c, k: ld, a: u + e * cout * ld, lda: ld,
                                      b: v + e * c * ld, ldb: ld, beta: 0, c: mb.baseAddress! + e * cout * c, ldc: c)
                        }
                    }
                }
            }
        }
        lk_wino4_grad_weights(products, c, cout, weight.grad.data)
    }

    /// dW += the weight gradient of a "same" layer of k > 1 (see the type's doc): per image, x
    /// zero-padded to hp x wp and dz laid out on rows of wp (the extra columns zero), then for
    /// each kernel offset (ky, kx) the sgemm G[ky, kx] (Cout, Cin) += dz · (x shifted by
    /// ky·wp + kx)ᵀ over h·wp positions; G scattered into dW's (Cout, Cin, k, k) at the end.
    private func addOffsetWeightGradients(_ x: FeatureMaps, _ dy: Matrix) {
        let (h, w) = (x.shape.h, x.shape.w), k = kernel, p = k / 2, hp = h + 2 * p, wp = w + 2 * p, length = h * wp
        let (c, cout) = (inChannels, outChannels)
        // The last offset's reads run 2p past the last plane (against dz's zero columns).
        if padded.count < c * hp * wp + 2 * p { padded = [Float](repeating: 0, count: c * hp * wp + 2 * p) }
        if paddedDz.count < cout * length { paddedDz = [Float](repeating: 0, count: cout * length) }
        offsetGrads = [Float](repeating: 0, count: k * k * cout * c)
        padded.withUnsafeMutableBufferPointer { pb in
            paddedDz.withUnsafeMutableBufferPointer { zb in
                offsetGrads.withUnsafeMutableBufferPointer { gb in
                    let xp = pb.baseAddress!, dz = zb.baseAddress!, g = gb.baseAddress!
                    xp.update(repeating: 0, count: pb.count)
                    dz.update(repeating: 0, count: cout * length)
                    for b in 0..<x.n {
                        Self.copyPadded(x.data.data + b * c * h * w, channels: c, h: h, w: w, pad: p, into: xp)
                        for co in 0..<cout {
                            for y in 0..<h { (dz + co * length + y * wp).update(from: dy.data + ((b * cout + co) * h + y) * w, count: w) }
                        }
                        for ky in 0..<k {
                            for kx in 0..<k {
                                BLAS.gemm(transA: false, transB: true, m: cout, n: c, k: length, a: dz, lda: length,
                                          b: xp + ky * wp + kx, ldb: hp * wp, beta: 1, c: g + (ky * k + kx) * cout * c, ldc: c)
                            }
                        }
                    }
                    let grad = weight.grad.data
                    for o in 0..<(k * k) {
                        for co in 0..<cout {
                            for ci in 0..<c { grad[(co * c + ci) * k * k + o] += g[(o * cout + co) * c + ci] }
                        }
                    }
                }
            }
        }
    }

    /// Copies `channels` planes of h x w at `src` into the interiors of planes of (h + 2·pad) x
    /// (w + 2·pad) at `dst`, `pad` rows and columns in; the borders are left as they are (the
    /// callers zero the buffer once, and every copy writes the same interior).
    private static func copyPadded(_ src: UnsafePointer<Float>, channels: Int, h: Int, w: Int, pad: Int,
                                   into dst: UnsafeMutablePointer<Float>) {
        let hp = h + 2 * pad, wp = w + 2 * pad
        for c in 0..<channels {
            for y in 0..<h { (dst + (c * hp + y + pad) * wp + pad).update(from: src + (c * h + y) * w, count: w) }
        }
    }

    /// The weights for the input gradient: (Cin, Cout, k, k), each kernel turned 180°.
    private var flippedTransposedWeights: [Float] {
        var t = [Float](repeating: 0, count: weight.count)
        let wv = weight.value.data, kk = kernel * kernel
        for co in 0..<outChannels {
            for ci in 0..<inChannels {
                for i in 0..<kk { t[(ci * outChannels + co) * kk + kk - 1 - i] = wv[(co * inChannels + ci) * kk + i] }
            }
        }
        return t
    }

    /// The inference path of `forward` (`exactInference`, stride-1 "same" layers): each image
    /// padded with zeros and convolved by `lk_conv_exact`, whose every output pixel takes the same
    /// instruction sequence whatever the image size (see the type's doc).
    private func forwardExact(_ x: FeatureMaps) -> FeatureMaps {
        let (h, w) = (x.shape.h, x.shape.w), k = kernel
        let p = k / 2, hp = h + k - 1, wp = w + k - 1
        if padded.count < inChannels * hp * wp { padded = [Float](repeating: 0, count: inChannels * hp * wp) }
        for b in 0..<x.n {
            padded.withUnsafeMutableBufferPointer { pb in
                let base = pb.baseAddress!
                base.update(repeating: 0, count: inChannels * hp * wp)
                Self.copyPadded(x.data.data + b * x.shape.count, channels: inChannels, h: h, w: w, pad: p, into: base)
                let act = activation == .relu ? Int32(LK_RELU) : Int32(LK_IDENTITY), y = output.data + b * outShape.count
                if film != nil {
                    let (ew, eb) = effectiveWeights(filmRow(b))
                    lk_conv_exact(base, inChannels, h, w, k, ew, eb, outChannels, act, y)
                } else {
                    lk_conv_exact(base, inChannels, h, w, k, weight.value.data, bias.value.data, outChannels, act, y)
                }
            }
            if activation != .relu && activation != .identity {
                activation.forward(output.data + b * outShape.count, count: outShape.count)
            }
        }
        return FeatureMaps(data: output, shape: outShape)
    }

    /// dy (n, Cout·Ho·Wo), overwritten; returns dx or nil.
    public func backward(_ dy: Matrix) -> Matrix? {
        guard let x = input else { preconditionFailure("Conv2d.backward before forward") }
        let (h, w) = (x.shape.h, x.shape.w), hw = outShape.h * outShape.w
        activation.backward(dy.data, output: output.data, count: dy.count)
        if film != nil { filmBackward(dy, n: x.n) }
        if computesInputGradient {
            if dInput.cols != x.shape.count { dInput = Matrix(rows: x.n, cols: x.shape.count) } else { dInput.setRows(x.n) }
        }
        for b in 0..<x.n {
            for co in 0..<outChannels {
                var s: Float = 0
                let row = dy.data + b * outShape.count + co * hw
                for i in 0..<hw { s += row[i] }
                bias.grad.data[co] += s
            }
        }
        switch trainingPath {
        case .padded:
            if computesInputGradient {
                paddedConv(dy.data, count: x.n, inputChannels: outChannels, h: h, w: w, weights: flippedTransposedWeights,
                           bias: nil, outputChannels: inChannels, into: dInput.data)
            }
            if kernel == 3 && h % 4 == 0 && w % 4 == 0 { addWinogradWeightGradients(x, dy) } else { addOffsetWeightGradients(x, dy) }
        case .pointwise:
            let kdim = inChannels
            for b in 0..<x.n {
                let dz = dy.data + b * outShape.count, xb = x.data.data + b * x.shape.count
                // dW (Cout, Cin) += dz (Cout, HW) · xᵀ (HW, Cin); dx (Cin, HW) = Wᵀ (Cin, Cout) · dz (Cout, HW)
                BLAS.gemm(transA: false, transB: true, m: outChannels, n: kdim, k: hw, a: dz, lda: hw,
                          b: xb, ldb: hw, beta: 1, c: weight.grad.data, ldc: kdim)
                if computesInputGradient {
                    BLAS.gemm(transA: true, transB: false, m: kdim, n: hw, k: outChannels, a: weight.value.data, lda: kdim,
                              b: dz, ldb: hw, beta: 0, c: dInput.data + b * x.shape.count, ldc: hw)
                }
            }
        case .im2col:
            im2colBackward(x, dy)
        }
        return computesInputGradient ? dInput : nil
    }

    /// With conditioning, dz is with respect to the modulated pre-activation: the gradients of G
    /// and V, then dz ← dz·(1 + φ·G) in place, the gradient with respect to W·x + b.
    private func filmBackward(_ dy: Matrix, n: Int) {
        guard let film else { return }
        let kf = filmCount, hw = outShape.h * outShape.w
        for b in 0..<n {
            let phi = filmRow(b)!
            let (scale, _) = filmScaleShift(phi)
            for co in 0..<outChannels {
                let dz = dy.data + b * outShape.count + co * hw, pre = preFilm.data + b * outShape.count + co * hw
                var s0: Float = 0, s1: Float = 0
                for i in 0..<hw { s0 += dz[i]; s1 += dz[i] * pre[i] }
                for j in 0..<kf {
                    film.grad.data[j * outChannels + co] += phi[j] * s1
                    film.grad.data[(kf + j) * outChannels + co] += phi[j] * s0
                }
                let g = scale[co]
                for i in 0..<hw { dz[i] *= g }
            }
        }
    }

    /// dW and dx on im2col + sgemm: dW (Cout, kdim) += dz · colsᵀ, dcols = Wᵀ · dz, col2im.
    private func im2colBackward(_ x: FeatureMaps, _ dy: Matrix) {
        let (h, w) = (x.shape.h, x.shape.w), kdim = inChannels * kernel * kernel
        let (ho, wo) = (outShape.h, outShape.w), hw = ho * wo
        if computesInputGradient { dInput.fill(0) }
        if cols.count < kdim * hw { cols = [Float](repeating: 0, count: kdim * hw) }
        if computesInputGradient && dcols.count < kdim * hw { dcols = [Float](repeating: 0, count: kdim * hw) }
        cols.withUnsafeMutableBufferPointer { cb in
            dcols.withUnsafeMutableBufferPointer { db in
                for b in 0..<x.n {
                    let dz = dy.data + b * outShape.count
                    im2col(x.data.data + b * x.shape.count, h: h, w: w, ho: ho, wo: wo, cb.baseAddress!)
                    BLAS.gemm(transA: false, transB: true, m: outChannels, n: kdim, k: hw, a: dz, lda: hw,
                              b: cb.baseAddress!, ldb: hw, beta: 1, c: weight.grad.data, ldc: kdim)
                    if computesInputGradient {
                        BLAS.gemm(transA: true, transB: false, m: kdim, n: hw, k: outChannels, a: weight.value.data, lda: kdim,
                                  b: dz, ldb: hw, beta: 0, c: db.baseAddress!, ldc: hw)
                        col2imAdd(db.baseAddress!, h: h, w: w, ho: ho, wo: wo, dInput.data + b * x.shape.count)
                    }
                }
            }
        }
    }
}

/// Space-to-depth by 2 (PixelUnshuffle): (C, H, W) → (4C, H/2, W/2), channel c·4 + 2·dy + dx.
/// With a 1x1 convolution after it, a learned stride-2 downsampling; its inverse (PixelShuffle)
/// after a 1x1 convolution is a stride-2 transposed convolution. Both are permutations, so each
/// one's backward is the other.
public enum PixelShuffle {
    public static func unshuffle(_ x: UnsafePointer<Float>, _ s: FeatureShape, _ out: UnsafeMutablePointer<Float>) {
        // The row-streamed kernel over all rows (the same copy ConvRowStream makes a row at a time).
        lk_unshuffle_rows(x, s.w, s.h * s.w, s.c, s.w, s.h / 2, out, s.w / 2, (s.h / 2) * (s.w / 2))
    }

    /// The inverse: (4C, H/2, W/2) given as `small` → (C, H, W) of shape `s`.
    public static func shuffle(_ x: UnsafePointer<Float>, _ s: FeatureShape, _ out: UnsafeMutablePointer<Float>, add: Bool = false) {
        let h2 = s.h / 2, w2 = s.w / 2
        for c in 0..<s.c {
            for dy in 0..<2 {
                for dx in 0..<2 {
                    let ic = c * 4 + dy * 2 + dx
                    for y in 0..<h2 {
                        let src = x + (ic * h2 + y) * w2
                        let dst = out + (c * s.h + 2 * y + dy) * s.w + dx
                        if add { for xx in 0..<w2 { dst[2 * xx] += src[xx] } } else { for xx in 0..<w2 { dst[2 * xx] = src[xx] } }
                    }
                }
            }
        }
    }
}
