import CKernels
import FileIO
import Foundation
import NN

/// Row-streamed inference of a `ConvDenoiser` over a whole image of any height: input rows go
/// in top to bottom, denoised rows come out in order, and every layer keeps only the rows its
/// consumers still need (a rolling window per feature map). Nothing is computed twice (no halo
/// overlap between bands or tiles) and memory grows with the width, not the height: about the
/// skip connections' lag, some 50 full-resolution rows of the first level's channels. Every
/// feature map is stored as IEEE halves (2 bytes a value; `infer` rounds each map the same way,
/// so both compute the same function; arithmetic stays in float): at 4000 columns the colour
/// model's rows take 68.5 MB (`latent-bench rows`). Only the input planes and the predicted
/// noise stay floats.
///
/// Each layer runs the same exact kernel as `infer` over full-width row ranges, so every output
/// pixel is the one whole-image inference gives, bit for bit (tests). `jobs` threads share each
/// layer's columns (the kernel's sums do not depend on where a column range starts).
public final class ConvRowStream {
    /// One feature map's rolling rows: `c` planes of `w` columns (plus a zero column each side);
    /// image rows [base, end) are held, row y in slot y mod cap, so the rows a map holds are never
    /// moved as the window rolls (session 42: moving the windows of the maps a 3x3 layer reads
    /// was 2% of a denoise). Everything reads and writes a row at a time; the rows above and
    /// below the map (a 3x3 layer's zero padding) are not stored, `layerRows` reads them as
    /// zeros. Cap is even so that rows 2y and 2y + 1 sit side by side (a pair read at once).
    final class Rows {
        let c, w, h: Int
        let row: Int
        /// Values stored as IEEE halves (every feature map): `halfAt` instead of `at`.
        let half: Bool
        private(set) var cap = 0
        private(set) var base = 0
        private(set) var end = 0
        private var store: UnsafeMutableRawPointer
        private var bytes: Int { half ? 2 : 4 }

        /// Without storage when `dry` (a schedule's dry run: the window's bounds are kept, no
        /// values); else with a zeroed store of `capacity` rows.
        let dry: Bool

        init(c: Int, w: Int, h: Int, half: Bool = false, dry: Bool = false, capacity: Int = 0) {
            self.c = c
            self.w = w
            self.h = h
            self.half = half
            self.dry = dry
            row = w + 2
            store = .allocate(byteCount: 0, alignment: 64)
            if !dry && capacity > 0 { regrow(capacity) }
        }

        /// A map like this one (a dry run's) with storage for the window the run reached.
        func allocated() -> Rows { Rows(c: c, w: w, h: h, half: half, capacity: cap) }

        deinit { store.deallocate() }

        var plane: Int { cap * row }

        /// Storage row of image row y (one of [base, end)).
        private func slot(_ y: Int) -> Int { y % cap }

        /// Channel 0, image row y, column 0.
        func at(_ y: Int) -> UnsafeMutablePointer<Float> {
            precondition(!half)
            return store.assumingMemoryBound(to: Float.self) + slot(y) * row + 1
        }

        /// Channel 0, image row y, column 0, of a map stored as halves.
        func halfAt(_ y: Int) -> UnsafeMutablePointer<UInt16> {
            precondition(half)
            return store.assumingMemoryBound(to: UInt16.self) + slot(y) * row + 1
        }

        /// A zeroed store of `newCap` rows holding rows [base, end), row y in slot y mod newCap.
        private func regrow(_ newCap: Int) {
            if dry { cap = newCap; return }
            let fresh = UnsafeMutableRawPointer.allocate(byteCount: c * newCap * row * bytes, alignment: 64)
            fresh.initializeMemory(as: UInt8.self, repeating: 0, count: c * newCap * row * bytes)
            for ch in 0..<c {
                for y in base..<end {
                    (fresh + ((ch * newCap + y % newCap) * row) * bytes).copyMemory(from: store + (ch * plane + slot(y) * row) * bytes, byteCount: row * bytes)
                }
            }
            store.deallocate()
            store = fresh
            cap = newCap
        }

