import Foundation
import StretchKernelsC

/// The int8 prefill product (`stretch_gemm_q8`): several tokens on `.auto` against Q8_0, Q5_0, Q4_K or
/// Q6_K weights.
///
/// The activations of all tokens are quantized to Q8 blocks once per product (as decode quantizes its one
/// vector) and laid out in groups of 8 tokens; the weights are unpacked 16 rows at a time to unsigned
/// bytes in a layout `vpdpbusd` streams (per 4 columns, 16 rows in one register), used for every token and
/// dropped — no repacked copy of the model is kept. See docs/DESIGN.md, "Kernels" (int8 prefill).
package enum Int8Gemm {
    /// `false` keeps prefill on the float32 panel GEMM for every format (A/B measurements), read once
    /// from the environment: `STRETCH_INT8_PREFILL=0`.
    package static let enabled: Bool = {
        if let v = getenv("STRETCH_INT8_PREFILL"), String(cString: v) == "0" { return false }
        return true
    }()

    /// Whether a product of `tokens` tokens with `ws` takes the int8 GEMM: `.auto`, at least
    /// ``MatMul/panelMinTokens`` tokens, and every matrix in a format the C kernel serves at this CPU's
    /// level (AVX-512 VNNI: Q8_0, Q5_0, Q4_K, Q6_K; AVX2: not Q8_0; portable scalar: none, slower than
    /// the float GEMM).
    static func serves(_ ws: [WeightMatrix], tokens: Int, precision: ComputePrecision) -> Bool {
        guard enabled, precision == .auto, tokens >= MatMul.panelMinTokens, stretch_kernels_level() > 0 else {
            return false
        }
        return ws.allSatisfy { w in
            guard let kind = IntegerDot.cKind(w.type) else { return false }
            return w.columns % 32 == 0 && stretch_gemm_q8_supports(kind) != 0
        }
    }

    /// `tokens` activation vectors quantized to Q8 and laid out for the kernel; the caller calls
    /// ``deallocate()``.
    package struct Activations {
        /// Values per token.
        package let columns: Int
        /// Tokens.
        package let tokens: Int
        /// The kernel's layout (`stretch_gemm_q8_prepare`).
        package let prepared: UnsafeMutableRawPointer

        /// Quantizes `x[t * columns ..< (t + 1) * columns]` for `t < tokens` (`columns` a multiple of 32).
        /// - Complexity: O(tokens · columns).
        package init(_ x: UnsafePointer<Float>, tokens: Int, columns: Int) {
            self.columns = columns
            self.tokens = tokens
            let q = Q8Activations(count: tokens * columns)
            defer { q.deallocate() }
            q.quantize(x)
            prepared = .allocate(byteCount: max(1, stretch_gemm_q8_activation_bytes(columns, tokens)), alignment: 64)
            var view = StretchQ8(quants: q.quants, scales: q.scales, sums: q.sums, sums16: q.sums16, count: columns)
            stretch_gemm_q8_prepare(&view, tokens, prepared)
        }

        /// Frees the buffer.
        package func deallocate() { prepared.deallocate() }
    }

    /// Scratch for ``product(_:_:_:_:_:ldy:scratch:)`` (one unpacked weight panel), per thread.
    static func allocateScratch(columns: Int) -> UnsafeMutableRawPointer {
        .allocate(byteCount: stretch_gemm_q8_scratch_bytes(columns), alignment: 64)
    }

    /// `y[t * ldy + r] = dot(x[t], W[r])` for rows `lo..<hi` of `w` and every token of `x` (`y` points at
    /// row 0, token 0).
    /// - Complexity: O(tokens · (hi − lo) · columns).
    package static func product(
        _ w: WeightMatrix, _ lo: Int, _ hi: Int, _ x: Activations, _ y: UnsafeMutablePointer<Float>, ldy: Int,
        scratch: UnsafeMutableRawPointer
    ) {
        guard hi > lo, let kind = IntegerDot.cKind(w.type) else { return }
        stretch_gemm_q8(kind, w.row(lo), w.rowBytes, hi - lo, x.prepared, x.columns, x.tokens, y + lo, ldy, scratch)
    }
}
