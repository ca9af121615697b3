// Int8 matrix product for prefill (several tokens): y[t][r] = Σ_k W[r][k] · x[t][k] with the activations
// quantized to Q8 blocks (as decode) and the weights unpacked, 16 rows at a time, to unsigned bytes laid
// out for `vpdpbusd`: per 4 columns, 16 rows × 4 bytes = one 512-bit register. The kernel is an outer
// product again: per 32-column block, 8 weight registers are loaded once and multiplied with a tile of
// 8 tokens, each token's 4 activation bytes broadcast straight from memory. See docs/DESIGN.md,
// "Kernels" (int8 prefill).
#include "StretchKernelsC.h"
#include "kernels_common.h"

#include <math.h>
#include <string.h>

// Tokens per group of the prepared activations (the register tile's width).
#define G 8
// Per token and 32-column block: 32 quants, then the scale, the block sum `scale · Σq`, and the integer
// offsets of each format: −16 Σq (Q5_0), −128 Σq (Q8_0, stored shifted to unsigned), −32 Σq of each
// 16-value half (Q6_K). Offsets are exact integers subtracted before the conversion to float, as in decode.
enum { F_SCALE, F_SUM, F_N16, F_N128, F_N32A, F_N32B, F_COUNT };
#define GROUP_BLOCK_BYTES (G * 32 + F_COUNT * G * 4)

// Weight panel: per block, 8 × (16 rows × 4 bytes), then 32 floats of scales (two halves of 16 rows: the
// scale of elements 0-15 and of 16-31, equal except for Q6_K), then 16 floats of mins (Q4_K).
#define PANEL_BLOCK_BYTES (512 + 32 * 4 + 16 * 4)
// Column blocks per pass (1,024 columns): the activations of one pass (1.75 bytes per token and column)
// stay in L2 while every row panel is multiplied with them, and the panel chunk (22 KB) in L1. Partial
// sums go through y between passes, which keeps each result's float operations in the same order.
#define KC 32

int stretch_gemm_q8_supports(int kind) {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
    switch (kind) {
    case STRETCH_KIND_Q5_0: case STRETCH_KIND_Q4_K: case STRETCH_KIND_Q6_K: return 1;
    // Q8_0 as unsigned bytes reaches 255: `vpmaddubsw` (AVX2) could saturate its 16-bit pair sums.
    case STRETCH_KIND_Q8_0: return stretch_kernels_level() != 1;
    default: return 0;
    }
#else
    // Only x86 has SIMD versions of this kernel; on arm64 the float panel GEMM, which has NEON code, stays the
    // prefill path (its levels 1-3 are NEON/dotprod/i8mm, not AVX2/VNNI).
    (void)kind;
    return 0;
#endif
}

size_t stretch_gemm_q8_activation_bytes(long cols, long tokens) {
    return (size_t)((tokens + G - 1) / G) * (size_t)(cols / 32) * GROUP_BLOCK_BYTES;
}

size_t stretch_gemm_q8_scratch_bytes(long cols) {
    (void)cols;
    // 64 bytes of alignment slack, one panel chunk and 16 unpacked row chunks.
    return 64 + KC * (PANEL_BLOCK_BYTES + 16 * 32);
}

