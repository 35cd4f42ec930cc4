import ArgumentParser
import Foundation
import Imaging
import Models
import PNGIO
import Pipeline
import Render
import Tensor
import Training

/// Options every picture command shares.
struct PictureOptions: ParsableArguments {
    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("The PNG to write.", valueName: "FILE.png"))
    var output: String

    @Option(help: "A built-in model name or a .safetensors file.") var model: String

    @Option(help: "Integer upscaling of every tile (nearest neighbour).") var scale: Int = 3
    @Option(help: "Pixels between tiles.") var gutter: Int = 2
    @Flag(help: "Leave out the row and column labels.") var noLabels = false
    @Option(help: "Seed for everything random.") var seed: UInt64 = 1
    @Flag(name: .shortAndLong, help: "Print nothing but errors.") var quiet = false
    @Flag(help: "Print a JSON description of the picture on stdout.") var json = false

    func validate() throws {
        guard (1...32).contains(scale) else { throw ValidationError("--scale must be 1-32.") }
        guard (0...64).contains(gutter) else { throw ValidationError("--gutter must be 0-64.") }
        guard output.lowercased().hasSuffix(".png") else { throw ValidationError("-o wants a .png file (got '\(output)').") }
    }

    /// The model of either family and its file's hash (exit 2 with the loader's message).
    func load() throws -> (AnyModel, String) {
        do {
            let (m, _, path) = try BuiltinModels.resolveAny(model)
            return (m, ModelFile.contentHash(path: path) ?? "?")
        } catch {
            printError("latent: \(error)")
            throw ExitCode(2)
        }
    }

    /// An autoencoder's views; a convolutional denoiser has no latent space (exit 2).
    func views(_ command: String) throws -> (ModelViews, String) {
        let (m, hash) = try load()
        guard case .mlp(let mlp) = m else {
            printError("latent: \(model) is a convolutional denoiser: it has no latent space; \(command) takes an autoencoder or VAE (such as mnist-vae)")
            throw ExitCode(2)
        }
        return (ModelViews(model: mlp, name: model), hash)
    }

    /// Renders and writes the grid with provenance; prints a summary.
    func write(_ grid: Grid, tiles: [[FloatImage?]], command: String, details: [(String, String)], hash: String, views: ModelViews) throws {
        try write(grid, tiles: tiles, command: command, details: details,
                  modelText: "\(model) \(views.config.kind.rawValue) \(views.config.architecture) fnv1a64:\(hash)")
    }

    func write(_ grid: Grid, tiles: [[FloatImage?]], command: String, details: [(String, String)], modelText: String) throws {
        var g = grid
        if noLabels { g.rowLabels = nil; g.columnLabels = nil }
        let image = g.render(tiles)
        let layout: PixelLayout = image.channels == 3 ? .rgb : .gray
        let texts: [(key: String, text: String)] = [
            ("Software", "latent \(LatentInfo.version)"),
            ("latent:command", ([command] + details.map { "\($0.0)=\($0.1)" }).joined(separator: " ")),
            ("latent:model", modelText),
        ]
        do {
            let dir = (output as NSString).deletingLastPathComponent
            if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
            try AtomicOutput.writePNG(image.pngImage(layout: layout, depth: 8), to: output, texts: texts)
        } catch {
            printError("latent: \(error)")
            throw ExitCode(1)
        }
        if json {
            let d = details.map { "\(jsonString($0.0)):\(jsonString($0.1))" }.joined(separator: ",")
            print("{\"file\":\(jsonString(output)),\"width\":\(image.width),\"height\":\(image.height),\"rows\":\(g.rows),\"columns\":\(g.cols),\(d)}")
        } else if !quiet {
            printError("wrote \(output) (\(image.width)x\(image.height), \(g.rows)x\(g.cols) tiles)")
        }
    }
}

func fail(_ error: Error) -> ExitCode {
    printError("latent: \(error)")
    return ExitCode(2)
}

