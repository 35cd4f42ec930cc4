import ArgumentParser
import PNGIO
import FileIO

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Describe PNG files: size, colour type, bit depth, interlacing and text chunks.",
        discussion: "Example:\n  latent info out/cat.png")

    @Argument(help: "PNG files.")
    var files: [String]

    @Flag(help: "Print one JSON object per file.")
    var json = false

    @Option(help: "Refuse images of more pixels than this.")
    var maxPixels: Int = PNGLimits.default.maxPixels

    func run() throws {
        var failed = false
        for file in files {
            do {
                let r = try PNGReader(path: file, limits: PNGLimits(maxPixels: maxPixels))
                // No pixels are decoded: finish() inflates the rest of the image data into a
                // small buffer (checking it) and reads the chunks after it.
                let texts = try r.finish()
                let h = r.header
                if json {
                    let t = texts.map { "\(jsonQuote($0.key)):\(jsonQuote($0.text))" }.joined(separator: ",")
                    let m = r.metadata.lines.map { jsonQuote($0) }.joined(separator: ",")
                    print("{\"file\":\(jsonQuote(file)),\"width\":\(h.width),\"height\":\(h.height),"
                        + "\"color_type\":\"\(h.colorType)\",\"bit_depth\":\(h.bitDepth),"
                        + "\"interlaced\":\(h.interlaced),\"transparency\":\(h.hasTransparency),\"chunks\":[\(m)],\"text\":{\(t)}}")
                } else {
                    print("\(file): \(h.width)x\(h.height) \(h.colorType) \(h.bitDepth)-bit"
                        + (h.interlaced ? " interlaced" : "") + (h.hasTransparency ? " tRNS" : ""))
                    for line in r.metadata.lines { print("  \(line)") }
                    for (k, v) in texts { print("  \(k): \(v)") }
                    for w in r.warnings { print("  warning: \(w)") }
                }
            } catch {
                printError("\(error)")
                failed = true
            }
        }
        if failed { throw ExitCode(1) }
    }
}