void stretch_gemm_q8_prepare(const StretchQ8 *x, long tokens, void *dst) {
    long cols = x->count, nb = cols / 32;
    uint8_t *out = (uint8_t *)dst;
    for (long g = 0; g < (tokens + G - 1) / G; g++) {
        for (long j = 0; j < nb; j++) {
            uint8_t *blk = out + (g * nb + j) * GROUP_BLOCK_BYTES;
            int8_t *q = (int8_t *)blk;
            float *f = (float *)(blk + G * 32);
            int32_t *n = (int32_t *)f;
            for (int t = 0; t < G; t++) {
                long tok = g * G + t;
                if (tok >= tokens) {  // padding tokens: zero quants and scales, results never stored
                    memset(q + 32 * t, 0, 32);
                    for (int k = 0; k < F_COUNT; k++) n[k * G + t] = 0;
                    continue;
                }
                memcpy(q + 32 * t, x->quants + tok * cols + 32 * j, 32);
                long b = tok * nb + j;
                int32_t s0 = x->sums16[2 * b], s1 = x->sums16[2 * b + 1];
                f[F_SCALE * G + t] = x->scales[b];
                f[F_SUM * G + t] = x->sums[b];
                n[F_N16 * G + t] = -16 * (s0 + s1);
                n[F_N128 * G + t] = -128 * (s0 + s1);
                n[F_N32A * G + t] = -32 * s0;
                n[F_N32B * G + t] = -32 * s1;
            }
        }
    }
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
static void unpack_q5_0_avx2(const uint8_t *p, long nb, uint8_t *u);
#endif

// Unpacks one row to unsigned bytes u[cols] with per-32-block scales (two halves) and mins.
static void unpack_row(int kind, const uint8_t *p, long cols, uint8_t *u, float *wsA, float *wsB, float *mn) {
    long nb = cols / 32;
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
    // Q5_0 is most of the weights of the models here; its per-element bit extraction was most of the unpacking.
    if (kind == STRETCH_KIND_Q5_0 && stretch_kernels_level() >= 1) {
        unpack_q5_0_avx2(p, nb, u);
        for (long b = 0; b < nb; b++) {
            wsA[b] = wsB[b] = stretch_half_scalar(p + 22 * b);
            mn[b] = 0;
        }
        return;
    }
#endif
    switch (kind) {
    case STRETCH_KIND_Q8_0:
        for (long b = 0; b < nb; b++) {
            const uint8_t *q = p + 34 * b;
            for (int i = 0; i < 32; i++) u[32 * b + i] = (uint8_t)(q[2 + i] ^ 0x80);
            wsA[b] = wsB[b] = stretch_half_scalar(q);
            mn[b] = 0;
        }
        break;
    case STRETCH_KIND_Q5_0:
        for (long b = 0; b < nb; b++) {
            const uint8_t *q = p + 22 * b;
            uint32_t qh;
            memcpy(&qh, q + 2, 4);
            for (int i = 0; i < 16; i++) {
                u[32 * b + i] = (uint8_t)((q[6 + i] & 0x0F) | (((qh >> i) & 1) << 4));
                u[32 * b + i + 16] = (uint8_t)((q[6 + i] >> 4) | (((qh >> (i + 16)) & 1) << 4));
            }
            wsA[b] = wsB[b] = stretch_half_scalar(q);
            mn[b] = 0;
        }
        break;
    case STRETCH_KIND_Q4_K:
        for (long s = 0; s < cols / 256; s++) {
            const uint8_t *q = p + 144 * s, *t = q + 4;
            float d = stretch_half_scalar(q), dmin = stretch_half_scalar(q + 2);
            uint8_t sc[8], m[8];
            stretch_scale_min_k4(t, sc, m);
            for (int c = 0; c < 4; c++) {
                const uint8_t *qs = q + 16 + 32 * c;
                uint8_t *u0 = u + 256 * s + 64 * c;
                for (int i = 0; i < 32; i++) {
                    u0[i] = qs[i] & 0x0F;
                    u0[32 + i] = qs[i] >> 4;
                }
            }
            for (int j = 0; j < 8; j++) {
                wsA[8 * s + j] = wsB[8 * s + j] = d * (float)sc[j];
                mn[8 * s + j] = dmin * (float)m[j];
            }
        }
        break;
    case STRETCH_KIND_Q6_K:
        for (long s = 0; s < cols / 256; s++) {
            const uint8_t *q = p + 210 * s;
            float d = stretch_half_scalar(q + 208);
            const int8_t *sc = (const int8_t *)(q + 192);
            for (int n = 0; n < 2; n++) {
                const uint8_t *ql = q + 64 * n, *qh = q + 128 + 32 * n;
                uint8_t *u0 = u + 256 * s + 128 * n;
                for (int i = 0; i < 32; i++) {
                    u0[i] = (uint8_t)((ql[i] & 0x0F) | ((qh[i] & 3) << 4));
                    u0[32 + i] = (uint8_t)((ql[i + 32] & 0x0F) | (((qh[i] >> 2) & 3) << 4));
                    u0[64 + i] = (uint8_t)((ql[i] >> 4) | (((qh[i] >> 4) & 3) << 4));
                    u0[96 + i] = (uint8_t)((ql[i + 32] >> 4) | (((qh[i] >> 6) & 3) << 4));
                }
                for (int g = 0; g < 4; g++) {
                    long j = 8 * s + 4 * n + g;
                    wsA[j] = d * (float)sc[8 * n + 2 * g];
                    wsB[j] = d * (float)sc[8 * n + 2 * g + 1];
                    mn[j] = 0;
                }
            }
        }
        break;
    default: break;
    }
}

// Bytes of one row before column block b (b a multiple of 8 for the K-quants).
static size_t block_offset(int kind, long b) {
    switch (kind) {
    case STRETCH_KIND_Q8_0: return 34 * (size_t)b;
    case STRETCH_KIND_Q5_0: return 22 * (size_t)b;
    case STRETCH_KIND_Q4_K: return 144 * (size_t)(b / 8);
    default: return 210 * (size_t)(b / 8);
    }
}

// Unpacks column blocks [b0, b0 + nb) of rows [0, nr) (nr ≤ 16) to 16 row chunks of 32 · KC bytes at `rows`
// (rows past nr zero: their results are never stored) and writes the per-row block scales into the panel.
static void unpack_rows(int kind, const uint8_t *w, size_t rowBytes, int nr, long b0, long nb, uint8_t *panel,
                        uint8_t *rows) {
    float tmp[3 * KC];
    for (int r = 0; r < 16; r++) {
        uint8_t *row = rows + 32 * KC * r;
        if (r < nr) {
            unpack_row(kind, w + (size_t)r * rowBytes + block_offset(kind, b0), 32 * nb, row, tmp, tmp + nb, tmp + 2 * nb);
        } else {
            memset(row, 0, 32 * (size_t)nb);
            memset(tmp, 0, sizeof(tmp));
        }
        for (long b = 0; b < nb; b++) {
            float *fs = (float *)(panel + b * PANEL_BLOCK_BYTES + 512);
            fs[r] = tmp[b];
            fs[16 + r] = tmp[nb + b];
            fs[32 + r] = tmp[2 * nb + b];
        }
    }
}

// Panel bytes of 4-column group q (block q / 8, group q % 8) for the 16 rows: word q of each row chunk.
static void scatter_scalar(const uint8_t *rows, long nb, uint8_t *panel, long q0) {
    for (long q = q0; q < 8 * nb; q++) {
        uint8_t *dst = panel + (q / 8) * PANEL_BLOCK_BYTES + 64 * (q % 8);
        for (int r = 0; r < 16; r++) memcpy(dst + 4 * r, rows + 32 * KC * r + 4 * q, 4);
    }
}

// How a format's integer dot is corrected and scaled.
enum { CLS_OFF16, CLS_OFF128, CLS_MINS, CLS_HALVES };

static int kind_class(int kind) {
    switch (kind) {
    case STRETCH_KIND_Q5_0: return CLS_OFF16;
    case STRETCH_KIND_Q8_0: return CLS_OFF128;
    case STRETCH_KIND_Q4_K: return CLS_MINS;
    default: return CLS_HALVES;
    }
}

// MARK: - Portable scalar (same arithmetic, one row and token at a time)

static void tile_scalar(int cls, const uint8_t *panel, long nb, const uint8_t *xg, float *y, long ldy, int ntok,
                        int nr, int first) {
    for (int t = 0; t < ntok; t++) {
        for (int r = 0; r < nr; r++) {
            float acc = first ? 0 : y[t * ldy + r];
            for (long j = 0; j < nb; j++) {
                const uint8_t *pb = panel + j * PANEL_BLOCK_BYTES, *xb = xg + j * GROUP_BLOCK_BYTES;
                const float *fs = (const float *)(pb + 512), *f = (const float *)(xb + G * 32);
                const int32_t *n = (const int32_t *)f;
                const int8_t *xq = (const int8_t *)(xb + 32 * t);
                int32_t ia = 0, ib = 0;
                for (int k = 0; k < 32; k++) {
                    int32_t p = (int32_t)pb[64 * (k / 4) + 4 * r + k % 4] * xq[k];
                    if (k < 16) ia += p; else ib += p;
                }
                float xs = f[F_SCALE * G + t];
                switch (cls) {
                case CLS_HALVES: {
                    ia += n[F_N32A * G + t];
                    ib += n[F_N32B * G + t];
                    float s = fmaf((float)ib, fs[16 + r], (float)ia * fs[r]);
                    acc = fmaf(s, xs, acc);
                    break;
                }
                case CLS_MINS:
                    acc = fmaf((float)(ia + ib), fs[r] * xs, acc);
                    acc = fmaf(-fs[32 + r], f[F_SUM * G + t], acc);
                    break;
                default:
                    acc = fmaf((float)(ia + ib + n[(cls == CLS_OFF16 ? F_N16 : F_N128) * G + t]), fs[r] * xs, acc);
                    break;
                }
            }
            y[t * ldy + r] = acc;
        }
    }
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define STRETCH_GEMM_Q8_X86 1
#include <immintrin.h>

// 4 activation bytes as one int32, for a broadcast (folded into `vpdpbusd`'s {1to16} memory operand).
static inline int32_t load32(const uint8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

// Q5_0 weights (nibble | high bit << 4) of nb blocks, 32 bytes per block: the high bits spread to bytes by a
// shuffle and a compare, as the decode kernels do.
__attribute__((target("avx2"))) static void unpack_q5_0_avx2(const uint8_t *p, long nb, uint8_t *u) {
    const __m256i spread = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                            2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ULL);
    const __m128i m4 = _mm_set1_epi8(0x0F);
    for (long b = 0; b < nb; b++) {
        const uint8_t *q = p + 22 * b;
        uint32_t qh;
        memcpy(&qh, q + 2, 4);
        __m256i bytes = _mm256_shuffle_epi8(_mm256_set1_epi32((int)qh), spread);
        __m256i high = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(bytes, bit), bit), _mm256_set1_epi8(0x10));
        __m128i qs = _mm_loadu_si128((const __m128i *)(q + 6));
        __m256i nib = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(qs, 4), m4), _mm_and_si128(qs, m4));
        _mm256_storeu_si256((__m256i *)(u + 32 * b), _mm256_or_si256(nib, high));
    }
}

