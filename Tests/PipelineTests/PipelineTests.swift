import Foundation
import Testing
@testable import Imaging
@testable import Models
@testable import NN
@testable import PNGIO
@testable import Pipeline
import Tensor
@testable import FileIO
import TestSupport

/// Writes `count` 16-bit grey PNGs of size w x h (16-bit so that inputs are exact floats).
func writeImages(_ dir: String, count: Int, w: Int, h: Int, layout: PixelLayout = .gray) throws -> [InputItem] {
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    for i in 0..<count {
        var rng = RandomGenerator(seed: UInt64(i + 1))
        let img = PNGImage(width: w, height: h, layout: layout, depth: 16,
                           samples: (0..<(w * h * layout.channels)).map { _ in Int(rng.uniform() * 65535) })
        try PNGWriter.write(img, to: dir + String(format: "/img-%03d.png", i))
    }
    return try InputWalker.expand([dir], excluding: nil)
}

/// decode(encode(x)) = x exactly: lets tests see what tiling and blending do.
final class IdentityModel: LatentModel {
    let config: ModelConfig
    private let out = Matrix(rows: 0, cols: 1)
    private var buffer: Matrix
    init(width: Int, height: Int, channels: Int = 1) {
        config = ModelConfig(kind: .ae, width: width, height: height, channels: channels, hidden: [], latent: width * height * channels)
        buffer = Matrix(rows: 0, cols: width * height * channels)
    }
    var parameters: [Parameter] { [] }
    var exactLayers: [Linear] { [] }
    func trainStep(_ x: Matrix, rng: inout RandomGenerator) -> StepLosses { StepLosses() }
    func evaluate(_ x: Matrix, rng: inout RandomGenerator, rowLoss: UnsafeMutablePointer<Float>?) -> StepLosses { StepLosses() }
    func encode(_ x: Matrix) -> Matrix { buffer.copy(from: x); return buffer }
    func decode(_ z: Matrix) -> Matrix { buffer.copy(from: z); return buffer }
    func exportTensors() -> [NamedTensor] { [] }
    func importTensors(_ tensors: [String: NamedTensor], file: String) throws {}
    func replica() -> LatentModel { IdentityModel(width: config.width, height: config.height, channels: config.channels) }
}

struct PipelineExactnessTests {
    /// Output floats through the pipeline equal the model applied directly, for any jobs and batch.
    @Test func denoiseEqualsTheModelAppliedDirectly() throws {
        let dir = makeTempDir("exact")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let items = try writeImages(dir + "/in", count: 37, w: 8, h: 8)
        let config = ModelConfig(kind: .dae, width: 8, height: 8, hidden: [24], latent: 6, noise: .gaussian(sigma: 0.2))
        let model = ModelFile.make(config, seed: 3)
        model.setExactInference(true)
        let direct = Matrix(rows: items.count, cols: 64)
        for (i, item) in items.enumerated() {
            let f = FloatImage(try PNGReader.read(path: item.path))
            for j in 0..<64 { direct[i, j] = f.data[j] }
        }
        // Directly: all at once, and one image at a time.
        let want = model.reconstruct(direct).array
        for i in [0, 5, 36] {
            let one = Matrix(rows: 1, cols: 64, values: Array(direct.array[(i * 64)..<((i + 1) * 64)]))
            #expect(model.reconstruct(one).array == Array(want[(i * 64)..<((i + 1) * 64)]), "image \(i) alone differs")
        }
        for (jobs, batch) in [(1, 256), (3, 1), (2, 7), (4, 37), (2, 33), (1, 64)] {
            let stage = try ModelStage(verb: "denoise", model: model.replica(), name: "m", batch: batch)
            let runner = try PipelineRunner(plan: PipelinePlan(inputs: [dir + "/in"], stages: [stage], sink: .folder(dir + "/out")),
                                            options: PipelineOptions(jobs: jobs))
            let frames = runner.frames(items)
            for (i, r) in frames.enumerated() {
                let f = try r.get()
                #expect(f.index == i)
                #expect(f.image.data == Array(want[(i * 64)..<((i + 1) * 64)]), "image \(i) differs with jobs \(jobs), batch \(batch)")
            }
        }
    }

    @Test(arguments: [(20, 13), (8, 8), (5, 3), (31, 9)])
    func tilingAnIdentityModelReproducesTheImage(_ size: (Int, Int)) throws {
        let dir = makeTempDir("tile")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let items = try writeImages(dir + "/in", count: 2, w: size.0, h: size.1, layout: .rgba)
        for overlap in [0.0, 0.5, 0.75] {
            let stage = try ModelStage(verb: "denoise", model: IdentityModel(width: 8, height: 8), name: "id", geometry: .tile, overlap: overlap, batch: 5)
            let runner = try PipelineRunner(plan: PipelinePlan(inputs: [dir + "/in"], stages: [stage], sink: .folder(dir + "/out")),
                                            options: PipelineOptions(jobs: 2))
            for (item, r) in zip(items, runner.frames(items)) {
                let f = try r.get()
                let original = FloatImage(try PNGReader.read(path: item.path))
                #expect(f.layout == .rgba)
                let worst = zip(f.image.data, original.data).map { abs($0 - $1) }.max()!
                #expect(worst < 1e-5, "\(size) overlap \(overlap): largest difference \(worst)")
            }
        }
    }

