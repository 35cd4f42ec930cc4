// Fuzz target: `--model FILE`'s whole path: the safetensors header, the metadata, the parameter
// count check, model construction, tensor import, and a small inference with what loaded.
//
// Built for libFuzzer by `make fuzz` (-DFUZZING, -sanitize=address,fuzzer); a plain build is a
// replayer (FuzzSupport's driver): `fuzz-model FILE...` runs the same code on files (crash reproduction, regressions).
import Foundation
import FuzzSupport
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

@main
struct Fuzz {
    static func main() { FuzzDriver.main(scratch: scratch, run: run) }
}