// MARK: - AVX-512 VNNI: 16 rows × 8 tokens

#define ATTRV __attribute__((target("avx2,fma,avx512f,avx512vl,avx512bw,avx512vnni")))

// scatter_scalar for 16 groups at a time: a 16 × 16 transpose of 32-bit words (four stages of two-source
// permutes swapping b × b sub-blocks, as stretch_pack_panel32), 16 loads and 16 stores per 1 KB.
static ATTRV void scatter_avx512(const uint8_t *rows, long nb, uint8_t *panel) {
    long q = 0;
    for (; q + 16 <= 8 * nb; q += 16) {
        __m512i v[16];
        for (int r = 0; r < 16; r++) v[r] = _mm512_loadu_si512((const void *)(rows + 32 * KC * r + 4 * q));
        for (int b = 1; b < 16; b <<= 1) {
            int lo[16], hi[16];
            for (int c = 0; c < 16; c++) {
                lo[c] = (c & b) ? 16 + (c & ~b) : c;
                hi[c] = (c & b) ? 16 + c : (c | b);
            }
            __m512i ilo = _mm512_loadu_si512(lo), ihi = _mm512_loadu_si512(hi);
            for (int i = 0; i < 16; i++) {
                if (i & b) continue;
                __m512i a = v[i], c = v[i | b];
                v[i] = _mm512_permutex2var_epi32(a, ilo, c);
                v[i | b] = _mm512_permutex2var_epi32(a, ihi, c);
            }
        }
        for (int i = 0; i < 16; i++) {
            long g = q + i;
            _mm512_store_si512((void *)(panel + (g / 8) * PANEL_BLOCK_BYTES + 64 * (g % 8)), v[i]);
        }
    }
    scatter_scalar(rows, nb, panel, q);
}

