// The driver both fuzz targets share: built with -DFUZZING (`make fuzz`) it hands the target to
// libFuzzer; otherwise it replays the files named on the command line through it (crash
// reproduction, regressions).
import Foundation

/// The target being fuzzed (set once, before libFuzzer starts).
nonisolated(unsafe) private var target: ([UInt8]) -> Void = { _ in }

#if FUZZING
/// libFuzzer's driver (compiler-rt), run from the target's own main: SwiftPM links executables
/// with their module's main as the entry point, so libFuzzer's main is not used.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

/// The entry point libFuzzer's archive refers to (its own main, which is not used, calls it).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    target(size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
#endif

public enum FuzzDriver {
    /// Runs `run` under libFuzzer (-DFUZZING) or on each file given; `scratch` (the target's
    /// temporary file) is removed after a replay.
    public static func main(scratch: String, run: @escaping ([UInt8]) -> Void) -> Never {
        target = run
        #if FUZZING
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { fuzzOne($0, $1) })
        #else
        let files = CommandLine.arguments.dropFirst()
        for f in files {
            guard let d = FileManager.default.contents(atPath: f) else { print("\(f): cannot read"); exit(2) }
            run(Array(d))
        }
        try? FileManager.default.removeItem(atPath: scratch)
        print("replayed \(files.count) inputs")
        exit(0)
        #endif
    }
}
