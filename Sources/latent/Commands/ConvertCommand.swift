import ArgumentParser
import Foundation
import Imaging
import PNGIO
import Pipeline
import FileIO

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
        if let resize, Self.parseSize(resize) == nil {
            throw ValidationError("--resize wants WxH with positive integers, e.g. 640x480 (got '\(resize)').")
        }
        if let fit, fit < 1 { throw ValidationError("--fit must be at least 1 (got \(fit)).") }
    }

    static func parseSize(_ s: String) -> (Int, Int)? {
        let parts = s.lowercased().split(separator: "x")
        guard parts.count == 2, let w = Int(parts[0]), let h = Int(parts[1]), w > 0, h > 0,
              w <= 1 << 20, h <= 1 << 20 else { return nil }
        return (w, h)
    }

    func run() throws {
        let stage = ConvertStage(
            layout: layout.map { ConvertStage.LayoutChoice(rawValue: $0.rawValue)! } ?? .keep,
            depth: depth,
            resize: resize.flatMap(Self.parseSize).map { ResizeSpec.exact(width: $0.0, height: $0.1) } ?? fit.map { ResizeSpec.fit(longest: $0) } ?? .none)
        let (inputs, stdinCopy) = try PipelineExecution.standardInput(self.inputs)
        defer { PipelineExecution.removeCopy(stdinCopy) }
        let (sink, stdoutCopy) = try PipelineExecution.sink(output: batch.output, inputs: inputs, json: batch.json)
        let plan = PipelinePlan(inputs: inputs, stages: [stage], sink: sink)
        let (_, outcomes) = try PipelineExecution(plan: plan, batch: batch.processing, label: "convert", verb: "converted").run()
        PipelineExecution.emit(stdoutCopy)
        try Exit.ifAnyFailed(outcomes)
    }
}
