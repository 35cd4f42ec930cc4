import FileIO
import ArgumentParser
import Pipeline
import Tensor

@main
struct Latent: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "latent",
        abstract: "Put trained autoencoders to work on PNG files.",
        discussion: """
            Examples:
              latent denoise photos/ -o clean/                 (colour and grey photos, noise measured)
              latent run "read scans/ | fit 1024 | denoise photo | write out/"
              latent convert photos/ -o small/ --fit 256 --gray
              latent traverse --model mnist-vae -o traverse.png
              latent info image.png
            """,
        version: LatentInfo.version,
        subcommands: [DenoiseCommand.self, ReconstructCommand.self, RunCommand.self, StagesCommand.self, TraverseCommand.self, ManifoldCommand.self, InterpolateCommand.self, SampleCommand.self, CompareCommand.self, ConvertCommand.self, TrainCommand.self, EvalCommand.self, ModelsCommand.self, InfoCommand.self, ReportCommand.self])

    /// Where OpenBLAS fell back to kernels older than the CPU (a processor newer than the
    /// library), the process first runs itself again with OPENBLAS_CORETYPE naming the right ones
    /// (`BLAS.upgradedCoreType`). OpenBLAS's threads are parked first: most commands never
    /// multiply a matrix, and a command that does starts them again on its first product. Large
    /// freed buffers go back to the system (peak memory follows what a command holds at once).
    static func main() {
        if let core = BLAS.upgradedCoreType() { Relaunch.withEnvironment("OPENBLAS_CORETYPE", core) }
        BLAS.parkThreads()
        ProcessMemory.returnLargeBuffersWhenFreed()
        main(nil)
    }
}
