import ArgumentParser
import Foundation
import Imaging
import Models
import PNGIO
import Pipeline

struct StagesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stages", abstract: "List the stages 'latent run' understands.")

    func run() throws {
        print(StageCatalog.listing(), terminator: "")
    }
}
