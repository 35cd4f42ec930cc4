import Foundation
import Testing
@testable import Imaging
@testable import Models
@testable import NN
@testable import Render
import Tensor
@testable import Training

/// 8x8 images made from two factors (bar row, bar column): a VAE with 20 latents uses few of them.
func bars(_ count: Int, seed: UInt64) -> Dataset {
    var rng = RandomGenerator(seed: seed)
    var data: [Float] = []
    for _ in 0..<count {
        let r = Int(rng.uniform() * 8), c = Int(rng.uniform() * 8)
        for y in 0..<8 { for x in 0..<8 { data.append(y == r || x == c ? 1 : 0) } }
    }
    return Dataset(width: 8, height: 8, channels: 1, data: data)
}

func images(_ d: Dataset) -> [FloatImage] {
    (0..<d.count).map { FloatImage(width: 8, height: 8, channels: 1, data: Array(d.data[($0 * 64)..<(($0 + 1) * 64)])) }
}

struct GridTests {
    @Test(arguments: [(1, 0), (3, 2), (4, 5)])
    func geometryIsExact(_ sg: (Int, Int)) {
        let (scale, gutter) = sg
        let g = Grid(tileWidth: 5, tileHeight: 3, channels: 1, rows: 2, cols: 4, scale: scale, gutter: gutter)
        #expect(g.width == gutter + 4 * (5 * scale + gutter))
        #expect(g.height == gutter + 2 * (3 * scale + gutter))
        // Tile (r, c) filled with a distinct value lands exactly at its origin, scaled.
        let tiles: [[FloatImage?]] = (0..<2).map { r in (0..<4).map { c in FloatImage(width: 5, height: 3, channels: 1, value: Float(r * 4 + c) / 10) } }
        let img = g.render(tiles)
        #expect(img.width == g.width && img.height == g.height)
        for r in 0..<2 {
            for c in 0..<4 {
                let (ox, oy) = g.origin(row: r, col: c)
                #expect(ox == gutter + c * (5 * scale + gutter) && oy == gutter + r * (3 * scale + gutter))
                #expect(img[x: ox, y: oy, c: 0] == Float(r * 4 + c) / 10)
                #expect(img[x: ox + 5 * scale - 1, y: oy + 3 * scale - 1, c: 0] == Float(r * 4 + c) / 10)
                if gutter > 0 { #expect(img[x: ox + 5 * scale, y: oy, c: 0] == 1, "gutter is background") }
            }
        }
    }

    @Test func labelsAddAMarginAndInk() {
        let g = Grid(tileWidth: 8, tileHeight: 8, channels: 3, rows: 2, cols: 3, scale: 4, gutter: 2,
                     rowLabels: ["z12", "z3"], columnLabels: ["-3.0", "0.0", "3.0"])
        #expect(g.labelWidth > 0 && g.labelHeight > 0)
        #expect(g.width == g.labelWidth + 2 + 3 * (32 + 2))
        let img = g.render([[nil, nil, nil], [nil, nil, nil]])
        var ink = 0
        for y in 0..<img.height { for x in 0..<g.labelWidth where img[x: x, y: y, c: 0] == 0 { ink += 1 } }
        #expect(ink > 20, "row labels were drawn")
        #expect(BitmapFont.width("z12", scale: 2) == (3 * 6 - 1) * 2)
    }

    @Test func inverseNormalCDFIsAccurate() {
        #expect(abs(inverseNormalCDF(0.5)) < 1e-12)
        #expect(abs(inverseNormalCDF(0.975) - 1.959963984540054) < 1e-8)
        #expect(abs(inverseNormalCDF(0.001) + 3.090232306167813) < 1e-7)
        let v = ModelViews.manifoldValues(steps: 20)
        #expect(v.count == 20 && abs(v[0] + v[19]) < 1e-6 && v == v.sorted())
    }
}

@Suite(.serialized)
struct ModelViewTests {
    nonisolated(unsafe) static let vae: VAE = {
        // β = 2 makes unused dimensions collapse clearly.
        let config = ModelConfig(kind: .vae, width: 8, height: 8, hidden: [64], latent: 20, beta: 2)
        let m = ModelFile.make(config, seed: 1) as! VAE
        try! Trainer(model: m, options: TrainingOptions(epochs: 30, batch: 64, learningRate: 3e-3, seed: 1))
            .run(train: bars(2000, seed: 1), validation: nil) { _ in }
        return m
    }()

