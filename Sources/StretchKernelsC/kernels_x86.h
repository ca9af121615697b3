// x86 kernel bodies, included once per ISA level by kernels.c with these macros defined:
//   FN(name)   the function name with the level's suffix
//   ATTR       the level's `__attribute__((target(...)))`
//   DOT4(u, s) 8 x int32, lane i = Σ of u8 u[4i..4i+3] times s8 s[4i..4i+3]
// Not a public header.

static ATTR inline float FN(half)(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    // Through a register that vmovd fills whole. `_cvtsh_ss` and `_mm_cvtsi32_si128` alone let clang emit
    // vpinsrw into an "undef" register, and it picks an FMA accumulator: every block's scale then waited for
    // the previous block's FMA (Q5_0 on AVX2 ~15% slower; docs/DESIGN.md, "C kernels"). The empty asm
    // makes the whole register live, so the zeroing vmovd stays.
    __m128i v = _mm_cvtsi32_si128(h);
    __asm__("" : "+x"(v));
    return _mm_cvtss_f32(_mm_cvtph_ps(v));
}

static ATTR inline float FN(hsum)(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// Blocks `b ..< blocks` of a Q8_0 row one at a time into `a0`: the odd block left after the pairs.
static ATTR inline __m256 FN(q8_0_singles)(const uint8_t *p, const StretchQ8 *x, long b, long blocks, __m256 a0) {
    for (; b < blocks; b++) {
        const uint8_t *q = p + 34 * b;
        __m256i w0 = _mm256_loadu_si256((const __m256i *)(q + 2));
        __m256i x0 = _mm256_loadu_si256((const __m256i *)(x->quants + 32 * b));
        __m256i s0 = DOT4(_mm256_sign_epi8(w0, w0), _mm256_sign_epi8(x0, w0));
        a0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s0), _mm256_set1_ps(FN(half)(q) * x->scales[b]), a0);
    }
    return a0;
}

static ATTR float FN(q8_0)(const uint8_t *p, const StretchQ8 *x, long blocks) {
    const int8_t *xq = x->quants;
    const float *xs = x->scales;
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    long b = 0;
    // Eight blocks per step: their eight weight × activation scales in one vector (one vcvtph2ps and one
    // multiply), each block's scale broadcast from it with one vpermps.
    for (; b + 8 <= blocks; b += 8) {
        const uint8_t *q = p + 34 * b;
        uint16_t h[8];
        for (int k = 0; k < 8; k++) memcpy(&h[k], q + 34 * k, 2);
        __m256 dv = _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)h)), _mm256_loadu_ps(xs + b));
        for (int k = 0; k < 8; k += 2) {
            __m256i w0 = _mm256_loadu_si256((const __m256i *)(q + 34 * k + 2));
            __m256i w1 = _mm256_loadu_si256((const __m256i *)(q + 34 * k + 36));
            __m256i x0 = _mm256_loadu_si256((const __m256i *)(xq + 32 * (b + k)));
            __m256i x1 = _mm256_loadu_si256((const __m256i *)(xq + 32 * (b + k) + 32));
            __m256i s0 = DOT4(_mm256_sign_epi8(w0, w0), _mm256_sign_epi8(x0, w0));
            __m256i s1 = DOT4(_mm256_sign_epi8(w1, w1), _mm256_sign_epi8(x1, w1));
            a0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s0), _mm256_permutevar8x32_ps(dv, _mm256_set1_epi32(k)), a0);
            a1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s1), _mm256_permutevar8x32_ps(dv, _mm256_set1_epi32(k + 1)), a1);
        }
    }
    for (; b + 2 <= blocks; b += 2) {
        const uint8_t *q = p + 34 * b;
        __m256i w0 = _mm256_loadu_si256((const __m256i *)(q + 2));
        __m256i w1 = _mm256_loadu_si256((const __m256i *)(q + 36));
        __m256i x0 = _mm256_loadu_si256((const __m256i *)(xq + 32 * b));
        __m256i x1 = _mm256_loadu_si256((const __m256i *)(xq + 32 * b + 32));
        __m256i s0 = DOT4(_mm256_sign_epi8(w0, w0), _mm256_sign_epi8(x0, w0));
        __m256i s1 = DOT4(_mm256_sign_epi8(w1, w1), _mm256_sign_epi8(x1, w1));
        a0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s0), _mm256_set1_ps(FN(half)(q) * xs[b]), a0);
        a1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s1), _mm256_set1_ps(FN(half)(q + 34) * xs[b + 1]), a1);
    }
    return FN(hsum)(_mm256_add_ps(FN(q8_0_singles)(p, x, b, blocks, a0), a1));
}

