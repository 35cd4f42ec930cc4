import ArgumentParser
import Render

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
            if let from { base = views.encode([try views.modelInput(from, resize: options.resize)])[0] }
            let rows = try views.manifold(dims: (d[0], d[1]), steps: steps, base: base)
            let grid = Grid(tileWidth: c.width, tileHeight: c.height, channels: c.channels, rows: steps, cols: steps,
                            scale: options.scale, gutter: options.gutter)
            try options.write(grid, tiles: rows, command: "manifold", details: [("dims", dims), ("steps", "\(steps)")], hash: hash, views: views)
        } catch let e as ExitCode { throw e } catch { throw Exit.cannotRun(error) }
    }
}