        /// Room for rows [end, end + n), dropping rows before `keep`.
        func reserve(_ n: Int, keep: Int) {
            base = min(max(keep, base), end)
            if end + n - base <= cap { return }
            regrow((end + n - base + 1) / 2 * 2 + 2)   // growth stops once the window reaches its steady size
        }

        /// Rows [end, end + n) have been written.
        func produced(_ n: Int) { end += n }

        /// Bytes held.
        var footprint: Int { c * plane * bytes }
    }

    enum Kind {
        case conv(Int, relu: Bool)
        case residual(Int)
        /// Pixel unshuffle then a 1x1 layer with ReLU (`down1`, `down2`), a row at a time: the
        /// unshuffled rows never become a map.
        case down(Int)
        /// A 1x1 layer on the lower-resolution input, pixel-shuffled and added to the skip, then
        /// ReLU (`up1` + join, `up0` + join), a row at a time: the layer's output never becomes
        /// a map.
        case up(Int)
        case tail(Int)
    }

    struct Node {
        let kind: Kind
        let inputs: [Int]
        let output: Int
    }

    public let width: Int, height: Int, channels: Int
    /// Threads sharing each layer's columns.
    public var jobs = 1
    private var maps: [Rows] = []
    /// The map the tail reads the image from: the input's (0) when it holds only the image, else
    /// a copy of its image planes, so that the noise-map planes, which only head0 reads, are not
    /// held through the network's lag as well.
    private var imageMap = 0
    private var nodes: [Node] = []
    private var packed: [ConvKernel] = []
    private var scratch: [Float] = []
    private var buffers: [(pointer: UnsafeMutablePointer<Float>, floats: Int)] = []
    private var outRow: [Float]
    private var fed = 0
    private let emit: (_ y: Int, _ planes: UnsafePointer<Float>) -> Void

    /// Input rows per step: each layer then runs on about stepRows / 4 rows at a time at its
    /// resolution.
    public let stepRows: Int

    /// Steps of 8 rows: each layer runs on 2 or more rows at a time, a Winograd layer on whole
    /// tile rows (F(2x2, 3x3): 2 rows from an even row; F(4x4, 3x3): 4 from a multiple of 4), so
    /// no tile is computed twice and every tile is the one whole-image inference computes.
    /// (Session 13: not waiting for whole F(2x2) tiles, recomputing a lone row's tile, held 49
    /// MB of rows at 4000 columns against 61 and ran a 4000x3000 RGB photo in 103 MB against 118,
    /// but took 1.1 times the CPU time; steps of 4 rows save more memory but run 1.1-1.2x slower.)
    public static let defaultStepRows = 8

