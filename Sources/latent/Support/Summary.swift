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

    func report(quiet: Bool, json: Bool) {
        var done = 0, skipped = 0, stale = 0
        var failures: [String] = [], warnings: [String] = []
        for o in outcomes {
            switch o {
            case .done: done += 1
            case .warned(let w): done += 1; warnings.append(w)
            case .replacedStale: done += 1; stale += 1
            case .skipped: skipped += 1
            case .failed(let m): failures.append(m)
            }
        }
        for w in warnings { printError("latent: warning: " + w) }
        for f in failures { printError(f) }
        if failures.contains(where: { $0.contains("over the pixel budget") }) {
            printError("latent: --max-pixels N raises the pixel budget")
        }
        let line = "\(verb) \(done)" + (stale > 0 ? " (\(stale) replacing stale outputs made by other settings or from other inputs)" : "")
            + ", skipped \(skipped), failed \(failures.count)"
        if !quiet || !failures.isEmpty { printError(line) }
        if json {
            let list = failures.map(jsonQuote).joined(separator: ",")
            print("{\"\(verb)\":\(done),\"skipped\":\(skipped),\"failed\":\(failures.count),\"stale_replaced\":\(stale),"
                + "\"seconds\":\(String(format: "%.3f", seconds)),\"failures\":[\(list)],\"warnings\":[\(warnings.map(jsonQuote).joined(separator: ","))]}")
        }
    }
}
