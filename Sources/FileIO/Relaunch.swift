import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Running the process again with one more environment variable set.
public enum Relaunch {
    /// Replaces this process with a fresh run of the same executable and arguments, with `name`
    /// set to `value` in its environment: for a library that reads its settings only when it
    /// loads (OpenBLAS reads OPENBLAS_CORETYPE then). Call it before anything is read or written.
    /// Returns only where that cannot be done (not Linux, or the exec failed), with the
    /// environment as it was.
    public static func withEnvironment(_ name: String, _ value: String) {
        #if os(Linux)
        guard setenv(name, value, 1) == 0 else { return }
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        unsetenv(name)
        #endif
    }
}
