import ArgumentParser
import Imaging
import Render

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
        } catch let e as ExitCode { throw e } catch { throw Exit.cannotRun(error) }
    }
}
