// aarch64 NEON versions of the panel GEMM and packing, included by gemm.c on aarch64 only (not a public
// header). Float FMA is baseline NEON, so every ARM level (1-3) runs the same code; dotprod and i8mm are
// integer instructions and do not apply to this float product.
//
// Tile: 5 tokens × 16 rows (half a panel) = 20 accumulators of the 32 vector registers, 4 weight vectors
// and 5 activation vectors (four k at a time, one `fmla` by element per k). Each output is one FMA chain
// over k in order, as the scalar loop compiles with FMA contraction (the default of GCC and Clang on
// aarch64), so the results are bit-identical to gemm_scalar there. Speed not measured on ARM hardware.

#include <arm_neon.h>

#define GEMM_NEON_STEP(T, L)                                                                                \
    do {                                                                                                   \
        const float *pw = panel + 32 * (k + (L)) + r0;                                                     \
        float32x4_t w0 = vld1q_f32(pw), w1 = vld1q_f32(pw + 4), w2 = vld1q_f32(pw + 8), w3 = vld1q_f32(pw + 12); \
        _Pragma("GCC unroll 8") for (int t = 0; t < T; t++) {                                             \
            a[t][0] = vfmaq_laneq_f32(a[t][0], w0, xv[t], (L));                                           \
            a[t][1] = vfmaq_laneq_f32(a[t][1], w1, xv[t], (L));                                           \
            a[t][2] = vfmaq_laneq_f32(a[t][2], w2, xv[t], (L));                                           \
            a[t][3] = vfmaq_laneq_f32(a[t][3], w3, xv[t], (L));                                           \
        }                                                                                                  \
    } while (0)

// Rows r0 ... r0 + 15 of the panel for T tokens; writes the first `n` (≤ 16) of them.
#define GEMM_NEON(T)                                                                                        \
    static void gemm_neon_t##T(const float *panel, long cols, const float *x, long ldx, float *y, long ldy,  \
                               int r0, int n) {                                                             \
        float32x4_t a[T][4];                                                                                \
        _Pragma("GCC unroll 8") for (int t = 0; t < T; t++) a[t][0] = a[t][1] = a[t][2] = a[t][3] = vdupq_n_f32(0); \
        long k = 0;                                                                                         \
        for (; k + 4 <= cols; k += 4) {                                                                     \
            float32x4_t xv[T];                                                                              \
            _Pragma("GCC unroll 8") for (int t = 0; t < T; t++) xv[t] = vld1q_f32(x + t * ldx + k);         \
            GEMM_NEON_STEP(T, 0);                                                                              \
            GEMM_NEON_STEP(T, 1);                                                                              \
            GEMM_NEON_STEP(T, 2);                                                                              \
            GEMM_NEON_STEP(T, 3);                                                                              \
        }                                                                                                   \
        for (; k < cols; k++) {                                                                             \
            const float *pw = panel + 32 * k + r0;                                                          \
            float32x4_t w0 = vld1q_f32(pw), w1 = vld1q_f32(pw + 4), w2 = vld1q_f32(pw + 8), w3 = vld1q_f32(pw + 12); \
            _Pragma("GCC unroll 8") for (int t = 0; t < T; t++) {                                          \
                float xs = x[t * ldx + k];                                                                  \
                a[t][0] = vfmaq_n_f32(a[t][0], w0, xs);                                                     \
                a[t][1] = vfmaq_n_f32(a[t][1], w1, xs);                                                     \
                a[t][2] = vfmaq_n_f32(a[t][2], w2, xs);                                                     \
                a[t][3] = vfmaq_n_f32(a[t][3], w3, xs);                                                     \
            }                                                                                               \
        }                                                                                                   \
        for (int t = 0; t < T; t++) {                                                                       \
            float out[16];                                                                                  \
            for (int v = 0; v < 4; v++) vst1q_f32(out + 4 * v, a[t][v]);                                    \
            memcpy(y + t * ldy + r0, out, sizeof(float) * (size_t)n);                                       \
        }                                                                                                   \
    }
GEMM_NEON(5)
GEMM_NEON(4)
GEMM_NEON(2)
GEMM_NEON(1)
#undef GEMM_NEON
#undef GEMM_NEON_STEP

static void gemm_neon(const float *panel, long cols, const float *x, long ldx, long tokens, float *y, long ldy,
                      int nr) {
    for (int r0 = 0; r0 < nr; r0 += 16) {
        int n = nr - r0 < 16 ? nr - r0 : 16;
        long t = 0;
        for (; t + 5 <= tokens; t += 5) gemm_neon_t5(panel, cols, x + t * ldx, ldx, y + t * ldy, ldy, r0, n);
        if (t + 4 <= tokens) { gemm_neon_t4(panel, cols, x + t * ldx, ldx, y + t * ldy, ldy, r0, n); t += 4; }
        if (t + 2 <= tokens) { gemm_neon_t2(panel, cols, x + t * ldx, ldx, y + t * ldy, ldy, r0, n); t += 2; }
        if (t < tokens) gemm_neon_t1(panel, cols, x + t * ldx, ldx, y + t * ldy, ldy, r0, n);
    }
}

// k-major packing by 4×4 transposes in registers (rows past nr are zero).
static void pack_neon(const float *rows, long cols, int nr, float *panel) {
    long k = 0;
    for (; k + 4 <= cols; k += 4) {
        for (int r = 0; r < 32; r += 4) {
            float32x4_t v[4];
            for (int i = 0; i < 4; i++) v[i] = r + i < nr ? vld1q_f32(rows + (long)(r + i) * cols + k) : vdupq_n_f32(0);
            float64x2_t t0 = vreinterpretq_f64_f32(vtrn1q_f32(v[0], v[1])), t1 = vreinterpretq_f64_f32(vtrn2q_f32(v[0], v[1]));
            float64x2_t t2 = vreinterpretq_f64_f32(vtrn1q_f32(v[2], v[3])), t3 = vreinterpretq_f64_f32(vtrn2q_f32(v[2], v[3]));
            float *p = panel + 32 * k + r;
            vst1q_f32(p, vreinterpretq_f32_f64(vzip1q_f64(t0, t2)));
            vst1q_f32(p + 32, vreinterpretq_f32_f64(vzip1q_f64(t1, t3)));
            vst1q_f32(p + 64, vreinterpretq_f32_f64(vzip2q_f64(t0, t2)));
            vst1q_f32(p + 96, vreinterpretq_f32_f64(vzip2q_f64(t1, t3)));
        }
    }
    for (; k < cols; k++) {
        float *p = panel + 32 * k;
        for (int r = 0; r < 32; r++) p[r] = r < nr ? rows[(long)r * cols + k] : 0;
    }
}
