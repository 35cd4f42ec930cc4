import Foundation

/// Text helpers every writer of reports and provenance shares.

/// `s` as a JSON string literal (quotes, backslashes and control characters escaped).
public func jsonQuote(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default: if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
        }
    }
    return out + "\""
}

public func csvField(_ s: String) -> String {
    s.contains(",") || s.contains("\"") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
}

/// FNV-1a, 64-bit: a short stable hash (model files' content in provenance, per-image seeds).
public struct FNV1a {
    public private(set) var value: UInt64
    public init(seed: UInt64 = 0) { value = 0xcbf2_9ce4_8422_2325 ^ seed }
    public mutating func add(_ bytes: some Sequence<UInt8>) {
        for b in bytes { value = (value ^ UInt64(b)) &* 0x100_0000_01b3 }
    }

    /// The same over raw bytes (a model file: megabytes), without a generic iterator.
    public mutating func add(_ bytes: UnsafeRawBufferPointer) {
        var v = value
        for i in 0..<bytes.count { v = (v ^ UInt64(bytes[i])) &* 0x100_0000_01b3 }
        value = v
    }
}
