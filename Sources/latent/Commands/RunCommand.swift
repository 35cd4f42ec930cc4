import ArgumentParser
import Pipeline

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a chain of stages: \"read IN | stage | ... | write OUT\".",
        discussion: """
            'latent stages' lists the stages. The output folder comes from 'write'.

            Examples:
              latent run "read samples/digits | gray | noise gaussian:0.5 | denoise mnist-dae | write out/"
              latent run "read photos/ | fit 256 | gray | write small/" --jobs 4
              latent run "read photos/ | denoise photo sigma=20 | write clean/"
              latent run "read samples/digits | encode mnist-vae | write codes.jsonl"
              find scans -name '*.png' | latent run "read - | denoise mnist-dae tile | write clean/"
            """)

    @Argument(help: "The chain, quoted.") var chain: String
    @Option(name: [.customLong("batch"), .customLong("batch-size")], help: "Rows per model batch.") var batchSize: Int = 256
    @OptionGroup var processing: ProcessingOptions

    func validate() throws {
        if batchSize < 1 { throw ValidationError("--batch must be at least 1.") }
    }

    func run() throws {
        let plan = try Exit.setUp {
            try StageCatalog.parse(chain, batch: batchSize) {
                var paths: [String] = []
                while let line = readLine() { let t = line.trimmingCharacters(in: .whitespaces); if !t.isEmpty { paths.append(t) } }
                return paths
            }
        }
        let (_, outcomes) = try PipelineExecution.run(inputs: plan.inputs, output: "", sink: plan.sink, batch: processing, label: "run",
                                                      verb: "processed") { [(plan.stages, Array($0.indices))] }
        try Exit.ifAnyFailed(outcomes)
    }
}