    @Test func tileOriginsCoverTheImage() {
        for (len, tile) in [(28, 28), (100, 28), (29, 28), (7, 28), (1000, 64)] {
            for ov in [0.0, 0.25, 0.5, 0.9] {
                let xs = ModelStage.tileOrigins(length: len, tile: tile, overlap: ov)
                #expect(xs.first == 0)
                #expect(xs.last! + tile >= len)
                for (a, b) in zip(xs, xs.dropFirst()) { #expect(b > a && b <= a + tile) }
            }
        }
    }

    @Test func geometryMismatchIsCaughtBeforeAnyFileIsTouched() throws {
        let model = ModelFile.make(ModelConfig(kind: .ae, width: 8, height: 8, channels: 3, hidden: [4], latent: 2), seed: 1)
        let stage = try ModelStage(verb: "denoise", model: model, name: "rgb8")
        #expect(throws: PipelineError.self) {
            try PipelineRunner(plan: PipelinePlan(inputs: ["x"], stages: [GrayStage(), stage], sink: .folder("o")), options: PipelineOptions())
        }
        let grey = try ModelStage(verb: "denoise", model: ModelFile.make(ModelConfig(kind: .ae, width: 8, height: 8, hidden: [4], latent: 2), seed: 1), name: "g8")
        do {
            _ = try PipelineRunner(plan: PipelinePlan(inputs: ["x"], stages: [try ResizeStage(width: 10, height: 10), grey], sink: .folder("o")),
                                   options: PipelineOptions())
            Issue.record("accepted a 10x10 chain for an 8x8 model")
        } catch let e as PipelineError {
            #expect(e.description.contains("takes 8x8 images but the chain gives it 10x10"))
        }
    }

    @Test func greyModelFiltersEachColourPlaneAndKeepsAlpha() throws {
        let dir = makeTempDir("planes")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let items = try writeImages(dir + "/in", count: 1, w: 8, h: 8, layout: .rgba)
        let model = ModelFile.make(ModelConfig(kind: .ae, width: 8, height: 8, hidden: [16], latent: 4), seed: 2)
        let runner = try PipelineRunner(plan: PipelinePlan(inputs: [dir + "/in"], stages: [try ModelStage(verb: "denoise", model: model, name: "g")],
                                                           sink: .folder(dir + "/out")), options: PipelineOptions())
        let f = try runner.frames(items)[0].get()
        let input = FloatImage(try PNGReader.read(path: items[0].path))
        let x = Matrix(rows: 3, cols: 64, values: Array(input.data[0..<192]))
        #expect(Array(f.image.data[0..<192]) == model.reconstruct(x).array)
        #expect(Array(f.image.data[192...]) == Array(input.data[192...]), "alpha must pass through untouched")
    }
}

struct ChainParserTests {
    @Test func parsesAChain() throws {
        let plan = try StageCatalog.parse("read a b | gray | resize 28x28 | noise gaussian:0.5 seed=3 | crop 20x20+1+2 | pad 30x30 | fit 64 | write out/")
        #expect(plan.inputs == ["a", "b"])
        #expect(plan.sink == .folder("out/"))
        #expect(plan.chainSpec == "gray | resize 28x28 | noise gaussian:0.5 seed=3 | crop 20x20+1+2 | pad 30x30 | fit 64")
    }

    @Test(arguments: [
        ("gray | write o", "starts with 'read"),
        ("read a | gray", "ends with 'write"),
        ("read a | blur 3 | write o", "unknown stage 'blur'"),
        ("read a | resize 28 | write o", "wants WxH"),
        ("read a | noise pink:3 | write o", "unknown noise 'pink'"),
        ("read a | | write o", "empty stage"),
        ("read a | gray x | write o", "takes no words"),
        ("read a | pad 28x28 value=2 | write o", "value: wants a number 0-1"),
        ("read a | pad 28x28 fill=1 | write o", "unknown parameter 'fill' (it takes value)"),
        ("read a | crop 20x20+1 | write o", "wants WxH or WxH+X+Y"),
        ("read a | fit 0 | write o", "N: wants an integer 1-65536"),
        ("read a | denoise photo sigma=1,2 | write o", "sigma: wants 1 or 3"),
        ("read a | denoise photo tile | write o", "takes images of any size"),
        ("read a | denoise mnist-dae sigma=20 | write o", "not conditioned on a noise level"),
        ("read a | denoise mnist-dae tile overlap=0.95 | write o", "overlap: wants a number 0-0.9"),
        ("read a | encode photo | write c.jsonl", "has no latent code"),
        ("read a | encode mnist-vae | write out/", "write to FILE.jsonl or FILE.csv"),
        ("read a | denoise no-such-model | write o", "not a built-in model"),
    ])
    func rejectsBadChains(_ chain: String, _ message: String) {
        do {
            _ = try StageCatalog.parse(chain)
            Issue.record("accepted '\(chain)'")
        } catch {
            #expect("\(error)".contains(message), "'\(chain)': \(error)")
        }
    }

