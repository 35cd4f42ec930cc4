import ArgumentParser
import Imaging
import Render

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
            let images = try inputs.map { try views.modelInput($0, resize: options.resize) }
            let codes = views.encode(images)
            var rows: [[FloatImage?]] = []
            for i in 0..<(images.count - 1) {
                let decoded = views.decode(ModelViews.path(from: codes[i], to: codes[i + 1], steps: steps, slerp: slerp))
                rows.append([images[i]] + decoded + [images[i + 1]])
            }
            let grid = Grid(tileWidth: c.width, tileHeight: c.height, channels: c.channels, rows: rows.count, cols: steps + 2,
                            scale: options.scale, gutter: options.gutter,
                            columnLabels: ["A"] + (0..<steps).map { Grid.label(Float($0) / Float(steps - 1)) } + ["B"])
            try options.write(grid, tiles: rows, command: "interpolate", details: [
                ("inputs", inputs.joined(separator: ",")), ("steps", "\(steps)"), ("mode", slerp ? "slerp" : "lerp"),
            ], hash: hash, views: views)
        } catch let e as ExitCode { throw e } catch { throw Exit.cannotRun(error) }
    }
}
