import Foundation
import Testing
@testable import Imaging
@testable import Models
@testable import NN
@testable import PNGIO
@testable import Pipeline
import Tensor
@testable import Inference
import TestSupport

struct BandDenoiserTests {
    static func image(_ w: Int, _ h: Int, channels: Int, seed: UInt64) -> FloatImage {
        var rng = RandomGenerator(seed: seed)
        var img = FloatImage(width: w, height: h, channels: channels)
        for i in 0..<img.data.count { img.data[i] = rng.uniform() }
        return img
    }

    /// Band- (and tile-) streamed output equals whole-image output bit for bit, for several band
    /// heights, tile widths and odd image sizes.
    /// A model with two residual blocks and noise-level conditioning (random values in its
    /// zero-initialised parts), as `bandStreamingEqualsWholeImage` takes it.
    static func conditionedModel() -> ConvDenoiser {
        let model = ConvDenoiser(channels: 1, widths: (4, 6, 8), blocks: 2, noiseInput: true, seed: 5)
        var rng = RandomGenerator(seed: 6)
        for p in model.parameters where p.name.hasSuffix(".film") || p.name.hasPrefix("res") {
            for i in 0..<p.count { p.value.data[i] = (rng.uniform() * 2 - 1) * 0.3 }
        }
        return model
    }

    /// `bd.run` over `img` fed 7 rows at a time, its bands joined.
    static func streamed(_ bd: BandDenoiser, _ img: FloatImage, sigmas: [Float]?) throws -> [Float] {
        var out: [Float] = [], next = 0
        try bd.run(width: img.width, height: img.height, colorPlanes: img.channels, sigmas: sigmas, nextRows: {
            guard next < img.height else { return nil }
            let n = min(7, img.height - next)
            defer { next += n }
            return img.rows(next..<(next + n))
        }, emit: { out += $0.data })
        return out
    }

