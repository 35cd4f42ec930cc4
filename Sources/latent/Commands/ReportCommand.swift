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
            var reports: [(name: String, text: String)] = []
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else { throw Exit.cannotRun("\(file): cannot read") }
                reports.append((file, String(decoding: data, as: UTF8.self)))
            }
            do { print(try BatchSummary.merge(reports)) } catch { throw Exit.cannotRun(error) }
        }
    }
}