static inline __attribute__((always_inline)) ATTRV void tile_vnni(int cls, const uint8_t *panel, long nb,
                                                                   const uint8_t *xg, float *y, long ldy, int ntok,
                                                                   __mmask16 m, int first) {
    __m512 acc[G];
    _Pragma("clang loop unroll(full)")
    for (int t = 0; t < G; t++) acc[t] = first || t >= ntok ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(m, y + t * ldy);
    for (long j = 0; j < nb; j++) {
        const uint8_t *pb = panel + j * PANEL_BLOCK_BYTES, *xb = xg + j * GROUP_BLOCK_BYTES;
        const float *f = (const float *)(xb + G * 32);
        const int32_t *n = (const int32_t *)f;
        __m512i w[8];
        _Pragma("clang loop unroll(full)")
        for (int gq = 0; gq < 8; gq++) w[gq] = _mm512_load_si512((const void *)(pb + 64 * gq));
        __m512 wsA = _mm512_load_ps(pb + 512), wsB = _mm512_load_ps(pb + 512 + 64), mn = _mm512_load_ps(pb + 512 + 128);
        _Pragma("clang loop unroll(full)")
        for (int t = 0; t < G; t++) {
            const uint8_t *xq = xb + 32 * t;
            __m512 xs = _mm512_set1_ps(f[F_SCALE * G + t]);
            if (cls == CLS_HALVES) {
                __m512i ia = _mm512_set1_epi32(n[F_N32A * G + t]), ib = _mm512_set1_epi32(n[F_N32B * G + t]);
                _Pragma("clang loop unroll(full)")
                for (int gq = 0; gq < 4; gq++) {
                    ia = _mm512_dpbusd_epi32(ia, w[gq], _mm512_set1_epi32(load32(xq + 4 * gq)));
                    ib = _mm512_dpbusd_epi32(ib, w[gq + 4], _mm512_set1_epi32(load32(xq + 16 + 4 * gq)));
                }
                __m512 s = _mm512_fmadd_ps(_mm512_cvtepi32_ps(ib), wsB, _mm512_mul_ps(_mm512_cvtepi32_ps(ia), wsA));
                acc[t] = _mm512_fmadd_ps(s, xs, acc[t]);
            } else {
                __m512i i = cls == CLS_MINS ? _mm512_setzero_si512()
                                            : _mm512_set1_epi32(n[(cls == CLS_OFF16 ? F_N16 : F_N128) * G + t]);
                _Pragma("clang loop unroll(full)")
                for (int gq = 0; gq < 8; gq++) i = _mm512_dpbusd_epi32(i, w[gq], _mm512_set1_epi32(load32(xq + 4 * gq)));
                acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i), _mm512_mul_ps(wsA, xs), acc[t]);
                if (cls == CLS_MINS) acc[t] = _mm512_fnmadd_ps(mn, _mm512_set1_ps(f[F_SUM * G + t]), acc[t]);
            }
        }
    }
    _Pragma("clang loop unroll(full)")
    for (int t = 0; t < G; t++)
        if (t < ntok) _mm512_mask_storeu_ps(y + t * ldy, m, acc[t]);
}

