// Integer dot products of quantized rows with Q8 activations; see include/StretchKernelsC.h.
// The manifest sets no CPU flags: the x86 and aarch64 variants carry their ISA in per-function target
// attributes and are chosen at run time, so the target builds for any CPU.
#include <stdatomic.h>
#include "StretchKernelsC.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

// MARK: - Shared helpers

#include "kernels_common.h"

// Signed 6-bit scales of the 16 sub-blocks from the 12-byte Q3_K table (as QuantLanes.scaleK3).
static inline void stretch_scales_k3(const uint8_t *t, int8_t *sc) {
    for (int i = 0; i < 16; i++) {
        int low = i < 8 ? (t[i] & 0x0F) : (t[i - 8] >> 4);
        int high = (t[8 + i % 4] >> (2 * (i / 4))) & 3;
        sc[i] = (int8_t)((low | (high << 4)) - 32);
    }
}

// Signed 6-bit scale of sub-block j of an IQ4_XS block: the low nibble from scales_l, the top 2 bits from
// the 16-bit scales_h, minus 32.
static inline int stretch_scale_iq4xs(const uint8_t *q, int j) {
    int high = (q[2] | (q[3] << 8)) >> (2 * j) & 3;
    return (((q[4 + j / 2] >> (4 * (j % 2))) & 0x0F) | (high << 4)) - 32;
}

