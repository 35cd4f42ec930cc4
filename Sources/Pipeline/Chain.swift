import FileIO
import Foundation
import Models

/// Where a pipeline's results go.
public enum Sink: Sendable, Equatable {
    /// PNGs under a folder that mirrors the input tree.
    case folder(String)
    /// One line of latent code per image (after `encode`).
    case codes(path: String, csv: Bool)
    /// One PNG: the output of a chain with one input file, written to FILE.png.
    case file(String)

    /// Where `-o OUT` / `write OUT` puts the results of `inputs`: one file when OUT ends in .png,
    /// is not a folder and there is one input that is a file; otherwise a folder.
    public static func forOutput(_ out: String, inputs: [String]) -> Sink {
        var isDir: ObjCBool = false
        let outIsDir = FileManager.default.fileExists(atPath: out, isDirectory: &isDir) && isDir.boolValue
        guard out.lowercased().hasSuffix(".png"), !outIsDir, inputs.count == 1 else { return .folder(out) }
        var inDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: inputs[0], isDirectory: &inDir), !inDir.boolValue else { return .folder(out) }
        return .file(out)
    }

    /// Where the outputs go, for a person: the folder, the file, or "standard output" (`-o -`
    /// writes a temporary latent-stdout-* file first).
    public var destination: String {
        switch self {
        case .folder(let d): return d
        case .file(let f): return f.contains("/latent-stdout-") ? "standard output" : f
        case .codes(let p, _): return p
        }
    }

    /// The folder the outputs go under (for a file, its parent).
    public var folder: String? {
        switch self {
        case .folder(let d): return d
        case .file(let f): let p = (f as NSString).deletingLastPathComponent; return p.isEmpty ? "." : p
        case .codes: return nil
        }
    }
}

/// A parsed chain: `read INPUTS | stage | ... | write OUT`.
public struct PipelinePlan: Sendable {
    public var inputs: [String]
    public var stages: [any Stage]
    public var sink: Sink

    /// The chain as written in provenance: the stages between read and write.
    public var chainSpec: String { stages.map(\.spec).joined(separator: " | ") }

    public init(inputs: [String], stages: [any Stage], sink: Sink) {
        self.inputs = inputs
        self.stages = stages
        self.sink = sink
    }
}

/// Every stage `latent run` knows: the parser, `latent stages` and the shape checks all read
/// this list (each descriptor lives in its stage's file).
public enum StageCatalog {
    public static let registry: [StageDescriptor] = [
        GrayStage.descriptor, RGBStage.descriptor, ResizeStage.descriptor, FitStage.descriptor, CropStage.descriptor,
        PadStage.descriptor, NoiseStage.descriptor, ModelVerbs.denoise, ModelVerbs.reconstruct, EncodeStage.descriptor,
    ]

    /// The ends of every chain (not stages: they say where images come from and go).
    public static let ends: [(usage: String, summary: String)] = [
        ("read PATH... | read -", "input files and folders (walked recursively); '-' reads a list of paths from stdin"),
        ("write DIR | write FILE.jsonl|FILE.csv", "outputs: PNGs under DIR mirroring the input tree (atomic), or codes after encode"),
    ]

    /// `latent stages --json`: the same as one JSON object per stage, in an array.
    public static func listingJSON() -> String {
        func stage(_ d: StageDescriptor) -> String {
            let params = d.parameters.map { p in
                "{\"name\":\(jsonQuote(p.name)),\"positional\":\(p.positional),\"optional\":\(p.optional),"
                    + "\"kind\":\(jsonQuote(p.kind.describe)),\"help\":\(jsonQuote(p.help))"
                    + (p.defaultValue.map { ",\"default\":\(jsonQuote($0))" } ?? "") + "}"
            }
            return "{\"name\":\(jsonQuote(d.name)),\"usage\":\(jsonQuote(d.usage)),\"summary\":\(jsonQuote(d.summary)),"
                + "\"aliases\":[\(d.aliases.map(jsonQuote).joined(separator: ","))],\"parameters\":[\(params.joined(separator: ","))],"
                + "\"shape\":\(jsonQuote(d.shape))}"
        }
        let endsJSON = ends.map { "{\"name\":\(jsonQuote(String($0.usage.split(separator: " ")[0]))),\"usage\":\(jsonQuote($0.usage)),\"summary\":\(jsonQuote($0.summary))}" }
        return "[" + (endsJSON + registry.map(stage)).joined(separator: ",") + "]\n"
    }

