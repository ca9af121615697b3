/// Load/store and the two inner products of attention for one KV storage format.
///
/// The attention kernel is generic over this protocol inside the module, so each format gets its own
/// specialized loop (no per-element branching or dynamic dispatch).
package protocol KVElement {
    /// Dot product of a float32 query with a stored key of `n` elements.
    static func dot(_ q: UnsafePointer<Float>, _ k: UnsafeRawPointer, _ n: Int) -> Float
    /// `y += a · v` for a stored value of `n` elements.
    static func axpy(_ a: Float, _ v: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>, _ n: Int)
    /// Stores `n` float32 values.
    static func store(_ x: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, _ n: Int)
    /// Loads `n` values as float32.
    static func load(_ src: UnsafeRawPointer, _ x: UnsafeMutablePointer<Float>, _ n: Int)
    /// Sixteen values starting at element `offset`, as float32 (the tiled attention kernel's only
    /// format-dependent step).
    static func load16(_ src: UnsafeRawPointer, _ offset: Int) -> SIMD16<Float>
    /// The first eight values as float32 (head dimension 8: stories260K).
    static func load8(_ src: UnsafeRawPointer) -> SIMD8<Float>
}

extension KVElement {
    /// Widens `n` values (a multiple of 16) to float32.
    @inline(__always)
    static func widen(_ src: UnsafeRawPointer, _ x: UnsafeMutablePointer<Float>, _ n: Int) {
        let rx = UnsafeMutableRawPointer(x)
        var i = 0
        while i < n {
            rx.storeBytes(of: load16(src, i), toByteOffset: 4 * i, as: SIMD16<Float>.self)
            i += 16
        }
    }
}

/// float32 storage.
enum F32Element: KVElement {
    @inline(__always)
    static func dot(_ q: UnsafePointer<Float>, _ k: UnsafeRawPointer, _ n: Int) -> Float {
        // Small heads (stories260K: 8) would otherwise fall entirely into the scalar tail.
        if n == 8 {
            let a = UnsafeRawPointer(q).loadUnaligned(as: SIMD8<Float>.self)
            return (a * k.loadUnaligned(as: SIMD8<Float>.self)).sum()
        }
        return VectorOps.dot(q, k.assumingMemoryBound(to: Float.self), n)
    }

    @inline(__always)
    static func axpy(_ a: Float, _ v: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        if n == 8 {
            let ry = UnsafeMutableRawPointer(y)
            let r = ry.loadUnaligned(as: SIMD8<Float>.self).addingProduct(SIMD8(repeating: a), v.loadUnaligned(as: SIMD8<Float>.self))
            ry.storeBytes(of: r, as: SIMD8<Float>.self)
            return
        }
        VectorOps.axpy(a, v.assumingMemoryBound(to: Float.self), y, n)
    }

    @inline(__always)
    static func store(_ x: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, _ n: Int) {
        dst.assumingMemoryBound(to: Float.self).update(from: x, count: n)
    }

    @inline(__always)
    static func load(_ src: UnsafeRawPointer, _ x: UnsafeMutablePointer<Float>, _ n: Int) {
        x.update(from: src.assumingMemoryBound(to: Float.self), count: n)
    }

    @inline(__always)
    static func load16(_ src: UnsafeRawPointer, _ offset: Int) -> SIMD16<Float> {
        src.loadUnaligned(fromByteOffset: 4 * offset, as: SIMD16<Float>.self)
    }

    @inline(__always)
    static func load8(_ src: UnsafeRawPointer) -> SIMD8<Float> {
        src.loadUnaligned(as: SIMD8<Float>.self)
    }
}

