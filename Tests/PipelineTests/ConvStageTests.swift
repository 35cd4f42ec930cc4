import Foundation
import Testing
@testable import Imaging
@testable import Models
@testable import NN
@testable import PNGIO
@testable import Pipeline
import Tensor
@testable import Inference
@testable import FileIO
import TestSupport

/// The convolutional model as a pipeline stage: streamed file to file when it is a chain's only
/// stage, in memory otherwise, with the same result either way.
struct ConvStageTests {
    /// A colour noise-map model with a bundled estimator (random weights in every part).
    static func colourModel() -> ConvDenoiser {
        let model = ConvDenoiser(channels: 3, widths: (4, 6, 8), blocks: 1, noiseMap: true, seed: 5)
        var rng = RandomGenerator(seed: 6)
        for p in model.parameters where p.name.hasPrefix("res") {
            for i in 0..<p.count { p.value.data[i] = (rng.uniform() * 2 - 1) * 0.3 }
        }
        model.estimator = NoiseMapEstimator(channels: 3, width: 4, depth: 2, seed: 3)
        model.setExactInference(true)
        return model
    }

    /// Writes 8-bit images of a layout with a gradient and noise (so that σ is measurable).
    static func writeNoisy(_ dir: String, layout: PixelLayout, depth: Int, sizes: [(Int, Int)]) throws -> [InputItem] {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let top = (1 << depth) - 1
        for (i, (w, h)) in sizes.enumerated() {
            var rng = RandomGenerator(seed: UInt64(40 + i))
            var samples: [Int] = []
            for y in 0..<h {
                for x in 0..<w {
                    for c in 0..<layout.channels {
                        let v = 0.2 + 0.5 * Float(x + y + 7 * c) / Float(w + h + 21) + 0.08 * rng.normal()
                        samples.append(Int((min(1, max(0, v)) * Float(top)).rounded()))
                    }
                }
            }
            try PNGWriter.write(PNGImage(width: w, height: h, layout: layout, depth: depth, samples: samples), to: dir + "/img-\(i).png")
        }
        return try InputWalker.expand([dir], excluding: nil)
    }

    /// The image and the provenance text of a written PNG.
    static func readBack(_ path: String) throws -> (PNGImage, [String: String]) {
        let r = try PNGReader(path: path)
        let img = try r.readBand(rows: r.header.height)!
        let texts = try r.finish()
        return (img, Dictionary(texts.map { ($0.key, $0.text) }, uniquingKeysWith: { a, _ in a }))
    }

