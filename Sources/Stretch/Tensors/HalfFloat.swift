/// Conversions between `Float` and the 16-bit float formats stored in GGUF files (IEEE binary16 and bfloat16).
///
/// Inputs and outputs are raw bit patterns because tensor data is read as bytes. Where the platform has
/// `Float16` (x86_64/arm64 Linux, Apple silicon) the hardware/compiler conversion is used: it is exact for
/// every binary16 value, including subnormals, infinities and NaNs, and with F16C (`-target-cpu` x86-64-v3 or
/// later) it lowers to `vcvtph2ps`/`vcvtps2ph`. Elsewhere a bit-manipulation fallback gives identical results.
package enum HalfFloat {
    /// Decodes an IEEE binary16 bit pattern to `Float` (exact; NaN payloads are kept).
    @inline(__always)
    package static func f16ToF32(_ bits: UInt16) -> Float {
        #if (os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64)
        return softF16ToF32(bits)
        #else
        return Float(Float16(bitPattern: bits))
        #endif
    }

    /// Encodes a `Float` as IEEE binary16, rounding to nearest, ties to even; overflow gives ±infinity.
    @inline(__always)
    package static func f32ToF16(_ value: Float) -> UInt16 {
        #if (os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64)
        return softF32ToF16(value)
        #else
        return Float16(value).bitPattern
        #endif
    }

    /// Decodes a bfloat16 bit pattern: bfloat16 is the top half of a binary32, so this is a shift.
    @inline(__always)
    package static func bf16ToF32(_ bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) &<< 16)
    }

    /// Encodes a `Float` as bfloat16, rounding to nearest, ties to even. NaNs stay NaN (quiet bit forced, so
    /// a payload living only in the dropped low bits cannot turn into infinity).
    @inline(__always)
    package static func f32ToBF16(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return UInt16(truncatingIfNeeded: bits &>> 16) | 0x0040 }
        // Adding 0x7FFF plus the lowest kept bit rounds half-way cases toward the even result.
        let rounded = bits &+ 0x7FFF &+ ((bits &>> 16) & 1)
        return UInt16(truncatingIfNeeded: rounded &>> 16)
    }

    /// Portable binary16 → binary32 decoding by bit manipulation (used where `Float16` is unavailable).
    package static func softF16ToF32(_ bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) &<< 16
        let exponent = UInt32(bits &>> 10) & 0x1F
        let mantissa = UInt32(bits & 0x03FF)
        if exponent == 0x1F {  // infinity or NaN: widen the payload
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa &<< 13))
        }
        if exponent == 0 {  // zero or subnormal: value = mantissa * 2^-24, exact in binary32
            let magnitude = Float(mantissa) * 0x1p-24
            return sign != 0 ? -magnitude : magnitude
        }
        // Normal: rebias the exponent from 15 to 127.
        return Float(bitPattern: sign | ((exponent + 112) &<< 23) | (mantissa &<< 13))
    }

    /// Portable binary32 → binary16 encoding, round to nearest even (used where `Float16` is unavailable).
    package static func softF32ToF16(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        let sign = UInt16(truncatingIfNeeded: (bits &>> 16) & 0x8000)
        let magnitude = bits & 0x7FFF_FFFF
        if magnitude >= 0x7F80_0000 {  // infinity or NaN (keep NaN quiet)
            return sign | (magnitude > 0x7F80_0000 ? 0x7E00 | UInt16(truncatingIfNeeded: (magnitude &>> 13) & 0x1FF) : 0x7C00)
        }
        let absValue = Float(bitPattern: magnitude)
        if absValue < 0x1p-14 {
            // Subnormal (or zero) result in units of 2^-24: the scaling is exact, so the only rounding is
            // the explicit nearest-even one.
            let units = (absValue * 0x1p24).rounded(.toNearestOrEven)
            return sign | UInt16(units)  // units == 1024 correctly becomes the smallest normal
        }
        // Normal range: drop 13 mantissa bits with round-to-nearest-even; a carry may bump the exponent,
        // and overflow past 65504 lands on the infinity encoding 0x7C00 naturally.
        let rebased = magnitude &- (112 &<< 23)
        let rounded = rebased &+ 0x0FFF &+ ((rebased &>> 13) & 1)
        let half = rounded &>> 13
        return sign | (half >= 0x7C00 ? 0x7C00 : UInt16(half))
    }
}
