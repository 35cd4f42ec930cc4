import Testing
@testable import Imaging

struct OrientationTests {
    /// A 5x3 two-plane image whose every sample is distinct.
    static let img = FloatImage(width: 5, height: 3, channels: 2, data: (0..<30).map(Float.init))

    /// The eight orientations, written out pixel by pixel: as it is, mirrored, upside down, both;
    /// the same four transposed.
    @Test func theEightOrientationsAreTheSymmetriesOfTheGrid() {
        let (w, h) = (5, 3)
        let img = Self.img
        let expected: [(Int, Int, Int, Int) -> Float] = [
            { x, y, c, _ in img[x: x, y: y, c: c] },
            { x, y, c, _ in img[x: w - 1 - x, y: y, c: c] },
            { x, y, c, _ in img[x: x, y: h - 1 - y, c: c] },
            { x, y, c, _ in img[x: w - 1 - x, y: h - 1 - y, c: c] },
            { x, y, c, _ in img[x: y, y: x, c: c] },
            { x, y, c, _ in img[x: y, y: h - 1 - x, c: c] },    // transposed (3 wide, 5 high), then mirrored
            { x, y, c, _ in img[x: w - 1 - y, y: x, c: c] },
            { x, y, c, _ in img[x: w - 1 - y, y: h - 1 - x, c: c] },
        ]
        var seen = Set<[Float]>()
        for (k, o) in Orientation.all.enumerated() {
            let t = Self.img.oriented(o)
            #expect((t.width, t.height) == (k < 4 ? (5, 3) : (3, 5)), "\(o)")
            for c in 0..<2 { for y in 0..<t.height { for x in 0..<t.width { #expect(t[x: x, y: y, c: c] == expected[k](x, y, c, 0), "\(o) at \(x),\(y)") } } }
            #expect(t.data.sorted() == Self.img.data.sorted())
            seen.insert(t.data)
            // A band of rows is those rows of the whole.
            #expect(Self.img.oriented(o, rows: 1..<3) == t.rows(1..<3))
        }
        #expect(seen.count == 8)
    }

    /// Adding an oriented image back, whole or band by band, puts every sample where it came from.
    @Test func addingBackUndoesTheOrientation() {
        for o in Orientation.all {
            let t = Self.img.oriented(o)
            var whole = FloatImage(width: 5, height: 3, channels: 2), banded = whole
            whole.addOriented(t, o, top: 0)
            #expect(whole == Self.img, "\(o)")
            var top = 0
            for n in [2, 1, t.height - 3] {
                banded.addOriented(t.rows(top..<(top + n)), o, top: top)
                top += n
            }
            #expect(banded == Self.img, "\(o) in bands")
            // It adds: twice is double.
            whole.addOriented(t, o, top: 0)
            #expect(whole.data == Self.img.data.map { 2 * $0 })
        }
    }
}
