import Foundation
import PNGIO

/// Helpers every test target shares (a library target only tests depend on).

/// A fresh temporary folder per call, named after the test's `tag`.
public func makeTempDir(_ tag: String) -> String {
    let dir = NSTemporaryDirectory() + "latent-\(tag)-\(getpid())-\(UUID().uuidString.prefix(8))"
    try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

/// The repository's root (for committed fixtures such as fuzz/corpus and help goldens).
public let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

/// Writes a small test image with a recognisable pattern (parent folders created).
public func writeImage(_ path: String, width: Int, height: Int, layout: PixelLayout, depth: Int = 8, seed: Int = 1) throws {
    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                            withIntermediateDirectories: true)
    let maxv = depth == 16 ? 65535 : 255
    let samples = (0..<(width * height * layout.channels)).map { i in (i * 37 + seed * 101) % (maxv + 1) }
    try PNGWriter.write(PNGImage(width: width, height: height, layout: layout, depth: depth, samples: samples), to: path)
}

/// Every regular file under `dir`, relative, sorted.
public func listFiles(_ dir: String) -> [String] {
    (FileManager.default.enumerator(atPath: dir)?.allObjects as? [String] ?? [])
        .filter { var d: ObjCBool = false; return FileManager.default.fileExists(atPath: dir + "/" + $0, isDirectory: &d) && !d.boolValue }
        .sorted()
}

/// What a run of the `latent` binary gave.
public struct CLIResult: Sendable {
    public var status: Int32
    /// False when the process was ended by a signal (a crash).
    public var exited = true
    public var stdout: String
    public var stderr: String
    /// Standard output's bytes (for a PNG written to it).
    public var stdoutData = Data()
}

/// Runs the built `latent` binary the way a user does.
public enum CLI {
    /// The `latent` binary beside the test bundle (SwiftPM builds it when a test target depends on it).
    public static var binary: String {
        if let env = ProcessInfo.processInfo.environment["LATENT_BIN"] { return env }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("latent").path
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate, isDirectory: &isDir), !isDir.boolValue {
                return candidate
            }
            dir = dir.deletingLastPathComponent()
        }
        return Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("latent").path
    }

    /// Runs the binary; `stdin`: a file given as its standard input.
    public static func run(_ args: [String], cwd: String? = nil, environment: [String: String]? = nil, stdin: String? = nil) throws -> CLIResult {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        if let stdin { p.standardInput = FileHandle(forReadingAtPath: stdin) }
        if let environment { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        // Read both pipes to the end before waiting, so a full pipe cannot block the child.
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return CLIResult(status: p.terminationStatus, exited: p.terminationReason == .exit, stdout: String(decoding: o, as: UTF8.self),
                         stderr: String(decoding: e, as: UTF8.self), stdoutData: o)
    }
}

/// Writes `data` to `path`, throwing if it cannot (a test's setup that silently failed would
/// make the test check something else).
public func writeFile(_ path: String, _ data: Data) throws {
    try data.write(to: URL(fileURLWithPath: path))
}
