import Foundation
import Imaging
import NN
import Testing
@testable import Inference
@testable import Models
import Tensor
@testable import Training

/// `train --estimated-maps`: a patch's map is what `latent denoise` gives the model for that image.
struct EstimatedMapsTests {
    /// The shipped colour model's estimator: the map of each patch is `BandDenoiser.sigmas(for:)`
    /// over 50, flat, and it follows the noise (a noisier patch reads higher).
    @Test func mapsAreWhatDenoiseGivesTheModel() throws {
        let path = try #require(BuiltinModels.path(of: "photo-color"))
        let shipped = try ConvModelFile.load(path: path).model
        let estimator = try NoiseMapEstimator.load(path: path)
        #expect(estimator.exportTensors().map { $0.values } == shipped.estimator?.exportTensors().map { $0.values }, "the bundled estimator's weights")
        let maps = EstimatedMaps(estimator: estimator, space: .rgb)
        let shape = FeatureShape(c: 3, h: 96, w: 128)
        var readings: [[Float]] = []
        for sigma: Float in [5, 30] {
            var rng = RandomGenerator(seed: 3)
            var img = FloatImage(width: shape.w, height: shape.h, channels: 3)
            for y in 0..<shape.h {
                for x in 0..<shape.w {
                    for c in 0..<3 {
                        let texture = 0.4 + 0.2 * sin(Float(x) / 5 + Float(c)) * cos(Float(y) / 7)
                        img[x: x, y: y, c: c] = min(1, max(0, ((texture + sigma / 255 * rng.normal()) * 255).rounded() / 255))
                    }
                }
            }
            var map = [Float](repeating: -1, count: shape.count)
            maps.replace(&map, readingFrom: img.data, shape: shape)
            let told = try #require(BandDenoiser(model: shipped).sigmas(for: img))
            for c in 0..<3 {
                let plane = map[(c * shape.h * shape.w)..<((c + 1) * shape.h * shape.w)]
                #expect(plane.allSatisfy { $0 == told[c] / 50 }, "channel \(c): \(plane.min()!)...\(plane.max()!) against \(told[c] / 50)")
            }
            readings.append(told)
        }
        #expect(zip(readings[0], readings[1]).allSatisfy { $0 + 10 < $1 }, "σ 5 read \(readings[0]), σ 30 read \(readings[1])")
    }

    /// A file without an estimator is refused, naming it.
    @Test func aFileWithoutAnEstimatorIsRefused() throws {
        let path = try #require(BuiltinModels.path(of: "photo"))
        #expect { try NoiseMapEstimator.load(path: path) } throws: { "\($0)".contains(path) && "\($0)".contains("neither a noise estimator") }
    }
}
