import Imaging
import PNGIO

/// Errors in a pipeline's description or set-up, found before any file is touched.
public enum PipelineError: Error, Equatable, CustomStringConvertible {
    case unknownStage(String)
    case badParameter(stage: String, reason: String)
    case badChain(String)
    case geometry(String)
    case frame(file: String, reason: String)

    public var description: String {
        switch self {
        case .unknownStage(let s): return "unknown stage '\(s)' (see 'latent stages')"
        case .badParameter(let s, let r): return "stage '\(s)': \(r)"
        case .badChain(let r): return r
        case .geometry(let r): return r
        case .frame(let f, let r): return "\(f): \(r)"
        }
    }
}

/// A pipeline stage: a small object with validated parameters, made by its initialiser (or by
/// its `StageDescriptor` from a chain's words). `spec` is how it is written in a chain (and in
/// the provenance of every output); `shape(after:)` is what it does to the images' size and
/// colour planes, so that a chain that cannot run is refused before any file is read.
public protocol Stage: Sendable {
    var spec: String { get }
    func shape(after: ChainShape) throws -> ChainShape
}

/// A stage that transforms one image at a time (run in parallel over images).
public protocol FrameStage: Stage {
    func apply(_ frame: Frame) throws -> Frame
}

/// A stage that needs many images at once (a model: its GEMMs want large batches). Called from
/// one thread at a time with frames in input order; returns one result per frame, in order.
public protocol BatchStage: Stage {
    func apply(_ frames: [Frame]) -> [Result<Frame, PipelineError>]
}

/// What the pipeline knows about images at a point of the chain before running it (for
/// checking a model's geometry up front).
public struct ChainShape: Sendable, Equatable {
    public var width: Int?
    public var height: Int?
    /// nil: depends on the files.
    public var colorPlanes: Int?

    public init(width: Int? = nil, height: Int? = nil, colorPlanes: Int? = nil) {
        self.width = width
        self.height = height
        self.colorPlanes = colorPlanes
    }
}

/// Parses stage arguments: positional words and key=value pairs.
public struct StageArguments: Sendable {
    public let stage: String
    public var positional: [String]
    public var named: [String: String]

    public init(stage: String, words: [String]) {
        self.stage = stage
        positional = []
        named = [:]
        for w in words {
            if let eq = w.firstIndex(of: "="), !w.hasPrefix("=") {
                named[String(w[..<eq])] = String(w[w.index(after: eq)...])
            } else {
                positional.append(w)
            }
        }
    }

    public func fail(_ reason: String) -> PipelineError { .badParameter(stage: stage, reason: reason) }

    /// "WxH" → (W, H), each 1...maxSide.
    public static func size(_ s: String, maxSide: Int = 1 << 16) -> (Int, Int)? {
        let p = s.lowercased().split(separator: "x")
        guard p.count == 2, let w = Int(p[0]), let h = Int(p[1]), (1...maxSide).contains(w), (1...maxSide).contains(h) else { return nil }
        return (w, h)
    }
}