    @Test func interpolationEndsAreTheReconstructions() {
        let views = ModelViews(model: Self.vae, name: "v")
        let inputs = Array(images(bars(2, seed: 9)))
        let codes = views.encode(inputs)
        let recon = views.reconstruct(inputs)
        for slerp in [false, true] {
            let strip = views.decode(ModelViews.path(from: codes[0], to: codes[1], steps: 7, slerp: slerp))
            #expect(strip.first!.data == recon[0].data)
            #expect(strip.last!.data == recon[1].data)
        }
    }

    @Test func slerpAndLerpAgreeAtTheEndsAndDifferInTheMiddle() {
        let a: [Float] = [1, 0, 0.5], b: [Float] = [0, 2, -0.5]
        let l = ModelViews.path(from: a, to: b, steps: 5, slerp: false)
        let s = ModelViews.path(from: a, to: b, steps: 5, slerp: true)
        #expect(l.first! == s.first! && l.last! == s.last!)
        #expect(l.first! == a && l.last! == b)
        let d = zip(l[2], s[2]).map { abs($0 - $1) }.max()!
        #expect(d > 0.05)
        // Slerp keeps the norm between the ends' norms when they are equal.
        let u: [Float] = [1, 0], v: [Float] = [0, 1]
        let mid = ModelViews.slerp(u, v, 0.5)
        #expect(abs(mid[0] * mid[0] + mid[1] * mid[1] - 1) < 1e-6)
    }

    @Test func autoDimensionsPutInformativeOnesFirst() throws {
        let views = ModelViews(model: Self.vae, name: "v")
        let kl = try views.klPerDimension(images(bars(500, seed: 3)))
        let chosen = try views.chooseDimensions(.auto, kl: kl)
        let active = (0..<20).filter { kl[$0] > ModelViews.collapseThreshold }
        let collapsed = (0..<20).filter { kl[$0] <= ModelViews.collapseThreshold }
        #expect(!active.isEmpty && !collapsed.isEmpty, "the test model should have both active and collapsed dimensions: \(kl)")
        #expect(Set(chosen) == Set(active.sorted { kl[$0] > kl[$1] }.prefix(16)))
        #expect(chosen.allSatisfy { !collapsed.contains($0) })
        #expect(chosen.map { kl[$0] } == chosen.map { kl[$0] }.sorted(by: >))
        #expect(try views.chooseDimensions(.top(3), kl: kl) == Array(chosen.prefix(3)))
        #expect(throws: RenderError.self) { try views.chooseDimensions(.list([0, 25]), kl: kl) }
        // Each row of a traversal changes only its dimension.
        let rows = try views.traversal(base: [Float](repeating: 0, count: 20), dims: Array(chosen.prefix(2)), range: 3, steps: 5)
        #expect(rows.count == 2 && rows[0].count == 5)
        #expect(rows[0][2].data == rows[1][2].data, "the centre column is the base code in every row")
    }

    @Test func commandsThatNeedAVAESayItExactly() throws {
        let ae = ModelFile.make(ModelConfig(kind: .dae, width: 8, height: 8, hidden: [16], latent: 4, noise: .mask(p: 0.2)), seed: 1)
        let views = ModelViews(model: ae, name: "my-dae")
        let expected = RenderError.needsVAE(command: "sample", model: "my-dae", kind: "dae")
        #expect(throws: expected) { try views.samples(count: 4, seed: 1) }
        #expect(throws: RenderError.needsVAE(command: "manifold", model: "my-dae", kind: "dae")) {
            try views.manifold(dims: (0, 1), steps: 3, base: [0, 0, 0, 0])
        }
        #expect(throws: RenderError.needsVAE(command: "traverse", model: "my-dae", kind: "dae")) {
            try views.traversal(base: [0, 0, 0, 0], dims: [0], range: 3, steps: 3)
        }
        // Interpolation and reconstruction work with any model.
        let strip = views.decode(ModelViews.path(from: [0, 0, 0, 0], to: [1, 1, 1, 1], steps: 3, slerp: false))
        #expect(strip.count == 3)
        #expect(expected.description.contains("needs a VAE"))
    }

    @Test func worksForRGBModelsOfOtherSizes() {
        let m = ModelFile.make(ModelConfig(kind: .vae, width: 12, height: 10, channels: 3, hidden: [16], latent: 3), seed: 2)
        let views = ModelViews(model: m, name: "rgb")
        let tiles = views.decode([[0, 0, 0], [1, -1, 0]])
        #expect(tiles.count == 2 && tiles[0].width == 12 && tiles[0].height == 10 && tiles[0].channels == 3)
        let g = Grid(tileWidth: 12, tileHeight: 10, channels: 3, rows: 1, cols: 2, scale: 2, gutter: 1)
        let img = g.render([tiles])
        #expect(img.channels == 3 && img.width == 1 + 2 * 25)
    }
}