static ATTRV void tile_vnni_off16(const uint8_t *p, long nb, const uint8_t *x, float *y, long ldy, int nt, __mmask16 m,
                                int first) {
    tile_vnni(CLS_OFF16, p, nb, x, y, ldy, nt, m, first);
}
static ATTRV void tile_vnni_off128(const uint8_t *p, long nb, const uint8_t *x, float *y, long ldy, int nt, __mmask16 m,
                                int first) {
    tile_vnni(CLS_OFF128, p, nb, x, y, ldy, nt, m, first);
}
static ATTRV void tile_vnni_mins(const uint8_t *p, long nb, const uint8_t *x, float *y, long ldy, int nt, __mmask16 m,
                                int first) {
    tile_vnni(CLS_MINS, p, nb, x, y, ldy, nt, m, first);
}
static ATTRV void tile_vnni_halves(const uint8_t *p, long nb, const uint8_t *x, float *y, long ldy, int nt, __mmask16 m,
                                int first) {
    tile_vnni(CLS_HALVES, p, nb, x, y, ldy, nt, m, first);
}

// MARK: - AVX2: 8 rows (half a panel) × 4 tokens, vpmaddubsw + vpmaddwd

#define ATTR2 __attribute__((target("avx2,fma")))
#define G2 4

static inline __attribute__((always_inline)) ATTR2 void tile_avx2(int cls, const uint8_t *panel, long nb,
                                                                   const uint8_t *xg, int t0, int h, float *y,
                                                                   long ldy, int ntok, int nr, int first) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc[G2];
    int lo = 8 * h, cnt = nr - lo < 8 ? nr - lo : 8;
    _Pragma("clang loop unroll(full)")
    for (int t = 0; t < G2; t++) {
        float in[8] = {0};
        if (!first && t0 + t < ntok) memcpy(in, y + (t0 + t) * ldy + lo, sizeof(float) * (size_t)cnt);
        acc[t] = _mm256_loadu_ps(in);
    }
    for (long j = 0; j < nb; j++) {
        const uint8_t *pb = panel + j * PANEL_BLOCK_BYTES + 32 * h, *xb = xg + j * GROUP_BLOCK_BYTES;
        const float *fs = (const float *)(panel + j * PANEL_BLOCK_BYTES + 512) + 8 * h;
        const float *f = (const float *)(xb + G * 32);
        const int32_t *n = (const int32_t *)f;
        __m256i ia[G2], ib[G2];
        _Pragma("clang loop unroll(full)")
        for (int t = 0; t < G2; t++) {
            int tt = t0 + t;
            if (cls == CLS_HALVES) {
                ia[t] = _mm256_set1_epi32(n[F_N32A * G + tt]);
                ib[t] = _mm256_set1_epi32(n[F_N32B * G + tt]);
            } else {
                ia[t] = cls == CLS_MINS ? _mm256_setzero_si256()
                                        : _mm256_set1_epi32(n[(cls == CLS_OFF16 ? F_N16 : F_N128) * G + tt]);
            }
        }
        _Pragma("clang loop unroll(full)")
        for (int gq = 0; gq < 8; gq++) {
            __m256i w = _mm256_load_si256((const __m256i *)(pb + 64 * gq));
            _Pragma("clang loop unroll(full)")
            for (int t = 0; t < G2; t++) {
                __m256i xv = _mm256_set1_epi32(load32(xb + 32 * (t0 + t) + 4 * gq));
                __m256i d = _mm256_madd_epi16(_mm256_maddubs_epi16(w, xv), ones);
                if (cls == CLS_HALVES && gq >= 4) ib[t] = _mm256_add_epi32(ib[t], d);
                else ia[t] = _mm256_add_epi32(ia[t], d);
            }
        }
        __m256 wsA = _mm256_load_ps(fs), wsB = _mm256_load_ps(fs + 16), mn = _mm256_load_ps(fs + 32);
        _Pragma("clang loop unroll(full)")
        for (int t = 0; t < G2; t++) {
            int tt = t0 + t;
            __m256 xs = _mm256_set1_ps(f[F_SCALE * G + tt]);
            if (cls == CLS_HALVES) {
                __m256 s = _mm256_fmadd_ps(_mm256_cvtepi32_ps(ib[t]), wsB, _mm256_mul_ps(_mm256_cvtepi32_ps(ia[t]), wsA));
                acc[t] = _mm256_fmadd_ps(s, xs, acc[t]);
            } else {
                acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(ia[t]), _mm256_mul_ps(wsA, xs), acc[t]);
                if (cls == CLS_MINS) acc[t] = _mm256_fnmadd_ps(mn, _mm256_set1_ps(f[F_SUM * G + tt]), acc[t]);
            }
        }
    }
    _Pragma("clang loop unroll(full)")
    for (int t = 0; t < G2; t++) {
        if (t0 + t >= ntok) break;
        float out[8];
        _mm256_storeu_ps(out, acc[t]);
        memcpy(y + (t0 + t) * ldy + lo, out, sizeof(float) * (size_t)cnt);
    }
}

