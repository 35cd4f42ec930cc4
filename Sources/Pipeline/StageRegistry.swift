import Foundation
import Models

/// The kind of value a stage parameter takes. The parser checks every value against it before a
/// stage is made, and `latent stages` prints it, so the two cannot disagree.
public enum ParameterKind: Sendable {
    /// WxH, each side 1-65536.
    case size
    /// WxH or WxH+X+Y.
    case window
    case integer(ClosedRange<Int>)
    case number(ClosedRange<Double>)
    /// One number, or as many as one of `counts` (comma-separated), each in `range`.
    case numbers(counts: [Int], range: ClosedRange<Double>)
    case choice([String])
    /// A built-in model name or a .safetensors file.
    case model
    /// gaussian:S, mask:P or saltpepper:P.
    case corruption
    /// Noise levels in grey levels (0-255): one, or as many as one of `counts`, each a number up
    /// to `max` or with the unit written (A/B).
    case greyLevels(counts: [Int], max: Double)

    /// How `latent stages` shows the values.
    public var describe: String {
        switch self {
        case .size: return "WxH, 1-65536 a side"
        case .window: return "WxH or WxH+X+Y"
        case .integer(let r): return r.upperBound == Int.max ? "integer from \(r.lowerBound)" : "integer \(r.lowerBound)-\(r.upperBound)"
        case .number(let r): return "number \(Self.format(r.lowerBound))-\(Self.format(r.upperBound))"
        case .numbers(let counts, let r): return "\(counts.map(String.init).joined(separator: " or ")) comma-separated numbers, each \(Self.format(r.lowerBound))-\(Self.format(r.upperBound))"
        case .choice(let c): return c.joined(separator: " | ")
        case .model: return "a built-in model (latent models) or a .safetensors file"
        case .corruption: return Corruption.syntax
        case .greyLevels(let counts, let m): return "\(counts.map(String.init).joined(separator: " or ")) comma-separated σ in grey levels, each 0-\(Self.format(m)) (or A/B: A of a range of B)"
        }
    }

    static func format(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(v) }

    /// nil if `text` is a valid value, else why not.
    public func check(_ text: String) -> String? {
        switch self {
        case .size:
            return StageArguments.size(text) == nil ? "wants WxH (1-65536 a side), not '\(text)'" : nil
        case .window:
            let parts = text.split(separator: "+", omittingEmptySubsequences: false)
            guard parts.count == 1 || parts.count == 3, StageArguments.size(String(parts[0])) != nil else { return "wants WxH or WxH+X+Y, not '\(text)'" }
            if parts.count == 3, Int(parts[1]).map({ $0 < 0 }) ?? true || Int(parts[2]).map({ $0 < 0 }) ?? true {
                return "the offset +X+Y wants two non-negative integers, not '\(text)'"
            }
            return nil
        case .integer(let r):
            guard let v = Int(text), r.contains(v) else { return "wants an integer \(r.lowerBound)-\(r.upperBound), not '\(text)'" }
            return nil
        case .number(let r):
            guard let v = Double(text), v.isFinite, r.contains(v) else { return "wants a number \(Self.format(r.lowerBound))-\(Self.format(r.upperBound)), not '\(text)'" }
            return nil
        case .numbers(let counts, let r):
            let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { Double($0) }
            guard counts.contains(parts.count), parts.allSatisfy({ $0 != nil && $0!.isFinite && r.contains($0!) }) else {
                return "wants \(describe), not '\(text)'"
            }
            return nil
        case .choice(let c):
            return c.contains(text) ? nil : "wants \(c.joined(separator: " or ")), not '\(text)'"
        case .model:
            return text.isEmpty ? "wants a model" : nil
        case .corruption:
            do { _ = try Corruption.parse(text); return nil } catch { return "\(error)" }
        case .greyLevels(let counts, let m):
            guard let v = ConvStage.parseSigma(text), counts.contains(v.count), v.allSatisfy({ Double($0) <= m }) else {
                return "wants \(describe), not '\(text)'"
            }
            return nil
        }
    }
}

/// One parameter of a stage: a positional word (`name` is its placeholder) or key=value.
public struct StageParameter: Sendable {
    public var name: String
    public var kind: ParameterKind
    public var positional: Bool
    public var optional: Bool
    /// The value when it is not given (named parameters), for the listing.
    public var defaultValue: String?
    public var help: String

    public static func positional(_ name: String, _ kind: ParameterKind, optional: Bool = false, _ help: String) -> StageParameter {
        StageParameter(name: name, kind: kind, positional: true, optional: optional, defaultValue: nil, help: help)
    }

    public static func named(_ name: String, _ kind: ParameterKind, default value: String? = nil, _ help: String) -> StageParameter {
        StageParameter(name: name, kind: kind, positional: false, optional: true, defaultValue: value, help: help)
    }
}

/// Everything about a stage in one place: its name, what it does, its parameters (checked by the
/// parser), what it does to the image's shape (for the listing; the stage's `shape(after:)`
/// does it for the checks) and how it is made. `StageCatalog.registry` lists them.
public struct StageDescriptor: Sendable {
    public var name: String
    public var aliases: [String]
    public var summary: String
    public var parameters: [StageParameter]
    public var shape: String
    let make: @Sendable (StageArguments, StageContext) throws -> any Stage

    public init(name: String, aliases: [String] = [], summary: String, parameters: [StageParameter] = [], shape: String,
                make: @escaping @Sendable (StageArguments, StageContext) throws -> any Stage) {
        self.name = name
        self.aliases = aliases
        self.summary = summary
        self.parameters = parameters
        self.shape = shape
        self.make = make
    }

    /// "crop WxH[+X+Y]"-style usage made from the parameters.
    public var usage: String {
        ([name] + parameters.map { p -> String in
            let word = p.positional ? p.name : "\(p.name)=" + (p.defaultValue ?? "…")
            return p.optional ? "[\(word)]" : word
        }).joined(separator: " ")
    }

    /// Checks the words against the parameters (count, names, kinds and ranges), then makes the stage.
    func build(_ a: StageArguments, _ context: StageContext) throws -> any Stage {
        let positional = parameters.filter(\.positional)
        let required = positional.filter { !$0.optional }.count
        guard (required...positional.count).contains(a.positional.count) else {
            if positional.isEmpty { throw a.fail("takes no words (\(usage))") }
            throw a.fail("wants \(usage)")
        }
        for (word, p) in zip(a.positional, positional) {
            if let why = p.kind.check(word) { throw a.fail("\(p.name): \(why)") }
        }
        for (key, value) in a.named.sorted(by: { $0.key < $1.key }) {
            guard let p = parameters.first(where: { !$0.positional && $0.name == key }) else {
                let known = parameters.filter { !$0.positional }.map(\.name)
                throw a.fail("unknown parameter '\(key)'" + (known.isEmpty ? " (it takes none)" : " (it takes \(known.joined(separator: ", ")))"))
            }
            if let why = p.kind.check(value) { throw a.fail("\(key): \(why)") }
        }
        return try make(a, context)
    }
}

/// What the parser hands every stage's maker besides its words.
public struct StageContext: Sendable {
    /// Rows per model batch (`--batch`).
    public var batch: Int
    public init(batch: Int = 256) { self.batch = batch }
}
