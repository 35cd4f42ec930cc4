import ArgumentParser
import Foundation
import Imaging
import PNGIO
import Pipeline

/// The end-of-batch report: failures (file: reason) and one count line on stderr, or JSON on stdout.
struct Summary {
    var outcomes: [ItemOutcome]
    var verb: String
    var seconds: Double

    func report(quiet: Bool, json: Bool) {
        var done = 0, skipped = 0
        var failures: [String] = []
        for o in outcomes {
            switch o {
            case .done: done += 1
            case .skipped: skipped += 1
            case .failed(let m): failures.append(m)
            }
        }
        for f in failures { printError(f) }
        let line = "\(verb) \(done), skipped \(skipped), failed \(failures.count)"
        if !quiet || !failures.isEmpty { printError(line) }
        if json {
            let list = failures.map(jsonString).joined(separator: ",")
            print("{\"\(verb)\":\(done),\"skipped\":\(skipped),\"failed\":\(failures.count),"
                + "\"seconds\":\(String(format: "%.3f", seconds)),\"failures\":[\(list)]}")
        }
    }
}
