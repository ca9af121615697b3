// Float32 matrix product for prefill (several tokens): y[t][r] = Σ_k W[r][k] · x[t][k].
// Weights arrive dequantized and packed k-major in panels of 32 rows (panel[k * 32 + r]), so the inner
// loop is an outer product: two 16-float weight vectors times a broadcast activation per token, into a
// 14-token × 32-row register tile (28 AVX-512 accumulators). Per k that is 2 vector loads and 14
// broadcasts for 28 FMAs: bound by FMA throughput, not by L2 bandwidth as the dot-product tile was.
// See docs/DESIGN.md, "Kernels".
#include "StretchKernelsC.h"

#include <string.h>

// MARK: - Portable scalar

static void gemm_scalar(const float *panel, long cols, const float *x, long ldx, long tokens, float *y, long ldy,
                        int nr) {
    for (long t = 0; t < tokens; t++) {
        float acc[32] = {0};
        const float *xt = x + t * ldx;
        for (long k = 0; k < cols; k++) {
            float xv = xt[k];
            const float *w = panel + 32 * k;
            for (int r = 0; r < 32; r++) acc[r] += w[r] * xv;
        }
        memcpy(y + t * ldy, acc, sizeof(float) * (size_t)nr);
    }
}

static void pack_scalar(const float *rows, long cols, int nr, float *panel) {
    for (long k = 0; k < cols; k++) {
        float *p = panel + 32 * k;
        int r = 0;
        for (; r < nr; r++) p[r] = rows[r * cols + k];
        for (; r < 32; r++) p[r] = 0;
    }
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define STRETCH_GEMM_X86 1
#include <immintrin.h>

// MARK: - AVX-512

#define ATTR512 __attribute__((target("avx512f")))

// One tile of T tokens × 32 rows; T is a compile-time constant, so the accumulator arrays live in registers.
#define GEMM512(T)                                                                                          \
    static ATTR512 void gemm512_t##T(const float *panel, long cols, const float *x, long ldx, float *y,     \
                                     long ldy, __mmask16 m0, __mmask16 m1) {                                \
        __m512 a0[T], a1[T];                                                                                \
        _Pragma("clang loop unroll(full)")                                                                  \
        for (int t = 0; t < T; t++) { a0[t] = _mm512_setzero_ps(); a1[t] = _mm512_setzero_ps(); }         \
        for (long k = 0; k < cols; k++) {                                                                   \
            __m512 w0 = _mm512_loadu_ps(panel + 32 * k), w1 = _mm512_loadu_ps(panel + 32 * k + 16);         \
            _Pragma("clang loop unroll(full)")                                                              \
            for (int t = 0; t < T; t++) {                                                                   \
                __m512 xb = _mm512_set1_ps(x[t * ldx + k]);                                                 \
                a0[t] = _mm512_fmadd_ps(w0, xb, a0[t]);                                                     \
                a1[t] = _mm512_fmadd_ps(w1, xb, a1[t]);                                                     \
            }                                                                                               \
        }                                                                                                   \
        _Pragma("clang loop unroll(full)")                                                                  \
        for (int t = 0; t < T; t++) {                                                                       \
            _mm512_mask_storeu_ps(y + t * ldy, m0, a0[t]);                                                  \
            _mm512_mask_storeu_ps(y + t * ldy + 16, m1, a1[t]);                                             \
        }                                                                                                   \
    }
GEMM512(14)
GEMM512(8)
GEMM512(4)
GEMM512(2)
GEMM512(1)

static ATTR512 void gemm_avx512(const float *panel, long cols, const float *x, long ldx, long tokens, float *y,
                                long ldy, int nr) {
    __mmask16 m0 = nr >= 16 ? 0xFFFF : (__mmask16)((1u << nr) - 1);
    __mmask16 m1 = nr >= 32 ? 0xFFFF : (nr <= 16 ? 0 : (__mmask16)((1u << (nr - 16)) - 1));
    long t = 0;
    for (; t + 14 <= tokens; t += 14) gemm512_t14(panel, cols, x + t * ldx, ldx, y + t * ldy, ldy, m0, m1);
    if (t + 8 <= tokens) { gemm512_t8(panel, cols, x + t * ldx, ldx, y + t * ldy, ldy, m0, m1); t += 8; }
    if (t + 4 <= tokens) { gemm512_t4(panel, cols, x + t * ldx, ldx, y + t * ldy, ldy, m0, m1); t += 4; }
    if (t + 2 <= tokens) { gemm512_t2(panel, cols, x + t * ldx, ldx, y + t * ldy, ldy, m0, m1); t += 2; }
    if (t < tokens) gemm512_t1(panel, cols, x + t * ldx, ldx, y + t * ldy, ldy, m0, m1);
}