    @Test func noiseIsSeededPerImageNotPerRun() throws {
        let dir = makeTempDir("noise")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let items = try writeImages(dir + "/in", count: 6, w: 5, h: 5)
        let plan = PipelinePlan(inputs: [dir + "/in"], stages: [NoiseStage(.gaussian(sigma: 0.3), seed: 9)], sink: .folder(dir + "/o"))
        let a = try PipelineRunner(plan: plan, options: PipelineOptions(jobs: 1)).frames(items).map { try $0.get().image.data }
        let b = try PipelineRunner(plan: plan, options: PipelineOptions(jobs: 3)).frames(Array(items.reversed())).map { try $0.get().image.data }
        #expect(a == Array(b.reversed()))
        #expect(a[0] != a[1])
    }

    /// A model stage after `pad`: the chain's shape is known to fit (pad declares its size), so it
    /// is accepted; a pad smaller than a known size is refused up front.
    @Test func quotedPathsKeepTheirSpaces() throws {
        let plan = try StageCatalog.parse(#"read "my photos/" 'a|b.png' plain | gray | write "out dir/""#)
        #expect(plan.inputs == ["my photos/", "a|b.png", "plain"])
        #expect(plan.sink == .folder("out dir/"))
        #expect(throws: PipelineError.self) { _ = try StageCatalog.parse(#"read "unclosed | write o"#) }
        #expect(throws: PipelineError.self) { _ = try StageCatalog.parse("read a |  | write o") }
    }

    @Test func padBeforeAModelFits() throws {
        let plan = try StageCatalog.parse("read a | resize 20x20 | pad 28x28 | denoise mnist-dae | write o")
        #expect(throws: Never.self) { _ = try PipelineRunner(plan: plan, options: PipelineOptions()) }
        let small = try StageCatalog.parse("read a | resize 40x30 | pad 28x28 | write o")
        #expect(throws: PipelineError.self) { _ = try PipelineRunner(plan: small, options: PipelineOptions()) }
        #expect(throws: PipelineError.self) { _ = try PadStage(width: 10, height: 10).apply(Frame(item: InputItem(path: "x.png", relativeOutput: "x.png", canonicalPath: "/x.png"), index: 0,
                                                                                            image: FloatImage(width: 11, height: 4, channels: 1), layout: .gray, depth: 8)) }
    }

    /// The registry is the one description of the stages: every stage in it parses from its own
    /// usage's example words, is listed with its parameters, and each parameter's check refuses
    /// a bad value.
    @Test func registryDescribesEveryStage() throws {
        let listing = StageCatalog.listing()
        let examples = ["gray": "gray", "rgb": "rgb", "resize": "resize 8x8", "fit": "fit 8", "crop": "crop 4x4+1+1", "pad": "pad 64x64 value=0.5",
                        "noise": "noise gaussian:0.1 seed=4", "denoise": "denoise mnist-dae tile overlap=0.25", "reconstruct": "reconstruct photo sigma=5,6,7",
                        "encode": "encode mnist-vae"]
        #expect(Set(examples.keys) == Set(StageCatalog.registry.map(\.name)))
        for d in StageCatalog.registry {
            #expect(listing.contains(d.usage + "\n"), "\(d.name) not listed")
            for p in d.parameters { #expect(listing.contains("      \(p.positional ? p.name : p.name + "="): "), "\(d.name) \(p.name)") }
            let sink = d.name == "encode" ? "write c.jsonl" : "write o"
            let plan = try StageCatalog.parse("read a | \(examples[d.name]!) | \(sink)")
            #expect(plan.chainSpec == examples[d.name]!.replacingOccurrences(of: " seed=4", with: " seed=4"), "\(d.name): \(plan.chainSpec)")
        }
        for (kind, bad) in [(ParameterKind.size, "0x5"), (.window, "4x4+1"), (.integer(1...3), "4"), (.number(0...1), "nan"),
                            (.numbers(counts: [1, 3], range: 0...5), "1,2"), (.choice(["a"]), "b"), (.corruption, "pink:1")] {
            #expect(kind.check(bad) != nil, "\(kind.describe) accepted \(bad)")
        }
    }
}
