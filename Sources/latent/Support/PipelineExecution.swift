import ArgumentParser
import Foundation
import Pipeline
import FileIO

/// Runs a batch command's `BatchJob` the way every batch command does: notes, progress bar or
/// `--verbose` lines, `--dry-run` listing, the summary, `-o -` written out. Set-up errors are
/// one line and exit 2; a failed run exits 1.
enum PipelineExecution {
    static func run(inputs: [String], output: String, sink: Sink? = nil, batch: ProcessingOptions, label: String, verb: String,
                    groups: ([InputItem]) throws -> [(stages: [any Stage], indices: [Int])]) throws -> ([InputItem], [ItemOutcome]) {
        var options = PipelineOptions(jobs: batch.resolvedJobs, overwrite: batch.overwrite, limits: batch.limits, compression: batch.compression)
        options.keepMetadata = !batch.strip
        var job = BatchJob(inputs: inputs, output: output, options: options, verb: verb)
        job.shard = batch.selectedShard
        job.dryRun = batch.dryRun
        job.json = batch.json
        job.fixedSink = sink
        let bar = ProgressBar(label: label, quiet: batch.quiet || batch.verbose)
        var hooks = BatchJob.Hooks()
        let quiet = batch.quiet
        hooks.notes = { if !quiet { for n in $0 { printError(n) } } }
        hooks.dryRun = { lines, summary in
            for l in lines { print(l) }
            printError(summary)
        }
        hooks.progress = { bar.update($0) }
        hooks.groupFinished = { bar.finish() }
        if batch.verbose { hooks.itemFinished = { printError(BatchSetup.verboseLine($0, chain: $2, output: $1)) } }
        let result: (items: [InputItem], outcomes: [ItemOutcome], summary: BatchSummary?, standardOutput: Data?)
        do {
            result = try job.run(hooks: hooks, readStandardInput: { FileHandle.standardInput.readDataToEndOfFile() }, groups: groups)
        } catch let e as BatchRunError { throw Exit.failed(e) } catch let e as ExitCode { throw e } catch { throw Exit.cannotRun(error) }
        result.summary?.report(quiet: batch.quiet, json: batch.json)
        if let data = result.standardOutput { FileHandle.standardOutput.write(data) }
        return (result.items, result.outcomes)
    }

    /// convert, denoise and reconstruct: `-o` names a folder, one file or `-`.
    static func runFiles(_ inputs: [String], batch: BatchOptions, label: String, verb: String,
                         groups: ([InputItem]) throws -> [(stages: [any Stage], indices: [Int])]) throws -> ([InputItem], [ItemOutcome]) {
        try run(inputs: inputs, output: batch.output, batch: batch.processing, label: label, verb: verb, groups: groups)
    }
}