#define TILE2(name, cls)                                                                                       \
    static ATTR2 void name(const uint8_t *p, long nb, const uint8_t *x, float *y, long ldy, int nt, int nr,     \
                           int first) {                                                                         \
        for (int h = 0; h < 2 && 8 * h < nr; h++)                                                              \
            for (int t0 = 0; t0 < nt; t0 += G2) tile_avx2(cls, p, nb, x, t0, h, y, ldy, nt, nr, first);       \
    }
TILE2(tile_avx2_off16, CLS_OFF16)
TILE2(tile_avx2_off128, CLS_OFF128)
TILE2(tile_avx2_mins, CLS_MINS)
TILE2(tile_avx2_halves, CLS_HALVES)
#endif

// MARK: - Driver

void stretch_gemm_q8(int kind, const void *w, size_t rowBytes, long rows, const void *xprep, long cols, long tokens,
                     float *y, long ldy, void *scratch) {
    long nball = cols / 32;
    uint8_t *panel = (uint8_t *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
    uint8_t *rowChunks = panel + KC * PANEL_BLOCK_BYTES;
    int cls = kind_class(kind), level = stretch_kernels_level();
    if (level == 1 && !stretch_gemm_q8_supports(kind)) level = 0;  // Q8_0 would saturate vpmaddubsw
    for (long b0 = 0; b0 < nball; b0 += KC) {
        long nb = nball - b0 < KC ? nball - b0 : KC;
        int first = b0 == 0;
        for (long r0 = 0; r0 < rows; r0 += 16) {
            int nr = rows - r0 < 16 ? (int)(rows - r0) : 16;
            unpack_rows(kind, (const uint8_t *)w + (size_t)r0 * rowBytes, rowBytes, nr, b0, nb, panel, rowChunks);
#ifdef STRETCH_GEMM_Q8_X86
            if (level == 2) scatter_avx512(rowChunks, nb, panel); else
#endif
            scatter_scalar(rowChunks, nb, panel, 0);
            for (long g = 0; g * G < tokens; g++) {
                int nt = tokens - g * G < G ? (int)(tokens - g * G) : G;
                const uint8_t *xg = (const uint8_t *)xprep + (g * nball + b0) * GROUP_BLOCK_BYTES;
                float *yg = y + g * G * ldy + r0;
                switch (level) {
#ifdef STRETCH_GEMM_Q8_X86
                case 2: {
                    __mmask16 m = (__mmask16)(nr == 16 ? 0xFFFF : (1u << nr) - 1);
                    switch (cls) {
                    case CLS_OFF16: tile_vnni_off16(panel, nb, xg, yg, ldy, nt, m, first); break;
                    case CLS_OFF128: tile_vnni_off128(panel, nb, xg, yg, ldy, nt, m, first); break;
                    case CLS_MINS: tile_vnni_mins(panel, nb, xg, yg, ldy, nt, m, first); break;
                    default: tile_vnni_halves(panel, nb, xg, yg, ldy, nt, m, first); break;
                    }
                    break;
                }
                case 1:
                    switch (cls) {
                    case CLS_OFF16: tile_avx2_off16(panel, nb, xg, yg, ldy, nt, nr, first); break;
                    case CLS_OFF128: tile_avx2_off128(panel, nb, xg, yg, ldy, nt, nr, first); break;
                    case CLS_MINS: tile_avx2_mins(panel, nb, xg, yg, ldy, nt, nr, first); break;
                    default: tile_avx2_halves(panel, nb, xg, yg, ldy, nt, nr, first); break;
                    }
                    break;
#endif
                default: tile_scalar(cls, panel, nb, xg, yg, ldy, nt, nr, first); break;
                }
            }
        }
    }
}
