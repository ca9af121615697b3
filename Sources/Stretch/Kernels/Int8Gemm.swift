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
    /// ``MatMul/panelMinTokens`` tokens, every matrix in a format where int8 was measured to pay at this
    /// CPU's level (docs/DESIGN.md, "Kernels"): AVX-512 VNNI, Q8_0, Q5_0, Q4_K and Q6_K (2.1–2.9× the float
    /// GEMM); AVX2, Q5_0 only (its activation quantization is scalar, which leaves Q4_K and Q6_K even with
    /// the float GEMM); portable scalar, none.
    static func serves(_ ws: [WeightMatrix], tokens: Int, precision: ComputePrecision) -> Bool {
        guard enabled, precision == .auto, tokens >= MatMul.panelMinTokens else { return false }
        let level = stretch_kernels_level()
        return ws.allSatisfy { w in
            guard w.columns % 32 == 0, let kind = IntegerDot.cKind(w.type), stretch_gemm_q8_supports(kind) != 0 else {
                return false
            }
            switch level {
            case 2: return true
            case 1: return w.type == .q5_0
            default: return false
            }
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

        /// Quantizes `x[t * columns ..< (t + 1) * columns]` for `t < tokens` (`columns` a multiple of 32),
        /// groups of 8 tokens split across `workers` when given (serially this was ~30% of the product's time).
        /// - Complexity: O(tokens · columns).
        package init(_ x: UnsafePointer<Float>, tokens: Int, columns: Int, workers: WorkerPool? = nil) {
            self.columns = columns
            self.tokens = tokens
            prepared = .allocate(byteCount: max(1, stretch_gemm_q8_activation_bytes(columns, tokens)), alignment: 64)
            let groupBytes = stretch_gemm_q8_activation_bytes(columns, 8)
            let prepared = prepared
            /// Quantizes and lays out tokens `8 · g0 ..< min(8 · g1, tokens)`.
            func prepare(_ g0: Int, _ g1: Int) {
                let t0 = 8 * g0, n = min(8 * g1, tokens) - t0
                let q = Q8Activations(count: n * columns)
                defer { q.deallocate() }
                q.quantize(x + t0 * columns)
                var view = IntegerDot.cView(q)
                view.count = columns
                stretch_gemm_q8_prepare(&view, n, prepared + g0 * groupBytes)
            }
            let groups = (tokens + 7) / 8
            if let workers {
                Parallel.forRanges(groups, workers: workers) { g0, g1 in prepare(g0, g1) }
            } else {
                prepare(0, groups)
            }
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
