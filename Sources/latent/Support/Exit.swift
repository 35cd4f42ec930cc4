import ArgumentParser
import FileIO

/// Exit codes, in one place. 0: everything done. 1: the request ran but some file (or the run)
/// failed. 2: the request cannot run at all (bad arguments, a bad model file, a chain that does
/// not fit, inputs that do not exist), said before any output is written.
enum Exit {
    /// Prints "latent: MESSAGE" and gives exit code 2.
    static func cannotRun(_ message: Any) -> ExitCode {
        printError("latent: \(message)")
        return ExitCode(2)
    }

    /// Prints "latent: MESSAGE" and gives exit code 1.
    static func failed(_ message: Any) -> ExitCode {
        printError("latent: \(message)")
        return ExitCode(1)
    }

    /// A set-up step: its error is one line and exit code 2 (an ExitCode passes through).
    static func setUp<T>(_ step: () throws -> T) throws -> T {
        do { return try step() } catch let e as ExitCode { throw e } catch { throw cannotRun(error) }
    }

    /// Exit code 1 when any item failed (their messages were printed with the summary).
    static func ifAnyFailed(_ outcomes: [ItemOutcome]) throws {
        if outcomes.contains(where: { if case .failed = $0 { return true }; return false }) { throw ExitCode(1) }
    }
}
