import Foundation
import NN
import PNGIO
import Tensor

/// Training pairs whose target is given, not made: a folder with `noisy/` and `teacher/` holding
/// RGB PNGs of the same names and sizes, the noisy inputs at a known white-noise σ, and the
/// targets another model's output on them (distillation: a denoiser trained towards an ensemble's
/// output, a target with far less spread than the clean image for the same input, learns what
/// the ensemble does). `scripts/make_teacher_targets.sh` makes such folders.
///
/// Kept as the files' 8-bit samples (interleaved RGB): a pair of 481x321 photos is 0.9 MB, a
/// thousand pairs under a gigabyte. Sixteen-bit files are reduced to 8 bits.
public struct TargetPairs: Sendable {
    public struct Pair: Sendable {
        public var name: String
        public var width: Int, height: Int
        /// Interleaved 8-bit RGB, `width * height * 3` each.
        public var noisy: [UInt8], target: [UInt8]
        /// The noisy input's σ (0-255), what the model is told: a flat map of σ/50 in each plane.
        public var sigma: Float
    }

    public private(set) var pairs: [Pair] = []
    /// Files that could not be used (named, with the reason); the others load.
    public private(set) var failures: [String] = []

    public init() {}

    /// Adds every pair of `folder` (σ of its noisy inputs), at least `minSide` pixels a side.
    public mutating func add(folder: String, sigma: Float, minSide: Int) throws {
        let noisyDir = folder + "/noisy", targetDir = folder + "/teacher"
        let (names, unmatched) = try PairEvaluation.pairs(in: folder, partner: "teacher")
        failures += unmatched.map { "\(noisyDir)/\($0): no teacher/\($0) beside it" }
        var added = 0
        for name in names {
            do {
                let x = try PNGReader.read(path: noisyDir + "/" + name, layout: .rgb, depth: 8)
                let t = try PNGReader.read(path: targetDir + "/" + name, layout: .rgb, depth: 8)
                guard x.width == t.width && x.height == t.height else {
                    failures.append("\(noisyDir)/\(name): \(x.width)x\(x.height), its teacher output \(t.width)x\(t.height)"); continue
                }
                guard x.width >= minSide && x.height >= minSide else {
                    failures.append("\(noisyDir)/\(name): smaller than the \(minSide)-pixel patch"); continue
                }
                pairs.append(Pair(name: name, width: x.width, height: x.height, noisy: x.bytes, target: t.bytes, sigma: sigma))
                added += 1
            } catch { failures.append("\(error)") }
        }
        guard added > 0 else { throw PairEvaluation.PairError.layout(folder: folder, reason: "no usable pair of noisy/ and teacher/ PNGs") }
    }

    /// One random crop of a random pair, with one of the 8 flips/rotations, into the planes of
    /// `shape` (three, square): the noisy crop into `noisy`, the target's into `target`, σ/50
    /// into every value of `map`.
    func sample(shape: FeatureShape, rng: inout RandomGenerator, noisy: UnsafeMutablePointer<Float>, target: UnsafeMutablePointer<Float>,
                map: UnsafeMutablePointer<Float>) {
        precondition(shape.c == 3 && shape.h == shape.w, "teacher pairs are RGB: they train a 3-channel model on square patches, not \(shape)")
        let p = shape.w
        let pair = pairs[Int(rng.next() % UInt64(pairs.count))]
        let x0 = Int(rng.next() % UInt64(pair.width - p + 1)), y0 = Int(rng.next() % UInt64(pair.height - p + 1))
        let t = Int(rng.next() % 8)
        for y in 0..<p {
            for x in 0..<p {
                let (sx, sy) = PatchTrainer.orientedSource(x: x, y: y, orientation: t, size: p)
                let s = ((y0 + sy) * pair.width + x0 + sx) * 3
                for c in 0..<3 {
                    noisy[(c * p + y) * p + x] = Float(pair.noisy[s + c]) / 255
                    target[(c * p + y) * p + x] = Float(pair.target[s + c]) / 255
                }
            }
        }
        map.update(repeating: pair.sigma / 50, count: 3 * p * p)
    }
}