// 16×16 transpose in registers: four stages swap the off-diagonal b×b sub-blocks (b = 1, 2, 4, 8), each
// with 16 two-source permutes; then panel[k][r] = rows[r][k] for a 16-column slice.
static ATTR512 void transpose16(__m512 v[16]) {
    for (int b = 1; b < 16; b <<= 1) {
        int lo[16], hi[16];
        for (int c = 0; c < 16; c++) {
            lo[c] = (c & b) ? 16 + (c & ~b) : c;
            hi[c] = (c & b) ? 16 + c : (c | b);
        }
        __m512i ilo = _mm512_loadu_si512(lo), ihi = _mm512_loadu_si512(hi);
        for (int i = 0; i < 16; i++) {
            if (i & b) continue;
            __m512 a = v[i], c = v[i | b];
            v[i] = _mm512_permutex2var_ps(a, ilo, c);
            v[i | b] = _mm512_permutex2var_ps(a, ihi, c);
        }
    }
}

static ATTR512 void pack_avx512(const float *rows, long cols, int nr, float *panel) {
    long k = 0;
    for (; k + 16 <= cols; k += 16) {
        for (int g = 0; g < 2; g++) {
            __m512 v[16];
            for (int i = 0; i < 16; i++) {
                int r = 16 * g + i;
                v[i] = r < nr ? _mm512_loadu_ps(rows + r * cols + k) : _mm512_setzero_ps();
            }
            transpose16(v);
            for (int i = 0; i < 16; i++) _mm512_storeu_ps(panel + 32 * (k + i) + 16 * g, v[i]);
        }
    }
    for (; k < cols; k++) {
        float *p = panel + 32 * k;
        for (int r = 0; r < 32; r++) p[r] = r < nr ? rows[r * cols + k] : 0;
    }
}

// MARK: - AVX2

#define ATTR256 __attribute__((target("avx2,fma")))

// 3 tokens × 32 rows (4 vectors): 12 of the 16 ymm registers.
#define GEMM256(T)                                                                                          \
    static ATTR256 void gemm256_t##T(const float *panel, long cols, const float *x, long ldx, float *y,     \
                                     long ldy, int nr) {                                                    \
        __m256 a[T][4];                                                                                     \
        _Pragma("clang loop unroll(full)")                                                                  \
        for (int t = 0; t < T; t++)                                                                         \
            for (int v = 0; v < 4; v++) a[t][v] = _mm256_setzero_ps();                                      \
        for (long k = 0; k < cols; k++) {                                                                   \
            __m256 w[4];                                                                                    \
            for (int v = 0; v < 4; v++) w[v] = _mm256_loadu_ps(panel + 32 * k + 8 * v);                     \
            _Pragma("clang loop unroll(full)")                                                              \
            for (int t = 0; t < T; t++) {                                                                   \
                __m256 xb = _mm256_set1_ps(x[t * ldx + k]);                                                 \
                for (int v = 0; v < 4; v++) a[t][v] = _mm256_fmadd_ps(w[v], xb, a[t][v]);                   \
            }                                                                                               \
        }                                                                                                   \
        for (int t = 0; t < T; t++) {                                                                       \
            float out[32];                                                                                  \
            for (int v = 0; v < 4; v++) _mm256_storeu_ps(out + 8 * v, a[t][v]);                             \
            memcpy(y + t * ldy, out, sizeof(float) * (size_t)nr);                                           \
        }                                                                                                   \
    }
GEMM256(3)
GEMM256(1)

static ATTR256 void gemm_avx2(const float *panel, long cols, const float *x, long ldx, long tokens, float *y,
                              long ldy, int nr) {
    long t = 0;
    for (; t + 3 <= tokens; t += 3) gemm256_t3(panel, cols, x + t * ldx, ldx, y + t * ldy, ldy, nr);
    for (; t < tokens; t++) gemm256_t1(panel, cols, x + t * ldx, ldx, y + t * ldy, ldy, nr);
}
#endif

#if defined(__aarch64__) && (defined(__clang__) || defined(__GNUC__))
#define STRETCH_GEMM_ARM 1
#include "gemm_arm.h"
#endif

// MARK: - Dispatch (shares the level of the integer kernels: 2 = AVX-512 (with VNNI), 1 = AVX2, 0 = scalar;
// on aarch64 every level ≥ 1 is NEON)

void stretch_gemm_panel32(const float *panel, long cols, const float *x, long ldx, long tokens, float *y, long ldy,
                          int nr) {
    switch (stretch_kernels_level()) {
#ifdef STRETCH_GEMM_X86
    case 2: gemm_avx512(panel, cols, x, ldx, tokens, y, ldy, nr); return;
    case 1: gemm_avx2(panel, cols, x, ldx, tokens, y, ldy, nr); return;
#endif
#ifdef STRETCH_GEMM_ARM
    case 1: case 2: case 3: gemm_neon(panel, cols, x, ldx, tokens, y, ldy, nr); return;
#endif
    default: gemm_scalar(panel, cols, x, ldx, tokens, y, ldy, nr); return;
    }
}

void stretch_pack_panel32(const float *rows, long cols, int nr, float *panel) {
#ifdef STRETCH_GEMM_X86
    if (stretch_kernels_level() == 2) { pack_avx512(rows, cols, nr, panel); return; }
#endif
#ifdef STRETCH_GEMM_ARM
    if (stretch_kernels_level() >= 1) { pack_neon(rows, cols, nr, panel); return; }
#endif
    pack_scalar(rows, cols, nr, panel);
}
