import Foundation

/// latent's version, recorded in every output's provenance.
public enum LatentInfo {
    public static let version = "0.1.0"
}

/// Where a pipeline's results go.
public enum Sink: Sendable, Equatable {
    /// PNGs under a folder that mirrors the input tree.
    case folder(String)
    /// One line of latent code per image (after `encode`).
    case codes(path: String, csv: Bool)
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

/// Every stage `latent run` knows, for `latent stages` and the parser.
public enum StageCatalog {
    public static let entries: [(name: String, usage: String, summary: String)] = [
        ("read", "read PATH... | read -", "input files and folders (walked recursively); '-' reads a list of paths from stdin"),
        (GrayStage.name, GrayStage.usage, GrayStage.summary),
        (RGBStage.name, RGBStage.usage, RGBStage.summary),
        (ResizeStage.name, ResizeStage.usage, ResizeStage.summary),
        (FitStage.name, FitStage.usage, FitStage.summary),
        (CropStage.name, CropStage.usage, CropStage.summary),
        (PadStage.name, PadStage.usage, PadStage.summary),
        (NoiseStage.name, NoiseStage.usage, NoiseStage.summary),
        ("denoise", "denoise MODEL [tile|resize-to-model] [overlap=0.5]", ModelStage.summary),
        ("reconstruct", "reconstruct MODEL [tile|resize-to-model] [overlap=0.5]", "same as denoise, for autoencoders and VAEs (a VAE uses its posterior mean)"),
        (EncodeStage.name, EncodeStage.usage, EncodeStage.summary),
        ("write", "write DIR | write FILE.jsonl|FILE.csv", "outputs: PNGs under DIR mirroring the input tree (atomic), or codes after encode"),
    ]

    /// Parses "read samples/digits | gray | noise gaussian:0.5 | denoise mnist-dae | write out/".
    public static func parse(_ text: String, batch: Int = 256, stdinPaths: () -> [String] = { [] }) throws -> PipelinePlan {
        let parts = text.split(separator: "|").map { $0.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map(String.init) }
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
            let a = StageArguments(stage: words[0], words: Array(words.dropFirst()))
            func noArgs() throws { if !words.dropFirst().isEmpty { throw a.fail("takes no parameters") } }
            switch words[0] {
            case "gray", "grey": try noArgs(); stages.append(GrayStage())
            case "rgb": try noArgs(); stages.append(RGBStage())
            case "resize": stages.append(try ResizeStage(a))
            case "fit": stages.append(try FitStage(a))
            case "crop": stages.append(try CropStage(a))
            case "pad": stages.append(try PadStage(a))
            case "noise": stages.append(try NoiseStage(a))
            case "denoise", "reconstruct": stages.append(try ModelStage(verb: words[0], a, batch: batch))
            case "encode": stages.append(try EncodeStage(a))
            case "read", "write": throw PipelineError.badChain("'\(words[0])' may only start ('read') or end ('write') a chain")
            default: throw PipelineError.unknownStage(words[0])
            }
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
        return PipelinePlan(inputs: inputs, stages: stages, sink: .folder(out))
    }
}