// 32 weights (nibble | high bit << 4), 0...31; the -16 goes through the activation block sums.
static ATTR inline __m256i FN(q5_0_weights)(const uint8_t *q) {
    uint32_t qh;
    memcpy(&qh, q + 2, 4);
    const __m256i spread = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                            2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ULL);
    __m256i bytes = _mm256_shuffle_epi8(_mm256_set1_epi32((int)qh), spread);
    __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(bytes, bit), bit);
    __m256i high = _mm256_and_si256(set, _mm256_set1_epi8(0x10));
    __m128i qs = _mm_loadu_si128((const __m128i *)(q + 6));
    const __m128i m4 = _mm_set1_epi8(0x0F);
    __m256i nib = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(qs, 4), m4), _mm_and_si128(qs, m4));
    return _mm256_or_si256(nib, high);
}

// Σ (q - 16) x of one block as 8 int32 lanes: the offset is taken off in integers (2 · Σx per lane,
// Σx from the activations' 16-element sums), so it is exact. Applying it in float after the row sum
// (Σ q x - 16 Σ x) cancels catastrophically when one activation is huge, as at a sequence's first
// token; that lost up to 3 digits of the Qwen logits there (docs/DESIGN.md, "C kernels").
static ATTR inline __m256i FN(q5_0_block)(const uint8_t *q, const int8_t *xq, const int32_t *s16) {
    __m256i s = DOT4(FN(q5_0_weights)(q), _mm256_loadu_si256((const __m256i *)xq));
    return _mm256_sub_epi32(s, _mm256_set1_epi32(2 * (s16[0] + s16[1])));
}

// Blocks `b ..< blocks` of a Q5_0 row one at a time into `a0`: the odd block left after the pairs.
static ATTR inline __m256 FN(q5_0_singles)(const uint8_t *p, const StretchQ8 *x, long b, long blocks, __m256 a0) {
    for (; b < blocks; b++) {
        const uint8_t *q = p + 22 * b;
        __m256i s0 = FN(q5_0_block)(q, x->quants + 32 * b, x->sums16 + 2 * b);
        a0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s0), _mm256_set1_ps(FN(half)(q) * x->scales[b]), a0);
    }
    return a0;
}

// `off[b]` is block b's offset 2 (s16[2b] + s16[2b + 1]) in every lane, built once per call by FN(rows):
// one vpsubd with a memory operand instead of two scalar loads, adds, a vmovd and a vpbroadcastd per block
// (Q5_0 on AVX2 ~20% faster, docs/DESIGN.md "C kernels"). Same integers in the same lanes as FN(q5_0_block).
static ATTR float FN(q5_0)(const uint8_t *p, const StretchQ8 *x, long blocks, const __m256i *off) {
    const int8_t *xq = x->quants;
    const float *xs = x->scales;
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    long b = 0;
    for (; b + 2 <= blocks; b += 2) {
        const uint8_t *q = p + 22 * b;
        __m256i x0 = _mm256_loadu_si256((const __m256i *)(xq + 32 * b));
        __m256i x1 = _mm256_loadu_si256((const __m256i *)(xq + 32 * b + 32));
        __m256i s0 = _mm256_sub_epi32(DOT4(FN(q5_0_weights)(q), x0), off[b]);
        __m256i s1 = _mm256_sub_epi32(DOT4(FN(q5_0_weights)(q + 22), x1), off[b + 1]);
        a0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s0), _mm256_set1_ps(FN(half)(q) * xs[b]), a0);
        a1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s1), _mm256_set1_ps(FN(half)(q + 22) * xs[b + 1]), a1);
    }
    return FN(hsum)(_mm256_add_ps(FN(q5_0_singles)(p, x, b, blocks, a0), a1));
}

static ATTR float FN(q4_K)(const uint8_t *p, const StretchQ8 *x, long blocks) {
    const int8_t *xq = x->quants;
    const float *xs = x->scales, *xsum = x->sums;
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    float minSum = 0;
    for (long b = 0; b < blocks; b++) {
        const uint8_t *q = p + 144 * b;
        float d = FN(half)(q), dmin = FN(half)(q + 2);
        uint8_t sc[8], mn[8];
        stretch_scale_min_k4(q + 4, sc, mn);
        const uint8_t *qs = q + 16;
        // The eight sub-block scales (d · sc) · xs in one vector, the products the scalar form computes in
        // the same order, each taken with one permute (~25% faster on AVX2 than eight scalar chains).
        uint64_t sc8;
        memcpy(&sc8, sc, 8);
        __m256 dsc = _mm256_mul_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long)sc8))));
        __m256 f8 = _mm256_mul_ps(dsc, _mm256_loadu_ps(xs + 8 * b));
        for (int c = 0; c < 4; c++) {
            long j = 8 * b + 2 * c;
            __m256i v = _mm256_loadu_si256((const __m256i *)(qs + 32 * c));
            __m256i lo = _mm256_and_si256(v, m4), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
            __m256i s0 = DOT4(lo, _mm256_loadu_si256((const __m256i *)(xq + 32 * j)));
            __m256i s1 = DOT4(hi, _mm256_loadu_si256((const __m256i *)(xq + 32 * j + 32)));
            a0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s0), _mm256_permutevar8x32_ps(f8, _mm256_set1_epi32(2 * c)), a0);
            a1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s1), _mm256_permutevar8x32_ps(f8, _mm256_set1_epi32(2 * c + 1)), a1);
            minSum += dmin * ((float)mn[2 * c] * xsum[j] + (float)mn[2 * c + 1] * xsum[j + 1]);
        }
    }
    return FN(hsum)(_mm256_add_ps(a0, a1)) - minSum;
}

