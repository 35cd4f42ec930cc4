import Foundation
import Testing
@testable import PNGIO

/// Files written by Tests/PNGIOTests/Fixtures/make_fixtures.py with Python's zlib and struct
/// only: independent of libpng's encoder and of our writer.
struct FixtureTests {
    struct Entry: Decodable, CustomTestStringConvertible {
        var file: String
        var width: Int
        var height: Int
        var color_type: Int
        var bit_depth: Int
        var interlaced: Bool
        var channels: Int
        var depth: Int
        var samples: [Int]
        var testDescription: String { file }
    }

    static let entries: [Entry] = {
        let url = URL(fileURLWithPath: fixturesDir + "/manifest.json")
        return try! JSONDecoder().decode([Entry].self, from: Data(contentsOf: url))
    }()

    @Test func everyKindIsCovered() {
        // 5 grey depths + 2x GA + 2x RGB + 2x RGBA + 4 palette + 5 with tRNS, each interlaced or not.
        #expect(Self.entries.count == 40)
        #expect(Set(Self.entries.map(\.interlaced)) == [false, true])
        #expect(Set(Self.entries.map(\.color_type)) == [0, 2, 3, 4, 6])
    }

    @Test(arguments: entries)
    func decodesTheExpectedSamples(_ e: Entry) throws {
        let path = fixturesDir + "/" + e.file
        let reader = try PNGReader(path: path)
        #expect(reader.header.width == e.width)
        #expect(reader.header.height == e.height)
        #expect(reader.header.colorType.rawValue == UInt8(e.color_type))
        #expect(reader.header.bitDepth == e.bit_depth)
        #expect(reader.header.interlaced == e.interlaced)
        #expect(reader.header.layout.channels == e.channels)
        #expect(reader.header.depth == e.depth)
        // Read in uneven bands to exercise streaming.
        var samples: [Int] = []
        while let band = try reader.readBand(rows: 3) { samples += band.samples }
        let texts = try reader.finish()
        #expect(samples == e.samples)
        #expect(texts.contains { $0.key == "Source" && $0.text == "make_fixtures.py" })
    }

    @Test(arguments: entries)
    func agreesWithLibpngSimplifiedAPI(_ e: Entry) throws {
        let path = fixturesDir + "/" + e.file
        let layout = PixelLayout(channels: e.channels)!
        let ours = try PNGReader.read(path: path)
        // The simplified API premultiplies 16-bit (linear) alpha; compare those premultiplied.
        let theirs = try simpleRead(path, layout: layout, linear16: e.depth == 16)
        var mine = ours.samples
        if e.depth == 16 && layout.hasAlpha {
            let ch = layout.channels
            for p in 0..<(e.width * e.height) {
                let a = mine[p * ch + ch - 1]
                for c in 0..<(ch - 1) { mine[p * ch + c] = (mine[p * ch + c] * a + 32767) / 65535 }
            }
            // libpng rounds its own way: allow one unit.
            #expect(zip(mine, theirs).allSatisfy { abs($0 - $1) <= 1 })
        } else {
            #expect(mine == theirs)
        }
    }
}
