import Foundation
import Synchronization
import Imaging
import Models
import FileIO
import PNGIO

/// Whether `BandDenoiser` adds its real-noise stage: always, never, or where the image's noise
/// is correlated as a camera's is (`BandDenoiser.realNoise`).
public enum RealNoiseMode: String, CaseIterable, Sendable {
    case auto, on, off
}

/// Streamed inference of a convolutional denoiser: the PNG is read in row bands and fed, row by
/// row, through a `ConvRowStream` (every layer keeps a rolling window of the rows its consumers
/// still need), and the output is written band by band. Nothing is computed twice and memory
/// depends on the width, not the image's height; the result equals whole-image inference exactly.
/// Grey models denoise each colour plane of an RGB image; alpha is carried through.
public struct BandDenoiser {
    public let model: ConvDenoiser
    /// Output rows handed to `emit` at a time.
    public var bandRows: Int
    /// Threads sharing the columns of each layer on one image (a batch of files is spread over
    /// files instead).
    public var jobs = 1
    /// The noise level (0-255 scale) given to a noise-conditioned model: one value for every
    /// colour plane, or one per plane; nil: measured in each image (`NoiseEstimator`, or the
    /// model's bundled estimator). Blind models ignore it.
    public var sigma: [Float]?
    /// A factor on the σ a conditioned model is told (measured or given): above 1 it removes
    /// more, below 1 it keeps more. Recorded in the provenance when not 1.
    public var strength: Float = 1
    /// For a noise-map model: reads each image's noise level function (per channel and
    /// brightness) in a first pass, and the map is taken from it; without one (or with `sigma`)
    /// the map is one σ per colour plane.
    public var estimator: NoiseMapEstimator?
    /// Self-ensemble: the image is denoised in the first `ensemble` of `Orientation.all` (1: as
    /// it is; 2: and mirrored; 4: and upside down, both; 8: and transposed) and the results, put
    /// back, averaged. Costs `ensemble` times the work. An ensemble of 2 streams the mirrored
    /// rows beside the plain ones (twice the streams' rows); 4 and 8 (and 2 on an image wide
    /// enough to be tiled) hold the image in memory, as floats, twice.
    public var ensemble = 1 {
        didSet { precondition(Self.ensembleSizes.contains(ensemble), "ensemble of 1, 2, 4 or 8") }
    }
    /// The ensembles offered.
    public static let ensembleSizes = [1, 2, 4, 8]
    /// For photos with real camera noise: the network's output becomes the pilot of a
    /// collaborative Wiener stage (`GroupWiener`, BM3D's second stage), told
    /// `realNoiseFactor` times the mean noise level the network was told. Real noise is
    /// spatially correlated and the network, trained mostly towards white noise, leaves a fine
    /// mottle that grouping similar blocks from around the image takes out. Not for white noise:
    /// told that much more than the noise, it smooths away detail there. `auto` runs it on an
    /// image whose fine noise is correlated between neighbours (`NoiseCorrelation` above
    /// `realNoiseGate`), read in the noise-reading pass.
    public var realNoise = RealNoiseMode.off
    /// White noise reads below 0.13 (σ 5-50 on 43 colour photos and Set12), real camera noise
    /// and JPEG above 0.21 (polyu-val's two cameras, 12 more real photos, 8 JPEGs): the middle.
    public static let realNoiseGate = 0.17
    /// Chosen on polyu-val's 41 real pairs (4.5 made 38.06 dB; 3.5 / 4 / 5.5 / 6.5 made 38.02 /
    /// 38.05 / 38.05 / 38.01; docs/colour-model.md, session 40).
    public static let realNoiseFactor: Float = 4.5
    /// The stage's block matching: references every 7 pixels, candidates every 3 within ±21,
    /// groups of up to 16. On polyu-val's 41 pairs (`latent-bench group-wiener`, session 41):
    /// 38.029 dB at 0.31 CPU-s/MP, against 38.059 at 0.62 for session 40's 5 / 19 / 16 / 2
    /// (which made what BM3D's own 3 / 19 / 32 / 1 makes there, for a fifth of its work) and
    /// 38.043 at 0.46 for 6 / 19 / 16 / 2.
    public static let realNoiseSettings = GroupWiener.Settings(step: 7, radius: 21, group: 16, tau: 400, stride: 3)
    private let pool = WorkspacePool()
    /// A model whose weights do not depend on σ: one `InferenceWeights` for every file, so each
    /// layer's kernel is packed once per batch (it was 5% of the time on 481x321 photos).
    private let sharedWeights: ConvDenoiser.InferenceWeights?

    /// σ a conditioned model is given when the estimate fails (an image under 7 pixels a side).
    public static let fallbackSigma: Float = 15

    public init(model: ConvDenoiser, bandRows: Int = 64) {
        precondition(bandRows > 0, "bands of at least one row")
        self.model = model
        estimator = model.estimator
        self.bandRows = bandRows
        sharedWeights = ConvDenoiser.InferenceWeights.dependsOnSigma(model) ? nil : ConvDenoiser.InferenceWeights(model, sigma: nil)
    }

    /// A denoiser with the settings a command or a stage gives it.
    public init(model: ConvDenoiser, sigma: [Float]?, strength: Float = 1, ensemble: Int = 1, realNoise: RealNoiseMode = .off) {
        self.init(model: model)
        self.sigma = sigma
        self.strength = strength
        self.ensemble = ensemble
        self.realNoise = realNoise
    }

    /// The weights a stream for colour planes of noise σ runs with.
    func inferenceWeights(sigma: Float?) -> ConvDenoiser.InferenceWeights {
        sharedWeights ?? ConvDenoiser.InferenceWeights(model, sigma: sigma)
    }