// The 6-bit weights of half `n` of a Q6_K block as four groups of 32 unsigned values (0..63).
static ATTR inline void FN(q6_K_unpack)(const uint8_t *q, int n, __m256i g[4]) {
    const __m256i m4 = _mm256_set1_epi8(0x0F), m3 = _mm256_set1_epi8(0x03), m30 = _mm256_set1_epi8(0x30);
    const uint8_t *ql = q + 64 * n;
    __m256i qh = _mm256_loadu_si256((const __m256i *)(q + 128 + 32 * n));
    __m256i a = _mm256_loadu_si256((const __m256i *)ql);
    __m256i c = _mm256_loadu_si256((const __m256i *)(ql + 32));
    g[0] = _mm256_or_si256(_mm256_and_si256(a, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m3), 4));
    g[1] = _mm256_or_si256(_mm256_and_si256(c, m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m3), 4));
    g[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(a, 4), m4), _mm256_and_si256(qh, m30));
    g[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(c, 4), m4), _mm256_and_si256(_mm256_srli_epi16(qh, 2), m30));
}

// `off[j]` holds 8 · Σx of each 16-value half of activation block j (lanes 0-3 hold elements 0-15, lanes
// 4-7 elements 16-31), built once per call by FN(rows): the weights' +32 is taken off in integers, exact, as
// in FN(q5_0). Scales are formed eight at a time. Both replaced scalar work per block of 32 that left the
// kernel at ~60% of the AVX2 speed it has now (docs/DESIGN.md "C kernels").
static ATTR float FN(q6_K)(const uint8_t *p, const StretchQ8 *x, long blocks, const __m256i *off) {
    const int8_t *xq = x->quants;
    const float *xs = x->scales;
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    for (long b = 0; b < blocks; b++) {
        const uint8_t *q = p + 210 * b;
        float d = FN(half)(q + 208);
        const int8_t *sc = (const int8_t *)(q + 192);
        for (int n = 0; n < 2; n++) {
            __m256i g[4];
            FN(q6_K_unpack)(q, n, g);
            // Lanes 2k, 2k + 1: (d · xs[j]) · sc of the two halves of activation block j = j0 + k, the
            // products the scalar form computed, in the same order.
            long j0 = 8 * b + 4 * n;
            __m256 xs2 = _mm256_permutevar8x32_ps(_mm256_castps128_ps256(_mm_loadu_ps(xs + j0)),
                                                  _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3));
            __m256 sc8 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(sc + 8 * n))));
            __m256 f8 = _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(d), xs2), sc8);
            for (int k = 0; k < 4; k++) {
                long j = j0 + k;
                __m256i s = _mm256_sub_epi32(DOT4(g[k], _mm256_loadu_si256((const __m256i *)(xq + 32 * j))), off[j]);
                __m256 scale = _mm256_permutevar8x32_ps(
                    f8, _mm256_setr_epi32(2 * k, 2 * k, 2 * k, 2 * k, 2 * k + 1, 2 * k + 1, 2 * k + 1, 2 * k + 1));
                if (k & 1) a1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), scale, a1);
                else a0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), scale, a0);
            }
        }
    }
    return FN(hsum)(_mm256_add_ps(a0, a1));
}

