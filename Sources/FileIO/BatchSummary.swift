import Foundation

/// The end-of-batch report of every batch command, in one shape: the count line a user reads,
/// the lines naming each failure and warning, and one JSON object:
///
///     {"converted":N,"skipped":N,"failed":N,"stale_replaced":N,"seconds":S,"processed":N,
///      "stale":N,"command":"converted","output":"out/","failures":[{"file":F,"reason":R}],
///      "warnings":[{"file":F,"reason":R}],
///      "files":[{"file":F,"output":O,"outcome":"done|replaced-stale|skipped|failed|warned",
///                "sigma":[...],"sigma_from":"measured|given|noise-level-function",
///                "real_noise":{"stage":B,"correlation":C,"sigma":S}}]}
///
/// (the count under the command's own word, "converted", "denoised", ..., and "stale_replaced"
/// are the names of earlier versions; "processed" and "stale" are the same numbers under names
/// every command shares.) `merge` adds such reports up (the shards of one job).
public struct BatchSummary: Sendable {
    public var outcomes: [ItemOutcome]
    /// The count's word: "converted", "denoised", "processed".
    public var verb: String
    public var seconds: Double
    /// Where the outputs went (a folder or a file), said at the end of the count line.
    public var destination: String?
    /// The inputs' paths, in the order of `outcomes` (names the file of each failure).
    public var inputs: [String]?
    /// One record per input, for the JSON's "files".
    public var files: [FileRecord]?

    public init(outcomes: [ItemOutcome], verb: String, seconds: Double, destination: String? = nil,
                inputs: [String]? = nil, files: [FileRecord]? = nil) {
        self.outcomes = outcomes
        self.verb = verb
        self.seconds = seconds
        self.destination = destination
        self.inputs = inputs
        self.files = files
    }

    public var counts: BatchProgress {
        var c = BatchProgress(total: outcomes.count)
        for o in outcomes { c.count(o) }
        return c
    }

    public var failures: [(index: Int, message: String)] {
        outcomes.enumerated().compactMap { if case .failed(let m) = $1 { ($0, m) } else { nil } }
    }

    public var warnings: [(index: Int, message: String)] {
        outcomes.enumerated().compactMap { if case .warned(let m) = $1 { ($0, m) } else { nil } }
    }

    /// What goes on stderr before the count line: each warning and failure, and a hint when a
    /// failure has one.
    public var messageLines: [String] {
        var lines = warnings.map { "latent: warning: " + $0.message } + failures.map(\.message)
        if failures.contains(where: { $0.message.contains("over the pixel budget") }) {
            lines.append("latent: --max-pixels N raises the pixel budget")
        }
        return lines
    }

    /// "converted 20, skipped 0, failed 0 in 0.4 s → out/".
    public var countLine: String {
        let c = counts
        return "\(verb) \(c.done)" + (c.replacedStale > 0 ? " (\(c.replacedStale) replacing stale outputs made by other settings or from other inputs)" : "")
            + ", skipped \(c.skipped), failed \(failures.count)"
            + " in " + Self.duration(seconds) + (destination.map { " → \($0)" } ?? "")
    }

    /// {"file":F,"reason":R} for a message about input `i` ("FILE: reason" when it names it).
    func fileReason(_ message: String, _ i: Int) -> String {
        let file = inputs?[i] ?? ""
        let reason = !file.isEmpty && message.hasPrefix(file + ": ") ? String(message.dropFirst(file.count + 2)) : message
        return "{\"file\":\(jsonQuote(file)),\"reason\":\(jsonQuote(reason))}"
    }

    public var json: String {
        let c = counts
        return Self.json(verb: verb, processed: c.done, skipped: c.skipped, failed: failures.count, stale: c.replacedStale,
                         seconds: seconds, output: destination, extra: [],
                         failures: failures.map { fileReason($0.message, $0.index) },
                         warnings: warnings.map { fileReason($0.message, $0.index) }, files: files?.map(\.json))
    }

