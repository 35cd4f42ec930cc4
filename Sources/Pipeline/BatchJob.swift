import FileIO
import Foundation

/// A batch command's whole run: the inputs walked (`-` read from standard input), the output
/// (a folder, one file, or standard output), one or more groups of inputs each with its chain
/// (`denoise --model auto` routes by image; the others have one group), every chain made and
/// checked against the inputs before anything is written, `--dry-run`, the runs, and the
/// summary. What the user sees goes through `Hooks`; set-up errors are thrown before any
/// output exists, a failed run as `BatchRunError`.
public struct BatchJob {
    /// The inputs as given, and where the chain's outputs go: a `Sink` made from `-o`.
    public var inputs: [String]
    public var output: String
    public var options: PipelineOptions
    public var shard: Shard?
    public var dryRun = false
    public var json = false
    /// The summary's verb ("converted 3, skipped 0, failed 0").
    public var verb: String
    /// Where the outputs go when the chain says it (`run`'s write stage) instead of `output`.
    public var fixedSink: Sink?

    /// How the job tells the user what happens (the executable prints).
    public struct Hooks {
        /// Notes on what the walk left out (symlink loops, files not PNG by name).
        public var notes: ([String]) -> Void = { _ in }
        /// `--dry-run`: one line per input and a closing count.
        public var dryRun: ([String], String) -> Void = { _, _ in }
        /// Progress of the running group (counts, rows of large images).
        public var progress: @Sendable (BatchProgress) -> Void = { _ in }
        /// Each item as it finishes, with its output path and the chain's text.
        public var itemFinished: (@Sendable (ItemReport, String?, String) -> Void)?
        /// After each group's run (a progress bar is cleared).
        public var groupFinished: () -> Void = {}
        public init() {}
    }

    public init(inputs: [String], output: String, options: PipelineOptions, verb: String) {
        self.inputs = inputs
        self.output = output
        self.options = options
        self.verb = verb
    }

    /// Runs the job: `groups` gives the stages of each group of the walked inputs (indices into
    /// them). `readStandardInput` is called when an input is `-`. Returns the items, their
    /// outcomes, the summary (nil for a dry run) and, for `-o -`, the PNG to write out.
    public func run(hooks: Hooks, readStandardInput: () -> Data,
                    groups: ([InputItem]) throws -> [(stages: [any Stage], indices: [Int])]) throws
        -> (items: [InputItem], outcomes: [ItemOutcome], summary: BatchSummary?, standardOutput: Data?) {
        let (inputs, stdinCopy) = try BatchSetup.standardInput(self.inputs, read: readStandardInput)
        defer { BatchSetup.removeCopy(stdinCopy) }
        let (sink, stdoutCopy) = try fixedSink.map { ($0, nil) } ?? BatchSetup.sink(output: output, inputs: inputs, json: json)
        let walked = try BatchSetup.inputs(of: PipelinePlan(inputs: inputs, stages: [], sink: sink), shard: shard)
        hooks.notes(walked.notes)
        let items = walked.items
        let runs = try groups(items).filter { !$0.indices.isEmpty }.map { g in
            (try PipelineRunner(plan: PipelinePlan(inputs: inputs, stages: g.stages, sink: sink), options: options), g.indices)
        }
        for (runner, indices) in runs { try runner.preflight(indices.map { items[$0] }) }
        if dryRun {
            for (runner, indices) in runs {
                let (lines, summary) = BatchSetup.dryRun(indices.map { items[$0] }, runner: runner)
                hooks.dryRun(lines, summary)
            }
            return (items, items.map { _ in .skipped }, nil, nil)
        }
        if let folder = sink.folder { try BatchSetup.prepareOutputFolder(folder) }
        let start = Date()
        var outcomes = [ItemOutcome](repeating: .skipped, count: items.count)
        var files = items.map { FileRecord(input: $0.path, output: nil, outcome: .skipped, sigma: nil) }
        for (runner, indices) in runs {
            let group = indices.map { items[$0] }
            let result = try Self.execute(group, runner: runner, hooks: hooks)
            for (k, i) in indices.enumerated() { outcomes[i] = result.outcomes[k]; files[i] = result.files[k] }
        }
        let summary = BatchSummary(outcomes: outcomes, verb: verb, seconds: Date().timeIntervalSince(start), destination: sink.destination,
                                   inputs: items.map(\.path), files: files)
        return (items, outcomes, summary, BatchSetup.takeStandardOutput(stdoutCopy))
    }

    /// Runs one chain over `items`: each item's outcome and its record for the JSON's "files".
    public static func execute(_ items: [InputItem], runner: PipelineRunner, hooks: Hooks) throws -> (outcomes: [ItemOutcome], files: [FileRecord]) {
        let chain = runner.plan.chainSpec
        let texts = ItemTexts()
        let finished = hooks.itemFinished
        runner.itemFinished = { report in
            texts.set(report.item.path, report.texts)
            finished?(report, runner.outputPath(for: report.item), chain)
        }
        defer { hooks.groupFinished() }
        let outcomes: [ItemOutcome]
        do { outcomes = try runner.run(items: items, progress: hooks.progress) } catch { throw BatchRunError(description: "\(error)") }
        return (outcomes, BatchSetup.fileRecords(items, outcomes, texts: texts.all, runner: runner))
    }
}

/// The texts each item's stages added, gathered from the workers behind a pthread lock
/// (ThreadSanitizer sees it; it does not see Mutex's futex).
final class ItemTexts: @unchecked Sendable {
    private let lock = NSLock()
    private var texts: [String: [(key: String, text: String)]] = [:]
    func set(_ path: String, _ t: [(key: String, text: String)]) { lock.lock(); texts[path] = t; lock.unlock() }
    var all: [String: [(key: String, text: String)]] { lock.lock(); defer { lock.unlock() }; return texts }
}

/// The run itself failed (not one file: for instance a codes file that cannot be written).
public struct BatchRunError: Error, CustomStringConvertible, Sendable {
    public let description: String
}