    /// A stream over an image of `width` x `height` (multiples of 4) with `weights` (as `infer`
    /// takes them). `emit` receives each output row (its `channels` planes of `width` values,
    /// one after another) in order, once.
    public init(model: ConvDenoiser, weights: ConvDenoiser.InferenceWeights, width: Int, height: Int, stepRows: Int? = nil,
                emit: @escaping (_ y: Int, _ planes: UnsafePointer<Float>) -> Void) {
        self.stepRows = max(4, stepRows ?? Self.defaultStepRows) / 4 * 4
        precondition(width % 4 == 0 && height % 4 == 0 && width > 0 && height > 0, "ConvRowStream needs sizes that are multiples of 4")
        self.width = width
        self.height = height
        channels = model.channels
        self.emit = emit
        outRow = [Float](repeating: 0, count: model.channels * width)
        let (c0, c1, c2) = model.widths
        // Feature maps are stored as halves (`infer` rounds them the same way); the input
        // planes and the predicted noise, which the output is computed from, as floats.
        func map(_ c: Int, _ d: Int, half: Bool = true) -> Int {
            maps.append(Rows(c: c, w: width / d, h: height / d, half: half, dry: true))
            return maps.count - 1
        }
        func layer(_ l: Conv2d) -> Int {
            packed.append(model.kernel(l, weights))
            return packed.count - 1
        }
        func add(_ kind: Kind, _ inputs: [Int], _ output: Int) { nodes.append(Node(kind: kind, inputs: inputs, output: output)) }
        let xin = map(model.inputPlanes, 1, half: false)
        if model.inputPlanes > model.channels { imageMap = map(model.channels, 1, half: false) }
        let a0 = map(c0, 1), e0 = map(c0, 1)
        add(.conv(layer(model.head0), relu: true), [xin], a0)
        add(.conv(layer(model.head1), relu: true), [a0], e0)
        let d = map(c1, 2), e1 = map(c1, 2)
        add(.down(layer(model.down1)), [e0], d)
        add(.conv(layer(model.enc1), relu: true), [d], e1)
        let m0 = map(c2, 4), m1 = map(c2, 4)
        var m = map(c2, 4)
        add(.down(layer(model.down2)), [e1], m0)
        add(.conv(layer(model.mid1), relu: true), [m0], m1)
        add(.conv(layer(model.mid2), relu: true), [m1], m)
        for block in model.res {
            let next = map(c2, 4)
            add(.residual(layer(block)), [m], next)
            m = next
        }
        let s1 = map(c1, 2), d1 = map(c1, 2)
        add(.up(layer(model.up1)), [m, e1], s1)
        add(.conv(layer(model.dec1), relu: true), [s1], d1)
        let s0 = map(c0, 1), noise = map(model.channels, 1, half: false)
        add(.up(layer(model.up0)), [d1, e0], s0)
        var dOut = map(c0, 1)
        add(.conv(layer(model.dec0), relu: true), [s0], dOut)
        for block in model.fine {
            let next = map(c0, 1)
            add(.residual(layer(block)), [dOut], next)
            dOut = next
        }
        add(.tail(layer(model.tail)), [dOut, imageMap], noise)
        // A dry run of the whole schedule (the same steps `feed` takes; no values computed)
        // finds each map's steady window, and the stores are allocated once at that size: no
        // window grows (a new store allocated and copied while the old is still held) while
        // rows flow. (A caller feeding in other steps only gets a window regrown if needed.)
        while fed < height { step(min(self.stepRows, height - fed)) { _ in } }
        maps = maps.map { $0.allocated() }
        fed = 0
    }

    deinit { for b in buffers { b.pointer.deallocate() } }

    /// Bytes held by the rolling rows of every feature map, and each map's (channels, rows held).
    public var footprint: (bytes: Int, maps: [(c: Int, rows: Int)]) {
        (maps.reduce(0) { $0 + $1.footprint }, maps.map { ($0.c, $0.cap) })
    }

    /// Rows fed so far; the stream is done when it reaches `height` (every row then emitted).
    public var rowsFed: Int { fed }

    /// Feeds the next `n` input rows: `fill(y, plane, destination)` writes the `width` values
    /// of input plane `plane` (the image, then a noise-map model's map) of row y. Emits every
    /// output row that these rows complete.
    public func feed(_ n: Int, fill: (_ y: Int, _ plane: Int, _ dst: UnsafeMutablePointer<Float>) -> Void) {
        precondition(fed + n <= height, "ConvRowStream: more rows than the image has")
        var left = n
        while left > 0 {
            let k = min(left, stepRows)
            step(k) { xin in for y in self.fed..<(self.fed + k) { for p in 0..<xin.c { fill(y, p, xin.at(y) + p * xin.plane) } } }
            left -= k
        }
    }

    /// Room for the next k input rows, `fill` writes them, then every layer runs as far as they
    /// allow (on a dry map, only the windows move).
    private func step(_ k: Int, fill: (Rows) -> Void) {
        let xin = maps[0]
        xin.reserve(k, keep: keep(0))
        if !xin.dry { fill(xin) }
        xin.produced(k)
        if imageMap != 0 {
            let image = maps[imageMap]
            image.reserve(k, keep: keep(imageMap))
            for y in fed..<(fed + k) where !image.dry {
                for p in 0..<image.c { (image.at(y) + p * image.plane).update(from: xin.at(y) + p * xin.plane, count: image.w) }
            }
            image.produced(k)
        }
        fed += k
        advance()
    }

