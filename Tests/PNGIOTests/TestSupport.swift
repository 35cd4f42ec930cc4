import CPNG
import Foundation
@testable import PNGIO
import Testing
import TestSupport


/// CRC-32 as PNG uses it (ISO 3309), for building damaged files.
func crc32(_ bytes: some Sequence<UInt8>) -> UInt32 {
    var table = [UInt32](repeating: 0, count: 256)
    for n in 0..<256 {
        var c = UInt32(n)
        for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        table[n] = c
    }
    var crc: UInt32 = 0xFFFF_FFFF
    for b in bytes { crc = table[Int((crc ^ UInt32(b)) & 0xFF)] ^ (crc >> 8) }
    return crc ^ 0xFFFF_FFFF
}

/// A PNG's chunks, for surgery.
struct Chunk {
    var type: String
    var data: [UInt8]
    /// nil: computed when serialised.
    var crc: UInt32?
    /// nil: the data's length.
    var declaredLength: UInt32?

    static func parse(_ file: [UInt8]) -> [Chunk] {
        var out: [Chunk] = []
        var i = 8
        while i + 12 <= file.count {
            let len = Int(be32(file, i))
            let type = String(decoding: file[(i + 4)..<(i + 8)], as: UTF8.self)
            let data = Array(file[(i + 8)..<(i + 8 + len)])
            out.append(Chunk(type: type, data: data, crc: be32(file, i + 8 + len)))
            i += 12 + len
        }
        return out
    }

    static func serialise(_ chunks: [Chunk]) -> [UInt8] {
        var out: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        for c in chunks {
            let typeBytes = Array(c.type.utf8)
            out += bytes32(c.declaredLength ?? UInt32(c.data.count)) + typeBytes + c.data
            out += bytes32(c.crc ?? crc32(typeBytes + c.data))
        }
        return out
    }
}

func be32(_ b: [UInt8], _ i: Int) -> UInt32 {
    UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
}

func bytes32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }

func readBytes(_ path: String) -> [UInt8] { Array(FileManager.default.contents(atPath: path)!) }

/// `TestSupport.writeFile` for the tests that build damaged files byte by byte: a file that could
/// not be written is recorded as the test's failure.
func writeBytes(_ bytes: [UInt8], _ path: String) {
    #expect(throws: Never.self, "could not write \(path)") { try writeFile(path, Data(bytes)) }
}

/// A deterministic pseudo-random sequence for test images.
struct TestRNG {
    var state: UInt64
    mutating func next(_ bound: Int) -> Int {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Int((state >> 33) % UInt64(bound))
    }
}

/// Decodes `path` with libpng's simplified API (png_image_*): an independent path through libpng.
func simpleRead(_ path: String, layout: PixelLayout, linear16: Bool) throws -> [Int] {
    var w: UInt32 = 0, h: UInt32 = 0
    var msg = [CChar](repeating: 0, count: 256)
    guard cpng_simple_read(path, 0, 0, nil, 0, &w, &h, &msg, msg.count) == CPNG_OK else {
        throw PNGError.corrupt(file: path, reason: cMessage(msg))
    }
    let count = Int(w) * Int(h) * layout.channels
    var buf = [UInt8](repeating: 0, count: count * (linear16 ? 2 : 1))
    let code = cpng_simple_read(path, Int32(layout.rawValue - 1), linear16 ? 1 : 0, &buf, buf.count, &w, &h, &msg, msg.count)
    guard code == CPNG_OK else { throw PNGError.corrupt(file: path, reason: cMessage(msg)) }
    if !linear16 { return buf.map(Int.init) }
    return buf.withUnsafeBytes { raw in (0..<count).map { Int(raw.load(fromByteOffset: 2 * $0, as: UInt16.self)) } }
}

/// The fixtures folder shipped with the tests.
var fixturesDir: String { Bundle.module.resourcePath! + "/Fixtures" }