/// IEEE binary16 storage, widened to float32 sixteen lanes at a time (F16C `vcvtph2ps` on x86).
enum F16Element: KVElement {
    @inline(__always)
    static func dot(_ q: UnsafePointer<Float>, _ k: UnsafeRawPointer, _ n: Int) -> Float {
        #if (os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64)
        var s: Float = 0
        for i in 0..<n { s += q[i] * HalfFloat.f16ToF32(k.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
        return s
        #else
        let rq = UnsafeRawPointer(q)
        if n == 8 {
            return (rq.loadUnaligned(as: SIMD8<Float>.self) * SIMD8<Float>(k.loadUnaligned(as: SIMD8<Float16>.self))).sum()
        }
        var a0 = SIMD16<Float>(), a1 = SIMD16<Float>()
        var i = 0
        while i + 32 <= n {
            a0 = a0.addingProduct(rq.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self),
                                  SIMD16<Float>(k.loadUnaligned(fromByteOffset: 2 * i, as: SIMD16<Float16>.self)))
            a1 = a1.addingProduct(rq.loadUnaligned(fromByteOffset: 4 * i + 64, as: SIMD16<Float>.self),
                                  SIMD16<Float>(k.loadUnaligned(fromByteOffset: 2 * i + 32, as: SIMD16<Float16>.self)))
            i += 32
        }
        while i + 16 <= n {
            a0 = a0.addingProduct(rq.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self),
                                  SIMD16<Float>(k.loadUnaligned(fromByteOffset: 2 * i, as: SIMD16<Float16>.self)))
            i += 16
        }
        var s = (a0 + a1).sum()
        while i < n {
            s += q[i] * Float(k.loadUnaligned(fromByteOffset: 2 * i, as: Float16.self))
            i += 1
        }
        return s
        #endif
    }

    @inline(__always)
    static func axpy(_ a: Float, _ v: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        #if (os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64)
        for i in 0..<n { y[i] += a * HalfFloat.f16ToF32(v.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
        #else
        let ry = UnsafeMutableRawPointer(y)
        if n == 8 {
            let r = ry.loadUnaligned(as: SIMD8<Float>.self)
                .addingProduct(SIMD8(repeating: a), SIMD8<Float>(v.loadUnaligned(as: SIMD8<Float16>.self)))
            ry.storeBytes(of: r, as: SIMD8<Float>.self)
            return
        }
        let va = SIMD16<Float>(repeating: a)
        var i = 0
        while i + 16 <= n {
            let x = SIMD16<Float>(v.loadUnaligned(fromByteOffset: 2 * i, as: SIMD16<Float16>.self))
            let r = ry.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self).addingProduct(va, x)
            ry.storeBytes(of: r, toByteOffset: 4 * i, as: SIMD16<Float>.self)
            i += 16
        }
        while i < n {
            y[i] += a * Float(v.loadUnaligned(fromByteOffset: 2 * i, as: Float16.self))
            i += 1
        }
        #endif
    }

    @inline(__always)
    static func store(_ x: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, _ n: Int) {
        for i in 0..<n { dst.storeBytes(of: HalfFloat.f32ToF16(x[i]), toByteOffset: 2 * i, as: UInt16.self) }
    }

    @inline(__always)
    static func load(_ src: UnsafeRawPointer, _ x: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { x[i] = HalfFloat.f16ToF32(src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
    }

    @inline(__always)
    static func load8(_ src: UnsafeRawPointer) -> SIMD8<Float> {
        #if (os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64)
        var r = SIMD8<Float>()
        for l in 0..<8 { r[l] = HalfFloat.f16ToF32(src.loadUnaligned(fromByteOffset: 2 * l, as: UInt16.self)) }
        return r
        #else
        let h = src.loadUnaligned(as: SIMD8<Float16>.self)
        var r = SIMD8<Float>()
        for l in 0..<8 { r[l] = Float(h[l]) }
        return r
        #endif
    }

    @inline(__always)
    static func load16(_ src: UnsafeRawPointer, _ offset: Int) -> SIMD16<Float> {
        #if (os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64)
        var r = SIMD16<Float>()
        for l in 0..<16 { r[l] = HalfFloat.f16ToF32(src.loadUnaligned(fromByteOffset: 2 * (offset + l), as: UInt16.self)) }
        return r
        #else
        // Lane by lane with the concrete Float16 → Float conversion: compiles to one vcvtph2ps, while the
        // generic `SIMD16<Float>(SIMD16<Float16>)` initializer ends in a call per vector.
        let h = src.loadUnaligned(fromByteOffset: 2 * offset, as: SIMD16<Float16>.self)
        var r = SIMD16<Float>()
        for l in 0..<16 { r[l] = Float(h[l]) }
        return r
        #endif
    }
}
