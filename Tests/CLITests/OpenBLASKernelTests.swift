import Foundation
import Tensor
import Testing
import TestSupport

/// `latent` runs OpenBLAS on kernels the CPU has: where OpenBLAS fell back to kernels without AVX
/// (a processor newer than the library), the process runs itself once more with
/// OPENBLAS_CORETYPE naming better ones; a choice the user made through the variable stands.
/// (OPENBLAS_VERBOSE=2 makes OpenBLAS print the kernels it loads, "Core: NAME", on stderr.)
/// Whether OpenBLAS here picks x86-64 kernels when it loads (built with DYNAMIC_ARCH, as Debian's).
private let openBLASPicksKernels: Bool = {
    #if arch(x86_64)
    return BLAS.configuration.contains("DYNAMIC_ARCH")
    #else
    return false
    #endif
}()

@Suite(.enabled(if: openBLASPicksKernels, "needs an x86-64 OpenBLAS built with DYNAMIC_ARCH (it picks kernels at load time)"))
struct OpenBLASKernelTests {

    static func cores(_ environment: [String: String]) throws -> (CLIResult, [String]) {
        let r = try CLI.run(["--version"], environment: environment.merging(["OPENBLAS_VERBOSE": "2"]) { $1 })
        let cores = r.stderr.split(separator: "\n").filter { $0.hasPrefix("Core: ") }.map { String($0.dropFirst(6)) }
        return (r, cores)
    }

    @Test func runsOnVectorKernelsWhereTheCPUHasThem() throws {
        let (r, cores) = try Self.cores([:])
        #expect(r.status == 0 && r.stdout.contains("."), "\(r.stderr)")
        #expect((1...2).contains(cores.count), "at most one relaunch: \(cores)")
        let flags = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let words = Set(flags.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).map(String.init))
        if words.contains("avx2") && words.contains("fma") {
            #expect(BLAS.vectorCores.contains(cores.last?.lowercased() ?? ""), "OpenBLAS kernels in use: \(cores)")
        }
    }

    @Test func aChoiceInTheEnvironmentStands() throws {
        let (r, cores) = try Self.cores(["OPENBLAS_CORETYPE": "Prescott"])
        #expect(r.status == 0)
        #expect(cores == ["Prescott"], "\(cores)")
    }
}
