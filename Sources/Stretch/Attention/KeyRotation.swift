/// The orthonormal Walsh–Hadamard turn applied to keys (and queries) before a block-quantized KV cache.
///
/// Each block of 32 elements along the head, the block size of Q8_0 and Q4_0, is multiplied by
/// `H₃₂ / √32` (Sylvester's Hadamard matrix, symmetric and orthonormal, so it is its own inverse). Queries get
/// the same turn, so `⟨Hq, Hk⟩ = ⟨q, k⟩` and attention is unchanged in exact arithmetic, while a key
/// dimension far larger than the others (Qwen2's keys have such dimensions) is spread over its block instead of
/// setting a scale that rounds every other element of the block to a few levels. Measured on Qwen2.5-0.5B:
/// docs/DESIGN.md, "KV cache storage".
enum KeyRotation {
    /// Turns `n` floats (a multiple of 32) in place, block by block.
    static func apply(_ x: UnsafeMutablePointer<Float>, _ n: Int) {
        let scale = 1 / Float(32).squareRoot()
        var b = 0
        while b < n {
            let v = x + b
            // Fast Walsh–Hadamard transform: five butterfly stages of width 1, 2, 4, 8, 16.
            var h = 1
            while h < 32 {
                var i = 0
                while i < 32 {
                    for j in i..<(i + h) {
                        let a = v[j], c = v[j + h]
                        v[j] = a + c
                        v[j + h] = a - c
                    }
                    i += 2 * h
                }
                h *= 2
            }
            for j in 0..<32 { v[j] *= scale }
            b += 32
        }
    }
}