// The IQ4_NL / IQ4_XS non-linear 4-bit grid (ggml's kvalues_iq4nl).
static const int8_t stretch_iq4_grid[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

// MARK: - Portable scalar

static float q8_0_scalar(const uint8_t *p, const StretchQ8 *x, long blocks) {
    float acc = 0;
    for (long b = 0; b < blocks; b++) {
        const uint8_t *q = p + 34 * b;
        const int8_t *w = (const int8_t *)(q + 2), *xq = x->quants + 32 * b;
        int32_t s = 0;
        for (int i = 0; i < 32; i++) s += (int32_t)w[i] * xq[i];
        acc += stretch_half_scalar(q) * x->scales[b] * (float)s;
    }
    return acc;
}

static float q5_0_scalar(const uint8_t *p, const StretchQ8 *x, long blocks) {
    float acc = 0;
    for (long b = 0; b < blocks; b++) {
        const uint8_t *q = p + 22 * b;
        uint32_t qh;
        memcpy(&qh, q + 2, 4);
        const int8_t *xq = x->quants + 32 * b;
        int32_t s = 0;
        for (int i = 0; i < 16; i++) {
            int lo = (q[6 + i] & 0x0F) | (((qh >> i) & 1) << 4);
            int hi = (q[6 + i] >> 4) | (((qh >> (i + 16)) & 1) << 4);
            s += (lo - 16) * xq[i] + (hi - 16) * xq[i + 16];
        }
        acc += stretch_half_scalar(q) * x->scales[b] * (float)s;
    }
    return acc;
}

static float q4_K_scalar(const uint8_t *p, const StretchQ8 *x, long blocks) {
    float acc = 0;
    for (long b = 0; b < blocks; b++) {
        const uint8_t *q = p + 144 * b;
        float d = stretch_half_scalar(q), dmin = stretch_half_scalar(q + 2);
        uint8_t sc[8], mn[8];
        stretch_scale_min_k4(q + 4, sc, mn);
        for (int c = 0; c < 4; c++) {
            const uint8_t *qs = q + 16 + 32 * c;
            long j = 8 * b + 2 * c;
            const int8_t *x0 = x->quants + 32 * j, *x1 = x0 + 32;
            int32_t s0 = 0, s1 = 0;
            for (int i = 0; i < 32; i++) {
                s0 += (qs[i] & 0x0F) * x0[i];
                s1 += (qs[i] >> 4) * x1[i];
            }
            acc += d * sc[2 * c] * x->scales[j] * (float)s0 + d * sc[2 * c + 1] * x->scales[j + 1] * (float)s1;
            acc -= dmin * (mn[2 * c] * x->sums[j] + mn[2 * c + 1] * x->sums[j + 1]);
        }
    }
    return acc;
}

static float q6_K_scalar(const uint8_t *p, const StretchQ8 *x, long blocks) {
    float acc = 0;
    for (long b = 0; b < blocks; b++) {
        const uint8_t *q = p + 210 * b;
        float d = stretch_half_scalar(q + 208);
        const int8_t *sc = (const int8_t *)(q + 192);
        for (int n = 0; n < 2; n++) {
            const uint8_t *ql = q + 64 * n, *qh = q + 128 + 32 * n;
            for (int g = 0; g < 4; g++) {
                long j = 8 * b + 4 * n + g;
                const int8_t *xq = x->quants + 32 * j;
                int32_t sa = 0, sb = 0;
                for (int i = 0; i < 32; i++) {
                    int lo, hb;
                    switch (g) {
                    case 0: lo = ql[i] & 0x0F; hb = qh[i] & 3; break;
                    case 1: lo = ql[i + 32] & 0x0F; hb = (qh[i] >> 2) & 3; break;
                    case 2: lo = ql[i] >> 4; hb = (qh[i] >> 4) & 3; break;
                    default: lo = ql[i + 32] >> 4; hb = (qh[i] >> 6) & 3; break;
                    }
                    int w = (lo | (hb << 4)) - 32;
                    if (i < 16) sa += w * xq[i]; else sb += w * xq[i];
                }
                int si = 8 * n + 2 * g;
                acc += d * x->scales[j] * (float)(sc[si] * sa + sc[si + 1] * sb);
            }
        }
    }
    return acc;
}

// Q2_K: activation block j = 8b + k holds elements 32k ... 32k + 31: bits 2(k % 4) of qs[32(k / 4) + i], sub-blocks
// 2k (i < 16) and 2k + 1. Σ (d sc q - dmin m) x = d Σ sc (q·x) - dmin Σ m Σx, both sums in integers per block.
static float q2_K_scalar(const uint8_t *p, const StretchQ8 *x, long blocks) {
    float acc = 0;
    for (long b = 0; b < blocks; b++) {
        const uint8_t *q = p + 84 * b;
        float d = stretch_half_scalar(q + 80), dmin = stretch_half_scalar(q + 82);
        for (int k = 0; k < 8; k++) {
            long j = 8 * b + k;
            const uint8_t *qs = q + 16 + 32 * (k / 4);
            int shift = 2 * (k % 4);
            const int8_t *xq = x->quants + 32 * j;
            int32_t s0 = 0, s1 = 0;
            for (int i = 0; i < 16; i++) {
                s0 += ((qs[i] >> shift) & 3) * xq[i];
                s1 += ((qs[i + 16] >> shift) & 3) * xq[i + 16];
            }
            int32_t dot = (q[2 * k] & 0x0F) * s0 + (q[2 * k + 1] & 0x0F) * s1;
            int32_t mins = (q[2 * k] >> 4) * x->sums16[2 * j] + (q[2 * k + 1] >> 4) * x->sums16[2 * j + 1];
            acc += x->scales[j] * (d * (float)dot - dmin * (float)mins);
        }
    }
    return acc;
}

// Q3_K: weights v - 4 with v = (2 bits of qs) | hmask bit << 2, the -4 taken off through the 16-value sums
// (exact, in integers); block layout as Q2_K for the low bits, hmask[i] bit k for element 32k + i.
static float q3_K_scalar(const uint8_t *p, const StretchQ8 *x, long blocks) {
    float acc = 0;
    for (long b = 0; b < blocks; b++) {
        const uint8_t *q = p + 110 * b;
        float d = stretch_half_scalar(q + 108);
        int8_t sc[16];
        stretch_scales_k3(q + 96, sc);
        for (int k = 0; k < 8; k++) {
            long j = 8 * b + k;
            const uint8_t *qs = q + 32 + 32 * (k / 4);
            int shift = 2 * (k % 4);
            const int8_t *xq = x->quants + 32 * j;
            int32_t s0 = 0, s1 = 0;
            for (int i = 0; i < 32; i++) {
                int v = ((qs[i] >> shift) & 3) | (((q[i] >> k) & 1) << 2);
                if (i < 16) s0 += v * xq[i]; else s1 += v * xq[i];
            }
            int32_t dot = sc[2 * k] * (s0 - 4 * x->sums16[2 * j]) + sc[2 * k + 1] * (s1 - 4 * x->sums16[2 * j + 1]);
            acc += d * x->scales[j] * (float)dot;
        }
    }
    return acc;
}

// 32 IQ4 weights (16 bytes of nibbles: low nibbles elements 0-15, high 16-31) against 32 activations.
static inline int32_t iq4_dot32(const uint8_t *qs, const int8_t *xq) {
    int32_t s = 0;
    for (int i = 0; i < 16; i++) {
        s += stretch_iq4_grid[qs[i] & 0x0F] * xq[i] + stretch_iq4_grid[qs[i] >> 4] * xq[i + 16];
    }
    return s;
}

static float iq4_nl_scalar(const uint8_t *p, const StretchQ8 *x, long blocks) {
    float acc = 0;
    for (long b = 0; b < blocks; b++) {
        const uint8_t *q = p + 18 * b;
        acc += stretch_half_scalar(q) * x->scales[b] * (float)iq4_dot32(q + 2, x->quants + 32 * b);
    }
    return acc;
}

static float iq4_xs_scalar(const uint8_t *p, const StretchQ8 *x, long blocks) {
    float acc = 0;
    for (long b = 0; b < blocks; b++) {
        const uint8_t *q = p + 136 * b;
        float d = stretch_half_scalar(q);
        for (int k = 0; k < 8; k++) {
            long j = 8 * b + k;
            int32_t s = stretch_scale_iq4xs(q, k) * iq4_dot32(q + 8 + 16 * k, x->quants + 32 * j);
            acc += d * x->scales[j] * (float)s;
        }
    }
    return acc;
}

static void rows_scalar(int kind, const uint8_t *w, size_t rowBytes, long rows, const StretchQ8 *x, float *y) {
    long n = x->count;
    for (long r = 0; r < rows; r++) {
        const uint8_t *p = w + r * rowBytes;
        switch (kind) {
        case STRETCH_KIND_Q8_0: y[r] = q8_0_scalar(p, x, n / 32); break;
        case STRETCH_KIND_Q5_0: y[r] = q5_0_scalar(p, x, n / 32); break;
        case STRETCH_KIND_Q4_K: y[r] = q4_K_scalar(p, x, n / 256); break;
        case STRETCH_KIND_Q6_K: y[r] = q6_K_scalar(p, x, n / 256); break;
        case STRETCH_KIND_Q2_K: y[r] = q2_K_scalar(p, x, n / 256); break;
        case STRETCH_KIND_Q3_K: y[r] = q3_K_scalar(p, x, n / 256); break;
        case STRETCH_KIND_IQ4_NL: y[r] = iq4_nl_scalar(p, x, n / 32); break;
        case STRETCH_KIND_IQ4_XS: y[r] = iq4_xs_scalar(p, x, n / 256); break;
        default: y[r] = 0; break;
        }
    }
}

// MARK: - Activation pairs for the batched kernels

// Activation pair t (vectors 2t and 2t + 1) as stretch_multi_prepare lays it out, for blocks rounded up to a
// multiple of eight (zero past the last block): per block 64 bytes of quants, dword i of 2t at dword 2i
// and of 2t + 1 at 2i + 1; the negated Q5_0 offsets [−2 · (Σ16 + Σ16) of 2t, of 2t + 1]; the scales
// [x.scale of 2t, of 2t + 1]; and the Q6_K offsets, 64 bytes per block: −8 · Σ16 of elements 0-15 of 2t and
// of 2t + 1 alternating in lanes 0-7, of elements 16-31 in lanes 8-15.
typedef struct {
    const int8_t *quants;
    const int32_t *offsets;
    const float *scales;
    const int32_t *offsets6;
} StretchPairTable;

#define STRETCH_PAIR_BYTES 144  // per block: 64 quants, 8 offsets, 8 scales, 64 Q6_K offsets

static long stretch_pair_blocks(long cols) { return (cols / 32 + 7) / 8 * 8; }

size_t stretch_multi_prepared_bytes(long cols, long nx) {
    return (size_t)(nx / 2) * (size_t)stretch_pair_blocks(cols) * STRETCH_PAIR_BYTES;
}

void stretch_multi_prepare(const StretchQ8 *x, long nx, void *dst) {
    const long blocks = x->count / 32, nbp = stretch_pair_blocks(x->count);
    for (long t = 0; t < nx / 2; t++) {
        uint8_t *base = (uint8_t *)dst + (size_t)t * (size_t)nbp * STRETCH_PAIR_BYTES;
        int8_t *q = (int8_t *)base;
        int32_t *off = (int32_t *)(base + nbp * 64);
        float *sc = (float *)(base + nbp * 72);
        int32_t *off6 = (int32_t *)(base + nbp * 80);
        const StretchQ8 *u = x + 2 * t, *v = x + 2 * t + 1;
        for (long b = 0; b < nbp; b++) {
            if (b < blocks) {
                for (int i = 0; i < 8; i++) {
                    memcpy(q + 64 * b + 8 * i, u->quants + 32 * b + 4 * i, 4);
                    memcpy(q + 64 * b + 8 * i + 4, v->quants + 32 * b + 4 * i, 4);
                }
                off[2 * b] = -2 * (u->sums16[2 * b] + u->sums16[2 * b + 1]);
                off[2 * b + 1] = -2 * (v->sums16[2 * b] + v->sums16[2 * b + 1]);
                sc[2 * b] = u->scales[b];
                sc[2 * b + 1] = v->scales[b];
                for (int i = 0; i < 4; i++) {
                    off6[16 * b + 2 * i] = -8 * u->sums16[2 * b];
                    off6[16 * b + 2 * i + 1] = -8 * v->sums16[2 * b];
                    off6[16 * b + 8 + 2 * i] = -8 * u->sums16[2 * b + 1];
                    off6[16 * b + 8 + 2 * i + 1] = -8 * v->sums16[2 * b + 1];
                }
            } else {
                memset(q + 64 * b, 0, 64);
                memset(off6 + 16 * b, 0, 64);
                off[2 * b] = off[2 * b + 1] = 0;
                sc[2 * b] = sc[2 * b + 1] = 0;
            }
        }
    }
}


// MARK: - x86 variants

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define STRETCH_X86 1
#include <immintrin.h>

static void stretch_pair_tables(const void *prepared, long cols, long nx, StretchPairTable *pt) {
    const long nbp = stretch_pair_blocks(cols);
    for (long t = 0; t < nx / 2; t++) {
        const uint8_t *base = (const uint8_t *)prepared + (size_t)t * (size_t)nbp * STRETCH_PAIR_BYTES;
        pt[t] = (StretchPairTable){(const int8_t *)base, (const int32_t *)(base + nbp * 64),
                                   (const float *)(base + nbp * 72), (const int32_t *)(base + nbp * 80)};
    }
}

#define FN(name) name##_avx2
#define ATTR __attribute__((target("avx2,fma,f16c")))
#define DOT4(u, s) _mm256_madd_epi16(_mm256_maddubs_epi16((u), (s)), _mm256_set1_epi16(1))
#include "kernels_x86.h"
#include "kernels_multi_x86.h"
#undef FN
#undef ATTR
#undef DOT4

#define FN(name) name##_vnni
#define ATTR __attribute__((target("avx2,fma,f16c,avx512f,avx512vl,avx512bw,avx512vnni")))
#define DOT4(u, s) _mm256_dpbusd_epi32(_mm256_setzero_si256(), (u), (s))
#define STRETCH_PAIRS 1  // 512-bit registers: two activations per register in the batched kernels
#include "kernels_x86.h"
#include "kernels_multi_x86.h"
#undef STRETCH_PAIRS
#undef FN
#undef ATTR
#undef DOT4
#endif

// MARK: - aarch64 variants (NEON, dotprod, i8mm)

#if defined(__aarch64__) && (defined(__clang__) || defined(__GNUC__)) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define STRETCH_ARM 1
#include "kernels_arm.h"
#endif

// MARK: - Dispatch

static int stretch_max_level(void) {
#ifdef STRETCH_X86
    __builtin_cpu_init();
    int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (avx2 && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vnni"))
        return 2;
    if (avx2) return 1;
#endif
#ifdef STRETCH_ARM
    return stretch_arm_max_level();
#endif
    return 0;
}

// -1 until first use; every first user stores the same value. Relaxed atomics: no ordering is needed,
// but a plain int shared by threads is a data race (the thread sanitizer reports it).
static _Atomic int stretch_level = -1;

int stretch_kernels_level(void) {
    int l = atomic_load_explicit(&stretch_level, memory_order_relaxed);
    if (l < 0) {
        l = stretch_max_level();
        atomic_store_explicit(&stretch_level, l, memory_order_relaxed);
    }
    return l;
}

void stretch_kernels_set_level(int level) {
    int max = stretch_max_level();
    atomic_store_explicit(&stretch_level, level < 0 ? 0 : (level > max ? max : level), memory_order_relaxed);
}

void stretch_prefetch(const void *p, size_t bytes) {
    // prefetcht0 on x86 (read, keep in every cache level).
    for (size_t o = 0; o < bytes; o += 64) __builtin_prefetch((const char *)p + o, 0, 3);
}

void stretch_dot_rows(int kind, const void *w, size_t rowBytes, long rows, const StretchQ8 *x, float *y) {
    switch (stretch_kernels_level()) {
#ifdef STRETCH_X86
    case 2: rows_vnni(kind, (const uint8_t *)w, rowBytes, rows, x, y); return;
    case 1: rows_avx2(kind, (const uint8_t *)w, rowBytes, rows, x, y); return;
#endif
#ifdef STRETCH_ARM
    case 1: case 2: case 3: arm_rows(stretch_kernels_level(), kind, (const uint8_t *)w, rowBytes, rows, x, y); return;
#endif
    default: rows_scalar(kind, (const uint8_t *)w, rowBytes, rows, x, y); return;
    }
}

void stretch_dot_rows_multi_prepared(int kind, const void *w, size_t rowBytes, long rows, const StretchQ8 *x, long nx,
                                     const void *prepared, float *const *y) {
    switch (stretch_kernels_level()) {
#ifdef STRETCH_X86
    case 2: {
        StretchPairTable pt[64];
        StretchPairTable *tables = nx / 2 <= 64 ? pt : malloc(sizeof(StretchPairTable) * (size_t)(nx / 2));
        stretch_pair_tables(prepared, x->count, nx, tables);
        rows_x_vnni(kind, (const uint8_t *)w, rowBytes, rows, x, nx, tables, y);
        if (tables != pt) free(tables);
        return;
    }
    case 1: rows_x_avx2(kind, (const uint8_t *)w, rowBytes, rows, x, nx, NULL, y); return;
#endif
#ifdef STRETCH_ARM
    case 1: case 2: case 3: arm_rows_x(stretch_kernels_level(), kind, (const uint8_t *)w, rowBytes, rows, x, nx, y); return;
#endif
    default:
        (void)prepared;
        for (long i = 0; i < nx; i++) rows_scalar(kind, (const uint8_t *)w, rowBytes, rows, x + i, y[i]);
        return;
    }
}

void stretch_dot_rows_multi(int kind, const void *w, size_t rowBytes, long rows, const StretchQ8 *x, long nx,
                            float *const *y) {
    size_t bytes = stretch_multi_prepared_bytes(x->count, nx);
    void *prepared = bytes ? aligned_alloc(64, (bytes + 63) / 64 * 64) : NULL;
    if (bytes) stretch_multi_prepare(x, nx, prepared);
    stretch_dot_rows_multi_prepared(kind, w, rowBytes, rows, x, nx, prepared, y);
    free(prepared);
}

// MARK: - IQ4 dequantization (Dequantize.iq4_nl / iq4_xs)

// 32 values grid[nibble] * scale from 16 bytes of nibbles (low nibbles first, then high ones).
static void iq4_dequant32_scalar(const uint8_t *qs, float scale, float *y) {
    for (int i = 0; i < 16; i++) {
        y[i] = scale * (float)stretch_iq4_grid[qs[i] & 0x0F];
        y[i + 16] = scale * (float)stretch_iq4_grid[qs[i] >> 4];
    }
}

#ifdef STRETCH_X86
__attribute__((target("avx2"))) static void iq4_dequant32_avx2(const uint8_t *qs, float scale, float *y) {
    const __m128i grid = _mm_loadu_si128((const __m128i *)stretch_iq4_grid), m4 = _mm_set1_epi8(0x0F);
    __m128i raw = _mm_loadu_si128((const __m128i *)qs);
    __m128i lo = _mm_shuffle_epi8(grid, _mm_and_si128(raw, m4));
    __m128i hi = _mm_shuffle_epi8(grid, _mm_and_si128(_mm_srli_epi16(raw, 4), m4));
    __m256 s = _mm256_set1_ps(scale);
    _mm256_storeu_ps(y, _mm256_mul_ps(s, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lo))));
    _mm256_storeu_ps(y + 8, _mm256_mul_ps(s, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(lo, 8)))));
    _mm256_storeu_ps(y + 16, _mm256_mul_ps(s, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi))));
    _mm256_storeu_ps(y + 24, _mm256_mul_ps(s, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(hi, 8)))));
}
#endif

