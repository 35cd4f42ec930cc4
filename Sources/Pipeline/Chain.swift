import Foundation
import Models

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
        ("denoise", "denoise CONV-MODEL [sigma=S | sigma=R,G,B]", ConvStage.summary),
        ("reconstruct", "reconstruct MODEL [...]", "same as denoise (a VAE uses its posterior mean)"),
        (EncodeStage.name, EncodeStage.usage, EncodeStage.summary),
        ("write", "write DIR | write FILE.jsonl|FILE.csv", "outputs: PNGs under DIR mirroring the input tree (atomic), or codes after encode"),
    ]

    /// The `denoise` / `reconstruct` stage for a model of either family (the file loaded once,
    /// by the one loader, whose message names the file and the fault). Options a model cannot
    /// use are refused: tile, resize-to-model and overlap are for fixed-size (MLP) models, sigma
    /// for noise-conditioned convolutional ones.
    public static func modelStage(verb: String, model name: String, geometry: ModelGeometry = .exact, overlap: Double? = nil,
                                  batch: Int = 256, sigma: [Float]? = nil) throws -> any Stage {
        let resolved: (model: AnyModel, metadata: [String: String], path: String)
        do { resolved = try BuiltinModels.resolveAny(name) } catch { throw PipelineError.badParameter(stage: verb, reason: "\(error)") }
        let hash = ModelFile.contentHash(path: resolved.path) ?? "?"
        switch resolved.model {
        case .conv(let c):
            if geometry != .exact || overlap != nil {
                throw PipelineError.badParameter(stage: verb, reason: "\(name) is convolutional and takes images of any size: \(geometry != .exact ? geometry.rawValue : "overlap") does not apply")
            }
            if sigma != nil && !(c.noiseInput || c.noiseMap) {
                throw PipelineError.badParameter(stage: verb, reason: "\(name) is a blind model: it takes no sigma")
            }
            return try ConvStage(verb: verb, model: c, name: name, hash: hash, sigma: sigma)
        case .mlp(let m):
            if sigma != nil {
                throw PipelineError.badParameter(stage: verb, reason: "\(name) is not conditioned on a noise level: sigma applies to convolutional models such as photo")
            }
            return try ModelStage(verb: verb, model: m, name: name, hash: hash, geometry: geometry, overlap: overlap ?? 0.5, batch: batch)
        }
    }

    /// `denoise MODEL [tile|resize-to-model] [overlap=O] [sigma=S|sigma=R,G,B]`.
    static func modelStage(verb: String, _ a: StageArguments, batch: Int) throws -> any Stage {
        guard let name = a.positional.first else { throw a.fail("wants a model, e.g. \(verb) mnist-dae or \(verb) photo") }
        var geometry = ModelGeometry.exact
        for w in a.positional.dropFirst() {
            guard let g = ModelGeometry(rawValue: w) else { throw a.fail("unknown option '\(w)' (tile, resize-to-model, overlap=O, sigma=S)") }
            geometry = g
        }
        if let bad = a.named.keys.sorted().first(where: { $0 != "overlap" && $0 != "sigma" }) {
            throw a.fail("unknown parameter '\(bad)' (tile, resize-to-model, overlap=O, sigma=S)")
        }
        var overlap: Double?
        if let o = a.named["overlap"] {
            guard let v = Double(o) else { throw a.fail("overlap must be a number, not '\(o)'") }
            overlap = v
        }
        var sigma: [Float]?
        if let s = a.named["sigma"] {
            guard let v = ConvStage.parseSigma(s) else { throw a.fail("sigma must be a number or three numbers R,G,B, not '\(s)'") }
            sigma = v
        }
        return try modelStage(verb: verb, model: name, geometry: geometry, overlap: overlap, batch: batch, sigma: sigma)
    }

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
            case "denoise", "reconstruct": stages.append(try modelStage(verb: words[0], a, batch: batch))
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
