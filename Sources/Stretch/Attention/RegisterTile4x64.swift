/// Four rows × 64 lanes of float32 accumulators — sixteen SIMD16 values meant to stay in registers — for
/// the two broadcast-FMA loops of the tiled attention kernel: scores (row scalars are query elements, the
/// vector row is a transposed key row `kT[d][0..<64]`) and P·V (row scalars are probabilities, the vector
/// row is 64 lanes of a value row).
///
/// Every method is `@inline(__always)` so a local `var` of this type is split into registers by the
/// optimizer (checked in the disassembly: no stack traffic in either loop).
struct RegisterTile4x64 {
    /// Whether the sixteen accumulators fit in vector registers: they do in AVX-512's 32 × 512-bit
    /// registers, not in AVX2's 16 × 256-bit ones (32 halves: the compiler kept 24 on the stack, one load
    /// and one store per FMA) nor in NEON's 32 × 128-bit ones. Without it the attention loops take 16
    /// lanes of four rows per pass instead (same per-lane arithmetic, so bit-identical results).
    /// `scripts/swift-flags.sh` defines `STRETCH_AVX512` with an AVX-512 target CPU.
    @inline(__always)
    static var fitsInRegisters: Bool {
        #if STRETCH_AVX512
        true
        #else
        false
        #endif
    }

    var a00 = SIMD16<Float>(), a01 = SIMD16<Float>(), a02 = SIMD16<Float>(), a03 = SIMD16<Float>()
    var a10 = SIMD16<Float>(), a11 = SIMD16<Float>(), a12 = SIMD16<Float>(), a13 = SIMD16<Float>()
    var a20 = SIMD16<Float>(), a21 = SIMD16<Float>(), a22 = SIMD16<Float>(), a23 = SIMD16<Float>()
    var a30 = SIMD16<Float>(), a31 = SIMD16<Float>(), a32 = SIMD16<Float>(), a33 = SIMD16<Float>()

    /// All zero.
    @inline(__always)
    init() {}

    /// Rows loaded from `r0…r3` (64 floats each) and multiplied by `c0…c3` (the online-softmax rescale).
    @inline(__always)
    init(_ r0: UnsafeRawPointer, _ c0: SIMD16<Float>, _ r1: UnsafeRawPointer, _ c1: SIMD16<Float>,
         _ r2: UnsafeRawPointer, _ c2: SIMD16<Float>, _ r3: UnsafeRawPointer, _ c3: SIMD16<Float>) {
        (a00, a01, a02, a03) = Self.load(r0, c0)
        (a10, a11, a12, a13) = Self.load(r1, c1)
        (a20, a21, a22, a23) = Self.load(r2, c2)
        (a30, a31, a32, a33) = Self.load(r3, c3)
    }

    @inline(__always)
    static func load(_ p: UnsafeRawPointer, _ c: SIMD16<Float>)
        -> (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>)
    {
        (p.loadUnaligned(as: SIMD16<Float>.self) * c, p.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self) * c,
         p.loadUnaligned(fromByteOffset: 128, as: SIMD16<Float>.self) * c,
         p.loadUnaligned(fromByteOffset: 192, as: SIMD16<Float>.self) * c)
    }

    /// Row `k` += `b_k` · `v[0..<64]` for the four rows: 4 loads, 4 broadcasts, 16 FMAs.
    @inline(__always)
    mutating func accumulate(_ b0: Float, _ b1: Float, _ b2: Float, _ b3: Float, _ v: UnsafeRawPointer) {
        let v0 = v.loadUnaligned(as: SIMD16<Float>.self)
        let v1 = v.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
        let v2 = v.loadUnaligned(fromByteOffset: 128, as: SIMD16<Float>.self)
        let v3 = v.loadUnaligned(fromByteOffset: 192, as: SIMD16<Float>.self)
        let s0 = SIMD16<Float>(repeating: b0)
        a00 = a00.addingProduct(s0, v0); a01 = a01.addingProduct(s0, v1)
        a02 = a02.addingProduct(s0, v2); a03 = a03.addingProduct(s0, v3)
        let s1 = SIMD16<Float>(repeating: b1)
        a10 = a10.addingProduct(s1, v0); a11 = a11.addingProduct(s1, v1)
        a12 = a12.addingProduct(s1, v2); a13 = a13.addingProduct(s1, v3)
        let s2 = SIMD16<Float>(repeating: b2)
        a20 = a20.addingProduct(s2, v0); a21 = a21.addingProduct(s2, v1)
        a22 = a22.addingProduct(s2, v2); a23 = a23.addingProduct(s2, v3)
        let s3 = SIMD16<Float>(repeating: b3)
        a30 = a30.addingProduct(s3, v0); a31 = a31.addingProduct(s3, v1)
        a32 = a32.addingProduct(s3, v2); a33 = a33.addingProduct(s3, v3)
    }

    /// Stores row `k` (0…3) as 64 floats at `o`.
    @inline(__always)
    func store(row k: Int, to o: UnsafeMutableRawPointer) {
        let r: (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>)
        switch k {
        case 0: r = (a00, a01, a02, a03)
        case 1: r = (a10, a11, a12, a13)
        case 2: r = (a20, a21, a22, a23)
        default: r = (a30, a31, a32, a33)
        }
        o.storeBytes(of: r.0, as: SIMD16<Float>.self)
        o.storeBytes(of: r.1, toByteOffset: 64, as: SIMD16<Float>.self)
        o.storeBytes(of: r.2, toByteOffset: 128, as: SIMD16<Float>.self)
        o.storeBytes(of: r.3, toByteOffset: 192, as: SIMD16<Float>.self)
    }
}