    /// The σ per colour plane a conditioned model is given: from a measured noise level function
    /// (`mapSigmas`), else `sigma`, else `estimate()`, before `strength`; nil for a blind model
    /// (nothing to measure).
    ///
    /// The values are in the model's map space (`ConvDenoiser.mapSpace`): the estimator reads
    /// that space; a given or a per-channel measured σ is taken as independent noise of that σ
    /// in each channel (`mapPlanes`).
    func planeSigmas(_ planes: Int, levels: NoiseLevelFunction?, estimate: () throws -> [Float?]) rethrows -> [Float]? {
        if let levels { return Self.mapSigmas(levels) }
        return try channelRead(planes, estimate: estimate).map(mapPlanes)
    }

    /// σ per channel as given (`sigma`) or measured (`estimate()`), before any conversion into
    /// the model's map space; nil for a blind model.
    func channelRead(_ planes: Int, estimate: () throws -> [Float?]) rethrows -> [Float]? {
        guard model.noiseInput || model.noiseMap else { return nil }
        if let sigma { return sigma.count == planes ? sigma : [Float](repeating: sigma[0], count: planes) }
        return try estimate().map { $0 ?? Self.fallbackSigma }
    }

    /// The map's σ per plane for independent noise of σ per channel `rgb` (the same values for a
    /// model whose map is per channel).
    func mapPlanes(_ rgb: [Float]) -> [Float] {
        model.noiseMap && model.mapSpace != .rgb && rgb.count == 3 ? model.mapSpace.sigmas(independentRGB: rgb) : rgb
    }

    /// σ per channel for the map's σ per plane (what reports show; see `NoiseMapSpace.rgbSigmas`).
    public func channelSigmas(_ planes: [Float]) -> [Float] {
        model.noiseMap && planes.count == 3 ? model.mapSpace.rgbSigmas(planes) : planes
    }

    /// σ per plane as the model is told it: `strength` times the level measured or given.
    public func told(_ sigmas: [Float]) -> [Float] { strength == 1 ? sigmas : sigmas.map { $0 * strength } }

    /// What a conditioned model is told about one image's noise, and the provenance that
    /// records it.
    public struct NoiseReading: Sendable {
        /// σ per colour plane (given or measured; from a noise level function, its mean over
        /// brightness); nil for a blind model.
        public var sigmas: [Float]?
        /// The noise level function measured (a noise-map model with an estimator), recorded
        /// with the output; the model is given its mean per channel (`sigmas`).
        public var levels: NoiseLevelFunction?
        public var texts: [(key: String, text: String)]
        /// Set when the noise is above what the model was trained on (it will remove less than
        /// it should): the image's file, its level, and the model's range.
        public var warning: String?
        /// The real-noise gate's reading (`NoiseCorrelation`), when it was taken (`auto`).
        public var correlation: Double?
        /// σ per colour plane the real-noise stage is told; nil: no stage for this image.
        public var stage: [Float]?
    }

    /// One pass over an image's rows, top to bottom: `next` hands out bands (nil at the end),
    /// `finish` checks the rest of the file.
    public typealias RowPass = (next: () throws -> FloatImage?, finish: () throws -> Void)

    /// Reads an image's noise for the model: the given σ, else a noise level function (a
    /// noise-map model with an estimator) or σ per colour plane, measured in one pass over its
    /// rows (`openPass` starts it; not called when nothing is measured).
    public func readNoise(file: String, width: Int, height: Int, planes: Int, openPass: () throws -> RowPass) throws -> NoiseReading {
        if let sigma, sigma.count != 1 && sigma.count != planes {
            throw InferenceError.image(file: file, reason: "\(sigma.count) noise levels given for an image of \(planes) colour plane\(planes == 1 ? "" : "s")")
        }
        // The real-noise gate, fed the rows of whichever pass reads the noise.
        let gate = realNoise == .auto && (model.noiseInput || model.noiseMap) && width >= 8 && height >= 8
            ? NoiseCorrelation(width: width, planes: planes) : nil
        var correlation: Double?
        var gateRead = false
        func gated(_ pass: RowPass) -> RowPass {
            guard let gate else { return pass }
            return ({ try pass.next().map { band -> FloatImage in gate.add(band); return band } },
                    { while let band = try pass.next() { gate.add(band) }   // rows the measurement left
                      try pass.finish()
                      correlation = gate.value()
                      gateRead = true })
        }
        var levels: NoiseLevelFunction?
        if let estimator = levelEstimator(planes: planes) {
            let pass = gated(try openPass())
            levels = try NoiseLevelFunction.measure(with: estimator, width: width, height: height, space: model.mapSpace,
                                                    nextRows: pass.next)
            try pass.finish()
        }
        // σ per channel as given or measured, before any conversion into the model's map space.
        let rgbRead: [Float]? = levels != nil ? nil : try channelRead(planes) {
            let pass = gated(try openPass())
            let stride = NoiseEstimator.stride(forPixels: width * height)
            let estimators = (0..<planes).map { _ in NoiseEstimator(width: width, stride: stride) }
            while let band = try pass.next() {
                for c in 0..<planes { estimators[c].add(band, plane: c) }
            }
            try pass.finish()
            return estimators.map { $0.estimate() }
        }
        let read = levels.map(Self.mapSigmas) ?? rgbRead.map(mapPlanes)
        let sigmas = read.map(told)
        func list(_ v: [Float]) -> String { v.map { String(format: "%.2f", $0) }.joined(separator: ",") }
        // A map of another space than per-channel σ: its planes, then each channel's σ they imply
        // (last, where the JSON summary reads σ per channel).
        let opponent = model.noiseMap && model.mapSpace != .rgb && planes == 3
        func planesText(_ v: [Float], channels: [Float]? = nil) -> String {
            opponent ? "(\(model.mapSpace.rawValue) map " + list(v) + ") " + list(channels ?? channelSigmas(v)) : list(v)
        }
        // With a strength other than 1: what was read or given, then what the model was told.
        let toldNote = strength == 1 ? "" : sigmas.map { String(format: "; strength %g: told ", strength) + planesText($0, channels: rgbRead.map(told)) } ?? ""
        let texts: [(key: String, text: String)] = levels.map { f in
            [("latent:sigma", "noise level function, mean " + planesText(f.meanSigmas) + toldNote),
             ("latent:noise-levels", (opponent ? "\(model.mapSpace.rawValue): " : "")
                + f.table.map { $0.map { String(format: "%.2f", $0) }.joined(separator: " ") }.joined(separator: "; "))]
        } ?? read.map { v in
            [("latent:sigma", (sigma != nil ? "given " : "measured ") + planesText(v, channels: rgbRead) + toldNote)]
        } ?? []
        var reading = NoiseReading(sigmas: sigmas, levels: levels, texts: texts)
        if !gateRead && gate != nil {
            // Nothing was measured (σ given): a pass of its own, all of it read at its finish.
            try gated(try openPass()).finish()
        }
        reading.correlation = correlation
        reading.stage = stageSigma(sigmas, planes: planes, width: width, height: height, correlation: correlation)
        if let text = realNoiseText(stage: reading.stage, correlation: correlation) { reading.texts.append(("latent:real-noise", text)) }
        // The image's own noise (before `strength`), per channel, against the model's training range.
        let bins = levels.map { f in (0..<NoiseLevelFunction.brightnessBins).map { b in f.table.map { $0[b] } } }
        let highest = bins?.flatMap(channelSigmas).max() ?? rgbRead?.max()
        if let top = model.trainedSigmaMax, let highest, highest > top * 1.05 {
            reading.warning = "\(file): noise level \(String(format: "%.1f", highest)) is above what the model was trained on (up to \(String(format: "%g", top))); it will remove less noise than it should"
            reading.texts.append(("latent:warning", reading.warning!))
        }
        return reading
    }