    /// What `latent stages` prints: each stage's usage, summary, parameters and shape behaviour.
    public static func listing() -> String {
        var out = ""
        func line(_ s: String) { out += s + "\n" }
        line(ends[0].usage)
        line("    " + ends[0].summary)
        for d in registry {
            line(d.usage)
            line("    " + d.summary + (d.aliases.isEmpty ? "" : " (also: \(d.aliases.joined(separator: ", ")))"))
            for p in d.parameters {
                line("      \(p.positional ? p.name : p.name + "="): \(p.help); \(p.kind.describe)" + (p.defaultValue.map { "; default \($0)" } ?? ""))
            }
            line("      shape: " + d.shape)
        }
        line(ends[1].usage)
        line("    " + ends[1].summary)
        return out
    }

    public static func descriptor(named name: String) -> StageDescriptor? {
        registry.first { $0.name == name || $0.aliases.contains(name) }
    }

    /// The chain's stages as lists of words: split at `|` and white space, except inside
    /// "double" or 'single' quotes (paths with spaces: `read "my photos/"`).
    static func words(_ text: String) throws -> [[String]] {
        var stages: [[String]] = [[]]
        var word = "", inWord = false
        var quote: Character?
        func end() { if inWord { stages[stages.count - 1].append(word) }; word = ""; inWord = false }
        for ch in text {
            if let q = quote {
                if ch == q { quote = nil } else { word.append(ch) }
            } else if ch == "\"" || ch == "'" {
                quote = ch
                inWord = true
            } else if ch == "|" {
                end()
                stages.append([])
            } else if ch == " " || ch == "\t" || ch == "\n" {
                end()
            } else {
                word.append(ch)
                inWord = true
            }
        }
        if quote != nil { throw PipelineError.badChain("a quote is not closed in the chain") }
        end()
        return stages
    }

    /// Parses "read samples/digits | gray | noise gaussian:0.5 | denoise mnist-dae | write out/".
    public static func parse(_ text: String, batch: Int = 256, stdinPaths: () -> [String] = { [] }) throws -> PipelinePlan {
        let parts = try words(text)
        guard parts.count >= 2, !parts.contains(where: \.isEmpty) else {
            throw PipelineError.badChain("a chain is 'read INPUT... | stage | ... | write OUTPUT' (empty stage or missing '|')")
        }
        guard parts[0][0] == "read" else { throw PipelineError.badChain("a chain starts with 'read INPUT...', not '\(parts[0][0])'") }
        var inputs = Array(parts[0].dropFirst())
        if inputs == ["-"] { inputs = stdinPaths() }
        guard !inputs.isEmpty else { throw PipelineError.badChain("'read' needs at least one file or folder (or '-' for a list on stdin)") }
        guard parts.last![0] == "write", parts.last!.count == 2 else {
            throw PipelineError.badChain("a chain ends with 'write OUTPUT' (one folder, or FILE.jsonl / FILE.csv after encode)")
        }
        let out = parts.last![1]
        var stages: [any Stage] = []
        for words in parts.dropFirst().dropLast() {
            if words[0] == "read" || words[0] == "write" {
                throw PipelineError.badChain("'\(words[0])' may only start ('read') or end ('write') a chain")
            }
            guard let d = descriptor(named: words[0]) else { throw PipelineError.unknownStage(words[0]) }
            stages.append(try d.build(StageArguments(stage: d.name, words: Array(words.dropFirst())), StageContext(batch: batch)))
        }
        let encodes = stages.contains { $0 is EncodeStage }
        if encodes {
            guard stages.last is EncodeStage else { throw PipelineError.badChain("'encode' must be the last stage before 'write'") }
            let lower = out.lowercased()
            guard lower.hasSuffix(".jsonl") || lower.hasSuffix(".csv") else {
                throw PipelineError.badChain("after 'encode', write to FILE.jsonl or FILE.csv (got '\(out)')")
            }
            return PipelinePlan(inputs: inputs, stages: stages, sink: .codes(path: out, csv: lower.hasSuffix(".csv")))
        }
        return PipelinePlan(inputs: inputs, stages: stages, sink: Sink.forOutput(out, inputs: inputs))
    }
}