void stretch_dequantize_iq4(int kind, const void *src, long blocks, float *dst) {
    const uint8_t *p = (const uint8_t *)src;
    void (*group)(const uint8_t *, float, float *) = iq4_dequant32_scalar;
#ifdef STRETCH_X86
    if (stretch_kernels_level() >= 1) group = iq4_dequant32_avx2;
#endif
#ifdef STRETCH_ARM
    if (stretch_kernels_level() >= 1) group = arm_iq4_dequant32;
#endif
    if (kind == STRETCH_KIND_IQ4_NL) {
        for (long b = 0; b < blocks; b++) group(p + 18 * b + 2, stretch_half_scalar(p + 18 * b), dst + 32 * b);
    } else {
        for (long b = 0; b < blocks; b++) {
            const uint8_t *q = p + 136 * b;
            float d = stretch_half_scalar(q);
            for (int j = 0; j < 8; j++) group(q + 8 + 16 * j, d * (float)stretch_scale_iq4xs(q, j), dst + 256 * b + 32 * j);
        }
    }
}

// MARK: - Activation quantization (Q8Activations.quantize)

static void quantize_scalar(const float *x, long count, int8_t *q, float *scales, float *sums, int32_t *sums16) {
    for (long b = 0; b < count / 32; b++) {
        const float *v = x + 32 * b;
        float m = 0;
        for (int i = 0; i < 32; i++) m = fabsf(v[i]) > m ? fabsf(v[i]) : m;
        float inv = m > 0 ? 127 / m : 0;
        int32_t s[2] = {0, 0};
        for (int i = 0; i < 32; i++) {
            int32_t r = (int32_t)lrintf(v[i] * inv);  // round to nearest even, as the vector versions
            q[32 * b + i] = (int8_t)r;
            s[i / 16] += r;
        }
        scales[b] = m / 127;
        sums16[2 * b] = s[0];
        sums16[2 * b + 1] = s[1];
        sums[b] = scales[b] * (float)(s[0] + s[1]);
    }
}

