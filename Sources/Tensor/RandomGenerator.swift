/// The one seeded generator that threads through initialisation, shuffling and noise.
/// xoshiro256** (Blackman & Vigna), seeded through splitmix64; normals by Box-Muller.
public struct RandomGenerator: RandomNumberGenerator, Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)
    private var spareNormal: Float?

    public init(seed: UInt64) {
        var x = seed
        func splitmix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (splitmix(), splitmix(), splitmix(), splitmix())
    }

    public mutating func next() -> UInt64 {
        let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = (s.3 << 45) | (s.3 >> 19)
        return result
    }

    /// Uniform in [0, 1).
    public mutating func uniform() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// Standard normal N(0, 1).
    public mutating func normal() -> Float {
        if let z = spareNormal {
            spareNormal = nil
            return z
        }
        var u1: Float
        repeat { u1 = uniform() } while u1 <= 0
        let u2 = uniform()
        let r = (-2 * logf(u1)).squareRoot()
        let theta = 2 * Float.pi * u2
        spareNormal = r * sinf(theta)
        return r * cosf(theta)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