func label(_ v: Float) -> String {
    let s = String(format: "%.1f", v)
    return s == "-0.0" ? "0.0" : s
}

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
            if let from { base = views.encode([try views.modelInput(from)])[0] }
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
                            columnLabels: ModelViews.traversalValues(range: range, steps: steps).map(label))
            try options.write(grid, tiles: rows, command: "traverse", details: [
                ("dims", chosen.map(String.init).joined(separator: ",")),
                ("kl", chosen.map { String(format: "%.3f", kl[$0]) }.joined(separator: ",")),
                ("range", "\(range)"), ("steps", "\(steps)"), ("from", from ?? "prior mean"),
            ], hash: hash, views: views)
        } catch let e as ExitCode { throw e } catch { throw fail(error) }
    }

    func loadSample(_ path: String, views: ModelViews) throws -> [FloatImage] {
        let c = views.config
        var d: Dataset
        if MNIST.isMNISTFolder(path) { d = try MNIST.load(folder: path).test } else {
            d = try PNGFolderDataset.load(folder: path, width: c.width, height: c.height, channels: c.channels).dataset
        }
        d = d.prefix(2000)
        guard d.dim == c.inputSize else { throw RenderError.badInput(file: path, reason: "images do not match the model's input") }
        return (0..<d.count).map { FloatImage(width: c.width, height: c.height, channels: c.channels, data: Array(d.data[($0 * d.dim)..<(($0 + 1) * d.dim)])) }
    }
}

struct ManifoldCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "manifold",
        abstract: "Decode a grid over two latent dimensions (Kingma & Welling's figure).",
        discussion: """
            Grid values are the normal quantiles of evenly spaced probabilities, so each cell covers \
            equal prior mass. Other dimensions are held at 0 (or at the code of --from).

            Example:
              latent manifold --model mnist-vae2d --steps 20 -o manifold.png
            """)

    @OptionGroup var options: PictureOptions
    @Option(help: "Cells per side.") var steps: Int = 20
    @Option(help: "The two dimensions, e.g. 0,1.") var dims: String = "0,1"
    @Option(help: "Base image for the other dimensions.") var from: String?

    func validate() throws {
        guard (2...64).contains(steps) else { throw ValidationError("--steps must be 2-64.") }
        let d = dims.split(separator: ",").compactMap { Int($0) }
        guard d.count == 2, d[0] != d[1], d.allSatisfy({ $0 >= 0 }) else { throw ValidationError("--dims wants two different dimensions, e.g. 0,1.") }
    }

    func run() throws {
        let (views, hash) = try options.views("manifold")
        let c = views.config
        let d = dims.split(separator: ",").compactMap { Int($0) }
        do {
            var base = [Float](repeating: 0, count: c.latent)
            if let from { base = views.encode([try views.modelInput(from)])[0] }
            let rows = try views.manifold(dims: (d[0], d[1]), steps: steps, base: base)
            let grid = Grid(tileWidth: c.width, tileHeight: c.height, channels: c.channels, rows: steps, cols: steps,
                            scale: options.scale, gutter: options.gutter)
            try options.write(grid, tiles: rows, command: "manifold", details: [("dims", dims), ("steps", "\(steps)")], hash: hash, views: views)
        } catch let e as ExitCode { throw e } catch { throw fail(error) }
    }
}

struct InterpolateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "interpolate",
        abstract: "Interpolation strips between the codes of images, with the originals at the ends.",
        discussion: """
            One row per pair of consecutive inputs: the original A, the decoded steps from A's code \
            to B's (both ends included, so the first and last decoded tiles are the reconstructions \
            of A and B), the original B. Linear, or spherical with --slerp. Works with any model.

            Example:
              latent interpolate samples/digits/digit-0.png samples/digits/digit-1.png --model mnist-vae --steps 10 -o strip.png
            """)

    @Argument(help: "Two or more PNG files.") var inputs: [String]
    @OptionGroup var options: PictureOptions
    @Option(help: "Decoded steps per pair, ends included.") var steps: Int = 10
    @Flag(help: "Spherical instead of linear interpolation.") var slerp = false

    func validate() throws {
        guard inputs.count >= 2 else { throw ValidationError("interpolate needs at least two images.") }
        guard (2...64).contains(steps) else { throw ValidationError("--steps must be 2-64.") }
    }

    func run() throws {
        let (views, hash) = try options.views("interpolate")
        let c = views.config
        do {
            let images = try inputs.map { try views.modelInput($0) }
            let codes = views.encode(images)
            var rows: [[FloatImage?]] = []
            for i in 0..<(images.count - 1) {
                let decoded = views.decode(ModelViews.path(from: codes[i], to: codes[i + 1], steps: steps, slerp: slerp))
                rows.append([images[i]] + decoded + [images[i + 1]])
            }
            let grid = Grid(tileWidth: c.width, tileHeight: c.height, channels: c.channels, rows: rows.count, cols: steps + 2,
                            scale: options.scale, gutter: options.gutter,
                            columnLabels: ["A"] + (0..<steps).map { label(Float($0) / Float(steps - 1)) } + ["B"])
            try options.write(grid, tiles: rows, command: "interpolate", details: [
                ("inputs", inputs.joined(separator: ",")), ("steps", "\(steps)"), ("mode", slerp ? "slerp" : "lerp"),
            ], hash: hash, views: views)
        } catch let e as ExitCode { throw e } catch { throw fail(error) }
    }
}