    static func json(verb: String, processed: Int, skipped: Int, failed: Int, stale: Int, seconds: Double, output: String?,
                     extra: [(String, String)], failures: [String], warnings: [String], files: [String]?) -> String {
        "{\"\(verb)\":\(processed),\"skipped\":\(skipped),\"failed\":\(failed),\"stale_replaced\":\(stale),"
            + "\"seconds\":\(String(format: "%.3f", seconds)),\(verb == "processed" ? "" : "\"processed\":\(processed),")"
            + "\"stale\":\(stale),\"command\":\(jsonQuote(verb)),"
            + (output.map { "\"output\":\(jsonQuote($0))," } ?? "")
            + extra.map { "\"\($0.0)\":\($0.1)," }.joined()
            + "\"failures\":[\(failures.joined(separator: ","))],\"warnings\":[\(warnings.joined(separator: ","))]"
            + (files.map { ",\"files\":[" + $0.joined(separator: ",") + "]" } ?? "") + "}"
    }

    /// Adds up the JSON summaries of several runs (each the last line of its text that is a
    /// JSON object; `name` names it in errors): counts and seconds added (`seconds_max` the
    /// longest run), failures, warnings and files listed together. Older reports (failures as
    /// "FILE: reason" strings, no "processed") are read too.
    public static func merge(_ reports: [(name: String, text: String)]) throws -> String {
        var processed = 0, skipped = 0, failed = 0, stale = 0
        var failures: [String] = [], warnings: [String] = [], records: [String] = []
        var anyFiles = false
        var seconds = 0.0, longest = 0.0
        var verb: String?
        func object(_ v: Any) -> String? {
            if let d = v as? [String: Any] {
                return "{\"file\":\(jsonQuote(d["file"] as? String ?? "")),\"reason\":\(jsonQuote(d["reason"] as? String ?? ""))}"
            }
            return (v as? String).map { "{\"file\":\"\",\"reason\":\(jsonQuote($0))}" }
        }
        for (name, text) in reports {
            let line = text.split(separator: "\n").last { $0.hasPrefix("{") }
            guard let line, let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw SummaryError("\(name): no JSON summary line in it")
            }
            // The command: "command", or (older reports) the one count that is not a shared key.
            let shared: Set<String> = ["processed", "skipped", "stale", "failed", "stale_replaced", "seconds", "seconds_max", "runs"]
            let command = obj["command"] as? String ?? obj.keys.first { !shared.contains($0) && obj[$0] is NSNumber }
            guard let command else { throw SummaryError("\(name): no counts in its summary") }
            if let verb, verb != command { throw SummaryError("\(name): a '\(command)' summary among '\(verb)' summaries") }
            verb = command
            func n(_ k: String) -> Int { (obj[k] as? NSNumber)?.intValue ?? 0 }
            processed += obj["processed"] != nil ? n("processed") : n(command)
            stale += obj["stale"] != nil ? n("stale") : n("stale_replaced")
            skipped += n("skipped")
            failed += n("failed")
            let s = (obj["seconds"] as? NSNumber)?.doubleValue ?? 0
            seconds += s
            longest = max(longest, s)
            failures += (obj["failures"] as? [Any] ?? []).compactMap(object)
            warnings += (obj["warnings"] as? [Any] ?? []).compactMap(object)
            if let list = obj["files"] as? [Any] {
                anyFiles = true
                records += list.compactMap { r in
                    (try? JSONSerialization.data(withJSONObject: r, options: [.sortedKeys, .withoutEscapingSlashes])).map { String(decoding: $0, as: UTF8.self) }
                }
            }
        }
        guard let verb else { throw SummaryError("no counts in \(reports.map(\.name).joined(separator: ", "))") }
        return json(verb: verb, processed: processed, skipped: skipped, failed: failed, stale: stale, seconds: seconds, output: nil,
                    extra: [("seconds_max", String(format: "%.3f", longest)), ("runs", "\(reports.count)")],
                    failures: failures, warnings: warnings, files: anyFiles ? records : nil)
    }

    /// "0.4 s", "12 s", "3:05" (a summary's elapsed time).
    public static func duration(_ s: Double) -> String {
        s < 10 ? String(format: "%.1f s", s) : s < 60 ? String(format: "%.0f s", s) : clock(s)
    }

    /// "3:05", "1:02:03".
    public static func clock(_ s: Double) -> String {
        let t = Int(s.rounded())
        return t >= 3600 ? String(format: "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60)
            : String(format: "%d:%02d", t / 60, t % 60)
    }
}

