import ArgumentParser
import Foundation
import PNGIO
import FileIO

/// How a batch runs: flags every batch command shares (`run` too, whose output comes from its chain).
struct ProcessingOptions: ParsableArguments {
    @Option(help: "Files processed in parallel (default: the number of cores).")
    var jobs: Int?

    @Flag(help: "Replace outputs that exist (otherwise they are skipped, which makes a rerun resume).")
    var overwrite = false

    @Option(help: "zlib compression level of the outputs, 0 (none) to 9 (smallest); default 3.")
    var compression: Int?

    @Flag(help: "Drop the inputs' colour profile (iCCP, sRGB, gAMA, cHRM), pixel density (pHYs) and text chunks; kept by default.")
    var strip = false

    @Option(help: "Refuse images of more pixels than this (checked before decoding).")
    var maxPixels: Int = PNGLimits.default.maxPixels

    @Flag(name: .shortAndLong, help: "Print nothing but errors.")
    var quiet = false

    @Flag(help: "One line per file as it finishes: input → output, size, chain, noise level, seconds (or why it was skipped or failed).")
    var verbose = false

    @Flag(help: "Print a machine-readable summary on standard output.")
    var json = false

    @Flag(help: "List what would be written, replaced, skipped (and why) or refused, and write nothing.")
    var dryRun = false

    @Option(help: ArgumentHelp("Process only part K of N of the inputs (0 <= K < N; by a hash of each input's relative path, so N machines with K = 0...N-1 cover every input once). See docs/cluster.md.", valueName: "K/N"))
    var shard: String?

    func validate() throws {
        if let shard, Shard(shard) == nil { throw ValidationError("--shard wants K/N with 0 <= K < N, e.g. 3/16 (got '\(shard)').") }
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1 (got \(jobs)).") }
        if let compression, !(0...9).contains(compression) {
            throw ValidationError("--compression must be 0-9 (got \(compression)).")
        }
        if maxPixels < 1 { throw ValidationError("--max-pixels must be positive (got \(maxPixels)).") }
        if verbose && quiet { throw ValidationError("--verbose and --quiet ask for opposite things; give one.") }
    }

    var resolvedJobs: Int { jobs ?? ProcessInfo.processInfo.activeProcessorCount }
    var limits: PNGLimits { PNGLimits(maxPixels: maxPixels) }
    var selectedShard: Shard? { shard.flatMap(Shard.init) }
}

/// An output folder and the processing flags: what convert, denoise and reconstruct share.
struct BatchOptions: ParsableArguments {
    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Output folder (created if missing).", valueName: "OUTDIR"))
    var output: String

    @OptionGroup var processing: ProcessingOptions

    var jobs: Int? { processing.jobs }
    var overwrite: Bool { processing.overwrite }
    var compression: Int? { processing.compression }
    var quiet: Bool { processing.quiet }
    var selectedShard: Shard? { processing.selectedShard }
    var json: Bool { processing.json }
    var resolvedJobs: Int { processing.resolvedJobs }
    var limits: PNGLimits { processing.limits }
}
