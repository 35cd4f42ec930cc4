import FileIO
import Imaging
import Models
import Tensor

/// `noise gaussian:S|mask:P|saltpepper:P [seed=N]`: corrupts the colour planes (alpha untouched).
/// Each image's noise comes from a generator seeded by (seed, the image's relative path), so it
/// does not depend on `--jobs`, on the order of files, or on what else is in the batch.
public struct NoiseStage: FrameStage {
    public static let descriptor = StageDescriptor(
        name: "noise", summary: "add seeded noise to the colour planes (for test data and demos)",
        parameters: [.positional("KIND:LEVEL", .corruption, "the noise"),
                     .named("seed", .integer(0...Int.max), default: "1", "with the image's path, seeds its noise")],
        shape: "kept") { a, _ in try NoiseStage(a) }
    public let corruption: Corruption
    public let seed: UInt64
    public var spec: String { "noise \(corruption)" + (seed != 1 ? " seed=\(seed)" : "") }

    public init(_ corruption: Corruption, seed: UInt64 = 1) {
        self.corruption = corruption
        self.seed = seed
    }

    init(_ a: StageArguments) throws {
        guard a.positional.count == 1 else { throw a.fail("wants \(Corruption.syntax)") }
        let c: Corruption
        do { c = try Corruption.parse(a.positional[0]) } catch { throw a.fail("\(error)") }
        guard let s = UInt64(a.named["seed"] ?? "1") else { throw a.fail("seed must be a non-negative integer") }
        self.init(c, seed: s)
    }

    public func apply(_ f: Frame) throws -> Frame {
        var h = FNV1a(seed: seed)
        h.add(f.item.relativeOutput.utf8)
        var rng = RandomGenerator(seed: h.value)
        var r = f
        let n = f.image.planeSize * f.colorPlanes
        f.image.data.withUnsafeBufferPointer { src in
            r.image.data.withUnsafeMutableBufferPointer { dst in
                corruption.apply(src.baseAddress!, dst.baseAddress!, count: n, rng: &rng)
            }
        }
        return r
    }

    public func shape(after s: ChainShape) -> ChainShape { s }
}