    /// Streamed (only stage of the chain) and in-memory (`frames`) runs give the same pixels and
    /// the same recorded noise level: a grey conditioned model on grey, RGBA (alpha kept) and
    /// 16-bit images, σ measured and given; a colour noise-map model with its estimator.
    @Test(arguments: [("grey", PixelLayout.gray, 8), ("grey", .rgba, 8), ("grey", .gray, 16), ("colour", .rgb, 8), ("colour", .rgba, 16)],
          [nil, [Float(12)]])
    func streamedEqualsInMemory(_ c: (model: String, layout: PixelLayout, depth: Int), sigma: [Float]?) throws {
        let model = c.model == "grey" ? BandDenoiserTests.conditionedModel() : Self.colourModel()
        let dir = makeTempDir("convstage")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let items = try Self.writeNoisy(dir + "/in", layout: c.layout, depth: c.depth, sizes: [(37, 29), (130, 21), (9, 70)])
        let stage = try ConvStage(verb: "denoise", model: model, name: "m", hash: "h", sigma: sigma)
        let plan = PipelinePlan(inputs: [dir + "/in"], stages: [stage], sink: .folder(dir + "/out"))
        let runner = try PipelineRunner(plan: plan, options: PipelineOptions(jobs: 2))
        #expect(runner.streamingStage != nil)
        let outcomes = try runner.run(items: items)
        #expect(outcomes == [ItemOutcome](repeating: .done, count: items.count))
        let frames = runner.frames(items)
        for (item, r) in zip(items, frames) {
            let f = try r.get()
            let (png, texts) = try Self.readBack(runner.outputPath(for: item)!)
            let (input, _) = try Self.readBack(item.path)
            #expect(png.layout == c.layout && png.depth == c.depth)
            #expect(f.image.pngImage(layout: f.layout, depth: f.depth).bytes == png.bytes, "\(item.relativeOutput): streamed and in-memory differ")
            #expect(png.bytes != input.bytes, "the model changed nothing")
            let sigmaText = Dictionary(f.texts.map { ($0.key, $0.text) }, uniquingKeysWith: { a, _ in a })["latent:sigma"]
            #expect(sigmaText != nil && sigmaText == texts["latent:sigma"])
            #expect(texts["latent:chain"] == stage.spec && texts["latent:model"] == stage.modelDescription)
            if sigma != nil { #expect(sigmaText!.hasPrefix("given 12.00")) }
            if c.layout.hasAlpha {
                // Alpha samples byte for byte.
                let bps = c.depth / 8, ch = c.layout.channels
                for p in 0..<(png.width * png.height) {
                    for b in 0..<bps where png.bytes[(p * ch + ch - 1) * bps + b] != input.bytes[(p * ch + ch - 1) * bps + b] {
                        Issue.record("\(item.relativeOutput): alpha of pixel \(p) changed")
                        return
                    }
                }
            }
        }
    }

    /// A noise-map model with an estimator is given the measured noise level function's mean
    /// per channel, the same at every pixel: a file's output is whole-image inference with those
    /// σ, and its provenance records them and the whole function.
    @Test func measuredNoiseGoesInAsTheFunctionsMeans() throws {
        let model = Self.colourModel()
        let dir = makeTempDir("convmeans")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let items = try Self.writeNoisy(dir + "/in", layout: .rgb, depth: 8, sizes: [(45, 37)])
        let bd = BandDenoiser(model: model)
        let noise = try bd.denoiseFile(input: items[0].path, output: dir + "/out.png", limits: .default, compression: nil, texts: [])
        let img = FloatImage(try PNGReader.read(path: items[0].path))
        let levels = try #require(bd.noiseLevels(for: img))
        #expect(noise.levels == levels && noise.sigmas == levels.meanSigmas)
        #expect(bd.sigmas(for: img) == levels.meanSigmas)
        let (png, texts) = try Self.readBack(dir + "/out.png")
        #expect(png.bytes == bd.wholeImage(img, sigmas: levels.meanSigmas).pngImage(layout: .rgb, depth: 8).bytes)
        #expect(png.bytes != bd.wholeImage(img, sigmas: levels.meanSigmas.map { $0 + 10 }).pngImage(layout: .rgb, depth: 8).bytes, "σ matters")
        #expect(texts["latent:sigma"] == "noise level function, mean " + levels.meanSigmas.map { String(format: "%.2f", $0) }.joined(separator: ","))
        #expect(texts["latent:noise-levels"]?.split(separator: ";").count == 3)
    }

    /// In a longer chain the stage runs in memory, after the frame stages before it.
    @Test func inMemoryAfterAnotherStage() throws {
        let dir = makeTempDir("convchain")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let items = try Self.writeNoisy(dir + "/in", layout: .rgb, depth: 8, sizes: [(40, 30)])
        let stage = try ConvStage(verb: "denoise", model: BandDenoiserTests.conditionedModel(), name: "m", hash: "h", sigma: [20])
        let plan = PipelinePlan(inputs: [dir + "/in"], stages: [GrayStage(), stage], sink: .folder(dir + "/out"))
        let runner = try PipelineRunner(plan: plan, options: PipelineOptions(jobs: 1))
        #expect(runner.streamingStage == nil)
        let f = try runner.frames(items)[0].get()
        #expect(f.layout == .gray && f.image.channels == 1)
        let grey = try GrayStage().apply(try runner.read(items[0], index: 0))
        var d = BandDenoiser(model: stage.model)
        d.sigma = [20]
        #expect(f.image.data == d.wholeImage(grey.image).data, "in-memory stage = whole-image inference")
    }

    /// Parameters are checked when the stage is made: σ count and range; a grey chain before a
    /// colour model is refused up front.
    @Test func parametersAndShape() throws {
        #expect(throws: PipelineError.self) { try ConvStage(verb: "denoise", model: BandDenoiserTests.conditionedModel(), name: "m", hash: "h", sigma: [1, 2]) }
        #expect(throws: PipelineError.self) { try ConvStage(verb: "denoise", model: BandDenoiserTests.conditionedModel(), name: "m", hash: "h", sigma: [101]) }
        #expect(throws: PipelineError.self) { try ConvStage(verb: "encode", model: BandDenoiserTests.conditionedModel(), name: "m", hash: "h") }
        #expect(ConvStage.parseSigma("20,25,30") == [20, 25, 30])
        #expect(ConvStage.parseSigma("20,,30") == nil && ConvStage.parseSigma("x") == nil && ConvStage.parseSigma("nan") == nil)
        let colour = try ConvStage(verb: "denoise", model: Self.colourModel(), name: "c", hash: "h", sigma: [5, 6, 7])
        #expect(colour.spec == "denoise c sigma=5,6,7")
        #expect(throws: PipelineError.self) { _ = try colour.shape(after: ChainShape(colorPlanes: 1)) }
        #expect(try colour.shape(after: ChainShape(width: 9, height: 9, colorPlanes: 3)) == ChainShape(width: 9, height: 9, colorPlanes: 3))
        let grey3 = try ConvStage(verb: "denoise", model: BandDenoiserTests.conditionedModel(), name: "g", hash: "h", sigma: [5, 6, 7])
        #expect(throws: PipelineError.self) { _ = try grey3.shape(after: ChainShape(colorPlanes: 1)) }
    }

    /// The photo family: grey images go to the grey model, colour ones to the colour model,
    /// streamed or in memory alike; the provenance names both.
    @Test func familySendsEachImageToItsModel() throws {
        let grey = BandDenoiserTests.conditionedModel(), colour = Self.colourModel()
        let dir = makeTempDir("family")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try Self.writeNoisy(dir + "/in/g", layout: .gray, depth: 8, sizes: [(30, 20)])
        _ = try Self.writeNoisy(dir + "/in/c", layout: .rgba, depth: 8, sizes: [(30, 20)])
        let items = try InputWalker.expand([dir + "/in"], excluding: nil)
        let family = try ConvStage(verb: "denoise", model: grey, name: "fam", hash: "g", colour: (colour, "fam-colour", "c"))
        #expect(family.modelDescription.contains("grey images fam conv-dae") && family.modelDescription.contains("colour images fam-colour conv-dae"))
        let runner = try PipelineRunner(plan: PipelinePlan(inputs: [dir + "/in"], stages: [family], sink: .folder(dir + "/out")), options: PipelineOptions(jobs: 1))
        _ = try runner.run(items: items)
        let frames = runner.frames(items)
        for (item, r) in zip(items, frames) {
            let f = try r.get()
            let (png, _) = try Self.readBack(runner.outputPath(for: item)!)
            #expect(f.image.pngImage(layout: f.layout, depth: f.depth).bytes == png.bytes, "\(item.relativeOutput)")
            let input = try runner.read(item, index: 0)
            let alone = f.colorPlanes == 3 ? try ConvStage(verb: "denoise", model: colour, name: "x", hash: "x") : try ConvStage(verb: "denoise", model: grey, name: "x", hash: "x")
            #expect(try alone.apply(input).image.data == f.image.data, "\(item.relativeOutput) went to the wrong model")
        }
        // Without a colour model, a colour model alone refuses grey chains; the family does not.
        #expect(throws: Never.self) { _ = try family.shape(after: ChainShape(colorPlanes: 1)) }
    }
}