    /// The σ per channel a noise-map model is given for a measured noise level function: its
    /// mean over brightness, the same everywhere in the image. A map that follows the function
    /// pixel by pixel (by the local brightness) did worse, on white noise most of all: on 8
    /// polyu-val photos with σ = 25 white noise, 36.05 dB against 37.25 with the means (37.53
    /// told the true σ); on the 41 real pairs, 36.70 against 36.77. The estimator's reading of
    /// how noise changes with brightness is not good enough to follow, and the model learnt a
    /// flat map as the sign of white noise.
    public static func mapSigmas(_ levels: NoiseLevelFunction) -> [Float] { levels.meanSigmas }

    /// A pass over an image in memory, in bands of `readRows` rows as a file's passes read them.
    static func memoryPass(_ img: FloatImage) -> RowPass {
        var y = 0
        return ({
            guard y < img.height else { return nil }
            defer { y += readRows }
            return img.rows(y..<min(img.height, y + readRows))
        }, {})
    }

    /// Denoises an image in memory (colour planes first, then alpha, as a `Frame` holds it) the
    /// way `denoiseFile` streams a file: the same noise reading, bands and tiles, so the same
    /// result; alpha planes are carried through. `file` names it in errors.
    public func denoise(_ img: FloatImage, colorPlanes planes: Int, file: String) throws -> (image: FloatImage, noise: NoiseReading) {
        if model.channels == 3 && planes == 1 {
            throw InferenceError.image(file: file, reason: "the model takes RGB images, this one is grey")
        }
        let pass = { Self.memoryPass(img) }
        let noise = try readNoise(file: file, width: img.width, height: img.height, planes: planes, openPass: pass)
        var out = img
        var y0 = 0
        let source = Self.memoryPass(img)
        try run(width: img.width, height: img.height, colorPlanes: planes, sigmas: noise.sigmas, stage: noise.stage,
                nextRows: source.next, emit: { band in
            out.setRows(band, at: y0, planes: planes)
            y0 += band.height
        })
        return (out, noise)
    }

    /// Denoises every colour plane (channel-major planes of a `width` x `height` image); rows
    /// are pulled from `nextRows` (any number at a time, top to bottom) and results pushed to
    /// `emit` in order, `bandRows` at a time. Planes: `colorPlanes` (1 or 3).
    /// `sigmas`: the noise level of each colour plane, for a noise-conditioned model (a colour
    /// model takes the first). With an `ensemble` of 4 or 8 (or 2 on an image wide enough to be
    /// tiled), the rows are gathered first and the image streamed in each orientation.
    /// `progress` hears how far it has got (0...1): the rows emitted, or the passes over the
    /// gathered image.
    /// With a `stage` σ (`NoiseReading.stage`), the network's output is the pilot of a
    /// `GroupWiener` stage that the rows go through on their way to `emit`.
    public func run(width: Int, height: Int, colorPlanes: Int, sigmas: [Float]? = nil, stage: [Float]? = nil,
                    nextRows: () throws -> FloatImage?, emit: @escaping (FloatImage) throws -> Void,
                    progress: ((Double) -> Void)? = nil) throws {
        guard let sigma = stage, width >= 8, height >= 8 else {
            return try runNetwork(width: width, height: height, colorPlanes: colorPlanes, sigmas: sigmas, nextRows: nextRows, emit: emit, progress: progress)
        }
        let stage = GroupWiener(width: width, height: height, channels: colorPlanes, sigma: sigma, settings: Self.realNoiseSettings, emit: emit)
        // The bands read, kept until the network's output for their rows comes (`used` rows of
        // the first already went to the stage).
        var queue: [FloatImage] = [], used = 0
        // The network's output in bands of 16 rows at most: the bands read wait for it, so
        // smaller bands hold fewer (a 4000x3000 photo: 112 rows of 3 planes at 64, 64 at 16).
        var network = self
        network.bandRows = min(bandRows, Self.stageBandRows)
        try network.runNetwork(width: width, height: height, colorPlanes: colorPlanes, sigmas: sigmas, nextRows: {
            guard let band = try nextRows() else { return nil }
            queue.append(band)
            return band
        }, emit: { out in
            var done = 0
            while done < out.height {
                let rows = min(out.height - done, queue[0].height - used)
                let noisy = used == 0 && rows == queue[0].height ? queue[0] : queue[0].rows(used..<(used + rows))
                try stage.push(noisy: noisy, pilot: rows == out.height ? out : out.rows(done..<(done + rows)))
                done += rows; used += rows
                if used == queue[0].height { queue.removeFirst(); used = 0 }
            }
        }, progress: progress)
        try stage.finish()
    }

