import Foundation
import FileIO

/// Writes to standard error (the only place, with stdout, where latent prints).
func printError(_ s: String) {
    FileHandle.standardError.write((s + "\n").data(using: .utf8)!)
}

/// A progress bar with count, rate and ETA when stderr is a terminal; silent otherwise.
final class ProgressBar: @unchecked Sendable {
    private let enabled: Bool
    private let label: String
    private let start = Date()
    private let lock = NSLock()   // a pthread lock: ThreadSanitizer sees it (not Mutex's futex)
    private var lastDraw = 0.0

    init(label: String, quiet: Bool) {
        self.label = label
        enabled = !quiet && isatty(2) != 0
    }

    func update(_ p: BatchProgress) {
        guard enabled else { return }
        let now = Date().timeIntervalSince(start)
        lock.lock()
        let draw = p.finished >= p.total || now - lastDraw >= 0.1
        if draw { lastDraw = now }
        lock.unlock()
        guard draw else { return }
        let line = "\r" + p.line(label: label, elapsed: now) + "\u{1B}[K"
        FileHandle.standardError.write(line.data(using: .utf8)!)
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write("\r\u{1B}[K".data(using: .utf8)!)
    }
}
