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
///      "warnings":[{"file":F,"reason":R}]}
///
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
                + "\"seconds\":\(String(format: "%.3f", seconds)),\"processed\":\(done),\"stale\":\(stale),\"command\":\(jsonQuote(verb)),"
                + (destination.map { "\"output\":\(jsonQuote($0))," } ?? "")
                + "\"failures\":[\(failureObjects.joined(separator: ","))],\"warnings\":[\(warningObjects.joined(separator: ","))]}")
        }
    }
}
