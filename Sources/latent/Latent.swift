import ArgumentParser
import Pipeline

@main
struct Latent: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "latent",
        abstract: "Put trained autoencoders to work on PNG files.",
        discussion: """
            Examples:
              latent convert photos/ -o small/ --fit 256 --gray
              latent info image.png
            """,
        version: LatentInfo.version,
        subcommands: [DenoiseCommand.self, ReconstructCommand.self, RunCommand.self, StagesCommand.self, TraverseCommand.self, ManifoldCommand.self, InterpolateCommand.self, SampleCommand.self, CompareCommand.self, ConvertCommand.self, TrainCommand.self, EvalCommand.self, ModelsCommand.self, InfoCommand.self])
}
