import ArgumentParser
import Pipeline

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert PNG files and folders: channels, bit depth, size.",
        discussion: """
            Folders are walked recursively and their tree is kept under OUTDIR. Inputs are never \
            modified; each output is written to a temporary file and renamed when complete. Outputs \
            that exist are skipped unless --overwrite, so an interrupted run resumes where it stopped. \
            A file that cannot be converted is reported and the rest go on; the exit code is then 1.

            Examples:
              latent convert scans/ -o out/ --gray --depth 8
              latent convert a.png b.png -o thumbs/ --fit 128 --jobs 4
              latent convert photos/ -o small/ --resize 640x480 --json
            """)

    @Argument(help: "PNG files and folders (- reads one PNG from standard input).")
    var inputs: [String]

    @OptionGroup var batch: BatchOptions

    @Flag(help: "Output layout (default: keep the input's; palette becomes RGB, tRNS becomes alpha).")
    var layout: LayoutFlag?

    @Option(help: "Bits per sample of the output, 8 or 16 (default: keep; 1/2/4-bit become 8).")
    var depth: Int?

    @Option(help: ArgumentHelp("Resize to exactly WxH (area averaging when shrinking, bilinear when enlarging).", valueName: "WxH"))
    var resize: String?

    @Option(help: ArgumentHelp("Resize so that the longest side is N, keeping the aspect ratio.", valueName: "N"))
    var fit: Int?

    enum LayoutFlag: String, EnumerableFlag {
        case gray, rgb, rgba
    }

    func validate() throws {
        if let depth, depth != 8 && depth != 16 { throw ValidationError("--depth must be 8 or 16 (got \(depth)).") }
        if resize != nil && fit != nil { throw ValidationError("Give --resize or --fit, not both.") }
        if let resize, StageArguments.size(resize) == nil {
            throw ValidationError("--resize wants WxH with positive integers, e.g. 640x480 (got '\(resize)').")
        }
        if let fit, fit < 1 { throw ValidationError("--fit must be at least 1 (got \(fit)).") }
    }

    func run() throws {
        let stage = ConvertStage(
            layout: layout.map { ConvertStage.LayoutChoice(rawValue: $0.rawValue)! } ?? .keep,
            depth: depth,
            resize: resize.flatMap { StageArguments.size($0) }.map { ResizeSpec.exact(width: $0.0, height: $0.1) } ?? fit.map { ResizeSpec.fit(longest: $0) } ?? .none)
        let (_, outcomes) = try PipelineExecution.runFiles(inputs, batch: batch, label: "convert", verb: "converted") { [([stage], Array($0.indices))] }
        try Exit.ifAnyFailed(outcomes)
    }
}
