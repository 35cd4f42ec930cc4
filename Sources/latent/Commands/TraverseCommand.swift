import ArgumentParser
import Imaging
import Render
import Training

struct TraverseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "traverse",
        abstract: "Latent traversal grid: one row per latent dimension, one column per value.",
        discussion: """
            Each row varies one dimension from -range to +range prior standard deviations while \
            holding the others at the base code (the encoding of --from, or the prior mean). \
            --dims auto keeps the informative dimensions (average KL above \(ModelViews.collapseThreshold) nats, \
            measured on --data or on samples of the model itself), most informative first; row \
            labels give the dimension index.

            Examples:
              latent traverse --model mnist-vae -o grid.png
              latent traverse --model mnist-vae --from samples/digits/digit-3.png --dims 0,3,5 --steps 9 -o grid.png
            """)

    @OptionGroup var options: PictureOptions
    @Option(help: "Base image (its code is the centre of every row).") var from: String?
    @Option(help: "auto, N (the N most informative) or a list like 0,3,5.") var dims: String = "auto"
    @Option(help: "Values go from -range to +range.") var range: Float = 3
    @Option(help: "Columns.") var steps: Int = 11
    @Option(help: "Data for measuring KL per dimension: an MNIST folder or a folder of PNGs (default: the model's own samples).") var data: String?

    func validate() throws {
        guard DimensionChoice(dims) != nil else { throw ValidationError("--dims wants auto, a count, or a list like 0,3,5.") }
        guard range > 0, range <= 10 else { throw ValidationError("--range must be in (0, 10].") }
        guard (2...64).contains(steps) else { throw ValidationError("--steps must be 2-64.") }
    }

    func run() throws {
        let (views, hash) = try options.views("traverse")
        let c = views.config
        do {
            guard c.kind == .vae else { throw RenderError.needsVAE(command: "traverse", model: options.model, kind: c.kind.rawValue) }
            var base = [Float](repeating: 0, count: c.latent)
            if let from { base = views.encode([try views.modelInput(from, resize: options.resize)])[0] }
            let sample: [FloatImage]
            if let data {
                sample = try loadSample(data, views: views)
            } else {
                sample = views.selfSample(count: 1000, seed: options.seed)
            }
            let kl = try views.klPerDimension(sample)
            let chosen = try views.chooseDimensions(DimensionChoice(dims)!, kl: kl)
            let rows = try views.traversal(base: base, dims: chosen, range: range, steps: steps)
            let grid = Grid(tileWidth: c.width, tileHeight: c.height, channels: c.channels, rows: rows.count, cols: steps,
                            scale: options.scale, gutter: options.gutter, rowLabels: chosen.map { "z\($0)" },
                            columnLabels: ModelViews.traversalValues(range: range, steps: steps).map(Grid.label))
            try options.write(grid, tiles: rows, command: "traverse", details: [
                ("dims", chosen.map(String.init).joined(separator: ",")),
                ("kl", chosen.map { String(format: "%.3f", kl[$0]) }.joined(separator: ",")),
                ("range", "\(range)"), ("steps", "\(steps)"), ("from", from ?? "prior mean"),
            ], hash: hash, views: views)
        } catch let e as ExitCode { throw e } catch { throw Exit.cannotRun(error) }
    }

    /// Up to 2,000 images of `path` as the model's inputs (for the KL per dimension).
    func loadSample(_ path: String, views: ModelViews) throws -> [FloatImage] {
        let c = views.config
        let loaded = try DatasetLoader.load(path, width: c.width, height: c.height, channels: c.channels, resize: options.resize, model: options.model)
        let d = (loaded.test ?? loaded.train).prefix(2000)
        guard d.dim == c.inputSize else { throw RenderError.badInput(file: path, reason: "images do not match the model's input") }
        return (0..<d.count).map { FloatImage(width: c.width, height: c.height, channels: c.channels, data: Array(d.data[($0 * d.dim)..<(($0 + 1) * d.dim)])) }
    }
}