    /// The σ per colour plane the real-noise stage is told: `realNoiseFactor` times the mean of
    /// what the network was told, per channel; nil (no stage) when `realNoise` is off, or
    /// `auto` and `correlation` is not above the gate, for an image smaller than a block
    /// (8 pixels) either way, and when that σ is under `realNoiseMinimum`.
    func stageSigma(_ sigmas: [Float]?, planes: Int, width: Int, height: Int, correlation: Double?) -> [Float]? {
        guard let sigmas, sigmas.count >= planes, width >= 8, height >= 8 else { return nil }
        switch realNoise {
        case .off: return nil
        case .auto: guard let correlation, correlation > Self.realNoiseGate else { return nil }
        case .on: break
        }
        let perChannel = planes == 3 ? channelSigmas(Array(sigmas.prefix(3))) : [sigmas[0]]
        let sigma = Self.realNoiseFactor * perChannel.reduce(0, +) / Float(perChannel.count)
        // Under half a grey level there is nothing for it to take out (and at 0 nothing to go on).
        return sigma >= Self.realNoiseMinimum ? [Float](repeating: sigma, count: planes) : nil
    }

    /// The network's output bands with the real-noise stage (see `run`).
    static let stageBandRows = 16

    /// The least σ (0-255) the real-noise stage is run with.
    public static let realNoiseMinimum: Float = 0.5

    /// The provenance of the real-noise stage's decision: "on: " or the gate's reading, then the
    /// σ the stage was told or "no stage" (nil when it is off, or the model takes no σ).
    func realNoiseText(stage: [Float]?, correlation: Double?) -> String? {
        guard realNoise != .off, model.noiseInput || model.noiseMap else { return nil }
        let how = realNoise == .on ? "on; "
            : correlation.map { String(format: "auto: noise correlation %.3f, ", $0) + ($0 > Self.realNoiseGate ? "above " : "not above ") + "\(Self.realNoiseGate); " }
            ?? "auto: noise correlation not measurable; "
        guard let stage else { return how + "no stage" }
        return how + String(format: "block-matching Wiener stage told σ %.2f (%g times the mean level told)", stage[0], Self.realNoiseFactor)
    }

    /// `run` without the real-noise stage.
    private func runNetwork(width: Int, height: Int, colorPlanes: Int, sigmas: [Float]?,
                            nextRows: () throws -> FloatImage?, emit: (FloatImage) throws -> Void,
                            progress: ((Double) -> Void)?) throws {
        // One orientation, or as it is and mirrored (each row reversed: streamed side by side),
        // unless the image is wide enough to be tiled.
        if ensemble == 1 || ensemble == 2 && !tiled(width: width, colorPlanes: colorPlanes) {
            var done = 0
            return try stream(width: width, height: height, colorPlanes: colorPlanes, sigmas: sigmas, mirror: ensemble == 2,
                              nextRows: nextRows, emit: { band in
                try emit(band)
                done += band.height
                progress?(Double(done) / Double(height))
            })
        }
        var img = FloatImage(width: width, height: height, channels: colorPlanes)
        var y = 0
        while y < height {
            guard let band = try nextRows() else { throw PNGError.truncated(file: "", reason: "fewer rows than the header says") }
            img.setRows(band.height + y > height ? band.rows(0..<(height - y)) : band, at: y, planes: colorPlanes)
            y += band.height
        }
        var sum = FloatImage(width: width, height: height, channels: colorPlanes)
        for (k, o) in Orientation.all.prefix(ensemble).enumerated() {
            let (w, h) = o.size(width: width, height: height)
            var read = 0, added = 0
            try stream(width: w, height: h, colorPlanes: colorPlanes, sigmas: sigmas, nextRows: {
                guard read < h else { return nil }
                defer { read = min(h, read + Self.readRows) }
                return img.oriented(o, rows: read..<min(h, read + Self.readRows))
            }, emit: { band in
                sum.addOriented(band, o, top: added)
                added += band.height
                progress?((Double(k) + Double(added) / Double(h)) / Double(ensemble))
            })
        }
        let scale = 1 / Float(ensemble)
        for i in sum.data.indices { sum.data[i] *= scale }
        for top in stride(from: 0, to: height, by: bandRows) { try emit(sum.rows(top..<min(height, top + bandRows))) }
    }

    /// Whether an image this wide is streamed in tiles: full-width streams run side by side for
    /// each unit of planes (a grey model on an RGB image: three), so the width they may take is
    /// shared among them.
    func tiled(width: Int, colorPlanes: Int) -> Bool {
        (width + 3) / 4 * 4 > streamWidth(units: colorPlanes / model.channels)
    }
    private func streamWidth(units: Int) -> Int { max(64, maxStreamWidth / units / 8 * 8) }

