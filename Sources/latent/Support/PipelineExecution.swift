import ArgumentParser
import Foundation
import Imaging
import Models
import PNGIO
import Pipeline
import Synchronization
import FileIO

/// Runs a plan the way every pipeline command does: walk inputs, check the chain, progress bar,
/// summary, exit code.
struct PipelineExecution {
    var plan: PipelinePlan
    var batch: ProcessingOptions
    var label: String
    /// The summary's verb ("converted 3, skipped 0, failed 0").
    var verb = "processed"

    /// Returns the items and outcomes; throws ExitCode on set-up errors.
    func run() throws -> ([InputItem], [ItemOutcome]) {
        let outDir = plan.sink.folder
        let items = try walk()
        let runner = try makeRunner()
        try Self.preflight(items, runner: runner)
        if batch.dryRun { return (items, Self.dryRun(items, runner: runner)) }
        if let outDir { try Self.prepareOutputFolder(outDir) }
        let start = Date()
        let (outcomes, files) = try execute(items: items, runner: runner)
        BatchSummary(outcomes: outcomes, verb: verb, seconds: Date().timeIntervalSince(start), destination: plan.sink.destination,
                     inputs: items.map(\.path), files: files).report(quiet: batch.quiet, json: batch.json)
        return (items, outcomes)
    }

    /// The inputs (exit 2 if they cannot be walked, or an output would overwrite an input).
    func walk() throws -> [InputItem] {
        do {
            if case .file(let out) = plan.sink {
                let items = try InputWalker.expandNoting(plan.inputs, excluding: nil, quiet: batch.quiet)
                if items.contains(where: { $0.canonicalPath == InputWalker.canonical(out) }) { throw InputError.outputIsInput(path: out) }
                return items
            }
            return try InputWalker.expandNoting(plan.inputs, excluding: plan.sink.folder, quiet: batch.quiet, shard: batch.selectedShard)
        } catch let e as ExitCode { throw e } catch {
            throw Exit.cannotRun(error)
        }
    }