    /// A batch's files share one BandDenoiser. For a model whose weights do not depend on σ (a
    /// noise-map model), every layer is packed once, for all files of every size and noise, and
    /// each file comes out as a fresh BandDenoiser makes it, bit for bit; a FiLM-conditioned
    /// model (σ folded into its weights) gets weights of its own for each σ.
    @Test func kernelsArePackedOncePerBatch() throws {
        let model = ConvDenoiser(channels: 3, widths: (16, 16, 16), noiseMap: true, seed: 7)
        let shared = BandDenoiser(model: model)
        #expect(shared.inferenceWeights(sigma: 5).kernels.count == 0)
        for (i, (w, h, sigma)) in [(37, 29, Float(10)), (70, 77, 25), (18, 66, 5), (37, 29, 40)].enumerated() {
            let img = Self.image(w, h, channels: 3, seed: UInt64(10 + i))
            let sigmas = [sigma, sigma * 0.8, sigma * 1.2]
            let fresh = try Self.streamed(BandDenoiser(model: model), img, sigmas: sigmas)
            #expect(try Self.streamed(shared, img, sigmas: sigmas) == fresh, "\(w)x\(h) σ \(sigma)")
            #expect(shared.wholeImage(img, sigmas: sigmas).data == BandDenoiser(model: model).wholeImage(img, sigmas: sigmas).data,
                    "\(w)x\(h) σ \(sigma) whole image")
        }
        #expect(shared.inferenceWeights(sigma: 5).kernels.count == model.layers.count)
        #expect(shared.inferenceWeights(sigma: 5).kernels === shared.inferenceWeights(sigma: 30).kernels)
        let film = BandDenoiser(model: Self.conditionedModel())
        #expect(film.inferenceWeights(sigma: 10).kernels !== film.inferenceWeights(sigma: 10).kernels)
    }

    @Test(arguments: [(37, 29), (61, 45), (16, 100), (90, 9), (70, 77), (300, 21)], [false, true])
    func bandStreamingEqualsWholeImage(_ size: (Int, Int), conditioned: Bool) throws {
        let model = conditioned ? Self.conditionedModel() : ConvDenoiser(channels: 1, widths: (4, 6, 8), seed: 5)
        let img = Self.image(size.0, size.1, channels: 1, seed: 3)
        var reference = BandDenoiser(model: model)
        reference.sigma = [20]
        let whole = reference.wholeImage(img)
        for (band, jobs) in [(4, 1), (8, 1), (12, 3), (32, 2), (64, 1), (16, 4), (1, 2)] {
            var bd = BandDenoiser(model: model, bandRows: band)
            bd.jobs = jobs   // columns shared by threads
            var rows: [FloatImage] = []
            var next = 0
            try bd.run(width: img.width, height: img.height, colorPlanes: 1, sigmas: conditioned ? [20] : nil, nextRows: {
                guard next < img.height else { return nil }
                let n = min(band == 4 ? 70 : 5, img.height - next)   // 5 rows at a time (70: more than the row ring holds)
                var b = FloatImage(width: img.width, height: n, channels: 1)
                for y in 0..<n { for x in 0..<img.width { b[x: x, y: y, c: 0] = img[x: x, y: next + y, c: 0] } }
                next += n
                return b
            }, emit: { rows.append($0) })
            let streamed = rows.flatMap(\.data)
            #expect(rows.reduce(0) { $0 + $1.height } == img.height)
            #expect(streamed == whole.data, "\(size) band \(band) jobs \(jobs) differs")
        }
    }

    /// A model wide enough for the Winograd layers (16 channels and up: F(4x4, 3x3) at full and
    /// half resolution and at quarter, its tiles staggered along the quarter-resolution chain):
    /// row streaming (whole tile rows, columns split among threads) and tiles with halos equal
    /// whole-image inference bit for bit, on odd sizes.
    @Test(arguments: [(37, 29), (90, 9), (300, 21), (18, 66)])
    func winogradModelStreamsExactly(_ size: (Int, Int)) throws {
        let model = ConvDenoiser(channels: 1, widths: (16, 16, 24), blocks: 1, noiseInput: true, seed: 7)
        var rng = RandomGenerator(seed: 8)
        for p in model.parameters where p.name.hasSuffix(".film") || p.name.hasPrefix("res") {
            for i in 0..<p.count { p.value.data[i] = (rng.uniform() * 2 - 1) * 0.3 }
        }
        let img = Self.image(size.0, size.1, channels: 1, seed: 9)
        let whole = BandDenoiser(model: model).wholeImage(img, sigmas: [20])
        // Full-width streams (steps of 8 and 4 rows), and tiles with halos (a narrow stream
        // limit), with threads sharing the columns.
        for (jobs, step, tiles) in [(1, 8, false), (3, 4, false), (1, 4, true), (2, 8, true)] {
            var bd = BandDenoiser(model: model, bandRows: 7)
            bd.jobs = jobs
            bd.streamStepRows = step
            if tiles { (bd.maxStreamWidth, bd.tileBandRows) = (48, 16) }
            var rows: [FloatImage] = []
            let source = BandDenoiser.memoryPass(img)
            try bd.run(width: img.width, height: img.height, colorPlanes: 1, sigmas: [20], nextRows: source.next, emit: { rows.append($0) })
            #expect(rows.reduce(0) { $0 + $1.height } == img.height)
            #expect(rows.flatMap(\.data) == whole.data, "\(size) jobs \(jobs) step \(step) tiles \(tiles)")
        }
    }

    /// A grey model on an RGB image (three streams, one per plane, each with its σ), in full
    /// width and in tiles: the same as whole-image inference.
    @Test func greyModelOnColourPlanesStreamsExactly() throws {
        let model = Self.conditionedModel()
        let img = Self.image(150, 23, channels: 3, seed: 10)
        let whole = BandDenoiser(model: model).wholeImage(img, sigmas: [10, 20, 30])
        for limit in [4096, 200] {   // 200: each plane's share is under 150 columns, so tiles
            var bd = BandDenoiser(model: model, bandRows: 6)
            (bd.maxStreamWidth, bd.tileBandRows) = (limit, 8)
            var out = FloatImage(width: img.width, height: img.height, channels: 3)
            var top = 0
            let source = BandDenoiser.memoryPass(img)
            try bd.run(width: img.width, height: img.height, colorPlanes: 3, sigmas: [10, 20, 30], nextRows: source.next, emit: { band in
                out.setRows(band, at: top, planes: 3)
                top += band.height
            })
            #expect(top == img.height && out.data == whole.data, "limit \(limit)")
        }
    }

    /// A stream wider than a layer's column chunk, with two threads taking the chunks: every
    /// row equals whole-image inference bit for bit (the chunks' seams and the threads change
    /// nothing).
    @Test func wideStreamWithThreadsEqualsWholeImage() {
        let model = ConvDenoiser(channels: 1, widths: (16, 16, 24), blocks: 1, fineBlocks: 1, noiseInput: true, seed: 17)
        var rng = RandomGenerator(seed: 18)
        for p in model.parameters where p.name.hasSuffix(".film") || p.name.hasPrefix("res") || p.name.hasPrefix("fine") {
            for i in 0..<p.count { p.value.data[i] = (rng.uniform() * 2 - 1) * 0.3 }
        }
        let (h, w) = (12, 2 * ConvRowStream.chunkColumns + 84)
        let x = (0..<(h * w)).map { _ in rng.uniform() }
        let whole = model.infer(x, h: h, w: w, sigma: 20)
        for jobs in [1, 2] {
            var out = [Float](repeating: .nan, count: h * w)
            let s = ConvRowStream(model: model, weights: .init(model, sigma: 20), width: w, height: h) { y, planes in
                for i in 0..<w { out[y * w + i] = planes[i] }
            }
            s.jobs = jobs
            s.feed(h) { y, _, dst in x.withUnsafeBufferPointer { dst.update(from: $0.baseAddress! + y * w, count: w) } }
            #expect(out == whole, "jobs \(jobs)")
        }
    }

    /// The stream sizes every map's window before the first row comes in (a dry run of its
    /// schedule), so no window grows while rows flow, whatever the height and step; with
    /// F(4x4, 3x3) chains whose tiles are staggered one row per layer (quarter resolution:
    /// mid1, mid2, the residual blocks; full: dec0 and its blocks) as well.
    @Test(arguments: [false, true])
    func rowStreamSizesItsWindowsBeforehand(winograd: Bool) {
        let model = winograd ? ConvDenoiser(channels: 1, widths: (16, 16, 24), blocks: 2, fineBlocks: 1, noiseInput: true, seed: 7)
            : BandDenoiserTests.conditionedModel()
        if winograd {
            #expect([model.mid1, model.mid2, model.res[0], model.res[1]].map(model.tileRowOffset) == [0, 3, 2, 1])
            #expect([model.dec0, model.fine[0], model.head1, model.enc1].map(model.tileRowOffset) == [0, 3, 0, 0])
            #expect(model.tileAlignment == 16)
        }
        for (h, step) in [(64, 8), (300, 8), (300, 4), (52, 12), (8, 8)] {
            var rows = 0
            let s = ConvRowStream(model: model, weights: .init(model, sigma: 20), width: 48, height: h, stepRows: step) { _, _ in rows += 1 }
            let planned = s.footprint
            #expect(planned.bytes > 0)
            s.feed(h) { y, _, dst in dst.update(repeating: Float(y % 5) / 5, count: 48) }
            #expect(rows == h)
            #expect(s.footprint.bytes == planned.bytes && s.footprint.maps.map(\.rows) == planned.maps.map(\.rows), "height \(h) step \(step)")
        }
    }

    /// Row streaming holds a window of rows per feature map: its memory is the same for a tall
    /// image as for a short one of the same width, and every row comes out once, in order.
    @Test func rowStreamMemoryDoesNotGrowWithHeight() {
        let model = BandDenoiserTests.conditionedModel()
        var footprints: [Int] = []
        for h in [200, 800] {
            var rows: [Int] = []
            let s = ConvRowStream(model: model, weights: .init(model, sigma: 20), width: 64, height: h) { y, _ in rows.append(y) }
            s.feed(h) { y, _, dst in dst.update(repeating: Float(y % 7) / 7, count: 64) }
            #expect(rows == Array(0..<h))
            footprints.append(s.footprint.bytes)
        }
        #expect(footprints[0] == footprints[1])
        // Far less than whole-image inference's buffers (about 20 planes of the image here).
        #expect(footprints[1] < 800 * 64 * 4 * 4)
        // The pixel (un)shuffles and the 1x1 layers next to them run a row at a time: no map of
        // 4x a level's channels is kept (the widest map is the bottom level's, 8 channels).
        let s = ConvRowStream(model: model, weights: .init(model, sigma: 20), width: 64, height: 64) { _, _ in }
        #expect(s.footprint.maps.map(\.c).max() == model.widths.2)
    }

    /// A colour noise-map model with full-resolution blocks: band- and tile-streamed output
    /// equals whole-image output bit for bit, with a different σ per channel; narrow (the direct
    /// kernel everywhere) and wide enough for Winograd (F(4x4, 3x3) on head0's 6 planes too, and
    /// along the staggered chain of dec0 and the blocks).
    @Test(arguments: [(37, 29), (16, 100), (70, 77)], [false, true])
    func colourNoiseMapStreamingEqualsWholeImage(_ size: (Int, Int), wide: Bool) throws {
        let model = ConvDenoiser(channels: 3, widths: wide ? (16, 16, 24) : (4, 6, 8), blocks: 1, fineBlocks: 2, noiseMap: true, seed: 5)
        #expect(model.usesWinograd4(model.head0) == wide && model.usesWinograd4(model.fine[1]) == wide)
        var rng = RandomGenerator(seed: 6)
        for p in model.parameters where p.name.hasPrefix("fine") { for i in 0..<p.count { p.value.data[i] = (rng.uniform() * 2 - 1) * 0.3 } }
        model.setExactInference(true)
        let img = Self.image(size.0, size.1, channels: 3, seed: 4)
        let sigmas: [Float] = [10, 20, 35]
        let whole = BandDenoiser(model: model).wholeImage(img, sigmas: sigmas)
        #expect(whole.data != BandDenoiser(model: model).wholeImage(img, sigmas: [20, 20, 20]).data, "the map matters")
        for (band, jobs) in [(8, 1), (12, 3), (32, 1), (5, 1)] {
            var bd = BandDenoiser(model: model, bandRows: band)
            bd.jobs = jobs
            if band == 5 { (bd.maxStreamWidth, bd.tileBandRows) = (32, 16) }   // tiles with halos
            var rows: [FloatImage] = []
            var next = 0
            try bd.run(width: img.width, height: img.height, colorPlanes: 3, sigmas: sigmas, nextRows: {
                guard next < img.height else { return nil }
                let n = min(7, img.height - next)
                var b = FloatImage(width: img.width, height: n, channels: 3)
                for c in 0..<3 { for y in 0..<n { for x in 0..<img.width { b[x: x, y: y, c: c] = img[x: x, y: next + y, c: c] } } }
                next += n
                return b
            }, emit: { rows.append($0) })
            var streamed = FloatImage(width: img.width, height: img.height, channels: 3)
            var top = 0
            for r in rows {
                for c in 0..<3 { for y in 0..<r.height { for x in 0..<img.width { streamed[x: x, y: top + y, c: c] = r[x: x, y: y, c: c] } } }
                top += r.height
            }
            #expect(top == img.height)
            #expect(streamed.data == whole.data, "\(size) band \(band) jobs \(jobs) wide \(wide) differs")
        }
    }

    /// Self-ensemble: streamed (in bands, and in tiles with halos) it equals the whole-image
    /// ensemble bit for bit; the ensemble of 2 is the mean of the plain output and the mirrored
    /// image's output mirrored back (written out here pixel by pixel); each size changes the
    /// result, and the ensemble of 8 gives a transposed image's output transposed.
    @Test func ensembleStreamsExactlyAndAveragesOrientations() throws {
        let model = ConvDenoiser(channels: 3, widths: (4, 6, 8), blocks: 1, fineBlocks: 1, noiseMap: true, seed: 9)
        var rng = RandomGenerator(seed: 10)
        for p in model.parameters where p.name.hasPrefix("fine") { for i in 0..<p.count { p.value.data[i] = (rng.uniform() * 2 - 1) * 0.3 } }
        model.setExactInference(true)
        let img = Self.image(37, 22, channels: 3, seed: 11)
        let sigmas: [Float] = [12, 20, 30]
        let plain = BandDenoiser(model: model).wholeImage(img, sigmas: sigmas)
        var outputs: [FloatImage] = [plain]
        for n in [2, 4, 8] {
            var whole = BandDenoiser(model: model)
            whole.ensemble = n
            let reference = whole.wholeImage(img, sigmas: sigmas)
            outputs.append(reference)
            for (band, tiles) in [(8, false), (5, true)] {
                var bd = BandDenoiser(model: model, bandRows: band)
                bd.ensemble = n
                if tiles { (bd.maxStreamWidth, bd.tileBandRows) = (32, 16) }
                var streamed = FloatImage(width: img.width, height: img.height, channels: 3)
                var next = 0, top = 0
                var heard: [Double] = []
                try bd.run(width: img.width, height: img.height, colorPlanes: 3, sigmas: sigmas, nextRows: {
                    guard next < img.height else { return nil }
                    defer { next = min(img.height, next + 7) }
                    return img.rows(next..<min(img.height, next + 7))
                }, emit: { b in
                    #expect(b.height <= band)
                    streamed.setRows(b, at: top, planes: 3)
                    top += b.height
                }, progress: { heard.append($0) })
                #expect(top == img.height)
                // The passes report how far they have got, rising to 1.
                #expect(heard.count >= n && zip(heard, heard.dropFirst()).allSatisfy { $0 < $1 } && heard.last == 1, "\(heard)")
                #expect(streamed.data == reference.data, "ensemble \(n) band \(band) tiles \(tiles)")
            }
        }
        #expect(Set(outputs.map(\.data)).count == 4, "each ensemble size changes the result")
        // Two: the mean of the plain output and the mirror's output mirrored back.
        func mirror(_ a: FloatImage) -> FloatImage {
            var m = a
            for c in 0..<a.channels { for y in 0..<a.height { for x in 0..<a.width { m[x: x, y: y, c: c] = a[x: a.width - 1 - x, y: y, c: c] } } }
            return m
        }
        let back = mirror(BandDenoiser(model: model).wholeImage(mirror(img), sigmas: sigmas))
        #expect(zip(outputs[1].data, zip(plain.data, back.data)).allSatisfy { abs($0 - ($1.0 + $1.1) / 2) < 1e-6 })
        // Eight: the same set of orientations for the image and its transpose.
        func transpose(_ a: FloatImage) -> FloatImage {
            var t = FloatImage(width: a.height, height: a.width, channels: a.channels)
            for c in 0..<a.channels { for y in 0..<a.height { for x in 0..<a.width { t[x: y, y: x, c: c] = a[x: x, y: y, c: c] } } }
            return t
        }
        // A grey model on an RGB image (three mirrored pairs side by side), 2 threads.
        let grey = Self.conditionedModel()
        grey.setExactInference(true)
        var pair = BandDenoiser(model: grey, bandRows: 6)
        (pair.ensemble, pair.jobs) = (2, 2)
        let greyWhole = pair.wholeImage(img, sigmas: sigmas)
        var greyStreamed = FloatImage(width: img.width, height: img.height, channels: 3)
        var top = 0
        try pair.run(width: img.width, height: img.height, colorPlanes: 3, sigmas: sigmas, nextRows: {
            top == 0 ? img : nil
        }, emit: { b in
            greyStreamed.setRows(b, at: top, planes: 3)
            top += b.height
        })
        #expect(greyStreamed.data == greyWhole.data)
        var eight = BandDenoiser(model: model)
        eight.ensemble = 8
        let t = eight.wholeImage(transpose(img), sigmas: sigmas)
        #expect(zip(transpose(outputs[3]).data, t.data).allSatisfy { abs($0 - $1) < 1e-6 })
    }

    /// The noise level function measured from a stream is the same whatever size of row bands
    /// the stream gives (integer histograms, fixed tiling), and follows its blocks' medians.
    @Test func noiseLevelFunctionIsIndependentOfStreaming() throws {
        let est = NoiseMapEstimator(channels: 3, width: 4, depth: 2, seed: 3)
        let img = Self.image(70, 45, channels: 3, seed: 8)
        var results: [NoiseLevelFunction?] = []
        for chunk in [1, 7, 45] {
            var next = 0
            results.append(try NoiseLevelFunction.measure(with: est, width: img.width, height: img.height) {
                guard next < img.height else { return nil }
                let n = min(chunk, img.height - next)
                var b = FloatImage(width: img.width, height: n, channels: 3)
                for c in 0..<3 { for y in 0..<n { for x in 0..<img.width { b[x: x, y: y, c: c] = img[x: x, y: next + y, c: c] } } }
                next += n
                return b
            })
        }
        #expect(results[0] != nil && results[0] == results[1] && results[1] == results[2])
        // Nor on the bands and tiles it is computed in: the halo covers the receptive field (a
        // deeper estimator, whose reach is larger than these tiles, and wide enough for its
        // hidden layers to run as Winograd tiles).
        let deep = NoiseMapEstimator(channels: 3, width: 16, depth: 5, seed: 4)
        let outputBias = deep.parameters[deep.parameters.count - 1]   // positive readings, not all clipped to 0
        for c in 0..<3 { outputBias.value.data[c] = 0.3 }
        func measured(_ img: FloatImage, _ rows: Int, _ columns: Int) throws -> NoiseLevelFunction? {
            var done = false
            return try NoiseLevelFunction.measure(with: deep, width: img.width, height: img.height, bandRows: rows, tileColumns: columns) {
                defer { done = true }
                return done ? nil : img
            }
        }
        let large = Self.image(90, 75, channels: 3, seed: 9)
        let whole = try measured(large, 128, 512)
        #expect(try measured(large, 96, 96) == whole)   // the default regions: one band and tile here
        #expect(NoiseLevelFunction.regions(width: 90, height: 75) == (bandRows: 128, tileColumns: 96))
        #expect(NoiseLevelFunction.regions(width: 512, height: 512) == (bandRows: 512, tileColumns: 512))
        #expect(NoiseLevelFunction.regions(width: 1000, height: 700) == (bandRows: 704, tileColumns: 1008))
        #expect(NoiseLevelFunction.regions(width: 4000, height: 3000) == (bandRows: 256, tileColumns: 512))
        #expect(NoiseLevelFunction.regions(width: 20000, height: 100) == (bandRows: 128, tileColumns: 512))
        let small = try measured(large, 16, 16), medium = try measured(large, 32, 48)
        #expect(whole != nil && whole == small && whole == medium)
        #expect(Set(whole.map { $0.table.flatMap { $0 } } ?? []).count > 2, "readings that vary, so that a wrong halo would show")
        // Medians per brightness bin; a bin with too few blocks takes its nearest full neighbour's.
        let acc = NoiseLevelFunction.Accumulator(channels: 1)
        for i in 0..<31 { acc.add(channel: 0, brightness: 0.1, sigma: Float(i)) }        // bin 1: median 15
        for _ in 0..<20 { acc.add(channel: 0, brightness: 0.9, sigma: 40) }               // bin 14: 40
        acc.add(channel: 0, brightness: 0.5, sigma: 99)                                     // bin 8: too few
        let f = acc.result()!
        #expect(abs(f.table[0][1] - 15.125) < 1e-4 && abs(f.table[0][14] - 40.125) < 1e-4)
        #expect(f.table[0][0] == f.table[0][1] && f.table[0][7] == f.table[0][1] && f.table[0][8] == f.table[0][14] && f.table[0][15] == f.table[0][14])
        #expect(NoiseLevelFunction.Accumulator(channels: 2).result() == nil)
    }

    @Test func fileStreamingKeepsAlphaAndDepth() throws {
        let dir = makeTempDir("band")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = ConvDenoiser(channels: 1, widths: (4, 4, 4), seed: 1)
        var rng = RandomGenerator(seed: 2)
        let png = PNGImage(width: 23, height: 41, layout: .rgba, depth: 16, samples: (0..<(23 * 41 * 4)).map { _ in Int(rng.uniform() * 65535) })
        try PNGWriter.write(png, to: dir + "/in.png")
        let bd = BandDenoiser(model: model, bandRows: 8)
        try bd.denoiseFile(input: dir + "/in.png", output: dir + "/out.png", limits: .default, compression: nil, texts: [("k", "v")])
        let out = try PNGReader.read(path: dir + "/out.png")
        #expect(out.layout == .rgba && out.depth == 16)
        for y in 0..<41 { for x in 0..<23 { #expect(out.sample(x: x, y: y, c: 3) == png.sample(x: x, y: y, c: 3)) } }
        // Colour planes: each denoised by the grey model exactly as the whole image would be.
        let whole = bd.wholeImage(FloatImage(png.converted(to: .rgb, depth: 16)))
        let got = FloatImage(out.converted(to: .rgb, depth: 16))
        let expected = whole.pngImage(layout: .rgb, depth: 16)
        #expect(got.pngImage(layout: .rgb, depth: 16) == expected)
    }
}
