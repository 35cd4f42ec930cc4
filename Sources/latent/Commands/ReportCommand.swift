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
                Counts are added, failures listed together, seconds added (seconds_max is the \
                longest run). Each file holds the summary line a batch command printed with --json \
                (the last line that is a JSON object).

                Example:
                  latent report merge shard-*.json > job.json
                """)

        @Argument(help: "JSON summaries (one per shard).") var files: [String]

        func run() throws {
            var counts: [String: Int] = [:]
            var failures: [String] = []
            var seconds = 0.0, longest = 0.0
            var verb: String?
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else { throw Exit.cannotRun("\(file): cannot read") }
                let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last { $0.hasPrefix("{") }
                guard let line, let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                    throw Exit.cannotRun("\(file): no JSON summary line in it")
                }
                for (k, v) in obj {
                    switch k {
                    case "seconds":
                        let s = (v as? NSNumber)?.doubleValue ?? 0
                        seconds += s
                        longest = max(longest, s)
                    case "failures":
                        failures += (v as? [Any])?.compactMap { $0 as? String } ?? []
                    default:
                        guard let n = (v as? NSNumber)?.intValue else { continue }
                        if !["skipped", "failed", "stale_replaced"].contains(k) {
                            if let verb, verb != k { throw Exit.cannotRun("\(file): a '\(k)' summary among '\(verb)' summaries") }
                            verb = k
                        }
                        counts[k, default: 0] += n
                    }
                }
            }
            guard let verb else { throw Exit.cannotRun("no counts in \(files.joined(separator: ", "))") }
            print("{\"\(verb)\":\(counts[verb] ?? 0),\"skipped\":\(counts["skipped"] ?? 0),\"failed\":\(counts["failed"] ?? 0),"
                + "\"stale_replaced\":\(counts["stale_replaced"] ?? 0),\"seconds\":\(String(format: "%.3f", seconds)),"
                + "\"seconds_max\":\(String(format: "%.3f", longest)),\"runs\":\(files.count),\"failures\":[\(failures.map(jsonQuote).joined(separator: ","))]}")
        }
    }
}
