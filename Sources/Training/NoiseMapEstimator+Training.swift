import Imaging
import Models
import NN
import Tensor

extension NoiseMapEstimator: PatchModel {
    public var trainsOnMaps: Bool { true }
    public func patchReplica() -> PatchModel { replica() }

    /// The asymmetric loss of the quarter-resolution estimate against the block means of the
    /// true map.
    public func trainStep(noisy: FeatureMaps, clean: Matrix, maps: Matrix?, sigmas: [Float], logLoss: Bool) -> Double {
        guard let maps else { preconditionFailure("the noise-map estimator trains on noise maps") }
        _ = forward(noisy)
        return backward(target: Self.blockMeans(maps, shape: noisy.shape))
    }

    public var architectureKeys: [String] { ["kind", "channels", "est_width", "est_depth", "est_features"] }
    public var summary: String {
        "noise-estimator width \(width), depth \(depth)\(features == .raw ? "" : ", \(features.rawValue) input") (\(parameters.reduce(0) { $0 + $1.count }) parameters)"
    }

    /// Mean absolute error (0-255 scale) of the estimated σ over the 4x4 blocks of held-out
    /// images (a centre crop of up to 128x128 each) with seeded noise drawn as in training.
    public func validation(_ images: [FloatImage], options: PatchTrainingOptions) -> Double {
        var total = 0.0, count = 0
        for (i, img) in images.enumerated() {
            let side = min(128, img.width / 4 * 4, img.height / 4 * 4)
            guard side >= 8 else { continue }
            let shape = FeatureShape(c: channels, h: side, w: side)
            let x0 = (img.width - side) / 2, y0 = (img.height - side) / 2
            var clean = [Float](repeating: 0, count: shape.count)
            for c in 0..<channels {
                for y in 0..<side { for x in 0..<side { clean[(c * side + y) * side + x] = img[x: x0 + x, y: y0 + y, c: min(c, img.channels - 1)] } }
            }
            var rng = RandomGenerator(seed: 0x5EED &+ UInt64(i))
            let noisy = Matrix(rows: 1, cols: shape.count), map = Matrix(rows: 1, cols: shape.count)
            clean.withUnsafeMutableBufferPointer { c in
                PatchTrainer.addNoiseWithMap(c.baseAddress!, into: noisy.data, map: map.data, shape: shape, options: options, rng: &rng)
            }
            let est = forward(FeatureMaps(data: noisy, shape: shape))
            let target = Self.blockMeans(map, shape: shape)
            for j in 0..<target.count { total += Double(abs(sigmaOver50(est.data.data[j]) - target.data[j])) * 50; count += 1 }
        }
        return count > 0 ? total / Double(count) : 0
    }
}
