// Fuzz target: the PNG reader (whole images, row bands with conversions, and the header-only
// path `latent info` takes). Each input is read as it is and, if any chunk's CRC is wrong, again
// with every CRC fixed, so that mutations reach the decoder instead of stopping at the checksum.
//
// Built for libFuzzer by `make fuzz` (-DFUZZING, -sanitize=address,fuzzer); a plain build is a
// replayer (FuzzSupport's driver): `fuzz-png FILE...` runs the same code on files (crash reproduction, regressions).
import Foundation
import FuzzSupport
import PNGIO

/// Small limits, so that valid but large images do not make the fuzzer run out of memory.
let limits = PNGLimits(maxPixels: 1 << 20, maxChunkBytes: 1 << 20, maxAllocBytes: 32 << 20)
let scratch = NSTemporaryDirectory() + "latent-fuzz-png-\(getpid()).png"

func exercise(_ bytes: [UInt8]) {
    guard FileManager.default.createFile(atPath: scratch, contents: Data(bytes)) else { fatalError("cannot write \(scratch)") }
    // Whole image, as delivered.
    _ = try? PNGReader.read(path: scratch, limits: limits)
    // Row bands of a size taken from the input, converted to another layout and depth.
    let salt = bytes.reduce(0) { ($0 &* 31 &+ Int($1)) & 0xffff }
    let layouts: [PixelLayout] = [.gray, .grayAlpha, .rgb, .rgba]
    if let r = try? PNGReader(path: scratch, limits: limits) {
        let rows = 1 + salt % 9
        do {
            while let band = try r.readBand(rows: rows, layout: layouts[salt % 4], depth: salt & 1 == 0 ? 8 : 16) {
                precondition(band.bytes.count == band.width * band.height * band.layout.channels * band.depth / 8)
            }
            _ = try r.finish()
        } catch {}
    }
    // Header and text only (no pixels decoded).
    if let r = try? PNGReader(path: scratch, limits: limits) {
        _ = try? r.finish()
        _ = r.warnings
    }
}

/// The same bytes with every chunk's CRC recomputed (nil when they were all right, or the chunk
/// structure is unreadable).
func withFixedCRCs(_ b: [UInt8]) -> [UInt8]? {
    guard b.count >= 8 else { return nil }
    var out = b
    var i = 8, changed = false
    while i + 12 <= b.count {
        let len = Int(b[i]) << 24 | Int(b[i + 1]) << 16 | Int(b[i + 2]) << 8 | Int(b[i + 3])
        guard len <= b.count - i - 12 else { break }
        let crc = crc32(b[(i + 4)..<(i + 8 + len)])
        let at = i + 8 + len
        let stored = UInt32(b[at]) << 24 | UInt32(b[at + 1]) << 16 | UInt32(b[at + 2]) << 8 | UInt32(b[at + 3])
        if stored != crc {
            changed = true
            for k in 0..<4 { out[at + k] = UInt8(truncatingIfNeeded: crc >> (24 - 8 * UInt32(k))) }
        }
        i += 12 + len
    }
    return changed ? out : nil
}

let crcTable: [UInt32] = (0..<256).map { n -> UInt32 in
    var c = UInt32(n)
    for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    return c
}

func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
    var c: UInt32 = 0xFFFF_FFFF
    for b in bytes { c = crcTable[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
    return c ^ 0xFFFF_FFFF
}

func run(_ bytes: [UInt8]) {
    exercise(bytes)
    if let fixed = withFixedCRCs(bytes) { exercise(fixed) }
}

@main
struct Fuzz {
    static func main() { FuzzDriver.main(scratch: scratch, run: run) }
}
