// Fuzz target: `--model FILE`'s whole path: the safetensors header, the metadata, the parameter
// count check, model construction, tensor import, and a small inference with what loaded.
//
// Built for libFuzzer by `make fuzz` (-DFUZZING, -sanitize=address,fuzzer); a plain build is a
// replayer: `fuzz-model FILE...` runs the same code on files (crash reproduction, regressions).
import Foundation
import Models
import NN

let scratch = NSTemporaryDirectory() + "latent-fuzz-model-\(getpid()).safetensors"

func run(_ bytes: [UInt8]) {
    guard FileManager.default.createFile(atPath: scratch, contents: Data(bytes)) else { fatalError("cannot write \(scratch)") }
    guard let (model, _) = try? ModelLoader.load(path: scratch) else { return }
    switch model {
    case .conv(let conv):
        let x = [Float](repeating: 0.5, count: conv.inputPlanes * 8 * 8)
        let y = conv.infer(x, h: 8, w: 8, sigma: conv.noiseInput ? 25 : nil)
        precondition(y.count == conv.channels * 64)
    case .mlp(let m):
        let n = m.config.inputSize
        guard n <= 1 << 16 else { return }
        let x = Matrix(rows: 1, cols: n)
        x.fill(0.5)
        precondition(m.reconstruct(x).cols == n)
    }
}

#if FUZZING
/// libFuzzer's driver (compiler-rt), run from our own main: SwiftPM links executables with their
/// module's main as the entry point, so libFuzzer's main is not used.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

/// The entry point libFuzzer's archive refers to (its own main, which is not used, calls it).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    run(size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

@main
struct Fuzz {
    static func main() {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { fuzzOne($0, $1) })
    }
}
#else
@main
struct Replay {
    static func main() {
        let files = CommandLine.arguments.dropFirst()
        for f in files {
            guard let d = FileManager.default.contents(atPath: f) else { print("\(f): cannot read"); exit(2) }
            run(Array(d))
        }
        try? FileManager.default.removeItem(atPath: scratch)
        print("replayed \(files.count) inputs")
    }
}
#endif