    /// The first row of map `i` a consumer still needs.
    private func keep(_ i: Int) -> Int {
        var first = maps[i].end
        for node in nodes {
            for (j, input) in node.inputs.enumerated() where input == i {
                let n = maps[node.output].end
                switch node.kind {
                case .conv(let l, _): first = min(first, packed[l].k == 3 ? n - 1 : n)
                case .residual: first = min(first, n - 1)
                case .down: first = min(first, 2 * n)
                case .up: first = min(first, j == 0 ? n / 2 : n)
                case .tail: first = min(first, j == 0 ? n - 1 : n)
                }
            }
        }
        return first
    }

    /// A node's kernel, if it runs one over row ranges (nil: the 1x1 layers that run a row at a
    /// time).
    private func kernel(_ node: Node) -> ConvKernel? {
        switch node.kind {
        case .conv(let l, _), .residual(let l), .tail(let l): return packed[l]
        default: return nil
        }
    }

    /// Rows of its output a node can have computed, given its inputs so far.
    private func ready(_ node: Node) -> Int {
        let x = maps[node.inputs[0]]
        switch node.kind {
        case .conv(let l, _) where packed[l].k == 1: return x.end
        case .conv, .residual, .tail: return x.end == x.h ? x.h : max(0, x.end - 1)
        case .down: return x.end / 2
        case .up: return min(maps[node.inputs[1]].end, 2 * x.end)
        }
    }

    private func advance() {
        var progressed = true
        while progressed {
            progressed = false
            for node in nodes {
                let out = maps[node.output]
                // A few rows at a time (fewer at lower resolutions), so that the rows an image's
                // last step releases flow through in pieces rather than fill every buffer; a
                // Winograd layer whole tile rows but for the map's last.
                let k = kernel(node), tile = k?.tile ?? 1
                var n = min(ready(node) - out.end, max(2, tile, stepRows * out.h / height))
                if let k, out.end + n < out.h { n -= k.lead(out.end + n) }
                if n <= 0 { continue }
                out.reserve(n, keep: keep(node.output))
                if !out.dry { run(node, rows: out.end, n) }
                out.produced(n)
                if case .tail = node.kind {} else { progressed = true }
            }
        }
    }

    /// Columns a 3x3 or 1x1 layer computes per kernel call: each call's input rows are converted
    /// from halves into a thread's buffer, and its output goes to floats there too, so both stay
    /// small and in cache whatever the width.
    static let chunkColumns = 256

    /// Layer `l` over rows [y0, y0 + n) of `x` (a Winograd layer's ending on a tile row or the
    /// map's end), in chunks of columns: each chunk's input rows (with its halo) are converted to
    /// floats in a thread's buffer, the layer writes the chunk's output (channel planes `oplane`
    /// floats apart, rows of c1 − c0 values) after them, and `store(c0, c1, input, irow, iplane,
    /// output, oplane)` puts columns [c0, c1) away; `input` and `output` point at row y0, column
    /// c0 (of the converted input's channel 0, of the output's). Chunks start on multiples of 16
    /// (whole vector blocks, whole Winograd tiles), so every value is the one a call over the
    /// whole width gives. A Winograd layer whose tiles start above the map (`tileRowOffset`)
    /// computes its first tile row whole, from zero rows above the map's padding, and drops the
    /// rows above. `jobs` threads take chunks.
    private func layerRows(_ l: Int, _ x: Rows, _ y0: Int, _ n: Int, relu: Bool,
                           store: (_ c0: Int, _ c1: Int, _ input: UnsafePointer<Float>, _ irow: Int, _ iplane: Int,
                                   _ output: UnsafeMutablePointer<Float>, _ oplane: Int) -> Void) {
        let k = packed[l], pad = k.k / 2, lead = k.lead(y0)
        precondition(lead == 0 || y0 == 0, "a Winograd layer's rows start on a tile's first row, or at the map's top")
        let top = y0 - lead - pad, rows = n + lead + 2 * pad, chunk = Self.chunkColumns
        let chunks = (x.w + chunk - 1) / chunk, parts = min(jobs, chunks)
        let buffers = threadBuffers(parts, floats: x.c * rows * (chunk + 2 * pad) + k.cout * (n + lead) * chunk)
        parallelFor(parts) { part in
            let input = buffers[part]
            for i in stride(from: part, to: chunks, by: parts) {
                let c0 = i * chunk, c1 = min(x.w, c0 + chunk), cw = c1 - c0 + 2 * pad, ow = c1 - c0
                for r in 0..<rows {
                    let dst = input + r * cw
                    if top + r < 0 || top + r >= x.h {
                        for ch in 0..<x.c { (dst + ch * rows * cw).update(repeating: 0, count: cw) }
                    } else if x.half {
                        lk_from_half_planes(x.halfAt(top + r) + c0 - pad, x.plane, dst, rows * cw, cw, x.c)
                    } else {
                        for ch in 0..<x.c { (dst + ch * rows * cw).update(from: x.at(top + r) + ch * x.plane + c0 - pad, count: cw) }
                    }
                }
                let output = input + x.c * rows * cw
                k.run(input, xrow: cw, xplane: rows * cw, rows: n + lead, cols: ow, relu: relu, into: output, orow: ow,
                      oplane: (n + lead) * ow)
                store(c0, c1, input + (lead + pad) * cw + pad, cw, rows * cw, output + lead * ow, (n + lead) * ow)
            }
        }
    }