    /// `run` for one orientation: the rows streamed through one `ConvRowStream` per unit of
    /// planes (full width, or in tiles with a halo when very wide). With `mirror` (never tiled),
    /// a second stream per unit takes each row reversed, and the output is the mean of the two,
    /// the second's rows reversed back: the ensemble of 2 at the memory of two streams.
    private func stream(width: Int, height: Int, colorPlanes: Int, sigmas: [Float]?, mirror: Bool = false,
                        nextRows: () throws -> FloatImage?, emit: (FloatImage) throws -> Void) throws {
        let mc = model.channels
        precondition(mc == 1 || mc == colorPlanes, "model channels")
        precondition(!model.noiseInput || (sigmas?.count ?? 0) >= colorPlanes / mc, "a noise-conditioned model needs σ per plane")
        precondition(!model.noiseMap || (sigmas?.count ?? 0) >= colorPlanes, "a noise-map model needs σ per plane")
        let tiled = tiled(width: width, colorPlanes: colorPlanes)
        precondition(!(mirror && tiled), "a mirrored pair is streamed at full width")
        // The source's ring holds a tile band with its halo, or a stream step.
        let step = streamStepRows ?? ConvRowStream.defaultStepRows
        let source = RowSource(width: width, height: height, planes: colorPlanes,
                               rows: (tiled ? tileRows + 2 * Self.halo(for: model) : step) + Self.readRows)
        let planes = Planes(source: source, mc: mc, sigmas: sigmas)
        if tiled {
            try streamTiles(planes, nextRows: nextRows, emit: emit)
        } else {
            try streamFullWidth(planes, mirror: mirror, nextRows: nextRows, emit: emit)
        }
    }

    /// What a stream is fed: the source's rows of each unit of planes (padded), and a noise-map
    /// model's σ planes.
    private struct Planes {
        let source: RowSource
        let mc: Int
        let sigmas: [Float]?
        var units: [Int] { Array(stride(from: 0, to: source.planes, by: mc)) }

        /// Input plane `p` of unit `unit` for row `y` of the region [ya, yb) x [xa, xb) of the
        /// padded image (the whole image, or a tile with its halo).
        func fill(_ unit: Int, _ p: Int, _ y: Int, region: (ya: Int, yb: Int, xa: Int, xb: Int), into dst: UnsafeMutablePointer<Float>) {
            let w = region.xb - region.xa
            if p < mc {
                dst.update(from: source.row(region.ya + y) + (unit + p) * source.w4 + region.xa, count: w)
            } else {
                dst.update(repeating: sigmas![unit + p - mc] / 50, count: w)
            }
        }

        /// The same for the mirrored image, whole: row `y` reversed, padded as the mirrored image
        /// would be (its last column, the image's first, repeated).
        func fillMirrored(_ unit: Int, _ p: Int, _ y: Int, into dst: UnsafeMutablePointer<Float>) {
            let (width, w4) = (source.width, source.w4)
            guard p < mc else { return fill(unit, p, y, region: (0, source.h4, 0, w4), into: dst) }
            let src = source.row(y) + (unit + p) * w4
            for x in 0..<width { dst[x] = src[width - 1 - x] }
            for x in width..<w4 { dst[x] = src[0] }
        }
    }

    /// One full-width stream per unit of planes (a grey model on an RGB image: three, each with
    /// its own σ folded into its weights), two with `mirror`; each queues its output rows until
    /// every stream has them, and they go out in bands. A single stream's rows go into the band
    /// as they come (so an image's last step, which releases the network's whole lag at once,
    /// does not queue some 50 rows first).
    private func streamFullWidth(_ planes: Planes, mirror: Bool, nextRows: () throws -> FloatImage?,
                                 emit: (FloatImage) throws -> Void) throws {
        // The streams' row callback, which may emit a band, does not outlive this call.
        try withoutActuallyEscaping(emit) { emit in try streamFullWidth(planes, mirror: mirror, nextRows: nextRows, escapingEmit: emit) }
    }

    private func streamFullWidth(_ planes: Planes, mirror: Bool, nextRows: () throws -> FloatImage?,
                                 escapingEmit emit: @escaping (FloatImage) throws -> Void) throws {
        let source = planes.source, units = planes.units, mc = planes.mc
        let (width, height, w4, h4) = (source.width, source.height, source.w4, source.h4)
        let copies = mirror ? 2 : 1, count = units.count * copies
        let weights = units.map { inferenceWeights(sigma: planes.sigmas?[$0]) }
        let queues = RowQueues(count: count)
        var band = FloatImage(width: width, height: min(bandRows, height), channels: source.planes)
        var filled = 0, emitted = 0
        // Every row that all streams have, into the band; a full band goes out.
        func drain() throws {
            while emitted < height, let rows = queues.popAll() {
                let planeSize = band.planeSize
                band.data.withUnsafeMutableBufferPointer { b in
                    for (u, unit) in units.enumerated() {
                        for p in 0..<mc {
                            let to = b.baseAddress! + (unit + p) * planeSize + filled * width
                            rows[u * copies].withUnsafeBufferPointer { to.update(from: $0.baseAddress! + p * w4, count: width) }
                            guard mirror else { continue }
                            // The mean with the mirrored stream's row, reversed back (as the
                            // ensemble's sum: (0 + a) + b, times 1/2).
                            rows[u * copies + 1].withUnsafeBufferPointer { r in
                                let m = r.baseAddress! + p * w4
                                for x in 0..<width { to[x] = (to[x] + m[width - 1 - x]) * 0.5 }
                            }
                        }
                    }
                }
                filled += 1
                emitted += 1
                if filled == band.height {
                    try emit(band)
                    filled = 0
                    if emitted < height { band = FloatImage(width: width, height: min(bandRows, height - emitted), channels: source.planes) }
                }
            }
        }
        // A failure of `emit` inside a stream's row callback, rethrown once the feed returns.
        var failure: Error?
        let streams = (0..<count).map { e in
            let s = ConvRowStream(model: model, weights: weights[e / copies], width: w4, height: h4,
                                  stepRows: streamStepRows) { y, out in
                guard y < height, failure == nil else { return }
                queues.push(e, Array(UnsafeBufferPointer(start: out, count: mc * w4)))
                if count == 1 {
                    do { try drain() } catch { failure = error }
                }
            }
            s.jobs = jobs
            return s
        }
        var fed = 0
        while fed < h4 {
            let k = min(streams[0].stepRows, h4 - fed)
            source.drop(below: fed)
            try source.ensure(upTo: fed + k, nextRows: nextRows)
            for (u, unit) in units.enumerated() {
                streams[u * copies].feed(k) { y, p, dst in planes.fill(unit, p, y, region: (0, h4, 0, w4), into: dst) }
                if mirror { streams[u * copies + 1].feed(k) { y, p, dst in planes.fillMirrored(unit, p, y, into: dst) } }
            }
            if let failure { throw failure }
            fed += k
            try drain()
        }
        precondition(emitted == height, "ConvRowStream emitted \(emitted) of \(height) rows")
    }

