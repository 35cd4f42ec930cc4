import ArgumentParser
import Pipeline

struct StagesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stages", abstract: "List the stages 'latent run' understands.")

    @Flag(help: "Print the stages as JSON (name, usage, summary, aliases, parameters, shape).") var json = false

    func run() throws {
        print(json ? StageCatalog.listingJSON() : StageCatalog.listing(), terminator: "")
    }
}
