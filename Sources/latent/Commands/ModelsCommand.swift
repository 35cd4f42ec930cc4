import ArgumentParser
import Models

struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "List the built-in models with their measured figures.",
        discussion: "Example:\n  latent models")

    @Flag(help: "Print JSON.") var json = false

    func run() throws { print(BuiltinModels.listing(json: json)) }
}