    /// A very wide image: streams of full width would hold too many rows, so it is cut into
    /// tiles (bands of `tileBandRows` rows, strips of at most `maxStreamWidth` columns), each
    /// streamed with a halo around it. Tiles start on multiples of `tileAlignment` (so the quarter-resolution
    /// Winograd tiles line up) and the halo covers the receptive field: the same values again.
    private func streamTiles(_ planes: Planes, nextRows: () throws -> FloatImage?, emit: (FloatImage) throws -> Void) throws {
        let source = planes.source, units = planes.units, mc = planes.mc
        let (width, height, w4, h4) = (source.width, source.height, source.w4, source.h4)
        let halo = Self.halo(for: model)
        let weights = units.map { inferenceWeights(sigma: planes.sigmas?[$0]) }
        let streamWidth = streamWidth(units: units.count)
        let strips = (w4 + streamWidth - 1) / streamWidth
        let align = model.tileAlignment
        let stripWidth = ((w4 + strips - 1) / strips + align - 1) / align * align
        var r0 = 0
        while r0 < height {
            let r1 = min(h4, r0 + tileRows), outRows = min(r1, height) - r0
            let ya = max(0, r0 - halo), yb = min(h4, r1 + halo)
            source.drop(below: ya)
            try source.ensure(upTo: yb, nextRows: nextRows)
            var out = FloatImage(width: width, height: outRows, channels: source.planes)
            let planeSize = out.planeSize
            for c0 in stride(from: 0, to: width, by: stripWidth) {
                let c1 = min(w4, c0 + stripWidth), outCols = min(c1, width) - c0
                let region = (ya: ya, yb: yb, xa: max(0, c0 - halo), xb: min(w4, c1 + halo))
                for (u, unit) in units.enumerated() {
                    out.data.withUnsafeMutableBufferPointer { ob in
                        let o = ob.baseAddress!
                        let s = ConvRowStream(model: model, weights: weights[u], width: region.xb - region.xa, height: yb - ya,
                                              stepRows: streamStepRows) { y, rows in
                            let row = ya + y
                            guard row >= r0 && row < r0 + outRows else { return }
                            for p in 0..<mc {
                                (o + (unit + p) * planeSize + (row - r0) * width + c0)
                                    .update(from: rows + p * (region.xb - region.xa) + c0 - region.xa, count: outCols)
                            }
                        }
                        s.jobs = jobs
                        s.feed(yb - ya) { y, p, dst in planes.fill(unit, p, y, region: region, into: dst) }
                    }
                }
            }
            // Out in bands of bandRows, as the full-width path does.
            var top = 0
            while top < outRows {
                let n = min(bandRows, outRows - top)
                try emit(out.rows(top..<(top + n)))
                top += n
            }
            r0 = r1
        }
    }

    /// Columns beyond which an image is streamed in tiles (full-width streams hold about 19 KB
    /// of rows per column for the colour model).
    public var maxStreamWidth = 4096
    /// Rows of a tile band in that case (each band's halo rows are computed twice).
    public var tileBandRows = 512
    /// The streams' step in rows (nil: `ConvRowStream.defaultStepRows`); tests try others.
    public var streamStepRows: Int?

    /// Rows of a tile band: `tileBandRows` down to a multiple of the model's tile alignment.
    private var tileRows: Int { max(model.tileAlignment, tileBandRows / model.tileAlignment * model.tileAlignment) }

    /// The halo a tile needs: the model's receptive radius, rounded up to a multiple of its tile
    /// alignment (so that tiles start where every Winograd tile lines up).
    public static func halo(for model: ConvDenoiser) -> Int {
        let a = model.tileAlignment
        return (model.receptiveRadius + a - 1) / a * a
    }

    /// Rows a file's passes read at a time: at most about 1 MB, and at most 16 (the slack of
    /// `run`'s row ring).
    static let readRows = 16
    static func nextRows(_ reader: PNGReader) throws -> PNGImage? {
        try reader.readBand(rows: min(readRows, reader.bandRows(bytes: 1 << 20)))
    }

    /// The estimator that reads a noise level function for an image of `planes` colour planes:
    /// a noise-map model's, unless `sigma` is given.
    func levelEstimator(planes: Int) -> NoiseMapEstimator? {
        guard model.noiseMap, sigma == nil, let estimator, estimator.channels == planes else { return nil }
        return estimator
    }

    /// The noise level function a noise-map model measures for `img` (as `denoiseFile` does):
    /// nil when `sigma` is given, or there is no estimator.
    public func noiseLevels(for img: FloatImage) -> NoiseLevelFunction? {
        guard let estimator = levelEstimator(planes: img.channels) else { return nil }
        return NoiseLevelFunction.measure(with: estimator, image: img, space: model.mapSpace)
    }

    /// The σ per colour plane a conditioned model is given for `img`: `sigma`, else measured
    /// (as `denoiseFile` measures it), times `strength`; nil for a blind model.
    public func sigmas(for img: FloatImage) -> [Float]? {
        planeSigmas(img.channels, levels: noiseLevels(for: img)) { NoiseEstimator.estimate(img) }.map(told)
    }