// Q2_K, per activation block j = 8b + k: the 2-bit weights of its 32 elements are one 32-byte load of qs
// shifted by 2(k % 4); lanes 0-3 of the dot are sub-block 2k, lanes 4-7 sub-block 2k + 1, scaled in float as
// in q6_K. The mins go through the activations' 16-value sums.
static ATTR float FN(q2_K)(const uint8_t *p, const StretchQ8 *x, long blocks) {
    const int8_t *xq = x->quants;
    const float *xs = x->scales;
    const int32_t *s16 = x->sums16;
    const __m256i m3 = _mm256_set1_epi8(3);
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    float minSum = 0;
    for (long b = 0; b < blocks; b++) {
        const uint8_t *q = p + 84 * b;
        float d = FN(half)(q + 80), dmin = FN(half)(q + 82);
        for (int h = 0; h < 2; h++) {
            __m256i v = _mm256_loadu_si256((const __m256i *)(q + 16 + 32 * h));
            for (int s = 0; s < 4; s++) {
                int k = 4 * h + s;
                long j = 8 * b + k;
                __m256i w = _mm256_and_si256(_mm256_srl_epi16(v, _mm_cvtsi32_si128(2 * s)), m3);
                __m256i dot = DOT4(w, _mm256_loadu_si256((const __m256i *)(xq + 32 * j)));
                float f = d * xs[j];
                float fa = f * (float)(q[2 * k] & 0x0F), fb = f * (float)(q[2 * k + 1] & 0x0F);
                __m256 scale = _mm256_setr_ps(fa, fa, fa, fa, fb, fb, fb, fb);
                if (s & 1) a1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), scale, a1);
                else a0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), scale, a0);
                minSum += dmin * xs[j] * (float)((q[2 * k] >> 4) * s16[2 * j] + (q[2 * k + 1] >> 4) * s16[2 * j + 1]);
            }
        }
    }
    return FN(hsum)(_mm256_add_ps(a0, a1)) - minSum;
}

// The 16 signed 6-bit scales of a Q3_K block (as stretch_scales_k3) with a few vector ops: low nibbles of
// bytes 0-7 then their high nibbles, plus bits 2(i / 4) of byte 8 + i % 4 from one variable shift per
// 32-bit lane. The scalar loop cost more than the block's dot products (5.3 vs 2.3 ns per 32 weights).
static ATTR inline void FN(scales_k3)(const uint8_t *t, int8_t *sc) {
    __m128i bytes = _mm_loadl_epi64((const __m128i *)t);
    __m128i low = _mm_and_si128(_mm_unpacklo_epi64(bytes, _mm_srli_epi16(bytes, 4)), _mm_set1_epi8(0x0F));
    uint32_t top;
    memcpy(&top, t + 8, 4);
    __m128i high = _mm_and_si128(_mm_srlv_epi32(_mm_set1_epi32((int)top), _mm_setr_epi32(0, 2, 4, 6)), _mm_set1_epi8(3));
    _mm_storeu_si128((__m128i *)sc, _mm_sub_epi8(_mm_or_si128(low, _mm_slli_epi16(high, 4)), _mm_set1_epi8(32)));
}

// Q3_K: weights v = low 2 bits | hmask bit << 2 (0...7); the -4 is taken off in integers through the 16-value
// sums (Σx per lane, four lanes per half), then each half is scaled by its signed sub-block scale.
static ATTR float FN(q3_K)(const uint8_t *p, const StretchQ8 *x, long blocks) {
    const int8_t *xq = x->quants;
    const float *xs = x->scales;
    const int32_t *s16 = x->sums16;
    const __m256i m3 = _mm256_set1_epi8(3), one = _mm256_set1_epi8(1);
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    for (long b = 0; b < blocks; b++) {
        const uint8_t *q = p + 110 * b;
        float d = FN(half)(q + 108);
        int8_t sc[16];
        FN(scales_k3)(q + 96, sc);
        __m256i hm = _mm256_loadu_si256((const __m256i *)q);
        for (int h = 0; h < 2; h++) {
            __m256i v = _mm256_loadu_si256((const __m256i *)(q + 32 + 32 * h));
            for (int s = 0; s < 4; s++) {
                int k = 4 * h + s;
                long j = 8 * b + k;
                __m256i low = _mm256_and_si256(_mm256_srl_epi16(v, _mm_cvtsi32_si128(2 * s)), m3);
                __m256i high = _mm256_and_si256(_mm256_srl_epi16(hm, _mm_cvtsi32_si128(k)), one);
                __m256i w = _mm256_or_si256(low, _mm256_slli_epi16(high, 2));
                __m256i off = _mm256_setr_epi32(s16[2 * j], s16[2 * j], s16[2 * j], s16[2 * j],
                                                s16[2 * j + 1], s16[2 * j + 1], s16[2 * j + 1], s16[2 * j + 1]);
                __m256i dot = _mm256_sub_epi32(DOT4(w, _mm256_loadu_si256((const __m256i *)(xq + 32 * j))), off);
                float f = d * xs[j];
                float fa = f * (float)sc[2 * k], fb = f * (float)sc[2 * k + 1];
                __m256 scale = _mm256_setr_ps(fa, fa, fa, fa, fb, fb, fb, fb);
                if (s & 1) a1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), scale, a1);
                else a0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), scale, a0);
            }
        }
    }
    return FN(hsum)(_mm256_add_ps(a0, a1));
}

