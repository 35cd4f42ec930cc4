import Foundation
import Testing
@testable import PNGIO

struct ConversionTests {
    @Test func sixteenToEightRoundsWithoutGammaChange() {
        let all = (0...65535).map { $0 }
        let wide = PNGImage(width: all.count, height: 1, layout: .gray, depth: 16, samples: all)
        let narrow = wide.converted(to: .gray, depth: 8).samples
        for v in all where narrow[v] != Int((Double(v) / 257).rounded()) {
            Issue.record("16-bit \(v) became \(narrow[v]), expected \(Int((Double(v) / 257).rounded()))")
            return
        }
    }

    @Test func eightToSixteenAndBackIsExact() {
        let all = (0...255).map { $0 }
        let img = PNGImage(width: 256, height: 1, layout: .gray, depth: 8, samples: all)
        let wide = img.converted(to: .gray, depth: 16)
        #expect(wide.samples == all.map { $0 * 257 })
        #expect(wide.converted(to: .gray, depth: 8) == img)
    }

    @Test func layoutsMapAsDocumented() {
        let rgba = PNGImage(width: 2, height: 1, layout: .rgba, depth: 8, samples: [255, 0, 0, 10, 10, 20, 30, 200])
        #expect(rgba.converted(to: .rgb, depth: 8).samples == [255, 0, 0, 10, 20, 30])
        // Rec. 709 luma of the stored values: 0.2126·255 = 54.2 → 54; 0.2126·10+0.7152·20+0.0722·30 = 18.6 → 19
        #expect(rgba.converted(to: .gray, depth: 8).samples == [54, 19])
        #expect(rgba.converted(to: .grayAlpha, depth: 8).samples == [54, 10, 19, 200])
        let gray = PNGImage(width: 2, height: 1, layout: .gray, depth: 8, samples: [7, 250])
        #expect(gray.converted(to: .rgba, depth: 8).samples == [7, 7, 7, 255, 250, 250, 250, 255])
        #expect(gray.converted(to: .rgb, depth: 16).samples == [7 * 257, 7 * 257, 7 * 257, 250 * 257, 250 * 257, 250 * 257])
        #expect(gray.converted(to: .grayAlpha, depth: 16).samples == [7 * 257, 65535, 250 * 257, 65535])
    }

    @Test func readerConvertsWhileStreaming() throws {
        let path = fixturesDir + "/c3_d8_trns.png"
        let native = try PNGReader.read(path: path)
        #expect(native.layout == .rgba)
        let gray16 = try PNGReader.read(path: path, layout: .gray, depth: 16)
        #expect(gray16 == native.converted(to: .gray, depth: 16))
    }
}