    /// `output` (channel planes `oplane` floats apart, n rows of c1 − c0 values; by default
    /// packed) into rows [y0, y0 + n), columns [c0, c1) of `out`, as halves or floats.
    private static func put(_ output: UnsafePointer<Float>, _ out: Rows, _ y0: Int, _ n: Int, _ c0: Int, _ c1: Int, oplane: Int? = nil) {
        let w = c1 - c0, oplane = oplane ?? n * w
        for r in 0..<n {
            let src = output + r * w
            if out.half {
                lk_to_half_planes(src, oplane, out.halfAt(y0 + r) + c0, out.plane, w, out.c)
            } else {
                for ch in 0..<out.c { (out.at(y0 + r) + ch * out.plane + c0).update(from: src + ch * oplane, count: w) }
            }
        }
    }

    /// Buffers of at least `floats` floats for `count` threads.
    private func threadBuffers(_ count: Int, floats: Int) -> [UnsafeMutablePointer<Float>] {
        while buffers.count < count { buffers.append((.allocate(capacity: 0), 0)) }
        for i in 0..<count where buffers[i].floats < floats {
            buffers[i].pointer.deallocate()
            buffers[i] = (.allocate(capacity: floats), floats)
        }
        return buffers.prefix(count).map(\.pointer)
    }

    /// The scratch buffer, grown to at least `count` floats.
    private func withScratch(_ count: Int, _ body: (UnsafeMutablePointer<Float>) -> Void) {
        if scratch.count < count { scratch = [Float](repeating: 0, count: count) }
        scratch.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
    }