    /// The reference: the whole image in one piece (padded to multiples of 4 by repeating the
    /// last row and column), for tests and small images; with an `ensemble`, in each orientation
    /// and averaged as `run` does. `sigmas`: as `sigmas(for:)` gives (computed when not passed).
    public func wholeImage(_ img: FloatImage, sigmas given: [Float]? = nil) -> FloatImage {
        let sigmas = given ?? sigmas(for: img)
        let out = networkWholeImage(img, sigmas: sigmas)
        guard let sigma = stageSigma(for: img, sigmas: sigmas) else { return out }
        // GroupWiener.filter throws only through its emit, which here does not.
        return try! GroupWiener.filter(noisy: img, pilot: out, sigma: sigma, settings: Self.realNoiseSettings)
    }

    /// The real-noise stage's σ for `img` (as `readNoise` decides it), given the network's σs.
    public func stageSigma(for img: FloatImage, sigmas: [Float]?) -> [Float]? {
        let correlation = realNoise == .auto && sigmas != nil ? NoiseCorrelation.measure(img, planes: img.channels) : nil
        return stageSigma(sigmas, planes: img.channels, width: img.width, height: img.height, correlation: correlation)
    }

    /// `wholeImage` without the real-noise stage.
    private func networkWholeImage(_ img: FloatImage, sigmas: [Float]?) -> FloatImage {
        guard ensemble > 1 else { return wholeImageOnce(img, sigmas: sigmas) }
        var sum = FloatImage(width: img.width, height: img.height, channels: img.channels)
        for o in Orientation.all.prefix(ensemble) { sum.addOriented(wholeImageOnce(img.oriented(o), sigmas: sigmas), o, top: 0) }
        let scale = 1 / Float(ensemble)
        for i in sum.data.indices { sum.data[i] *= scale }
        return sum
    }

    /// `wholeImage` in one orientation.
    private func wholeImageOnce(_ img: FloatImage, sigmas: [Float]?) -> FloatImage {
        let h4 = (img.height + 3) / 4 * 4, w4 = (img.width + 3) / 4 * 4
        let mc = model.channels
        var out = FloatImage(width: img.width, height: img.height, channels: img.channels)
        let ws = pool.take()
        defer { pool.give(ws) }
        var x = [Float](repeating: 0, count: model.inputPlanes * h4 * w4), r = [Float](repeating: 0, count: mc * h4 * w4)
        for unit in stride(from: 0, to: img.channels, by: mc) {
            let weights = inferenceWeights(sigma: sigmas?[unit])
            for p in 0..<mc {
                for y in 0..<h4 { for xx in 0..<w4 { x[(p * h4 + y) * w4 + xx] = img[x: min(xx, img.width - 1), y: min(y, img.height - 1), c: unit + p] } }
                if model.noiseMap {
                    for i in 0..<(h4 * w4) { x[(mc + p) * h4 * w4 + i] = sigmas![unit + p] / 50 }
                }
            }
            x.withUnsafeBufferPointer { xb in r.withUnsafeMutableBufferPointer { model.infer(xb.baseAddress!, h: h4, w: w4, weights: weights, into: $0.baseAddress!, workspace: ws) } }
            for p in 0..<mc {
                for y in 0..<img.height { for xx in 0..<img.width { out[x: xx, y: y, c: unit + p] = r[(p * h4 + y) * w4 + xx] } }
            }
        }
        return out
    }

    /// Streams `input` to `output` (written atomically), keeping alpha, the bit depth and, with
    /// `keepMetadata`, the input's colour, physical and text chunks. `opened`: the input already
    /// opened (its header read) by the caller, used for the main pass.
    @discardableResult
    public func denoiseFile(input: String, output: String, limits: PNGLimits, compression: Int?,
                            texts: [(key: String, text: String)], keepMetadata: Bool = true, opened: PNGReader? = nil,
                            progress: ((Double) -> Void)? = nil) throws -> NoiseReading {
        let reader = try opened ?? PNGReader(path: input, limits: limits)
        let kept = keepMetadata ? KeptChunks(reader) : .none
        let h = reader.header
        let layout = h.layout
        let depth = h.depth
        let planes = layout.colorChannels
        if model.channels == 3 && planes == 1 {
            throw InferenceError.image(file: input, reason: "the model takes RGB images, this one is grey")
        }
        let noise = try readNoise(file: input, width: h.width, height: h.height, planes: planes) {
            let pass = try PNGReader(path: input, limits: limits)
            return ({ try Self.nextRows(pass).map { FloatImage($0) } }, { try pass.finish() })
        }
        try AtomicOutput.write(to: output) { tmp in
            do {
                var format = PNGFileFormat(layout: layout, depth: depth, compression: compression, texts: kept.texts + texts + noise.texts)
                format.metadata = kept.metadata(for: layout)
                let writer = try PNGWriter(path: tmp, width: h.width, height: h.height, format: format)
                // Alpha is carried through as the file's own bytes, a row at a time.
                var alphaRows: [[UInt8]] = []
                try run(width: h.width, height: h.height, colorPlanes: planes, sigmas: noise.sigmas, stage: noise.stage, nextRows: {
                    guard let band = try Self.nextRows(reader) else { return nil }
                    if layout.hasAlpha { alphaRows += Self.alphaRows(of: band, colorPlanes: planes) }
                    return FloatImage(band)
                }, emit: { band in
                    if !layout.hasAlpha {
                        try writer.write(band.pngImage(layout: layout, depth: depth))
                    } else {
                        let colour = band.pngImage(layout: layout.withAlpha(false), depth: depth)
                        try writer.write(Self.restoringAlpha(colour, rows: &alphaRows, layout: layout))
                    }
                }, progress: progress)
                try reader.finish()
                try writer.finish()
            } catch let e as PNGError where e.file == tmp {
                throw e.renamed(to: output)
            }
        }
        return noise
    }
}