// 32 IQ4 weights from 16 bytes of nibbles, looked up in the grid with one byte shuffle, times 32 activations:
// signed × signed through the sign trick of q8_0 (|w| ≤ 127, so vpmaddubsw cannot saturate).
static ATTR inline __m256i FN(iq4_dot32)(const uint8_t *qs, const int8_t *xq) {
    const __m256i grid = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)stretch_iq4_grid));
    const __m128i m4 = _mm_set1_epi8(0x0F);
    __m128i raw = _mm_loadu_si128((const __m128i *)qs);
    __m256i nib = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(raw, 4), m4), _mm_and_si128(raw, m4));
    __m256i w = _mm256_shuffle_epi8(grid, nib);
    __m256i xv = _mm256_loadu_si256((const __m256i *)xq);
    return DOT4(_mm256_sign_epi8(w, w), _mm256_sign_epi8(xv, w));
}

static ATTR float FN(iq4_nl)(const uint8_t *p, const StretchQ8 *x, long blocks) {
    const int8_t *xq = x->quants;
    const float *xs = x->scales;
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    long b = 0;
    for (; b + 2 <= blocks; b += 2) {
        const uint8_t *q = p + 18 * b;
        __m256i s0 = FN(iq4_dot32)(q + 2, xq + 32 * b);
        __m256i s1 = FN(iq4_dot32)(q + 20, xq + 32 * b + 32);
        a0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s0), _mm256_set1_ps(FN(half)(q) * xs[b]), a0);
        a1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s1), _mm256_set1_ps(FN(half)(q + 18) * xs[b + 1]), a1);
    }
    for (; b < blocks; b++) {
        const uint8_t *q = p + 18 * b;
        __m256i s0 = FN(iq4_dot32)(q + 2, xq + 32 * b);
        a0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s0), _mm256_set1_ps(FN(half)(q) * xs[b]), a0);
    }
    return FN(hsum)(_mm256_add_ps(a0, a1));
}

static ATTR float FN(iq4_xs)(const uint8_t *p, const StretchQ8 *x, long blocks) {
    const int8_t *xq = x->quants;
    const float *xs = x->scales;
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    for (long b = 0; b < blocks; b++) {
        const uint8_t *q = p + 136 * b;
        float d = FN(half)(q);
        for (int k = 0; k < 8; k += 2) {
            long j = 8 * b + k;
            __m256i s0 = FN(iq4_dot32)(q + 8 + 16 * k, xq + 32 * j);
            __m256i s1 = FN(iq4_dot32)(q + 24 + 16 * k, xq + 32 * j + 32);
            float f0 = d * xs[j] * (float)stretch_scale_iq4xs(q, k);
            float f1 = d * xs[j + 1] * (float)stretch_scale_iq4xs(q, k + 1);
            a0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s0), _mm256_set1_ps(f0), a0);
            a1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s1), _mm256_set1_ps(f1), a1);
        }
    }
    return FN(hsum)(_mm256_add_ps(a0, a1));
}

#ifdef STRETCH_PAIRS
// One activation, two blocks per 512-bit register (decode's matrix-vector products, where Q5_0 and Q8_0
// were compute-bound at ~19 and ~7 vector operations per block in 256-bit registers). Lanes 0-7 hold the
// even block's eight int32 dots and lanes 8-15 the odd one's, each lane doing exactly the arithmetic of the
// 256-bit kernels' a0 (even blocks) or a1 (odd blocks), so results are bit-identical to them and to the
// batched kernels. `off` holds per block the eight lanes' integer offset (activation-only, built once per
// call by FN(rows)): it enters as the dot's starting value, so the offset costs a load, not an operation.

// Eight blocks' weight × activation scales, their halves at `q + stride · k`.
static ATTR inline __m256 FN(scales8)(const uint8_t *q, int stride, const float *xs) {
    const __m256i idx = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(stride));
    __m128i h = _mm256_cvtepi32_epi16(_mm256_i32gather_epi32((const int *)q, idx, 1));
    return _mm256_mul_ps(_mm256_cvtph_ps(h), _mm256_loadu_ps(xs));
}

// Block k of eight (its scale from `dv`) in lanes 0-7 and block k + 1 in lanes 8-15.
static ATTR inline __m512 FN(pair_scale)(__m512 dv, int k) {
    return _mm512_permutexvar_ps(_mm512_add_epi32(_mm512_set1_epi32(k), _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0,
                                                                                          1, 1, 1, 1, 1, 1, 1, 1)), dv);
}

static ATTR inline __m512 FN(pair_scalar_scale)(float s0, float s1) {
    return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_set1_ps(s0)), _mm256_castps_pd(_mm256_set1_ps(s1)), 1));
}