    private func run(_ node: Node, rows y0: Int, _ n: Int) {
        let out = maps[node.output], x = maps[node.inputs[0]]
        switch node.kind {
        case .conv(let l, let relu):
            layerRows(l, x, y0, n, relu: relu) { c0, c1, _, _, _, output, oplane in Self.put(output, out, y0, n, c0, c1, oplane: oplane) }
        case .residual(let l):
            layerRows(l, x, y0, n, relu: false) { c0, c1, input, irow, iplane, output, oplane in
                let w = c1 - c0
                for c in 0..<out.c {
                    for r in 0..<n { lk_add_relu(input + c * iplane + r * irow, output + c * oplane + r * w, output + c * oplane + r * w, w) }
                }
                Self.put(output, out, y0, n, c0, c1, oplane: oplane)
            }
        case .down(let l):
            // A row at a time (its two source rows sit side by side), in chunks of
            // `chunkColumns` output columns (so the scratch stays small whatever the width):
            // unshuffled into the scratch and through the 1x1 layer.
            let chunk = Self.chunkColumns
            withScratch(4 * x.c * chunk + 4 * chunk + out.c * chunk) { s in
                let row = s + 4 * x.c * chunk, result = row + 4 * chunk
                for y in y0..<(y0 + n) {
                    for c0 in stride(from: 0, to: out.w, by: chunk) {
                        let cw = min(chunk, out.w - c0)
                        lk_unshuffle_rows_half(x.halfAt(2 * y) + 2 * c0, x.row, x.plane, x.c, 2 * cw, 1, s, cw, cw, row)
                        packed[l].run(s, xrow: cw, xplane: cw, rows: 1, cols: cw, relu: true, into: result, orow: cw, oplane: cw, jobs: jobs)
                        Self.put(result, out, y, 1, c0, c0 + cw)
                    }
                }
            }
        case .up(let l):
            // In chunks of `chunkColumns` lower-resolution columns: the 1x1 layer's row for each
            // lower-resolution row (once for a pair of output rows), then shuffled into the join.
            let skip = maps[node.inputs[1]], chunk = Self.chunkColumns
            withScratch(4 * skip.c * chunk + 2 * chunk + x.c * chunk + 2 * out.c * chunk) { s in
                let row = s + 4 * skip.c * chunk, source = row + 2 * chunk, joined = source + x.c * chunk
                for c0 in stride(from: 0, to: x.w, by: chunk) {
                    let cw = min(chunk, x.w - c0)
                    for y in y0..<(y0 + n) {
                        if y == y0 || y % 2 == 0 {
                            lk_from_half_planes(x.halfAt(y / 2) + c0, x.plane, source, cw, cw, x.c)
                            packed[l].run(source, xrow: cw, xplane: cw, rows: 1, cols: cw, relu: false, into: s, orow: cw, oplane: cw, jobs: jobs)
                        }
                        lk_shuffle_add_relu_rows_half(s, cw, cw, skip.halfAt(y) + 2 * c0, skip.row, skip.plane, skip.c, 2 * cw, y, 1,
                                                      joined, 2 * cw, 2 * cw, row)
                        Self.put(joined, out, y, 1, 2 * c0, 2 * (c0 + cw))
                    }
                }
            }
        case .tail(let l):
            layerRows(l, x, y0, n, relu: false) { c0, c1, _, _, _, output, oplane in Self.put(output, out, y0, n, c0, c1, oplane: oplane) }
            let input = maps[node.inputs[1]], w = out.w
            outRow.withUnsafeMutableBufferPointer { o in
                for r in 0..<n {
                    let y = y0 + r
                    for c in 0..<channels {
                        let a = input.at(y) + c * input.plane, b = out.at(y) + c * out.plane, d = o.baseAddress! + c * w
                        for i in 0..<w { d[i] = a[i] - b[i] }
                    }
                    emit(y, o.baseAddress!)
                }
            }
        }
    }
}

/// A layer's weights as the exact kernels take them (the conditioning folded in, packed once per
/// image): the direct kernel, or Winograd F(2x2, 3x3) or F(4x4, 3x3) for wide 3x3 layers. Both
/// `infer` and `ConvRowStream` run layers through it, so they compute the same values bit for bit.
struct ConvKernel: @unchecked Sendable {
    let cin, cout, k: Int
    /// The weights as the direct kernel reads them (empty on Winograd: a 128-channel layer's
    /// 590 KB, which only `winograd` is read from, is not kept), and the bias.
    let w, b: [Float]
    /// Weights packed for the direct vector kernel (nil on CPUs where it is not used).
    let packed: [Float]?
    /// Weights transformed for Winograd (a wide 3x3 layer).
    let winograd: [Float]?
    /// Rows (and columns) of the layer's tiles: 2 or 4 on Winograd, 1 on the direct kernel. A
    /// call's rows and columns start on a multiple of it.
    let tile: Int
    /// The row, mod `tile`, on which the layer's tiles start (`ConvDenoiser.tileRowOffset`).
    let rowOffset: Int

