import ArgumentParser
import Foundation
import FileIO

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Work with the JSON summaries of batch runs.",
        subcommands: [Merge.self])

    struct Merge: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "merge",
            abstract: "Combine the --json summaries of several runs (the shards of one job) into one.",
            discussion: """
                Counts are added, failures, warnings and files listed together, seconds added (seconds_max is the \
                longest run). Each file holds the summary line a batch command printed with --json \
                (the last line that is a JSON object).

                Example:
                  latent report merge shard-*.json > job.json
                """)

        @Argument(help: "JSON summaries (one per shard).") var files: [String]

        func run() throws {
            var counts: [String: Int] = [:]
            var failures: [String] = [], warnings: [String] = [], records: [String] = []
            var anyFiles = false
            var seconds = 0.0, longest = 0.0
            var verb: String?
            /// A failure or warning as {"file":F,"reason":R}; older reports hold "F: reason" strings.
            func object(_ v: Any) -> String? {
                if let d = v as? [String: Any] {
                    return "{\"file\":\(jsonQuote(d["file"] as? String ?? "")),\"reason\":\(jsonQuote(d["reason"] as? String ?? ""))}"
                }
                return (v as? String).map { "{\"file\":\"\",\"reason\":\(jsonQuote($0))}" }
            }
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else { throw Exit.cannotRun("\(file): cannot read") }
                let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last { $0.hasPrefix("{") }
                guard let line, let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                    throw Exit.cannotRun("\(file): no JSON summary line in it")
                }
                // The command: "command", or (older reports) the one count that is not a shared key.
                let shared: Set<String> = ["processed", "skipped", "stale", "failed", "stale_replaced", "seconds", "seconds_max", "runs"]
                let command = obj["command"] as? String ?? obj.keys.first { !shared.contains($0) && obj[$0] is NSNumber }
                guard let command else { throw Exit.cannotRun("\(file): no counts in its summary") }
                if let verb, verb != command { throw Exit.cannotRun("\(file): a '\(command)' summary among '\(verb)' summaries") }
                verb = command
                func n(_ k: String) -> Int { (obj[k] as? NSNumber)?.intValue ?? 0 }
                counts["processed", default: 0] += obj["processed"] != nil ? n("processed") : n(command)
                counts["stale", default: 0] += obj["stale"] != nil ? n("stale") : n("stale_replaced")
                counts["skipped", default: 0] += n("skipped")
                counts["failed", default: 0] += n("failed")
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
            guard let verb else { throw Exit.cannotRun("no counts in \(files.joined(separator: ", "))") }
            let processed = counts["processed"] ?? 0, stale = counts["stale"] ?? 0
            let same = verb == "processed"
            print("{\"\(verb)\":\(processed),\"skipped\":\(counts["skipped"] ?? 0),\"failed\":\(counts["failed"] ?? 0),\"stale_replaced\":\(stale),"
                + "\"seconds\":\(String(format: "%.3f", seconds)),\(same ? "" : "\"processed\":\(processed),")\"stale\":\(stale),\"command\":\(jsonQuote(verb)),"
                + "\"seconds_max\":\(String(format: "%.3f", longest)),\"runs\":\(files.count),"
                + "\"failures\":[\(failures.joined(separator: ","))],\"warnings\":[\(warnings.joined(separator: ","))]"
                + (anyFiles ? ",\"files\":[\(records.joined(separator: ","))]" : "") + "}")
        }
    }
}