struct SampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "A sheet of images decoded from codes drawn from the prior N(0, I).",
        discussion: "Example:\n  latent sample --model mnist-vae --count 64 --seed 7 -o samples.png")

    @OptionGroup var options: PictureOptions
    @Option(help: "Number of samples.") var count: Int = 64
    @Option(help: "Columns (default: a square).") var columns: Int?

    func validate() throws {
        guard (1...4096).contains(count) else { throw ValidationError("--count must be 1-4096.") }
        if let columns, columns < 1 { throw ValidationError("--columns must be at least 1.") }
    }

    func run() throws {
        let (views, hash) = try options.views("sample")
        let c = views.config
        do {
            let imgs = try views.samples(count: count, seed: options.seed)
            let cols = columns ?? Int(Double(count).squareRoot().rounded(.up))
            let nRows = (count + cols - 1) / cols
            let rows: [[FloatImage?]] = (0..<nRows).map { r in (0..<cols).map { r * cols + $0 < count ? imgs[r * cols + $0] : nil } }
            let grid = Grid(tileWidth: c.width, tileHeight: c.height, channels: c.channels, rows: nRows, cols: cols,
                            scale: options.scale, gutter: options.gutter)
            try options.write(grid, tiles: rows, command: "sample", details: [("count", "\(count)"), ("seed", "\(options.seed)")], hash: hash, views: views)
        } catch let e as ExitCode { throw e } catch { throw fail(error) }
    }
}

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "A sheet with rows: originals, corrupted (with --noise), model output.",
        discussion: """
            Inputs are converted to the model's input size. With --noise the model gets the \
            corrupted images (seeded). Works with any model; a convolutional model (photo) \
            denoises each whole image and the sheet shows a centred crop (--crop).

            Example:
              latent compare samples/digits --model mnist-dae --noise gaussian:0.5 -o sheet.png
            """)

    @Argument(help: "PNG files and folders.") var inputs: [String]
    @OptionGroup var options: PictureOptions
    @Option(help: "Corrupt the inputs first: gaussian:S, mask:P or saltpepper:P.") var noise: String?
    @Option(help: "At most this many images.") var limit: Int = 16
    @Option(help: "Convolutional models (photo): the side of the centred crop shown of each image.") var crop: Int = 160
    @Option(help: ArgumentHelp("Convolutional models: the noise level σ (0-255) they are told, one value or R,G,B (default: measured).", valueName: "SIGMA"))
    var sigma: String?

    func validate() throws {
        if let noise, Corruption(noise) == nil { throw ValidationError("--noise wants gaussian:SIGMA, mask:P or saltpepper:P.") }
        guard (1...256).contains(limit) else { throw ValidationError("--limit must be 1-256.") }
        guard (8...2048).contains(crop) else { throw ValidationError("--crop must be 8-2048.") }
        if let sigma {
            guard let v = ConvStage.parseSigma(sigma), v.count == 1 || v.count == 3, v.allSatisfy({ $0 >= 0 && $0 <= ConvStage.maxSigma }) else {
                throw ValidationError("--sigma must be one number or three (R,G,B), each between 0 and \(Int(ConvStage.maxSigma)).")
            }
        }
    }

    func run() throws {
        let (loaded, hash) = try options.load()
        if case .conv(let conv) = loaded { return try runConv(conv, hash: hash) }
        let (views, _) = try options.views("compare")
        let c = views.config
        do {
            let items = try InputWalker.expand(inputs, excluding: nil).prefix(limit)
            guard !items.isEmpty else { throw RenderError.badInput(file: inputs.joined(separator: " "), reason: "no PNG files") }
            let originals = try items.map { try views.modelInput($0.path) }
            var rowsOut: [[FloatImage?]] = [originals]
            var labels = ["IN"]
            var fed = originals
            if let corruption = noise.flatMap(Corruption.init) {
                var rng = RandomGenerator(seed: options.seed)
                fed = originals.map { img in
                    var out = img
                    img.data.withUnsafeBufferPointer { s in
                        out.data.withUnsafeMutableBufferPointer { d in corruption.apply(s.baseAddress!, d.baseAddress!, count: img.data.count, rng: &rng) }
                    }
                    return out
                }
                rowsOut.append(fed)
                labels.append("NOISY")
            }
            rowsOut.append(views.reconstruct(fed))
            labels.append("OUT")
            let grid = Grid(tileWidth: c.width, tileHeight: c.height, channels: c.channels, rows: rowsOut.count, cols: items.count,
                            scale: options.scale, gutter: options.gutter, rowLabels: labels)
            try options.write(grid, tiles: rowsOut, command: "compare", details: [("images", "\(items.count)"), ("noise", noise ?? "none")],
                              hash: hash, views: views)
        } catch let e as ExitCode { throw e } catch { throw fail(error) }
    }

    /// A convolutional denoiser: images of any size. Each column is the same centred crop (at
    /// most --crop pixels a side, 1:1 before --scale, so noise and detail stay visible) of an
    /// input, its corrupted copy (with --noise) and the model's output on the whole image.
    func runConv(_ model: ConvDenoiser, hash: String) throws {
        do {
            let stage = try ConvStage(verb: "denoise", model: model, name: options.model, hash: hash,
                                      sigma: sigma.flatMap(ConvStage.parseSigma))
            let items = try InputWalker.expand(inputs, excluding: nil).prefix(limit)
            guard !items.isEmpty else { throw RenderError.badInput(file: inputs.joined(separator: " "), reason: "no PNG files") }
            let channels = model.channels == 3 ? 3 : 0
            var images: [FloatImage] = []
            for item in items {
                let png = try PNGReader.read(path: item.path, layout: channels == 3 ? .rgb : nil)
                images.append(FloatImage(png.converted(to: png.layout.withAlpha(false), depth: png.depth)))
            }
            let planes = images.map(\.channels).max()!
            images = images.map { $0.channels == planes ? $0 : FloatImage(width: $0.width, height: $0.height, channels: planes,
                                                                           data: Array(repeating: $0.data, count: planes).flatMap { $0 }) }
            let side = min(crop, images.map { min($0.width, $0.height) }.min()!)
            func centre(_ img: FloatImage) -> FloatImage {
                let x0 = (img.width - side) / 2, y0 = (img.height - side) / 2
                var out = FloatImage(width: side, height: side, channels: img.channels)
                for c in 0..<img.channels { for y in 0..<side { for x in 0..<side { out[x: x, y: y, c: c] = img[x: x0 + x, y: y0 + y, c: c] } } }
                return out
            }
            var fed = images
            var rowsOut: [[FloatImage?]] = [images.map(centre)]
            var labels = ["IN"]
            if let corruption = noise.flatMap(Corruption.init) {
                var rng = RandomGenerator(seed: options.seed)
                fed = images.map { img in
                    var out = img
                    img.data.withUnsafeBufferPointer { s in
                        out.data.withUnsafeMutableBufferPointer { d in corruption.apply(s.baseAddress!, d.baseAddress!, count: img.data.count, rng: &rng) }
                    }
                    // As a saved 8-bit PNG would hold it.
                    for i in out.data.indices { out.data[i] = (min(1, max(0, out.data[i])) * 255).rounded() / 255 }
                    return out
                }
                rowsOut.append(fed.map(centre))
                labels.append("NOISY")
            }
            rowsOut.append(try zip(items, fed).map { item, img in
                centre(try stage.denoiser.denoise(img, colorPlanes: planes, file: item.path).image)
            })
            labels.append("OUT")
            let grid = Grid(tileWidth: side, tileHeight: side, channels: planes, rows: rowsOut.count, cols: items.count,
                            scale: options.scale, gutter: options.gutter, rowLabels: labels)
            try options.write(grid, tiles: rowsOut, command: "compare", details: [("images", "\(items.count)"), ("noise", noise ?? "none"), ("crop", "\(side)")],
                              modelText: stage.modelDescription)
        } catch let e as ExitCode { throw e } catch { throw fail(error) }
    }
}
