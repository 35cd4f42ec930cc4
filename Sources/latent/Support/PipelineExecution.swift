import ArgumentParser
import Foundation
import Pipeline
import Synchronization
import FileIO

/// Runs a plan the way every pipeline command does (the steps are `BatchSetup`'s): walk inputs,
/// check the chain, progress bar, summary, exit code; set-up errors are one line and exit 2.
struct PipelineExecution {
    var plan: PipelinePlan
    var batch: ProcessingOptions
    var label: String
    /// The summary's verb ("converted 3, skipped 0, failed 0").
    var verb = "processed"

    /// Returns the items and outcomes; throws ExitCode on set-up errors.
    func run() throws -> ([InputItem], [ItemOutcome]) {
        let items = try walk()
        let runner = try makeRunner()
        try Self.preflight(items, runner: runner)
        if batch.dryRun { return (items, Self.dryRun(items, runner: runner)) }
        if let outDir = plan.sink.folder { try Exit.setUp { try BatchSetup.prepareOutputFolder(outDir) } }
        let start = Date()
        let (outcomes, files) = try execute(items: items, runner: runner)
        BatchSummary(outcomes: outcomes, verb: verb, seconds: Date().timeIntervalSince(start), destination: plan.sink.destination,
                     inputs: items.map(\.path), files: files).report(quiet: batch.quiet, json: batch.json)
        return (items, outcomes)
    }

    /// convert, denoise and reconstruct: the inputs (`-` from standard input), `-o` (a folder,
    /// one file, or `-`), the stages of each group of inputs (`groups`: one group, or denoise's
    /// auto routing), every group's chain made and checked before anything is written, the runs,
    /// the summary, and `-o -` copied out.
    static func runFiles(_ inputs: [String], batch: BatchOptions, label: String, verb: String,
                         groups: ([InputItem]) throws -> [(stages: [any Stage], indices: [Int])]) throws -> ([InputItem], [ItemOutcome]) {
        let (inputs, stdinCopy) = try standardInput(inputs)
        defer { removeCopy(stdinCopy) }
        let (sink, stdoutCopy) = try sink(output: batch.output, inputs: inputs, json: batch.json)
        func execution(_ stages: [any Stage]) -> PipelineExecution {
            PipelineExecution(plan: PipelinePlan(inputs: inputs, stages: stages, sink: sink), batch: batch.processing, label: label, verb: verb)
        }
        let items = try execution([]).walk()
        let runs = try groups(items).filter { !$0.indices.isEmpty }.map { g in
            let exec = execution(g.stages)
            return (exec, try exec.makeRunner(), g.indices)
        }
        for (_, runner, indices) in runs { try preflight(indices.map { items[$0] }, runner: runner) }
        if batch.processing.dryRun {
            for (_, runner, indices) in runs { _ = dryRun(indices.map { items[$0] }, runner: runner) }
            return (items, items.map { _ in .skipped })
        }
        if let folder = sink.folder { try prepareOutputFolder(folder) }
        let start = Date()
        var outcomes = [ItemOutcome](repeating: .skipped, count: items.count)
        var files = items.map { FileRecord(input: $0.path, output: nil, outcome: .skipped, sigma: nil) }
        for (exec, runner, indices) in runs {
            let result = try exec.execute(items: indices.map { items[$0] }, runner: runner)
            for (k, i) in indices.enumerated() { outcomes[i] = result.outcomes[k]; files[i] = result.files[k] }
        }
        BatchSummary(outcomes: outcomes, verb: verb, seconds: Date().timeIntervalSince(start), destination: sink.destination,
                     inputs: items.map(\.path), files: files).report(quiet: batch.quiet, json: batch.json)
        emit(stdoutCopy)
        return (items, outcomes)
    }

    /// The inputs, with the notes on what the walk left out (unless --quiet).
    func walk() throws -> [InputItem] {
        let (items, notes) = try Exit.setUp { try BatchSetup.inputs(of: plan, shard: batch.selectedShard) }
        if !batch.quiet { for n in notes { printError(n) } }
        return items
    }

    static func standardInput(_ inputs: [String]) throws -> (inputs: [String], copy: String?) {
        try Exit.setUp { try BatchSetup.standardInput(inputs) { FileHandle.standardInput.readDataToEndOfFile() } }
    }

    static func removeCopy(_ dir: String?) { BatchSetup.removeCopy(dir) }

    static func sink(output: String, inputs: [String], json: Bool) throws -> (sink: Sink, stdoutCopy: String?) {
        try Exit.setUp { try BatchSetup.sink(output: output, inputs: inputs, json: json) }
    }

    /// Copies the finished PNG of `-o -` to standard output.
    static func emit(_ stdoutCopy: String?) {
        if let data = BatchSetup.takeStandardOutput(stdoutCopy) { FileHandle.standardOutput.write(data) }
    }

    static func prepareOutputFolder(_ outDir: String) throws { try Exit.setUp { try BatchSetup.prepareOutputFolder(outDir) } }

    /// The plan's runner; a chain that cannot run is a set-up error (exit 2).
    func makeRunner() throws -> PipelineRunner {
        var options = PipelineOptions(jobs: batch.resolvedJobs, overwrite: batch.overwrite, limits: batch.limits, compression: batch.compression)
        options.keepMetadata = !batch.strip
        return try Exit.setUp { try PipelineRunner(plan: plan, options: options) }
    }

    /// No input fits the chain (sizes, colour): one line, exit 2, before any file.
    static func preflight(_ items: [InputItem], runner: PipelineRunner) throws {
        try Exit.setUp { try runner.preflight(items) }
    }

    /// Runs `items` through `runner` behind a progress bar (or --verbose lines); a failure of the
    /// run itself exits 1. Returns each item's outcome and its record for the JSON's "files".
    func execute(items: [InputItem], runner: PipelineRunner) throws -> (outcomes: [ItemOutcome], files: [FileRecord]) {
        let bar = ProgressBar(label: label, quiet: batch.quiet || batch.verbose)
        let verbose = batch.verbose, chain = runner.plan.chainSpec
        let texts = Mutex<[String: [(key: String, text: String)]]>([:])
        runner.itemFinished = { report in
            texts.withLock { $0[report.item.path] = report.texts }
            if verbose { printError(BatchSetup.verboseLine(report, chain: chain, output: runner.outputPath(for: report.item))) }
        }
        let outcomes: [ItemOutcome]
        do { outcomes = try runner.run(items: items) { bar.update($0) } } catch {
            bar.finish()
            throw Exit.failed(error)
        }
        bar.finish()
        return (outcomes, BatchSetup.fileRecords(items, outcomes, texts: texts.withLock { $0 }, runner: runner))
    }

    /// `--dry-run`: what would happen to each input, on standard output; nothing written.
    static func dryRun(_ items: [InputItem], runner: PipelineRunner) -> [ItemOutcome] {
        let (lines, summary) = BatchSetup.dryRun(items, runner: runner)
        for l in lines { print(l) }
        printError(summary)
        return items.map { _ in .skipped }
    }
}