// Both blocks' 32 weights (nibble | high bit << 4, as FN(q5_0_weights)) for blocks at q and q + 22.
static ATTR inline __m512i FN(q5_0_pair_weights)(const uint8_t *q) {
    uint32_t h0, h1;
    memcpy(&h0, q + 2, 4);
    memcpy(&h1, q + 24, 4);
    __mmask64 high = _cvtu64_mask64((uint64_t)h0 | ((uint64_t)h1 << 32));
    __m512i v = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(q + 6)))),
                                   _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(q + 28))), 1);
    // [A, A, B, B] in 128-bit lanes: the high nibbles in lanes 1 and 3.
    v = _mm512_and_si512(_mm512_mask_srli_epi16(v, 0xFF00FF00u, v, 4), _mm512_set1_epi8(0x0F));
    return _mm512_mask_add_epi8(v, high, v, _mm512_set1_epi8(0x10));
}

// Q8_0's blocks at q and q + 34 with the weights made unsigned (w + 128, one xor); with −128 · Σx per lane as
// the dot's start this is the same int32 per lane as the sign trick of FN(q8_0), which 512-bit registers lack.
static ATTR inline __m512i FN(q8_0_pair_weights)(const uint8_t *q) {
    __m512i w = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(q + 2))),
                                   _mm256_loadu_si256((const __m256i *)(q + 36)), 1);
    return _mm512_xor_si512(w, _mm512_set1_epi8((char)0x80));
}

// The upper eight lanes (the odd blocks' accumulator a1 of the 256-bit kernels).
static ATTR inline __m256 FN(upper)(__m512 v) {
    return _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
}

// Q5_0 (`q8` = 0) or Q8_0 (`q8` = 1) in pairs of blocks: groups of eight with their scales from one gather,
// then pairs, then a last single block in 256 bits. Always inlined with a constant `q8`, so each format
// compiles to its own loop without a branch.
static ATTR inline __attribute__((always_inline)) float FN(pairs_z)(const uint8_t *p, const StretchQ8 *x, long blocks,
                                                                    const int32_t *off, const int q8) {
    const int8_t *xq = x->quants;
    const float *xs = x->scales;
    const int bb = q8 ? 34 : 22;
    __m512 acc = _mm512_setzero_ps();
    long b = 0;
    for (; b + 8 <= blocks; b += 8) {
        const uint8_t *q = p + bb * b;
        __m512 dv = _mm512_castps256_ps512(FN(scales8)(q, bb, xs + b));
        for (int k = 0; k < 8; k += 2) {
            const uint8_t *qk = q + bb * k;
            __m512i w = q8 ? FN(q8_0_pair_weights)(qk) : FN(q5_0_pair_weights)(qk);
            __m512i s = _mm512_dpbusd_epi32(_mm512_loadu_si512(off + 8 * (b + k)), w, _mm512_loadu_si512(xq + 32 * (b + k)));
            acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), FN(pair_scale)(dv, k), acc);
        }
    }
    for (; b + 2 <= blocks; b += 2) {
        const uint8_t *q = p + bb * b;
        __m512i w = q8 ? FN(q8_0_pair_weights)(q) : FN(q5_0_pair_weights)(q);
        __m512i s = _mm512_dpbusd_epi32(_mm512_loadu_si512(off + 8 * b), w, _mm512_loadu_si512(xq + 32 * b));
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), FN(pair_scalar_scale)(FN(half)(q) * xs[b], FN(half)(q + bb) * xs[b + 1]), acc);
    }
    __m256 a0 = _mm512_castps512_ps256(acc);
    a0 = q8 ? FN(q8_0_singles)(p, x, b, blocks, a0) : FN(q5_0_singles)(p, x, b, blocks, a0);
    return FN(hsum)(_mm256_add_ps(a0, FN(upper)(acc)));
}

// Q4_K: one 32-byte load gives two sub-blocks (low nibbles: sub-block 2c, even, lanes 0-7; high nibbles:
// 2c + 1, odd, lanes 8-15), as FN(q4_K)'s a0 and a1. The eight weight × activation scales of a block,
// (d · sc) · xs as the scalar code rounds them, come from one vector product; the min term stays in scalars
// with the contraction FN(q4_K) compiles to (and FN(q4_K_pairs) pins): fma(dmin, fma(mn, xsum, mn' · xsum'), minSum).
static ATTR float FN(q4_K_z)(const uint8_t *p, const StretchQ8 *x, long blocks) {
    const int8_t *xq = x->quants;
    const float *xs = x->scales, *xsum = x->sums;
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    __m512 acc = _mm512_setzero_ps();
    float minSum = 0;
    for (long b = 0; b < blocks; b++) {
        const uint8_t *q = p + 144 * b;
        float d = FN(half)(q), dmin = FN(half)(q + 2);
        uint8_t sc[8], mn[8];
        stretch_scale_min_k4(q + 4, sc, mn);
        __m256 dsc = _mm256_mul_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)sc))));
        __m512 f = _mm512_castps256_ps512(_mm256_mul_ps(dsc, _mm256_loadu_ps(xs + 8 * b)));
        const uint8_t *qs = q + 16;
        for (int c = 0; c < 4; c++) {
            long j = 8 * b + 2 * c;
            __m512i v = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(qs + 32 * c)));
            v = _mm512_and_si512(_mm512_mask_srli_epi16(v, 0xFFFF0000u, v, 4), m4);
            __m512i s = _mm512_dpbusd_epi32(_mm512_setzero_si512(), v, _mm512_loadu_si512(xq + 32 * j));
            acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), FN(pair_scale)(f, 2 * c), acc);
            minSum = fmaf(dmin, fmaf((float)mn[2 * c], xsum[j], (float)mn[2 * c + 1] * xsum[j + 1]), minSum);
        }
    }
    return FN(hsum)(_mm256_add_ps(_mm512_castps512_ps256(acc), FN(upper)(acc))) - minSum;
}

