import Foundation
import Testing
@testable import PNGIO
import TestSupport

/// Colour-management, physical-size and text chunks: read as the files (written with zlib and
/// struct only, `Fixtures/make_metadata_fixtures.py`) hold them, written back by libpng the same.
struct MetadataTests {
    @Test func fixturesReadAsWritten() throws {
        let srgb = try PNGReader(path: fixturesDir + "/meta_srgb.png")
        #expect(srgb.metadata.srgbIntent == 0)
        #expect(srgb.metadata.gamma == 45455)
        #expect(srgb.metadata.chromaticities == [31270, 32900, 64000, 33000, 30000, 60000, 15000, 6000])
        #expect(srgb.metadata.physical == PNGMetadata.Physical(x: 11811, y: 11811, perMetre: true))
        #expect(srgb.metadata.iccProfile == nil)
        #expect(srgb.texts.contains { $0.key == "Author" && $0.text == "A. Photographer" })
        let icc = try PNGReader(path: fixturesDir + "/meta_icc.png")
        let profile = try #require(icc.metadata.iccProfile)
        #expect(profile.name == "sRGB built-in")
        #expect(profile.data.count == 588 && Array(profile.data[36..<40]) == Array("acsp".utf8))
        #expect(icc.metadata.srgbIntent == nil && icc.metadata.gamma == nil)
        let plain = try PNGReader(path: fixturesDir + "/c2_d8.png")
        #expect(plain.metadata.isEmpty && plain.metadata.lines.isEmpty)
        #expect(srgb.metadata.lines.contains("pHYs: 11811x11811 pixels per metre (300 dpi)"))
    }

    /// What the writer is given comes back through the reader (libpng both ways), chunk by chunk.
    @Test func writtenChunksReadBack() throws {
        let dir = makeTempDir("meta")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let profile = try #require(try PNGReader(path: fixturesDir + "/meta_icc.png").metadata.iccProfile)
        let cases: [PNGMetadata] = [
            PNGMetadata(srgbIntent: 1, gamma: 45455, chromaticities: [31270, 32900, 64000, 33000, 30000, 60000, 15000, 6000],
                        physical: .init(x: 2835, y: 2835, perMetre: true)),
            PNGMetadata(iccProfile: profile, physical: .init(x: 1, y: 2, perMetre: false)),
            PNGMetadata(gamma: 100000),
        ]
        let image = PNGImage(width: 5, height: 3, layout: .rgb, depth: 8, samples: (0..<45).map { $0 * 5 })
        for (i, m) in cases.enumerated() {
            let path = dir + "/\(i).png"
            try PNGWriter.write(image, to: path, texts: [("Title", "t\(i)")], metadata: m)
            let r = try PNGReader(path: path)
            #expect(r.metadata == m, "case \(i)")
            #expect(r.texts.first { $0.key == "Title" }?.text == "t\(i)")
            #expect(try PNGReader.read(path: path) == image)
        }
    }

    /// An output keeps the input's chunks, but not its own provenance, and not an RGB profile
    /// on a grey output.
    @Test func keptChunksFollowTheOutput() throws {
        let r = try PNGReader(path: fixturesDir + "/meta_icc.png")
        var kept = KeptChunks(r)
        #expect(kept.metadata(for: .rgb).iccProfile != nil && kept.metadata(for: .rgba).iccProfile != nil)
        #expect(kept.metadata(for: .gray).iccProfile == nil && kept.metadata(for: .gray).physical != nil)
        kept = KeptChunks(metadata: .none, texts: [("Copyright", "x")], inputIsColour: true)
        let dir = makeTempDir("kept")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try PNGWriter.write(PNGImage(width: 2, height: 2, layout: .gray, depth: 8, samples: [1, 2, 3, 4]), to: dir + "/p.png",
                            texts: [("latent:chain", "old"), ("Copyright", "x")])
        #expect(KeptChunks(try PNGReader(path: dir + "/p.png")).texts.map(\.key) == ["Copyright"])
    }
}
