import Stretch

/// Random test inputs: raw blocks with valid finite scale fields, and float vectors.
enum TestData {
    /// The C kernel levels this CPU has (0 scalar, 1 AVX2, 2 AVX-512 VNNI), lowest first.
    static var cLevels: [Int] {
        let saved = IntegerDot.cLevel
        defer { IntegerDot.cLevel = saved }
        IntegerDot.cLevel = 99  // clamped to the highest supported level
        return Array(0...IntegerDot.cLevel)
    }

    /// Runs `body(level)` with the C kernels forced to each level in ``cLevels``, then restores the level.
    static func forEachCLevel(_ body: (Int) throws -> Void) rethrows {
        let saved = IntegerDot.cLevel
        defer { IntegerDot.cLevel = saved }
        for level in cLevels {
            IntegerDot.cLevel = level
            try body(level)
        }
    }

    /// Byte offsets of the f16 scale fields inside one block of `type` (empty for float formats).
    static func scaleOffsets(_ type: GGMLType) -> [Int] {
        switch type {
        case .f32, .f16, .bf16: return []
        case .q4_0, .q5_0, .q8_0: return [0]
        case .q4_1, .q5_1, .q4_K, .q5_K: return [0, 2]
        case .q6_K: return [208]
        case .q2_K: return [80, 82]
        case .q3_K: return [108]
        case .iq4_nl, .iq4_xs: return [0]
        }
    }

    /// A random f16 bit pattern in [-2, 2]; one in eight is a subnormal or zero, to cover those paths.
    static func randomScale<G: RandomNumberGenerator>(_ g: inout G) -> UInt16 {
        if UInt8.random(in: 0..<8, using: &g) == 0 {
            return UInt16.random(in: 0..<0x400, using: &g) | (Bool.random(using: &g) ? 0x8000 : 0)
        }
        return HalfFloat.f32ToF16(Float.random(in: -2...2, using: &g))
    }

    /// `count` elements of random raw blocks of `type` with every f16 scale field valid and finite.
    static func randomRow<G: RandomNumberGenerator>(_ type: GGMLType, count: Int, _ g: inout G) -> [UInt8] {
        var bytes = (0..<type.rowBytes(count)).map { _ in UInt8.random(in: 0...255, using: &g) }
        for blk in 0..<(count / type.blockSize) {
            for off in scaleOffsets(type) {
                let bits = randomScale(&g), at = blk * type.blockBytes + off
                bytes[at] = UInt8(bits & 0xFF)
                bytes[at + 1] = UInt8(bits >> 8)
            }
        }
        return bytes
    }

    /// Random floats uniformly in `range`.
    static func floats<G: RandomNumberGenerator>(_ n: Int, _ range: ClosedRange<Float>, _ g: inout G) -> [Float] {
        (0..<n).map { _ in Float.random(in: range, using: &g) }
    }

    /// Runs `Dequantize.row` on `bytes` and returns the floats.
    static func dequantize(_ type: GGMLType, _ bytes: [UInt8], count: Int) -> [Float] {
        var out = [Float](repeating: .nan, count: count)
        bytes.withUnsafeBytes { src in
            out.withUnsafeMutableBufferPointer { Dequantize.row(type, src.baseAddress!, $0.baseAddress!, count: count) }
        }
        return out
    }

    /// Runs `QuantizedDot.dot` on `bytes` and `x`.
    static func dot(_ type: GGMLType, _ bytes: [UInt8], _ x: [Float], strategy: QuantizedDot.Strategy = .automatic) -> Float {
        bytes.withUnsafeBytes { src in
            x.withUnsafeBufferPointer { QuantizedDot.dot(type, src.baseAddress!, $0.baseAddress!, count: x.count, strategy: strategy) }
        }
    }
}

/// Small deterministic generator (SplitMix64) so failures reproduce.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