// Q6_K: groups k and k + 1 of a half block (k even) in one register, as FN(q6_K)'s a0 and a1. Each group's
// lanes 0-3 and 4-7 take different 16-element scales and offsets: the offsets (−8 Σx per 16 activations)
// come precomputed per call (`off`, eight lanes per 32-element group), the 16 scales f · sc of a block from
// one vector product (f = d · xs as the scalar code rounds it).
static ATTR float FN(q6_K_z)(const uint8_t *p, const StretchQ8 *x, long blocks, const int32_t *off) {
    const int8_t *xq = x->quants;
    const float *xs = x->scales;
    const __m512i m4 = _mm512_set1_epi8(0x0F), m3 = _mm512_set1_epi8(0x03), m30 = _mm512_set1_epi8(0x30);
    const __m512i dup = _mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
    const __m512i quad = _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
    __m512 acc = _mm512_setzero_ps();
    for (long b = 0; b < blocks; b++) {
        const uint8_t *q = p + 210 * b;
        __m256 f = _mm256_mul_ps(_mm256_set1_ps(FN(half)(q + 208)), _mm256_loadu_ps(xs + 8 * b));
        // Lane 2i: f_i · sc[2i], lane 2i + 1: f_i · sc[2i + 1].
        __m512 fs = _mm512_mul_ps(_mm512_permutexvar_ps(dup, _mm512_castps256_ps512(f)),
                                  _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(q + 192)))));
        for (int n = 0; n < 2; n++) {
            const uint8_t *ql = q + 64 * n;
            __m512i a = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)ql)),
                                           _mm256_loadu_si256((const __m256i *)(ql + 32)), 1);
            __m256i qh = _mm256_loadu_si256((const __m256i *)(q + 128 + 32 * n));
            __m512i h = _mm512_inserti64x4(_mm512_castsi256_si512(qh), _mm256_srli_epi16(qh, 2), 1);
            __m512i g01 = _mm512_or_si512(_mm512_and_si512(a, m4), _mm512_slli_epi16(_mm512_and_si512(h, m3), 4));
            __m512i g23 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(a, 4), m4), _mm512_and_si512(h, m30));
            for (int k = 0; k < 4; k += 2) {
                long j = 8 * b + 4 * n + k;
                __m512i s = _mm512_dpbusd_epi32(_mm512_loadu_si512(off + 8 * j), k ? g23 : g01, _mm512_loadu_si512(xq + 32 * j));
                __m512 scale = _mm512_permutexvar_ps(_mm512_add_epi32(quad, _mm512_set1_epi32(2 * (4 * n + k))), fs);
                acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), scale, acc);
            }
        }
    }
    return FN(hsum)(_mm256_add_ps(_mm512_castps512_ps256(acc), FN(upper)(acc)));
}

// The per-lane offsets of FN(pairs_z) / FN(q6_K_z) for the first `pairs` pairs of 32-element blocks.
static ATTR void FN(pair_offsets)(int kind, const StretchQ8 *x, long pairs, int32_t *off) {
    for (long b = 0; b < 2 * pairs; b++) {
        if (kind == STRETCH_KIND_Q5_0) {
            _mm256_store_si256((__m256i *)(off + 8 * b), _mm256_set1_epi32(-2 * (x->sums16[2 * b] + x->sums16[2 * b + 1])));
        } else if (kind == STRETCH_KIND_Q6_K) {
            __m128i lo = _mm_set1_epi32(-8 * x->sums16[2 * b]), hi = _mm_set1_epi32(-8 * x->sums16[2 * b + 1]);
            _mm256_store_si256((__m256i *)(off + 8 * b), _mm256_set_m128i(hi, lo));
        } else {
            __m256i d = DOT4(_mm256_set1_epi8((char)0x80), _mm256_loadu_si256((const __m256i *)(x->quants + 32 * b)));
            _mm256_store_si256((__m256i *)(off + 8 * b), _mm256_sub_epi32(_mm256_setzero_si256(), d));
        }
    }
}
#endif

