import ArgumentParser
import Foundation
import Imaging
import PNGIO
import Pipeline
import FileIO

/// The end-of-batch report: failures (file: reason) and one count line on stderr, or JSON on stdout.
struct Summary {
    var outcomes: [ItemOutcome]
    var verb: String
    var seconds: Double
    /// Where the outputs went (a folder or a file), said at the end of the count line.
    var destination: String? = nil

    func report(quiet: Bool, json: Bool) {
        var counts = BatchProgress(total: outcomes.count)
        var failures: [String] = [], warnings: [String] = []
        for o in outcomes {
            counts.count(o)
            if case .failed(let m) = o { failures.append(m) }
            if case .warned(let w) = o { warnings.append(w) }
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
            let list = failures.map(jsonQuote).joined(separator: ",")
            print("{\"\(verb)\":\(done),\"skipped\":\(skipped),\"failed\":\(failures.count),\"stale_replaced\":\(stale),"
                + "\"seconds\":\(String(format: "%.3f", seconds)),\"failures\":[\(list)],\"warnings\":[\(warnings.map(jsonQuote).joined(separator: ","))]}")
        }
    }
}
