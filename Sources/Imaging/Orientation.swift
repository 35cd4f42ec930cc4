/// One of the eight ways a raster can be turned and mirrored (the symmetries of a rectangle's
/// grid): optionally transposed (rows become columns), then mirrored left to right and/or upside
/// down. A denoiser's self-ensemble runs the image in several of them and averages the results,
/// each put back the right way (`FloatImage.oriented`, `FloatImage.addOriented`).
public struct Orientation: Sendable, Hashable, CustomStringConvertible {
    public let transposed: Bool
    public let mirrored: Bool
    public let upsideDown: Bool

    public init(transposed: Bool = false, mirrored: Bool = false, upsideDown: Bool = false) {
        (self.transposed, self.mirrored, self.upsideDown) = (transposed, mirrored, upsideDown)
    }

    /// The eight, in the order an ensemble of n takes the first n: as it is, mirrored, upside
    /// down, turned half way round; then the same four transposed.
    public static let all: [Orientation] = (0..<8).map {
        Orientation(transposed: $0 >= 4, mirrored: $0 & 1 != 0, upsideDown: $0 & 2 != 0)
    }

    /// The size of a width x height raster in this orientation.
    public func size(width: Int, height: Int) -> (width: Int, height: Int) {
        transposed ? (height, width) : (width, height)
    }

    /// The pixel of the original (of size width x height) at (x, y) of the oriented raster.
    @inline(__always)
    public func source(x: Int, y: Int, width: Int, height: Int) -> (x: Int, y: Int) {
        let (w, h) = size(width: width, height: height)
        let u = mirrored ? w - 1 - x : x, v = upsideDown ? h - 1 - y : y
        return transposed ? (v, u) : (u, v)
    }

    public var description: String {
        let parts = [transposed ? "transposed" : nil, mirrored ? "mirrored" : nil, upsideDown ? "upside down" : nil].compactMap { $0 }
        return parts.isEmpty ? "as it is" : parts.joined(separator: ", ")
    }
}

extension FloatImage {
    /// Rows `range` of this image turned to `o`, every plane.
    public func oriented(_ o: Orientation, rows range: Range<Int>) -> FloatImage {
        let (w, h) = o.size(width: width, height: height)
        precondition(range.lowerBound >= 0 && range.upperBound <= h, "rows outside the oriented image")
        var out = FloatImage(width: w, height: range.count, channels: channels)
        data.withUnsafeBufferPointer { src in
            out.data.withUnsafeMutableBufferPointer { dst in
                for c in 0..<channels {
                    let plane = src.baseAddress! + c * planeSize
                    for (r, y) in range.enumerated() {
                        let row = dst.baseAddress! + (c * range.count + r) * w
                        for x in 0..<w {
                            let s = o.source(x: x, y: y, width: width, height: height)
                            row[x] = plane[s.y * width + s.x]
                        }
                    }
                }
            }
        }
        return out
    }

    /// The whole image turned to `o`.
    public func oriented(_ o: Orientation) -> FloatImage {
        oriented(o, rows: 0..<o.size(width: width, height: height).height)
    }

    /// Adds `band`, rows [top, top + band.height) of an image of this one's size turned to `o`,
    /// to this image put back the right way: the first `band.channels` planes.
    public mutating func addOriented(_ band: FloatImage, _ o: Orientation, top: Int) {
        let (w, h) = o.size(width: width, height: height)
        precondition(band.width == w && top + band.height <= h && band.channels <= channels, "band does not fit the oriented image")
        let (W, H, P) = (width, height, planeSize)
        band.data.withUnsafeBufferPointer { src in
            data.withUnsafeMutableBufferPointer { dst in
                for c in 0..<band.channels {
                    let plane = dst.baseAddress! + c * P
                    for r in 0..<band.height {
                        let row = src.baseAddress! + (c * band.height + r) * w
                        for x in 0..<w {
                            let s = o.source(x: x, y: top + r, width: W, height: H)
                            plane[s.y * W + s.x] += row[x]
                        }
                    }
                }
            }
        }
    }
}
