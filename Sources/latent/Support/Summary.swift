import ArgumentParser
import Foundation
import Imaging
import PNGIO
import Pipeline
import FileIO

/// The end-of-batch report: failures (file: reason) and one count line on stderr, or JSON on
/// stdout, in one shape for every batch command:
///
///     {"converted":N,"skipped":N,"failed":N,"stale_replaced":N,"seconds":S,"processed":N,
///      "stale":N,"command":"converted","output":"out/","failures":[{"file":F,"reason":R}],
///      "warnings":[{"file":F,"reason":R}],
///      "files":[{"file":F,"output":O,"outcome":"done|replaced-stale|skipped|failed|warned","sigma":S}]}
///
/// ("sigma" is the noise level the model was told, as the output's `latent:sigma` says it, when
/// a noise-conditioned model ran.)
/// (the count under the command's own word, "converted", "denoised", ..., and "stale_replaced"
/// are the names of earlier versions; "processed" and "stale" are the same numbers under names
/// every command shares.) `latent report merge` adds such reports up.
struct Summary {
    var outcomes: [ItemOutcome]
    var verb: String
    var seconds: Double
    /// Where the outputs went (a folder or a file), said at the end of the count line.
    var destination: String? = nil
    /// The inputs, in the order of `outcomes` (names the file of each failure in the JSON).
    var items: [InputItem]? = nil
    /// One record per input, for the JSON's "files".
    var files: [FileRecord]? = nil

    /// {"file":F,"reason":R} for a message about item `i` ("FILE: reason" when it names it).
    func fileReason(_ message: String, _ i: Int) -> String {
        let file = items.map { $0[i].path } ?? ""
        let reason = !file.isEmpty && message.hasPrefix(file + ": ") ? String(message.dropFirst(file.count + 2)) : message
        return "{\"file\":\(jsonQuote(file)),\"reason\":\(jsonQuote(reason))}"
    }

    func report(quiet: Bool, json: Bool) {
        var counts = BatchProgress(total: outcomes.count)
        var failures: [String] = [], warnings: [String] = []
        var failureObjects: [String] = [], warningObjects: [String] = []
        for (i, o) in outcomes.enumerated() {
            counts.count(o)
            if case .failed(let m) = o { failures.append(m); failureObjects.append(fileReason(m, i)) }
            if case .warned(let w) = o { warnings.append(w); warningObjects.append(fileReason(w, i)) }
        }
        let done = counts.done, skipped = counts.skipped, stale = counts.replacedStale
        for w in warnings { printError("latent: warning: " + w) }
        for f in failures { printError(f) }
        if failures.contains(where: { $0.contains("over the pixel budget") }) {
            printError("latent: --max-pixels N raises the pixel budget")
        }
        let line = "\(verb) \(done)" + (stale > 0 ? " (\(stale) replacing stale outputs made by other settings or from other inputs)" : "")
            + ", skipped \(skipped), failed \(failures.count)"
            + " in " + ProgressBar.duration(seconds) + (destination.map { " → \($0)" } ?? "")
        if !quiet || !failures.isEmpty { printError(line) }
        if json {
            print("{\"\(verb)\":\(done),\"skipped\":\(skipped),\"failed\":\(failures.count),\"stale_replaced\":\(stale),"
                + "\"seconds\":\(String(format: "%.3f", seconds)),\(verb == "processed" ? "" : "\"processed\":\(done),")\"stale\":\(stale),\"command\":\(jsonQuote(verb)),"
                + (destination.map { "\"output\":\(jsonQuote($0))," } ?? "")
                + "\"failures\":[\(failureObjects.joined(separator: ","))],\"warnings\":[\(warningObjects.joined(separator: ","))]"
                + (files.map { ",\"files\":[" + $0.map(\.json).joined(separator: ",") + "]" } ?? "") + "}")
        }
    }
}

/// One input's line in a batch's JSON summary.
struct FileRecord {
    var input: String
    var output: String?
    var outcome: ItemOutcome
    var sigma: String?

    var json: String {
        let word = switch outcome {
        case .done: "done"
        case .replacedStale: "replaced-stale"
        case .skipped: "skipped"
        case .failed: "failed"
        case .warned: "warned"
        }
        return "{\"file\":\(jsonQuote(input)),\"output\":\(output.map(jsonQuote) ?? "null"),\"outcome\":\"\(word)\""
            + (sigmaJSON.map { "," + $0 } ?? "") + "}"
    }

    /// `latent:sigma` ("measured 3.1,2.2,2.9", "given 25", "noise level function, mean ...") as
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