    /// `inputs` with `-` (a PNG on standard input) replaced by a copy of it in a temporary file
    /// named stdin.png, and that file's folder (to remove when done: `removeCopy`).
    static func standardInput(_ inputs: [String]) throws -> (inputs: [String], copy: String?) {
        let dashes = inputs.filter { $0 == "-" }.count
        guard dashes > 0 else { return (inputs, nil) }
        if dashes > 1 { throw Exit.cannotRun("- (standard input) can be given once") }
        let dir = NSTemporaryDirectory() + "latent-stdin-\(getpid())"
        try? FileManager.default.removeItem(atPath: dir)
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let data = FileHandle.standardInput.readDataToEndOfFile()
            try data.write(to: URL(fileURLWithPath: dir + "/stdin.png"))
        } catch {
            throw Exit.cannotRun("standard input: cannot keep a copy in \(dir): \(error.localizedDescription)")
        }
        return (inputs.map { $0 == "-" ? dir + "/stdin.png" : $0 }, dir)
    }

    static func removeCopy(_ dir: String?) {
        if let dir { try? FileManager.default.removeItem(atPath: dir) }
    }

    /// Where `-o OUT` sends the outputs of `inputs`: a folder, one FILE.png (one input file), or
    /// with `-o -` standard output (one input file; the PNG is written to a temporary file first
    /// and copied out when complete: `stdoutCopy`).
    static func sink(output: String, inputs: [String], json: Bool) throws -> (sink: Sink, stdoutCopy: String?) {
        guard output == "-" else { return (Sink.forOutput(output, inputs: inputs), nil) }
        guard case .file = Sink.forOutput("x.png", inputs: inputs) else {
            throw Exit.cannotRun("-o - (standard output) takes one input file, not \(inputs.joined(separator: " "))")
        }
        if json { throw Exit.cannotRun("-o - writes the PNG to standard output: --json cannot go there too") }
        let tmp = NSTemporaryDirectory() + "latent-stdout-\(getpid())/out.png"
        return (.file(tmp), tmp)
    }

    /// Copies the finished PNG to standard output and removes its temporary folder.
    static func emit(_ stdoutCopy: String?) {
        guard let path = stdoutCopy else { return }
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        if let data = FileManager.default.contents(atPath: path) { FileHandle.standardOutput.write(data) }
    }

    /// The plan's runner; a chain that cannot run is a set-up error (exit 2).
    func makeRunner() throws -> PipelineRunner {
        do {
            var options = PipelineOptions(jobs: batch.resolvedJobs, overwrite: batch.overwrite, limits: batch.limits, compression: batch.compression)
            options.keepMetadata = !batch.strip
            return try PipelineRunner(plan: plan, options: options)
        } catch {
            throw Exit.cannotRun(error)
        }
    }

    /// No input fits the chain (sizes, colour): one line, exit 2, before any file.
    static func preflight(_ items: [InputItem], runner: PipelineRunner) throws {
        do { try runner.preflight(items) } catch { throw Exit.cannotRun(error) }
    }

    /// Runs `items` through `runner` behind a progress bar; a failure of the run itself exits 1.
    /// Returns each item's outcome and its record for the JSON summary's "files".
    func execute(items: [InputItem], runner: PipelineRunner) throws -> (outcomes: [ItemOutcome], files: [FileRecord]) {
        // --verbose: a line per file instead of the bar.
        let bar = ProgressBar(label: label, quiet: batch.quiet || batch.verbose)
        let verbose = batch.verbose, chain = runner.plan.chainSpec
        let records = Mutex<[String: [(key: String, text: String)]]>([:])
        runner.itemFinished = { report in
            records.withLock { $0[report.item.path] = report.texts }
            if verbose { printError(Self.verboseLine(report, chain: chain, output: runner.outputPath(for: report.item))) }
        }
        let outcomes: [ItemOutcome]
        do { outcomes = try runner.run(items: items) { bar.update($0) } } catch {
            bar.finish()
            throw Exit.failed(error)
        }
        bar.finish()
        let texts = records.withLock { $0 }
        let files = zip(items, outcomes).map { item, outcome in
            FileRecord(input: item.path, output: runner.outputPath(for: item), outcome: outcome,
                       sigma: texts[item.path]?.first { $0.key == "latent:sigma" }?.text)
        }
        return (outcomes, files)
    }

    /// `in → out  WxH colour  chain  σ  seconds`, or why the file was skipped or failed.
    static func verboseLine(_ report: ItemReport, chain: String, output: String?) -> String {
        let item = report.item, outcome = report.outcome, seconds = report.seconds
        let out = output.map { $0.contains("/latent-stdout-") ? "standard output" : $0 } ?? "-"
        switch outcome {
        case .skipped: return "\(item.path): skipped (\(out) is up to date)"
        case .failed(let reason): return "\(item.path): failed: \(reason)"
        case .done, .replacedStale, .warned:
            var parts = ["\(item.path) → \(out)"]
            if let path = output, let r = try? PNGReader(path: path) {
                parts.append("\(r.header.width)x\(r.header.height) \(r.header.layout)")
                r.close()
            }
            parts.append(chain)
            if let sigma = report.texts.first(where: { $0.key == "latent:sigma" }) { parts.append("σ " + sigma.text) }
            if case .replacedStale = outcome { parts.append("replaced a stale output") }
            if case .warned(let w) = outcome { parts.append("warning: " + w) }
            if let seconds { parts.append(String(format: "%.2f s", seconds)) }
            return parts.joined(separator: "  ")
        }
    }

    /// Creates the output folder once, up front: a path that cannot be one (an existing file, no
    /// permission) is one line and exit 2, not an error per input.
    static func prepareOutputFolder(_ outDir: String) throws {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: outDir, isDirectory: &isDir), !isDir.boolValue {
            throw Exit.cannotRun("\(outDir): cannot create the output folder: a file of that name exists")
        }
        do { try FileManager.default.createDirectory(atPath: outDir, withIntermediateDirectories: true) } catch {
            throw Exit.cannotRun("\(outDir): cannot create the output folder: \(error.localizedDescription)")
        }
    }

    /// `--dry-run`: one line per input on standard output (what would happen to it and why),
    /// nothing written; the outcomes are all "skipped".
    static func dryRun(_ items: [InputItem], runner: PipelineRunner) -> [ItemOutcome] {
        var counts: [String: Int] = [:]
        for (item, out, intent) in runner.intents(items) {
            let (word, why): (String, String) = switch intent {
            case .write: ("write", "")
            case .replaceStale: ("replace", "  (made by other settings or from another input)")
            case .skipUpToDate: ("skip", "  (up to date)")
            case .refuseForeign: ("refuse", "  (exists and was not written by latent)")
            }
            counts[word, default: 0] += 1
            print("\(word) \(out ?? "-") <- \(item.path)\(why)")
        }
        printError("dry run: " + ["write", "replace", "skip", "refuse"].map { "\($0) \(counts[$0] ?? 0)" }.joined(separator: ", ") + "; nothing written")
        return items.map { _ in .skipped }
    }
}
