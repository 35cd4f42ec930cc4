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

    @Argument(help: "PNG files and folders.")
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
        let outDir = batch.output
        let items: [InputItem]
        do {
            items = try InputWalker.expandNoting(inputs, excluding: outDir)
        } catch {
            throw Exit.cannotRun(error)
        }
        let fm = FileManager.default
        do {
            try fm.createDirectory(atPath: outDir, withIntermediateDirectories: true)
        } catch {
            throw Exit.cannotRun("\(outDir): cannot create the output folder: \(error.localizedDescription)")
        }

        let job = ConvertJob(
            layout: layout.map { f -> ConvertJob.LayoutChoice in
                switch f { case .gray: return .gray; case .rgb: return .rgb; case .rgba: return .rgba }
            } ?? .keep,
            depth: depth,
            resize: resize.flatMap(Self.parseSize).map { ResizeSpec.exact(width: $0.0, height: $0.1) }
                ?? fit.map { ResizeSpec.fit(longest: $0) } ?? .none,
            compression: batch.compression, overwrite: batch.overwrite, limits: batch.limits)

        // Create sub-folders first, and clean temporaries a killed run may have left.
        var dirs = Set<String>([outDir])
        for item in items {
            let dir = ((outDir as NSString).appendingPathComponent(item.relativeOutput) as NSString).deletingLastPathComponent
            dirs.insert(dir)
        }
        for dir in dirs.sorted() {
            try? fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
            AtomicOutput.removeStale(in: dir)
        }

        let bar = ProgressBar(label: "convert", quiet: batch.quiet)
        let start = Date()
        let outcomes = BatchRunner.run(count: items.count, jobs: batch.resolvedJobs, progress: { bar.update($0) }) { i in
            let item = items[i]
            let out = (outDir as NSString).appendingPathComponent(item.relativeOutput)
            do {
                return try job.run(input: item.path, output: out)
            } catch let e as PNGError {
                return .failed(e.description)
            } catch {
                return .failed("\(item.path): \(error)")
            }
        }
        bar.finish()
        let seconds = Date().timeIntervalSince(start)
        Summary(outcomes: outcomes, verb: "converted", seconds: seconds).report(quiet: batch.quiet, json: batch.json)
        try Exit.ifAnyFailed(outcomes)
    }
}