    /// `l` with `weights`' folded conditioning, if any (else its own weights), on F(4x4, 3x3)
    /// when `tile4` and the layer is a wide 3x3 one, its tiles then starting on rows ≡
    /// `rowOffset` (mod 4).
    init(_ l: Conv2d, _ weights: ConvDenoiser.InferenceWeights? = nil, tile4: Bool = false, rowOffset: Int = 0) {
        let weight: [Float]
        (weight, b) = weights?.folded[ObjectIdentifier(l)] ?? (l.weight.value.array, l.bias.value.array)
        (cin, cout, k) = (l.inChannels, l.outChannels, l.kernel)
        if k == 3 && (tile4 ? lk_wino4_applies(cin, cout) : lk_wino_applies(cin, cout)) != 0 {
            tile = tile4 ? 4 : 2
            self.rowOffset = tile4 ? rowOffset : 0
            var u = [Float](repeating: 0, count: tile4 ? lk_wino4_packed_size(cin, cout) : lk_wino_packed_size(cin, cout))
            if tile4 { lk_wino4_pack(weight, cin, cout, &u) } else { lk_wino_pack(weight, cin, cout, &u) }
            winograd = u
            packed = nil
            w = []
        } else {
            w = weight
            tile = 1
            self.rowOffset = 0
            winograd = nil
            if lk_conv_uses_packed() != 0 {
                var p = [Float](repeating: 0, count: lk_conv_packed_size(cin, k, cout))
                lk_conv_pack(w, cin, k, cout, &p)
                packed = p
            } else {
                packed = nil
            }
        }
    }

    /// Rows between the start of the tile row holding row y and y: where a call that ends at y
    /// must stop (on a tile row) or one that starts there must start instead.
    func lead(_ y: Int) -> Int { ((y - rowOffset) % tile + tile) % tile }

    /// Rows `rows` x columns `cols` of the output from `src` (input pixel (−k/2, −k/2) of the
    /// first row and column; rows `xrow`, planes `xplane` apart), into `dst`. `jobs` threads take
    /// column ranges that start on multiples of 16 (whole vector blocks, whole Winograd tiles),
    /// so the values do not depend on `jobs`.
    func run(_ src: UnsafeMutablePointer<Float>, xrow: Int, xplane: Int, rows: Int, cols: Int, relu: Bool,
             into dst: UnsafeMutablePointer<Float>, orow: Int, oplane: Int, jobs: Int = 1) {
        let call = Call(kernel: self, src: src, xrow: xrow, xplane: xplane, rows: rows, act: relu ? Int32(LK_RELU) : Int32(LK_IDENTITY),
                        dst: dst, orow: orow, oplane: oplane)
        let parts = min(jobs, cols / 64)
        if parts <= 1 {
            call.columns(0, cols)
        } else {
            let bounds = (0...parts).map { $0 == parts ? cols : min(cols, ($0 * cols / parts + 8) / 16 * 16) }
            parallelFor(parts) { i in
                if bounds[i + 1] > bounds[i] { call.columns(bounds[i], bounds[i + 1]) }
            }
        }
    }

    /// One layer over a block of rows; threads take disjoint column ranges of it.
    struct Call: @unchecked Sendable {
        let kernel: ConvKernel
        let src: UnsafeMutablePointer<Float>
        let xrow, xplane, rows: Int
        let act: Int32
        let dst: UnsafeMutablePointer<Float>
        let orow, oplane: Int

        func columns(_ c0: Int, _ c1: Int) {
            let k = kernel
            k.b.withUnsafeBufferPointer { b in
                if let u = k.winograd, k.tile == 4 {
                    lk_conv3_wino4(src + c0, xrow, xplane, k.cin, rows, c1 - c0, u, b.baseAddress, k.cout, act, dst + c0, orow, oplane)
                    return
                }
                if let u = k.winograd {
                    lk_conv3_wino(src + c0, xrow, xplane, k.cin, rows, c1 - c0, u, b.baseAddress, k.cout, act, dst + c0, orow, oplane)
                    return
                }
                k.w.withUnsafeBufferPointer { w in
                    lk_conv_exact_packed(src + c0, xrow, xplane, k.cin, rows, c1 - c0, k.k, k.packed, w.baseAddress, b.baseAddress,
                                         k.cout, act, dst + c0, orow, oplane)
                }
            }
        }
    }
}
