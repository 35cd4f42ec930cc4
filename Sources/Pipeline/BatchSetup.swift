import FileIO
import Foundation
import PNGIO

/// The steps every batch command takes around a run, as file-system policy: the inputs (with
/// `-` read from standard input), where the outputs go (a folder, one file, or standard output),
/// the output folder made once up front, and the lines `--dry-run` and `--verbose` show. Errors
/// are `BatchSetupError` (one line: the command cannot start).
public enum BatchSetup {
    /// `inputs` with `-` (a PNG on standard input, `data`) replaced by a copy in a temporary
    /// file named stdin.png, and that file's folder (remove it when done: `removeCopy`).
    public static func standardInput(_ inputs: [String], read data: () -> Data) throws -> (inputs: [String], copy: String?) {
        let dashes = inputs.filter { $0 == "-" }.count
        guard dashes > 0 else { return (inputs, nil) }
        if dashes > 1 { throw BatchSetupError("- (standard input) can be given once") }
        let dir = NSTemporaryDirectory() + "latent-stdin-\(getpid())"
        try? FileManager.default.removeItem(atPath: dir)
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try data().write(to: URL(fileURLWithPath: dir + "/stdin.png"))
        } catch {
            throw BatchSetupError("standard input: cannot keep a copy in \(dir): \(error.localizedDescription)")
        }
        return (inputs.map { $0 == "-" ? dir + "/stdin.png" : $0 }, dir)
    }

    public static func removeCopy(_ dir: String?) {
        if let dir { try? FileManager.default.removeItem(atPath: dir) }
    }

    /// Where `-o OUT` sends the outputs of `inputs`: a folder, one FILE.png (one input file), or
    /// with `-o -` standard output (one input file; the PNG is written to a temporary file first
    /// and copied out when complete: `stdoutCopy`).
    public static func sink(output: String, inputs: [String], json: Bool) throws -> (sink: Sink, stdoutCopy: String?) {
        guard output == "-" else { return (Sink.forOutput(output, inputs: inputs), nil) }
        guard case .file = Sink.forOutput("x.png", inputs: inputs) else {
            throw BatchSetupError("-o - (standard output) takes one input file, not \(inputs.joined(separator: " "))")
        }
        if json { throw BatchSetupError("-o - writes the PNG to standard output: --json cannot go there too") }
        let tmp = NSTemporaryDirectory() + "latent-stdout-\(getpid())/out.png"
        return (.file(tmp), tmp)
    }

    /// The finished PNG of `-o -` (its temporary folder removed), for the caller to write out.
    public static func takeStandardOutput(_ stdoutCopy: String?) -> Data? {
        guard let path = stdoutCopy else { return nil }
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        return FileManager.default.contents(atPath: path)
    }

    /// The plan's inputs, walked (sharded when asked), and the notes to show about what the walk
    /// left out (folders reached twice through symlinks, files not PNG by name). A single-file
    /// output that is one of the inputs is refused.
    public static func inputs(of plan: PipelinePlan, shard: Shard?) throws -> (items: [InputItem], notes: [String]) {
        if case .file(let out) = plan.sink {
            let w = try InputWalker.walk(plan.inputs, excluding: nil)
            if w.items.contains(where: { $0.canonicalPath == InputWalker.canonical(out) }) { throw InputError.outputIsInput(path: out) }
            return (w.items, notes(w))
        }
        var w = try InputWalker.walk(plan.inputs, excluding: plan.sink.folder)
        if let shard { w.items = shard.select(w.items) }
        return (w.items, notes(w))
    }

    static func notes(_ w: InputWalker.Walk) -> [String] {
        var lines = w.skippedLoops.map { "latent: \($0): skipped, a symlink back to a folder already walked" }
        if !w.otherFiles.isEmpty {
            let n = w.otherFiles.count
            lines.append("latent: skipped \(n) file\(n == 1 ? "" : "s") that \(n == 1 ? "is" : "are") not PNG by name (\(w.otherFiles.prefix(3).joined(separator: ", "))\(n > 3 ? ", ..." : ""))")
        }
        return lines
    }

    /// Creates the output folder once, up front: a path that cannot be one (an existing file, no
    /// permission) is one error, not one per input.
    public static func prepareOutputFolder(_ outDir: String) throws {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: outDir, isDirectory: &isDir), !isDir.boolValue {
            throw BatchSetupError("\(outDir): cannot create the output folder: a file of that name exists")
        }
        do { try FileManager.default.createDirectory(atPath: outDir, withIntermediateDirectories: true) } catch {
            throw BatchSetupError("\(outDir): cannot create the output folder: \(error.localizedDescription)")
        }
    }

    /// `--dry-run`: one line per input (what would happen to it and why) and a closing count.
    public static func dryRun(_ items: [InputItem], runner: PipelineRunner) -> (lines: [String], summary: String) {
        var counts: [String: Int] = [:]
        var lines: [String] = []
        for (item, out, intent) in runner.intents(items) {
            let (word, why): (String, String) = switch intent {
            case .write: ("write", "")
            case .replaceStale: ("replace", "  (made by other settings or from another input)")
            case .skipUpToDate: ("skip", "  (up to date)")
            case .refuseForeign: ("refuse", "  (exists and was not written by latent)")
            }
            counts[word, default: 0] += 1
            lines.append("\(word) \(out ?? "-") <- \(item.path)\(why)")
        }
        return (lines, "dry run: " + ["write", "replace", "skip", "refuse"].map { "\($0) \(counts[$0] ?? 0)" }.joined(separator: ", ") + "; nothing written")
    }

    /// `--verbose`: `in → out  WxH colour  chain  σ  seconds`, or why the file was skipped or failed.
    public static func verboseLine(_ report: ItemReport, chain: String, output: String?) -> String {
        let item = report.item, outcome = report.outcome
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
            if let stage = report.texts.first(where: { $0.key == "latent:real-noise" }) { parts.append("real noise: " + stage.text) }
            if case .replacedStale = outcome { parts.append("replaced a stale output") }
            if case .warned(let w) = outcome { parts.append("warning: " + w) }
            if let seconds = report.seconds { parts.append(String(format: "%.2f s", seconds)) }
            return parts.joined(separator: "  ")
        }
    }

    /// One record per item for the JSON summary's "files": output, outcome, σ told.
    public static func fileRecords(_ items: [InputItem], _ outcomes: [ItemOutcome], texts: [String: [(key: String, text: String)]],
                                   runner: PipelineRunner) -> [FileRecord] {
        zip(items, outcomes).map { item, outcome in
            FileRecord(input: item.path, output: runner.outputPath(for: item), outcome: outcome,
                       sigma: texts[item.path]?.first { $0.key == "latent:sigma" }?.text,
                       realNoise: texts[item.path]?.first { $0.key == "latent:real-noise" }?.text)
        }
    }
}

/// A batch that cannot start, with the reason (one line, exit code 2).
public struct BatchSetupError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