extension BandDenoiser {
    /// The alpha samples of each row of a band, as the file's own bytes.
    static func alphaRows(of band: PNGImage, colorPlanes planes: Int) -> [[UInt8]] {
        let bps = band.depth / 8, ch = band.layout.channels, w = band.width
        return (0..<band.height).map { y in
            var a = [UInt8](repeating: 0, count: w * bps)
            for x in 0..<w {
                for b in 0..<bps { a[x * bps + b] = band.bytes[((y * w + x) * ch + planes) * bps + b] }
            }
            return a
        }
    }

    /// The denoised colour planes (quantised) with the untouched alpha samples put back in
    /// place, taking the band's rows from the front of `rows`.
    static func restoringAlpha(_ colour: PNGImage, rows: inout [[UInt8]], layout: PixelLayout) -> PNGImage {
        let depth = colour.depth, bps = depth / 8, ch = layout.channels, planes = layout.colorChannels
        var png = PNGImage(width: colour.width, height: colour.height, layout: layout, depth: depth)
        colour.bytes.withUnsafeBytes { src in
            png.bytes.withUnsafeMutableBytes { dst in
                for y in 0..<colour.height {
                    let a = rows[y]
                    for x in 0..<colour.width {
                        let p = y * colour.width + x
                        for b in 0..<(planes * bps) { dst[(p * ch) * bps + b] = src[(p * planes) * bps + b] }
                        for b in 0..<bps { dst[(p * ch + planes) * bps + b] = a[x * bps + b] }
                    }
                }
            }
        }
        rows.removeFirst(colour.height)   // once per band, not once per row
        return png
    }
}

/// `ConvDenoiser.infer` keeps its state in the workspace it is given and only reads the weights;
/// workspaces come from a locked pool, one per file being denoised, so one BandDenoiser may
/// serve several files at once.
extension BandDenoiser: @unchecked Sendable {}

/// The rows a band needs, in a fixed buffer used round-robin.
final class RowRing: @unchecked Sendable {
    private(set) var rows: Int
    let rowSize: Int
    private var base: UnsafeMutablePointer<Float>

    init(rows: Int, rowSize: Int) {
        self.rows = rows
        self.rowSize = rowSize
        base = .allocate(capacity: rows * rowSize)
    }

    deinit { base.deallocate() }

    /// Room for `newRows` rows, keeping the rows in `range`.
    func grow(to newRows: Int, keeping range: Range<Int>) {
        let bigger = UnsafeMutablePointer<Float>.allocate(capacity: newRows * rowSize)
        for r in range { (bigger + (r % newRows) * rowSize).update(from: row(r), count: rowSize) }
        base.deallocate()
        base = bigger
        rows = newRows
    }

    /// Row `r` of the padded image (valid while it is among the last `rows` rows stored).
    func row(_ r: Int) -> UnsafeMutablePointer<Float> { base + (r % rows) * rowSize }
}

/// The padded image's rows as a file hands them out, in a ring: row r in slot r mod capacity,
/// each row `planes` planes of w4 values (the last column repeated to w4, the last row to h4).
final class RowSource {
    let width, height, planes, w4, h4: Int
    private let ring: RowRing
    private var start = 0, end = 0, read = 0

    init(width: Int, height: Int, planes: Int, rows: Int) {
        (self.width, self.height, self.planes) = (width, height, planes)
        w4 = (width + 3) / 4 * 4
        h4 = (height + 3) / 4 * 4
        ring = RowRing(rows: rows, rowSize: planes * w4)
    }

    /// Rows above `row` are no longer needed.
    func drop(below row: Int) { start = max(start, min(row, end)) }

    func row(_ r: Int) -> UnsafeMutablePointer<Float> { ring.row(r) }

    /// Reads until rows [start, row) of the padded image are in the ring.
    func ensure(upTo row: Int, nextRows: () throws -> FloatImage?) throws {
        while end < min(row, h4) {
            if read < height {
                guard let band = try nextRows() else { throw PNGError.truncated(file: "", reason: "fewer rows than the header says") }
                if end + band.height - start > ring.rows {   // a source handing out larger bands
                    ring.grow(to: end + band.height - start, keeping: start..<end)
                }
                band.data.withUnsafeBufferPointer { src in
                    for y in 0..<band.height {
                        let dst = ring.row(end + y)
                        for c in 0..<planes {
                            let from = src.baseAddress! + c * band.planeSize + y * width, to = dst + c * w4
                            to.update(from: from, count: width)
                            for x in width..<w4 { to[x] = from[width - 1] }
                        }
                    }
                }
                end += band.height
                read += band.height
            } else {
                ring.row(end).update(from: ring.row(end - 1), count: ring.rowSize)   // bottom padding: the last row repeated
                end += 1
            }
        }
    }
}

/// Each stream's output rows, waiting until every stream has produced the same row.
final class RowQueues {
    private var rows: [[[Float]]]
    private var heads: [Int]
    init(count: Int) {
        rows = Array(repeating: [], count: count)
        heads = Array(repeating: 0, count: count)
    }
    func push(_ i: Int, _ row: [Float]) { rows[i].append(row) }
    /// The next row of every stream, if they all have one.
    func popAll() -> [[Float]]? {
        guard rows.indices.allSatisfy({ heads[$0] < rows[$0].count }) else { return nil }
        let out = rows.indices.map { rows[$0][heads[$0]] }
        for i in rows.indices {
            heads[i] += 1
            if heads[i] == rows[i].count { rows[i].removeAll(keepingCapacity: true); heads[i] = 0 }
        }
        return out
    }
}

/// Workspaces kept between files (at most one per worker thread): a batch of same-sized images
/// allocates its buffers once per worker.
final class WorkspacePool: @unchecked Sendable {
    private let lock = NSLock()
    private var free: [ConvWorkspace] = []

    func take() -> ConvWorkspace {
        lock.lock()
        defer { lock.unlock() }
        return free.popLast() ?? ConvWorkspace()
    }

    func give(_ ws: ConvWorkspace) {
        lock.lock()
        free.append(ws)
        lock.unlock()
    }
}
