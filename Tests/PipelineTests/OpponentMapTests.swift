import Foundation
import Imaging
import Testing
@testable import Inference
@testable import Models
import Tensor
import TestSupport

/// A colour model whose noise map is in the opponent space (metadata `noise_map_space`).
struct OpponentMapTests {
    /// Written and read back, the model keeps its map space; a file naming an unknown space, or
    /// the opponent space for a grey model, is refused with the reason.
    @Test func fileKeepsItsMapSpaceAndBadOnesAreRefused() throws {
        let dir = makeTempDir("opponent")
        let model = ConvDenoiser(channels: 3, widths: (4, 6, 8), noiseMap: true, seed: 3)
        model.mapSpace = .opponent
        let path = dir + "/opp.safetensors"
        try SafeTensors.write(model.exportTensors(), metadata: model.metadata, to: path)
        let loaded = try ConvModelFile.load(path: path)
        #expect(loaded.model.mapSpace == .opponent)
        #expect(try ConvModelFile.load(path: dir + "/opp.safetensors").model.exportTensors().map(\.values) == model.exportTensors().map(\.values))
        var meta = model.metadata
        meta["noise_map_space"] = "lab"
        try SafeTensors.write(model.exportTensors(), metadata: meta, to: dir + "/lab.safetensors")
        #expect(throws: ModelFileError.self) { try ConvModelFile.load(path: dir + "/lab.safetensors") }
        do { _ = try ConvModelFile.load(path: dir + "/lab.safetensors") } catch {
            #expect("\(error)".contains("lab.safetensors") && "\(error)".contains("noise_map_space"), "\(error)")
        }
        let grey = ConvDenoiser(channels: 1, widths: (4, 6, 8), noiseMap: true, seed: 3)
        var greyMeta = grey.metadata
        greyMeta["noise_map_space"] = "opponent"
        try SafeTensors.write(grey.exportTensors(), metadata: greyMeta, to: dir + "/grey.safetensors")
        #expect(throws: ModelFileError.self) { try ConvModelFile.load(path: dir + "/grey.safetensors") }
    }

    /// A given σ per channel is taken as independent noise and told to an opponent model as its
    /// components' σ, so it denoises exactly as the same network with a per-channel map told
    /// those values; the provenance shows the map and the per-channel σ, last.
    @Test func givenSigmaIsToldInTheModelsSpace() throws {
        let model = ConvDenoiser(channels: 3, widths: (4, 6, 8), noiseMap: true, seed: 3)
        model.setExactInference(true)
        model.mapSpace = .opponent
        var rng = RandomGenerator(seed: 8)
        var img = FloatImage(width: 20, height: 16, channels: 3)
        for i in 0..<img.data.count { img.data[i] = rng.uniform() }
        var bd = BandDenoiser(model: model)
        bd.sigma = [10, 20, 30]
        let told = try #require(bd.sigmas(for: img))
        let expected = NoiseMapSpace.opponent.sigmas(independentRGB: [10, 20, 30])
        #expect(told == expected)
        #expect(abs(told[0] - 20) > 1, "not the per-channel values")
        let out = bd.wholeImage(img)
        model.mapSpace = .rgb
        let plain = BandDenoiser(model: model).wholeImage(img, sigmas: expected)
        #expect(out.data == plain.data)
        model.mapSpace = .opponent
        let reading = try bd.readNoise(file: "x.png", width: 20, height: 16, planes: 3) { BandDenoiser.memoryPass(img) }
        let text = reading.texts.first { $0.key == "latent:sigma" }?.text ?? ""
        #expect(text.hasPrefix("given (opponent map ") && text.hasSuffix(" 10.00,20.00,30.00"), "\(text)")
    }
}
