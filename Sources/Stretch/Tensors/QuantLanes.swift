/// Small SIMD building blocks shared by ``Dequantize`` and ``QuantizedDot``.
///
/// Everything is `@inline(__always)` and works on 16 lanes, which maps to one AVX-512 register of floats
/// (or two AVX2 registers). Integer → float conversion uses the "magic number" trick: OR-ing a small
/// unsigned integer into the mantissa of 2^23 gives exactly 2^23 + q, so subtracting (2^23 + bias) yields
/// `Float(q) - bias` exactly, with only bitwise ops and one subtraction (no generic conversion code).
@usableFromInline
enum QuantLanes {
    /// 16 unaligned floats starting at `p` (float pointers from callers need not be 64-byte aligned).
    @inline(__always) @usableFromInline
    static func floats(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
    }

    /// Stores 16 floats at `p` without alignment requirements.
    @inline(__always) @usableFromInline
    static func store(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
    }

    /// 16 unaligned bytes at `base + offset`, each zero-extended to a 32-bit lane.
    ///
    /// Bit twiddling is then done on 32-bit lanes because x86 has no byte shifts. Spelled out lane by lane
    /// from memory so LLVM emits one `vpmovzxbd` with a memory operand; the generic
    /// `SIMD16<UInt32>(truncatingIfNeeded:)` is not inlined and costs a call per vector.
    @inline(__always) @usableFromInline
    static func wideBytes(_ base: UnsafeRawPointer, _ offset: Int) -> SIMD16<UInt32> {
        let p = (base + offset).assumingMemoryBound(to: UInt8.self)
        return SIMD16<UInt32>(UInt32(p[0]), UInt32(p[1]), UInt32(p[2]), UInt32(p[3]),
                              UInt32(p[4]), UInt32(p[5]), UInt32(p[6]), UInt32(p[7]),
                              UInt32(p[8]), UInt32(p[9]), UInt32(p[10]), UInt32(p[11]),
                              UInt32(p[12]), UInt32(p[13]), UInt32(p[14]), UInt32(p[15]))
    }

    /// 16 unaligned little-endian UInt16 at `base + offset`, each zero-extended to a 32-bit lane.
    @inline(__always) @usableFromInline
    static func wideHalves(_ base: UnsafeRawPointer, _ offset: Int) -> SIMD16<UInt32> {
        func h(_ i: Int) -> UInt32 { UInt32(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: offset + 2 * i, as: UInt16.self))) }
        return SIMD16<UInt32>(h(0), h(1), h(2), h(3), h(4), h(5), h(6), h(7),
                              h(8), h(9), h(10), h(11), h(12), h(13), h(14), h(15))
    }

    /// `Float(q) - bias` for unsigned lanes `q < 2^23` and small integral `bias` (exact, see type comment).
    @inline(__always) @usableFromInline
    static func toFloat(_ q: SIMD16<UInt32>, minus bias: Float) -> SIMD16<Float> {
        let shifted = unsafeBitCast(q | 0x4B00_0000, to: SIMD16<Float>.self)
        return shifted - (8_388_608 + bias)
    }

    /// Signed bytes (raw bits zero-extended to 32-bit lanes) to float: flipping the sign bit maps
    /// int8 q to unsigned q + 128.
    @inline(__always) @usableFromInline
    static func int8ToFloat(_ raw: SIMD16<UInt32>) -> SIMD16<Float> {
        toFloat(raw ^ 0x80, minus: 128)
    }

    /// Lane indices 0...15, used to pick per-lane bits out of Q5 high-bit masks.
    @inline(__always) @usableFromInline
    static var laneIndex: SIMD16<UInt32> {
        SIMD16<UInt32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
    }

    /// The 5th quant bit (value 0 or 16) for elements `first ..< first + 16` of a Q5_0/Q5_1 block:
    /// element j takes bit j of the 32-bit little-endian `qh`.
    @inline(__always) @usableFromInline
    static func q5HighBits(_ qh: UInt32, first: UInt32) -> SIMD16<UInt32> {
        ((SIMD16<UInt32>(repeating: qh) &>> (laneIndex &+ first)) & 1) &<< 4
    }

    /// Reads a little-endian binary16 at `base + offset` as Float.
    @inline(__always) @usableFromInline
    static func half(_ base: UnsafeRawPointer, _ offset: Int) -> Float {
        HalfFloat.f16ToF32(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
    }

    /// Scale and min of sub-block `j` (0..<8) from the 12-byte packed 6-bit table of Q4_K/Q5_K:
    /// bytes 0-3 hold scales 0-3 (low 6 bits), bytes 4-7 mins 0-3; bytes 8-11 hold the low nibbles of
    /// scales 4-7 and (high nibble) mins 4-7, whose top 2 bits sit in the spare top bits of bytes 0-7.
    @inline(__always) @usableFromInline
    static func scaleMinK4(_ table: UnsafeRawPointer, _ j: Int) -> (scale: UInt8, min: UInt8) {
        let t = table.assumingMemoryBound(to: UInt8.self)
        if j < 4 {
            return (t[j] & 63, t[j + 4] & 63)
        }
        let scale = (t[j + 4] & 0x0F) | ((t[j - 4] &>> 6) &<< 4)
        let min = (t[j + 4] &>> 4) | ((t[j] &>> 6) &<< 4)
        return (scale, min)
    }

    /// Signed 6-bit scale of sub-block `i` (0..<16) from the 12-byte Q3_K table: its low nibble is the
    /// low (i < 8) or high (i >= 8) nibble of byte i % 8, its top 2 bits are bits 2(i / 4), 2(i / 4) + 1 of
    /// byte 8 + i % 4; the stored value is offset by 32.
    @inline(__always) @usableFromInline
    static func scaleK3(_ table: UnsafeRawPointer, _ i: Int) -> Int {
        let t = table.assumingMemoryBound(to: UInt8.self)
        let low = i < 8 ? t[i] & 0x0F : t[i - 8] >> 4
        let high = (t[8 + i % 4] >> UInt8(2 * (i / 4))) & 3
        return Int(low | high << 4) - 32
    }
}