#ifdef STRETCH_X86
__attribute__((target("avx512f"))) static void quantize_avx512(const float *x, long count, int8_t *q, float *scales,
                                                               float *sums, int32_t *sums16) {
    for (long b = 0; b < count / 32; b++) {
        __m512 v0 = _mm512_loadu_ps(x + 32 * b), v1 = _mm512_loadu_ps(x + 32 * b + 16);
        float m = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
        float inv = m > 0 ? 127 / m : 0;
        __m512 vi = _mm512_set1_ps(inv);
        // vcvtps2dq rounds to nearest even under the default MXCSR, like lrintf.
        __m512i q0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, vi)), q1 = _mm512_cvtps_epi32(_mm512_mul_ps(v1, vi));
        _mm_storeu_si128((__m128i *)(q + 32 * b), _mm512_cvtepi32_epi8(q0));
        _mm_storeu_si128((__m128i *)(q + 32 * b + 16), _mm512_cvtepi32_epi8(q1));
        int32_t s0 = _mm512_reduce_add_epi32(q0), s1 = _mm512_reduce_add_epi32(q1);
        scales[b] = m / 127;
        sums16[2 * b] = s0;
        sums16[2 * b + 1] = s1;
        sums[b] = scales[b] * (float)(s0 + s1);
    }
}
#endif

void stretch_quantize_q8(const float *x, long count, int8_t *q, float *scales, float *sums, int32_t *sums16) {
#ifdef STRETCH_X86
    if (stretch_kernels_level() == 2) { quantize_avx512(x, count, q, scales, sums, sums16); return; }
#endif
#ifdef STRETCH_ARM
    if (stretch_kernels_level() >= 1) { arm_quantize(x, count, q, scales, sums, sums16); return; }
#endif
    quantize_scalar(x, count, q, scales, sums, sums16);
}
