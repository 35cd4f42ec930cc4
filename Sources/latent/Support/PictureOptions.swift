import ArgumentParser
import Imaging
import Models
import Render

/// Options every picture command shares.
struct PictureOptions: ParsableArguments {
    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("The PNG to write.", valueName: "FILE.png"))
    var output: String

    @Option(help: "A built-in model name or a .safetensors file.") var model: String

    @Option(help: "Integer upscaling of every tile (nearest neighbour).") var scale: Int = 3
    @Option(help: "Pixels between tiles.") var gutter: Int = 2
    @Flag(help: "Leave out the row and column labels.") var noLabels = false
    @Option(help: "Seed for everything random.") var seed: UInt64 = 1
    @Flag(help: "Convert and resize input images to a fixed-size model's input (grey or RGB, its size); without it such images are refused.") var resize = false
    @Flag(name: .shortAndLong, help: "Print nothing but errors.") var quiet = false
    @Flag(help: "Print a JSON description of the picture on stdout.") var json = false

    func validate() throws {
        guard (1...32).contains(scale) else { throw ValidationError("--scale must be 1-32.") }
        guard (0...64).contains(gutter) else { throw ValidationError("--gutter must be 0-64.") }
        guard output.lowercased().hasSuffix(".png") else { throw ValidationError("-o wants a .png file (got '\(output)').") }
    }

    /// The model of either family and its file's hash (exit 2 with the loader's message).
    func load() throws -> (AnyModel, String) {
        let (m, _, path) = try Exit.setUp { try BuiltinModels.resolveAny(model) }
        return (m, ModelFile.contentHash(path: path) ?? "?")
    }

    /// An autoencoder's views; a convolutional denoiser has no latent space (exit 2).
    func views(_ command: String) throws -> (ModelViews, String) {
        let (m, hash) = try load()
        guard case .mlp(let mlp) = m else {
            throw Exit.cannotRun("\(model) is a convolutional denoiser: it has no latent space; \(command) takes an autoencoder or VAE (such as mnist-vae)")
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
        let size: (width: Int, height: Int)
        do { size = try g.write(tiles, to: output, command: command, details: details, modelText: modelText) } catch { throw Exit.failed(error) }
        if json { print(g.json(file: output, size: size, details: details)) }
        else if !quiet { printError("wrote \(output) (\(size.width)x\(size.height), \(g.rows)x\(g.cols) tiles)") }
    }
}