/// A summary that cannot be read or merged, with the reason.
public struct SummaryError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// One input's line in a batch's JSON summary.
public struct FileRecord: Sendable {
    public var input: String
    public var output: String?
    public var outcome: ItemOutcome
    /// The output's `latent:sigma` ("measured 3.1,2.2,2.9", "given 25", "noise level function,
    /// mean ..."), when a noise-conditioned model ran.
    public var sigma: String?
    /// The output's `latent:real-noise` ("auto: noise correlation 0.271, above 0.17;
    /// block-matching Wiener stage told σ 9.80 ...", "... no stage"), when it was decided.
    public var realNoise: String?

    public init(input: String, output: String?, outcome: ItemOutcome, sigma: String?, realNoise: String? = nil) {
        self.input = input
        self.output = output
        self.outcome = outcome
        self.sigma = sigma
        self.realNoise = realNoise
    }

    public var json: String {
        let word = switch outcome {
        case .done: "done"
        case .replacedStale: "replaced-stale"
        case .skipped: "skipped"
        case .failed: "failed"
        case .warned: "warned"
        }
        return "{\"file\":\(jsonQuote(input)),\"output\":\(output.map(jsonQuote) ?? "null"),\"outcome\":\"\(word)\""
            + (sigmaJSON.map { "," + $0 } ?? "") + (realNoiseJSON.map { "," + $0 } ?? "") + "}"
    }

    /// "real_noise":{"stage":true|false,"correlation":number|null,"sigma":number|null}: whether
    /// the real-noise stage ran, the gate's reading (auto) and the σ the stage was told.
    var realNoiseJSON: String? {
        guard let realNoise else { return nil }
        func number(after marker: String) -> String {
            guard let r = realNoise.range(of: marker) else { return "null" }
            let digits = realNoise[r.upperBound...].prefix { $0.isNumber || $0 == "." || $0 == "-" }
            return Double(digits).map { String(format: "%.3f", $0) } ?? "null"
        }
        let stage = realNoise.hasSuffix("no stage") ? "false" : "true"
        return "\"real_noise\":{\"stage\":\(stage),\"correlation\":\(number(after: "noise correlation ")),\"sigma\":\(number(after: "told σ "))}"
    }

    /// "sigma":[numbers],"sigma_from":"measured|given|noise-level-function" (the mean over
    /// brightness for a noise level function).
    var sigmaJSON: String? {
        guard let sigma else { return nil }
        let from = sigma.hasPrefix("given") ? "given" : sigma.hasPrefix("noise level function") ? "noise-level-function" : "measured"
        let numbers = sigma.split(separator: " ").last.map { $0.split(separator: ",").compactMap { Double($0) } } ?? []
        guard !numbers.isEmpty else { return "\"sigma_text\":\(jsonQuote(sigma))" }
        return "\"sigma\":[\(numbers.map { String(format: "%.2f", $0) }.joined(separator: ","))],\"sigma_from\":\"\(from)\""
    }
}

extension BatchProgress {
    /// The progress bar's text: "denoise [=====     ] 12/40  2.1 files/s  ETA 0:13  (5.6 s)":
    /// files finished plus how far the running ones have got (rows of a large image); under one
    /// file a second, the time per file instead of the rate.
    public func line(label: String, elapsed now: Double) -> String {
        let progressed = Double(finished) + partial
        let rate = now > 0 ? progressed / now : 0
        let eta = rate > 0 ? (Double(total) - progressed) / rate : 0
        let width = 30
        let filled = total > 0 ? min(width, Int(Double(width) * progressed / Double(total))) : width
        let bar = String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
        let speed = rate >= 10 ? String(format: "%.0f files/s", rate) : rate >= 1 ? String(format: "%.1f files/s", rate)
            : progressed > 0.01 ? BatchSummary.duration(now / progressed) + "/file" : "-"
        return String(format: "%@ [%@] %d/%d  %@  ETA %@%@  (%@)", label, bar, finished, total, speed, BatchSummary.clock(eta),
                      failed > 0 ? "  \(failed) failed" : "", BatchSummary.duration(now))
    }
}
