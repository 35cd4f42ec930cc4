import ArgumentParser
import Foundation
import Imaging
import Models
import PNGIO
import Pipeline
import Render
import Tensor
import Training
import FileIO

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
    @Option(help: "Corrupt the inputs first: gaussian:S (σ on the 0-1 scale, or S/255 in grey levels), mask:P or saltpepper:P.") var noise: String?
    @Option(help: "At most this many images.") var limit: Int = 16
    @Option(help: "Convolutional models (photo): the side of the centred crop shown of each image.") var crop: Int = 160
    @Option(help: ArgumentHelp("Convolutional models: the noise level σ in grey levels (0-255, or A/B) they are told, one value or R,G,B (default: measured).", valueName: "SIGMA"))
    var sigma: String?

    func validate() throws {
        if let noise { do { _ = try Corruption.parse(noise) } catch { throw ValidationError("--noise \(error)") } }
        guard (1...256).contains(limit) else { throw ValidationError("--limit must be 1-256.") }
        guard (8...2048).contains(crop) else { throw ValidationError("--crop must be 8-2048.") }
        try validateSigmaOption(sigma)
    }

    func run() throws {
        let (loaded, hash) = try options.load()
        if case .conv(let conv) = loaded { return try runConv(conv, hash: hash) }
        let (views, _) = try options.views("compare")
        let c = views.config
        do {
            let items = try InputWalker.expand(inputs, excluding: nil).prefix(limit)
            guard !items.isEmpty else { throw RenderError.badInput(file: inputs.joined(separator: " "), reason: "no PNG files") }
            let originals = try items.map { try views.modelInput($0.path, resize: options.resize) }
            var rowsOut: [[FloatImage?]] = [originals]
            var labels = ["IN"]
            var fed = originals
            if let corruption = noise.flatMap(Corruption.init) {
                fed = Self.corrupted(originals, corruption, seed: options.seed, as8Bit: false)
                rowsOut.append(fed)
                labels.append("NOISY")
            }
            rowsOut.append(views.reconstruct(fed))
            labels.append("OUT")
            let grid = Grid(tileWidth: c.width, tileHeight: c.height, channels: c.channels, rows: rowsOut.count, cols: items.count,
                            scale: options.scale, gutter: options.gutter, rowLabels: labels)
            try options.write(grid, tiles: rowsOut, command: "compare", details: [("images", "\(items.count)"), ("noise", noise ?? "none")],
                              hash: hash, views: views)
        } catch let e as ExitCode { throw e } catch { throw Exit.cannotRun(error) }
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
                fed = Self.corrupted(images, corruption, seed: options.seed, as8Bit: true)
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
        } catch let e as ExitCode { throw e } catch { throw Exit.cannotRun(error) }
    }

    /// The images corrupted in turn from one seeded generator; `as8Bit`: rounded and clipped to
    /// 8 bits, as a saved noisy PNG would hold them.
    static func corrupted(_ images: [FloatImage], _ corruption: Corruption, seed: UInt64, as8Bit: Bool) -> [FloatImage] {
        var rng = RandomGenerator(seed: seed)
        return images.map { img in
            var out = img
            img.data.withUnsafeBufferPointer { s in
                out.data.withUnsafeMutableBufferPointer { d in corruption.apply(s.baseAddress!, d.baseAddress!, count: img.data.count, rng: &rng) }
            }
            if as8Bit { for i in out.data.indices { out.data[i] = (min(1, max(0, out.data[i])) * 255).rounded() / 255 } }
            return out
        }
    }
}
