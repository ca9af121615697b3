extension VectorOps {
    /// `e^x` for sixteen lanes at once, within about 2 ulp of `expf` over the whole float range.
    ///
    /// `x = n·ln2 + r` with `n` the nearest integer to `x/ln2` and `|r| ≤ ln2/2` (ln2 split in a high and
    /// a low part so `r` keeps full precision), `e^r` by its Taylor polynomial of degree 7 (truncation
    /// below 6e-9 relative), and `2^n` built from exponent bits as two factors `2^⌊n/2⌋ · 2^(n−⌊n/2⌋)`,
    /// so results in the subnormal range and overflow to +inf come out as `expf`'s do. Inputs are first
    /// clamped to [−105, 89]: below −104 the result rounds to 0 (−inf → 0), above 88.8 it is +inf.
    /// NaN stays NaN (the clamps keep a NaN operand).
    ///
    /// Written with lane-wise operations only, so it compiles to straight-line vector code (no calls,
    /// no per-lane branches); used by the attention softmax.
    /// - Complexity: O(1), about 20 vector instructions.
    @inline(__always)
    package static func exp(_ x: SIMD16<Float>) -> SIMD16<Float> {
        let lo = SIMD16<Float>(repeating: -105), hi = SIMD16<Float>(repeating: 89)
        // `replacing(where: a .> b)` in this form compiles to vmaxps/vminps; pointwiseMax does not.
        var v = x.replacing(with: lo, where: lo .> x)
        v = v.replacing(with: hi, where: v .> hi)
        // Round v/ln2 to the nearest integer with the 1.5·2^23 trick: its low mantissa bits then hold n.
        let magic = SIMD16<Float>(repeating: 12_582_912)
        let t = magic.addingProduct(v, SIMD16(repeating: 1.442_695_02))
        let n = t - magic
        let ln2Hi: Float = 0.693_147_182_464_599_6
        let ln2Lo: Float = -1.904_654_212_125_933_6e-09
        var r = v.addingProduct(n, SIMD16(repeating: -ln2Hi))
        r = r.addingProduct(n, SIMD16(repeating: -ln2Lo))
        var p = SIMD16<Float>(repeating: 1 / 720).addingProduct(SIMD16(repeating: 1 / 5040), r)
        p = SIMD16<Float>(repeating: 1 / 120).addingProduct(p, r)
        p = SIMD16<Float>(repeating: 1 / 24).addingProduct(p, r)
        p = SIMD16<Float>(repeating: 1 / 6).addingProduct(p, r)
        p = SIMD16<Float>(repeating: 0.5).addingProduct(p, r)
        p = SIMD16<Float>(repeating: 1).addingProduct(p, r)
        p = SIMD16<Float>(repeating: 1).addingProduct(p, r)
        let ni = unsafeBitCast(t, to: SIMD16<Int32>.self) &- 0x4B40_0000
        let h = ni &>> 1
        let s1 = unsafeBitCast((h &+ 127) &<< 23, to: SIMD16<Float>.self)
        let s2 = unsafeBitCast((ni &- h &+ 127) &<< 23, to: SIMD16<Float>.self)
        return p * s1 * s2
    }
}