// Rows are streamed from memory once per token; hardware prefetch alone left the kernels at about half
// the machine's read bandwidth (short rows: 616 bytes for Q5_0). Each row prefetches the one ~3 KB
// ahead (4 rows of Q5_0, 3 of Q8_0, 1 of Q4_K/Q6_K): 1.3-1.5x on rows streamed from DRAM (docs/DESIGN.md).
static ATTR void FN(rows)(int kind, const uint8_t *w, size_t rowBytes, long rows, const StretchQ8 *x, float *y) {
    long n = x->count;
    size_t ahead = rowBytes >= 3000 ? rowBytes : (3000 / rowBytes) * rowBytes;
#ifdef STRETCH_PAIRS
    // The 512-bit kernels, a loop of their own (one shared with the 256-bit switch ran Q6_K ~35% slower).
    // Q5_0/Q8_0/Q6_K need the offsets' stack buffer, so rows over 8,192 columns keep the 256-bit kernels.
    if ((kind == STRETCH_KIND_Q5_0 || kind == STRETCH_KIND_Q8_0 || kind == STRETCH_KIND_Q6_K) && n <= 8192) {
        _Alignas(64) int32_t off[8192 / 4];
        FN(pair_offsets)(kind, x, n / 64, off);
        for (long r = 0; r < rows; r++) {
            const uint8_t *p = w + r * rowBytes;
            for (size_t o = 0; o < rowBytes; o += 64) _mm_prefetch((const char *)(p + ahead + o), _MM_HINT_T0);
            y[r] = kind == STRETCH_KIND_Q5_0 ? FN(pairs_z)(p, x, n / 32, off, 0)
                 : kind == STRETCH_KIND_Q8_0 ? FN(pairs_z)(p, x, n / 32, off, 1)
                                             : FN(q6_K_z)(p, x, n / 256, off);
        }
        return;
    }
    if (kind == STRETCH_KIND_Q4_K) {
        for (long r = 0; r < rows; r++) {
            const uint8_t *p = w + r * rowBytes;
            for (size_t o = 0; o < rowBytes; o += 64) _mm_prefetch((const char *)(p + ahead + o), _MM_HINT_T0);
            y[r] = FN(q4_K_z)(p, x, n / 256);
        }
        return;
    }
#endif
    // Q5_0 and Q6_K take per-block integer offsets from the activation sums; they are the same for every row,
    // so they are laid out once here as whole vectors (32 bytes per 32 columns: on the stack up to 8,192).
    __m256i stackOffsets[8192 / 32];
    __m256i *off = NULL;
    if (kind == STRETCH_KIND_Q5_0 || kind == STRETCH_KIND_Q6_K) {
        off = n <= 8192 ? stackOffsets : aligned_alloc(32, (size_t)n);
        if (!off) {
            rows_scalar(kind, w, rowBytes, rows, x, y);  // out of memory for a few kilobytes: still correct
            return;
        }
        const int32_t *s16 = x->sums16;
        for (long j = 0; j < n / 32; j++) {
            int32_t h0 = s16[2 * j], h1 = s16[2 * j + 1];
            off[j] = kind == STRETCH_KIND_Q5_0 ? _mm256_set1_epi32(2 * (h0 + h1))
                                               : _mm256_setr_epi32(8 * h0, 8 * h0, 8 * h0, 8 * h0, 8 * h1, 8 * h1, 8 * h1, 8 * h1);
        }
    }
    for (long r = 0; r < rows; r++) {
        const uint8_t *p = w + r * rowBytes;
        for (size_t o = 0; o < rowBytes; o += 64) _mm_prefetch((const char *)(p + ahead + o), _MM_HINT_T0);
        switch (kind) {
        case STRETCH_KIND_Q8_0: y[r] = FN(q8_0)(p, x, n / 32); break;
        case STRETCH_KIND_Q5_0: y[r] = FN(q5_0)(p, x, n / 32, off); break;
        case STRETCH_KIND_Q4_K: y[r] = FN(q4_K)(p, x, n / 256); break;
        case STRETCH_KIND_Q6_K: y[r] = FN(q6_K)(p, x, n / 256, off); break;
        case STRETCH_KIND_Q2_K: y[r] = FN(q2_K)(p, x, n / 256); break;
        case STRETCH_KIND_Q3_K: y[r] = FN(q3_K)(p, x, n / 256); break;
        case STRETCH_KIND_IQ4_NL: y[r] = FN(iq4_nl)(p, x, n / 32); break;
        case STRETCH_KIND_IQ4_XS: y[r] = FN(iq4_xs)(p, x, n / 256); break;
        default: break;
        }
    }
    if (off != stackOffsets) free(off);
}
