import ArgumentParser
import PNGIO

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
            do { print(try PNGReader.describe(path: file, limits: PNGLimits(maxPixels: maxPixels), json: json)) } catch {
                printError("\(error)")
                failed = true
            }
        }
        if failed { throw ExitCode(1) }
    }
}
