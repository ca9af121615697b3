// Several activation vectors against the same weight rows (batched decode), included after kernels_x86.h
// with the same FN/ATTR/DOT4 macros. Each weight block is loaded and unpacked once and then multiplied with
// up to four activations. Per activation, every operation and its order are those of the one-activation
// kernels above (same accumulators, same FMA sequence, same final sums), so each result is bit-identical
// to `stretch_dot_rows` with that activation alone (BatchedForwardTests, IntegerDotTests).
// Not a public header.

#define MULTI_ATTR ATTR __attribute__((always_inline)) static inline

// Blocks `b ..< blocks` of a Q8_0 row into per-activation accumulators, in pairs (block b into a0, b + 1
// into a1) and then one; FN(q8_0_x) runs it after its eight-block loop.
MULTI_ATTR void FN(q8_0_x_from)(const uint8_t *p, const StretchQ8 *x, const int nx, long b, long blocks, __m256 *a0,
                                __m256 *a1) {
    for (; b + 2 <= blocks; b += 2) {
        const uint8_t *q = p + 34 * b;
        __m256i w0 = _mm256_loadu_si256((const __m256i *)(q + 2));
        __m256i w1 = _mm256_loadu_si256((const __m256i *)(q + 36));
        __m256i u0 = _mm256_sign_epi8(w0, w0), u1 = _mm256_sign_epi8(w1, w1);
        float d0 = FN(half)(q), d1 = FN(half)(q + 34);
        for (int i = 0; i < nx; i++) {
            const int8_t *xq = x[i].quants;
            __m256i x0 = _mm256_loadu_si256((const __m256i *)(xq + 32 * b));
            __m256i x1 = _mm256_loadu_si256((const __m256i *)(xq + 32 * b + 32));
            __m256i s0 = DOT4(u0, _mm256_sign_epi8(x0, w0));
            __m256i s1 = DOT4(u1, _mm256_sign_epi8(x1, w1));
            a0[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s0), _mm256_set1_ps(d0 * x[i].scales[b]), a0[i]);
            a1[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s1), _mm256_set1_ps(d1 * x[i].scales[b + 1]), a1[i]);
        }
    }
    for (; b < blocks; b++) {
        const uint8_t *q = p + 34 * b;
        __m256i w0 = _mm256_loadu_si256((const __m256i *)(q + 2));
        __m256i u0 = _mm256_sign_epi8(w0, w0);
        float d0 = FN(half)(q);
        for (int i = 0; i < nx; i++) {
            __m256i x0 = _mm256_loadu_si256((const __m256i *)(x[i].quants + 32 * b));
            __m256i s0 = DOT4(u0, _mm256_sign_epi8(x0, w0));
            a0[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s0), _mm256_set1_ps(d0 * x[i].scales[b]), a0[i]);
        }
    }
}

MULTI_ATTR void FN(q8_0_x)(const uint8_t *p, const StretchQ8 *x, const int nx, long blocks, float *out) {
    __m256 a0[4], a1[4];
    for (int i = 0; i < nx; i++) a0[i] = a1[i] = _mm256_setzero_ps();
    long b = 0;
    for (; b + 8 <= blocks; b += 8) {
        const uint8_t *q = p + 34 * b;
        uint16_t h[8];
        for (int k = 0; k < 8; k++) memcpy(&h[k], q + 34 * k, 2);
        __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)h));
        __m256 dv[4];
        for (int i = 0; i < nx; i++) dv[i] = _mm256_mul_ps(dw, _mm256_loadu_ps(x[i].scales + b));
        for (int k = 0; k < 8; k += 2) {
            __m256i w0 = _mm256_loadu_si256((const __m256i *)(q + 34 * k + 2));
            __m256i w1 = _mm256_loadu_si256((const __m256i *)(q + 34 * k + 36));
            __m256i u0 = _mm256_sign_epi8(w0, w0), u1 = _mm256_sign_epi8(w1, w1);
            for (int i = 0; i < nx; i++) {
                const int8_t *xq = x[i].quants;
                __m256i x0 = _mm256_loadu_si256((const __m256i *)(xq + 32 * (b + k)));
                __m256i x1 = _mm256_loadu_si256((const __m256i *)(xq + 32 * (b + k) + 32));
                __m256i s0 = DOT4(u0, _mm256_sign_epi8(x0, w0));
                __m256i s1 = DOT4(u1, _mm256_sign_epi8(x1, w1));
                a0[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s0), _mm256_permutevar8x32_ps(dv[i], _mm256_set1_epi32(k)), a0[i]);
                a1[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s1), _mm256_permutevar8x32_ps(dv[i], _mm256_set1_epi32(k + 1)), a1[i]);
            }
        }
    }
    FN(q8_0_x_from)(p, x, nx, b, blocks, a0, a1);
    for (int i = 0; i < nx; i++) out[i] = FN(hsum)(_mm256_add_ps(a0[i], a1[i]));
}

// Blocks `b ..< blocks` of a Q5_0 row into per-activation accumulators: block b feeds accumulator b mod 2
// (b even), in increasing b; FN(q5_0_x) runs it from 0.
MULTI_ATTR void FN(q5_0_x_from)(const uint8_t *p, const StretchQ8 *x, const int nx, long b, long blocks, __m256 *a0,
                                __m256 *a1) {
    for (; b + 2 <= blocks; b += 2) {
        const uint8_t *q = p + 22 * b;
        __m256i w0 = FN(q5_0_weights)(q), w1 = FN(q5_0_weights)(q + 22);
        float d0 = FN(half)(q), d1 = FN(half)(q + 22);
        for (int i = 0; i < nx; i++) {
            const int8_t *xq = x[i].quants;
            const int32_t *s16 = x[i].sums16;
            __m256i s0 = _mm256_sub_epi32(DOT4(w0, _mm256_loadu_si256((const __m256i *)(xq + 32 * b))),
                                          _mm256_set1_epi32(2 * (s16[2 * b] + s16[2 * b + 1])));
            __m256i s1 = _mm256_sub_epi32(DOT4(w1, _mm256_loadu_si256((const __m256i *)(xq + 32 * b + 32))),
                                          _mm256_set1_epi32(2 * (s16[2 * b + 2] + s16[2 * b + 3])));
            a0[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s0), _mm256_set1_ps(d0 * x[i].scales[b]), a0[i]);
            a1[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s1), _mm256_set1_ps(d1 * x[i].scales[b + 1]), a1[i]);
        }
    }
    for (; b < blocks; b++) {
        const uint8_t *q = p + 22 * b;
        __m256i w0 = FN(q5_0_weights)(q);
        float d0 = FN(half)(q);
        for (int i = 0; i < nx; i++) {
            const int32_t *s16 = x[i].sums16;
            __m256i s0 = _mm256_sub_epi32(DOT4(w0, _mm256_loadu_si256((const __m256i *)(x[i].quants + 32 * b))),
                                          _mm256_set1_epi32(2 * (s16[2 * b] + s16[2 * b + 1])));
            a0[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s0), _mm256_set1_ps(d0 * x[i].scales[b]), a0[i]);
        }
    }
}

MULTI_ATTR void FN(q5_0_x)(const uint8_t *p, const StretchQ8 *x, const int nx, long blocks, float *out) {
    __m256 a0[4], a1[4];
    for (int i = 0; i < nx; i++) a0[i] = a1[i] = _mm256_setzero_ps();
    FN(q5_0_x_from)(p, x, nx, 0, blocks, a0, a1);
    for (int i = 0; i < nx; i++) out[i] = FN(hsum)(_mm256_add_ps(a0[i], a1[i]));
}

MULTI_ATTR void FN(q4_K_x)(const uint8_t *p, const StretchQ8 *x, const int nx, long blocks, float *out) {
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    __m256 a0[4], a1[4];
    float minSum[4];
    for (int i = 0; i < nx; i++) {
        a0[i] = a1[i] = _mm256_setzero_ps();
        minSum[i] = 0;
    }
    for (long b = 0; b < blocks; b++) {
        const uint8_t *q = p + 144 * b;
        float d = FN(half)(q), dmin = FN(half)(q + 2);
        uint8_t sc[8], mn[8];
        stretch_scale_min_k4(q + 4, sc, mn);
        const uint8_t *qs = q + 16;
        for (int c = 0; c < 4; c++) {
            long j = 8 * b + 2 * c;
            __m256i v = _mm256_loadu_si256((const __m256i *)(qs + 32 * c));
            __m256i lo = _mm256_and_si256(v, m4), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
            float f0 = d * (float)sc[2 * c], f1 = d * (float)sc[2 * c + 1];
            for (int i = 0; i < nx; i++) {
                const int8_t *xq = x[i].quants;
                const float *xs = x[i].scales, *xsum = x[i].sums;
                __m256i s0 = DOT4(lo, _mm256_loadu_si256((const __m256i *)(xq + 32 * j)));
                __m256i s1 = DOT4(hi, _mm256_loadu_si256((const __m256i *)(xq + 32 * j + 32)));
                a0[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s0), _mm256_set1_ps(f0 * xs[j]), a0[i]);
                a1[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s1), _mm256_set1_ps(f1 * xs[j + 1]), a1[i]);
                minSum[i] += dmin * ((float)mn[2 * c] * xsum[j] + (float)mn[2 * c + 1] * xsum[j + 1]);
            }
        }
    }
    for (int i = 0; i < nx; i++) out[i] = FN(hsum)(_mm256_add_ps(a0[i], a1[i])) - minSum[i];
}

MULTI_ATTR void FN(q6_K_x)(const uint8_t *p, const StretchQ8 *x, const int nx, long blocks, float *out) {
    __m256 a0[4], a1[4];
    for (int i = 0; i < nx; i++) a0[i] = a1[i] = _mm256_setzero_ps();
    for (long b = 0; b < blocks; b++) {
        const uint8_t *q = p + 210 * b;
        float d = FN(half)(q + 208);
        const int8_t *sc = (const int8_t *)(q + 192);
        for (int n = 0; n < 2; n++) {
            __m256i g[4];
            FN(q6_K_unpack)(q, n, g);
            for (int k = 0; k < 4; k++) {
                long j = 8 * b + 4 * n + k;
                int si = 8 * n + 2 * k;
                for (int i = 0; i < nx; i++) {
                    const int32_t *s16 = x[i].sums16;
                    float f = d * x[i].scales[j];
                    float fa = f * (float)sc[si], fb = f * (float)sc[si + 1];
                    __m256i off = _mm256_setr_epi32(8 * s16[2 * j], 8 * s16[2 * j], 8 * s16[2 * j], 8 * s16[2 * j],
                                                    8 * s16[2 * j + 1], 8 * s16[2 * j + 1], 8 * s16[2 * j + 1],
                                                    8 * s16[2 * j + 1]);
                    __m256i s = _mm256_sub_epi32(DOT4(g[k], _mm256_loadu_si256((const __m256i *)(x[i].quants + 32 * j))), off);
                    __m256 scale = _mm256_setr_ps(fa, fa, fa, fa, fb, fb, fb, fb);
                    if (k & 1) a1[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), scale, a1[i]);
                    else a0[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), scale, a0[i]);
                }
            }
        }
    }
    for (int i = 0; i < nx; i++) out[i] = FN(hsum)(_mm256_add_ps(a0[i], a1[i]));
}

#ifdef STRETCH_PAIRS
// Two 256-bit values as the halves of one 512-bit register (AVX512F only; no DQ needed).
MULTI_ATTR __m512 FN(pair_ps)(__m256 lo, __m256 hi) {
    return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_castps_pd(lo)), _mm256_castps_pd(hi), 1));
}

// A 64-bit value from memory in every 64-bit lane (one broadcast load).
MULTI_ATTR __m512i FN(bcast64i)(const int32_t *v) {
    long long u;
    memcpy(&u, v, 8);
    return _mm512_set1_epi64(u);
}

MULTI_ATTR __m512 FN(bcast64f)(const float *v) {
    double u;
    memcpy(&u, v, 8);
    return _mm512_castpd_ps(_mm512_set1_pd(u));
}

// Results of lane-interleaved pair accumulators (activation 2t in the even lanes, 2t + 1 in the odd ones):
// the even lanes are activation 2t's eight lanes in order, so hsum(a0 + a1) over them is what the
// one-activation kernel returns.
MULTI_ATTR void FN(interleaved_sums)(__m512 a0[2][2], __m512 a1[2][2], const int R, const int np, float *out0,
                                     float *out1) {
    const __m512i split = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
    for (int r = 0; r < R; r++) {
        float *out = r ? out1 : out0;
        for (int t = 0; t < np; t++) {
            __m512 s = _mm512_permutexvar_ps(split, _mm512_add_ps(a0[r][t], a1[r][t]));
            out[2 * t] = FN(hsum)(_mm512_castps512_ps256(s));
            out[2 * t + 1] = FN(hsum)(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(s), 1)));
        }
    }
}

// `R` (1 or 2) Q4_K rows against `2 · np` activation pairs: the products on the lane-interleaved layout of
// stretch_multi_prepare (as FN(q5_0_pairs); a Q4_K sub-block is a 32-element Q8 block), the min term from
// the activations' sums. The eight weight × activation scales of a block come from one vector multiply
// (d · sc, as the scalar code rounds it, doubled lane by lane, times the interleaved activation scales),
// stored and broadcast per sub-block. The min term, which FN(q4_K_x) adds up in scalars (compiled as
// minSum = fma(dmin, fma(mn[2c], xsum[j], mn[2c+1] · xsum[j+1]), minSum), the contraction the bit-identity
// tests pin), runs for all activations at once: one lane per activation, the same operations in the same
// order. Every lane does what the one-activation kernel does, so each result is bit-identical to it.
MULTI_ATTR void FN(q4_K_pairs)(const uint8_t *p0, const uint8_t *p1, const int R, const StretchQ8 *x,
                               const StretchPairTable *pt, const int np, long blocks, float *out0, float *out1,
                               long pf) {
    const uint8_t *p[2] = {p0, p1};
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    const __m512i dupLo = _mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
    const __m512i zero = _mm512_setzero_si512();
    // Lane 4c + i (activation i = 2t + h, pair table t, half h): sub-block 2c of activation i, and 2c + 1.
    const __m512i evenX = _mm512_setr_epi32(0, 8, 16, 24, 2, 10, 18, 26, 4, 12, 20, 28, 6, 14, 22, 30);
    const __m512i oddX = _mm512_add_epi32(evenX, _mm512_set1_epi32(1));
    // The same for the row's eight mins (activation-independent).
    const __m512i evenM = _mm512_setr_epi32(0, 0, 0, 0, 2, 2, 2, 2, 4, 4, 4, 4, 6, 6, 6, 6);
    const __m512i oddM = _mm512_add_epi32(evenM, _mm512_set1_epi32(1));
    __m512 a0[2][2], a1[2][2];
    __m128 minSum[2];
    for (int r = 0; r < R; r++) {
        for (int t = 0; t < np; t++) a0[r][t] = a1[r][t] = _mm512_setzero_ps();
        minSum[r] = _mm_setzero_ps();
    }
    for (long b = 0; b < blocks; b++) {
        if (pf)
            for (int r = 0; r < R; r++)
                for (int o = 0; o < 144; o += 64) _mm_prefetch((const char *)(p[r] + 144 * b + pf + o), _MM_HINT_T0);
        // The activations' sums of the block's eight sub-blocks, arranged for the min term.
        __m512 xs0 = FN(pair_ps)(_mm256_loadu_ps(x[0].sums + 8 * b), _mm256_loadu_ps(x[1].sums + 8 * b));
        __m512 xs1 = np > 1 ? FN(pair_ps)(_mm256_loadu_ps(x[2].sums + 8 * b), _mm256_loadu_ps(x[3].sums + 8 * b)) : xs0;
        __m512 xEven = _mm512_permutex2var_ps(xs0, evenX, xs1), xOdd = _mm512_permutex2var_ps(xs0, oddX, xs1);
        __attribute__((aligned(64))) float sv[2][2][16];
        for (int r = 0; r < R; r++) {
            const uint8_t *q = p[r] + 144 * b;
            float d = FN(half)(q), dmin = FN(half)(q + 2);
            uint8_t sc[8], mn[8];
            stretch_scale_min_k4(q + 4, sc, mn);
            float dsc[8];
            for (int s = 0; s < 8; s++) dsc[s] = d * (float)sc[s];
            __m512 dscDup = _mm512_permutexvar_ps(dupLo, _mm512_castps256_ps512(_mm256_loadu_ps(dsc)));
            for (int t = 0; t < np; t++)
                _mm512_store_ps(sv[r][t], _mm512_mul_ps(dscDup, _mm512_loadu_ps(pt[t].scales + 16 * b)));
            uint64_t mn8;
            memcpy(&mn8, mn, 8);
            __m512 mnf = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_cvtsi64_si128((long long)mn8)));
            __m512 tc = _mm512_fmadd_ps(_mm512_permutexvar_ps(evenM, mnf), xEven,
                                        _mm512_mul_ps(_mm512_permutexvar_ps(oddM, mnf), xOdd));
            __m128 dm = _mm_set1_ps(dmin);
            minSum[r] = _mm_fmadd_ps(dm, _mm512_castps512_ps128(tc), minSum[r]);
            minSum[r] = _mm_fmadd_ps(dm, _mm512_extractf32x4_ps(tc, 1), minSum[r]);
            minSum[r] = _mm_fmadd_ps(dm, _mm512_extractf32x4_ps(tc, 2), minSum[r]);
            minSum[r] = _mm_fmadd_ps(dm, _mm512_extractf32x4_ps(tc, 3), minSum[r]);
        }
        for (int c = 0; c < 4; c++) {
            const long j = 8 * b + 2 * c;
            __m512i lo[2], hi[2];
            for (int r = 0; r < R; r++) {
                // The 32 bytes of nibbles with each dword doubled; the nibbles split after (bytewise).
                __m512i v = _mm512_permutexvar_epi32(
                    dupLo, _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(p[r] + 144 * b + 16 + 32 * c))));
                lo[r] = _mm512_and_si512(v, m4);
                hi[r] = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
            }
            for (int t = 0; t < np; t++) {
                __m512i xa = _mm512_load_si512((const void *)(pt[t].quants + 64 * j));
                __m512i xb = _mm512_load_si512((const void *)(pt[t].quants + 64 * j + 64));
                for (int r = 0; r < R; r++) {
                    __m512i s0 = _mm512_dpbusd_epi32(zero, lo[r], xa);
                    __m512i s1 = _mm512_dpbusd_epi32(zero, hi[r], xb);
                    a0[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s0), FN(bcast64f)(&sv[r][t][4 * c]), a0[r][t]);
                    a1[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s1), FN(bcast64f)(&sv[r][t][4 * c + 2]), a1[r][t]);
                }
            }
        }
    }
    float sums0[4], sums1[4];
    FN(interleaved_sums)(a0, a1, R, np, sums0, sums1);
    for (int r = 0; r < R; r++) {
        float *out = r ? out1 : out0, *sums = r ? sums1 : sums0;
        float mins[4];
        _mm_storeu_ps(mins, minSum[r]);
        for (int i = 0; i < 2 * np; i++) out[i] = sums[i] - mins[i];
    }
}

// Two consecutive Q5_0 blocks' weights (0-31) in one register, the block at `q` in the low half: the
// bytes FN(q5_0_weights) gives for each, with half the instructions (the high bits of both blocks become
// bytes through one mask move).
MULTI_ATTR __m512i FN(q5_0_weights2)(const uint8_t *q) {
    uint32_t h0, h1;
    memcpy(&h0, q + 2, 4);
    memcpy(&h1, q + 24, 4);
    __m512i high = _mm512_and_si512(_mm512_movm_epi8(_cvtu64_mask64(((uint64_t)h1 << 32) | h0)), _mm512_set1_epi8(0x10));
    __m256i qs = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(q + 6))),
                                         _mm_loadu_si128((const __m128i *)(q + 28)), 1);
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    // [lo0 lo1 | hi0 hi1] in 128-bit lanes, then [lo0 hi0 | lo1 hi1]: each block's elements 0-15, 16-31.
    __m512i nib = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_and_si256(qs, m4)),
                                     _mm256_and_si256(_mm256_srli_epi16(qs, 4), m4), 1);
    nib = _mm512_shuffle_i64x2(nib, nib, 0xD8);
    return _mm512_or_si512(nib, high);
}

// The mask of the first `n` bytes of a 64-byte load.
MULTI_ATTR __mmask64 FN(first_bytes)(long n) {
    return n <= 0 ? 0 : n >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << n) - 1);
}

// The weight scales of G (1-8) Q5_0 blocks at `q`, each twice, as floats: [d0, d0, d1, d1, ...]. The 16-bit
// scales sit every 11 words; two word permutes pick them from the group's bytes (masked loads read nothing
// past the group). Building them with scalar stores and one vector load instead stalled every group on
// store forwarding (a third of the kernel's time at four activations).
MULTI_ATTR __m512 FN(q5_0_scales2)(const uint8_t *q, const int G) {
    const long bytes = 22L * G;
    __m512i a = _mm512_maskz_loadu_epi8(FN(first_bytes)(bytes), q);
    __m512i b = _mm512_maskz_loadu_epi8(FN(first_bytes)(bytes - 64), q + 64);
    __m512i c = _mm512_maskz_loadu_epi8(FN(first_bytes)(bytes - 128), q + 128);
    // Words 0, 11, ..., 55 from a:b, then 66 and 77 (words 2 and 13 of c), each twice.
    const __m512i lo = _mm512_set_epi16(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                        13, 13, 2, 2, 55, 55, 44, 44, 33, 33, 22, 22, 11, 11, 0, 0);
    __m512i h = _mm512_permutex2var_epi16(a, lo, b);
    h = _mm512_mask_permutexvar_epi16(h, 0xF000, lo, c);
    return _mm512_cvtph_ps(_mm512_castsi512_si256(h));
}

// The weight scales of G (1-8) Q8_0 blocks at `q` (every 17 words), each twice, as in FN(q5_0_scales2).
MULTI_ATTR __m512 FN(q8_0_scales2)(const uint8_t *q, const int G) {
    const long bytes = 34L * G;  // the eighth scale ends at byte 240: four loads cover it
    __m512i a = _mm512_maskz_loadu_epi8(FN(first_bytes)(bytes), q);
    __m512i b = _mm512_maskz_loadu_epi8(FN(first_bytes)(bytes - 64), q + 64);
    __m512i c = _mm512_maskz_loadu_epi8(FN(first_bytes)(bytes - 128), q + 128);
    __m512i d = _mm512_maskz_loadu_epi8(FN(first_bytes)(bytes - 192), q + 192);
    // Words 0, 17, 34, 51 from a:b, then 68, 85, 102, 119 (words 4, 21, 38, 55 of c:d), each twice.
    const __m512i lo = _mm512_set_epi16(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                        55, 55, 38, 38, 21, 21, 4, 4, 51, 51, 34, 34, 17, 17, 0, 0);
    __m512i h = _mm512_mask_blend_epi16(0xFF00, _mm512_permutex2var_epi16(a, lo, b), _mm512_permutex2var_epi16(c, lo, d));
    return _mm512_cvtph_ps(_mm512_castsi512_si256(h));
}

// For a group of G (1-8) blocks of `bytes` (22: Q5_0, 34: Q8_0) from block `b` of `R` rows: prefetch them `pf`
// bytes ahead (if `pf` > 0), and sv[r][t] = the group's d · x.scale for pair t, interleaved lane by lane.
MULTI_ATTR void FN(group_scales)(const uint8_t *const *p, const int R, const StretchPairTable *pt, const int np,
                                 long b, const int G, const int bytes, long pf, float sv[2][2][16]) {
    for (int r = 0; r < R; r++) {
        const uint8_t *q = p[r] + bytes * b;
        if (pf)
            for (int o = 0; o < bytes * G; o += 64) _mm_prefetch((const char *)(q + pf + o), _MM_HINT_T0);
        __m512 dd = bytes == 22 ? FN(q5_0_scales2)(q, G) : FN(q8_0_scales2)(q, G);
        for (int t = 0; t < np; t++) _mm512_store_ps(sv[r][t], _mm512_mul_ps(dd, _mm512_loadu_ps(pt[t].scales + 2 * b)));
    }
}

// `R` (1 or 2) Q5_0 rows against `2 · np` activation pairs laid out by stretch_multi_prepare (most of
// Qwen2.5-0.5B's weights are Q5_0). The two activations of a pair share each 512-bit register lane by lane:
// lane 2i is lane i of activation 2t, lane 2i + 1 lane i of 2t + 1, so that every per-block value both
// need (the integer offset 2 · Σx, the scale d · x.scale) is one 64-bit broadcast from memory (a load, no
// shuffle) and the weights are each block's dwords doubled (one permute per block and row, shared by all
// pairs). Each lane does what FN(q5_0_x) does (the same offset, the same even/odd accumulators, the same
// FMA order, the same final sums), so each result is bit-identical to it. Groups of eight blocks (then the
// rest) get their scales from one multiply per row and pair, stored and broadcast per block.
MULTI_ATTR void FN(q5_0_pairs)(const uint8_t *p0, const uint8_t *p1, const int R, const StretchPairTable *pt,
                               const int np, long blocks, float *out0, float *out1, long pf) {
    const uint8_t *p[2] = {p0, p1};
    const __m512i dupLo = _mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
    const __m512i dupHi = _mm512_add_epi32(dupLo, _mm512_set1_epi32(8));
    __m512 a0[2][2], a1[2][2];
    for (int r = 0; r < R; r++)
        for (int t = 0; t < np; t++) a0[r][t] = a1[r][t] = _mm512_setzero_ps();
    for (long b = 0; b < blocks; b += 8) {
        const int G = blocks - b < 8 ? (int)(blocks - b) : 8;
        __attribute__((aligned(64))) float sv[2][2][16];
        FN(group_scales)(p, R, pt, np, b, G, 22, pf, sv);
        int kk = 0;
        for (; kk + 2 <= G; kk += 2) {
            __m512i w0[2], w1[2];
            for (int r = 0; r < R; r++) {
                __m512i w = FN(q5_0_weights2)(p[r] + 22 * (b + kk));
                w0[r] = _mm512_permutexvar_epi32(dupLo, w);
                w1[r] = _mm512_permutexvar_epi32(dupHi, w);
            }
            for (int t = 0; t < np; t++) {
                const long j = b + kk;
                __m512i xa = _mm512_load_si512((const void *)(pt[t].quants + 64 * j));
                __m512i xb = _mm512_load_si512((const void *)(pt[t].quants + 64 * j + 64));
                for (int r = 0; r < R; r++) {
                    __m512i s0 = _mm512_dpbusd_epi32(FN(bcast64i)(pt[t].offsets + 2 * j), w0[r], xa);
                    __m512i s1 = _mm512_dpbusd_epi32(FN(bcast64i)(pt[t].offsets + 2 * j + 2), w1[r], xb);
                    a0[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s0), FN(bcast64f)(&sv[r][t][2 * kk]), a0[r][t]);
                    a1[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s1), FN(bcast64f)(&sv[r][t][2 * kk + 2]), a1[r][t]);
                }
            }
        }
        if (kk < G) {  // the last block of an odd count: even, so into a0 as in FN(q5_0_x)
            __m512i w0[2];
            for (int r = 0; r < R; r++)
                w0[r] = _mm512_permutexvar_epi32(dupLo, _mm512_castsi256_si512(FN(q5_0_weights)(p[r] + 22 * (b + kk))));
            for (int t = 0; t < np; t++) {
                const long j = b + kk;
                __m512i xa = _mm512_load_si512((const void *)(pt[t].quants + 64 * j));
                for (int r = 0; r < R; r++) {
                    __m512i s0 = _mm512_dpbusd_epi32(FN(bcast64i)(pt[t].offsets + 2 * j), w0[r], xa);
                    a0[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s0), FN(bcast64f)(&sv[r][t][2 * kk]), a0[r][t]);
                }
            }
        }
    }
    FN(interleaved_sums)(a0, a1, R, np, out0, out1);
}

// `R` (1 or 2) Q6_K rows against `2 · np` activation pairs on the lane-interleaved layout of
// stretch_multi_prepare (as FN(q5_0_pairs)): lanes 0-7 hold a 32-element block's first 16 elements (its
// dwords 0-3 for both activations), lanes 8-15 the other 16. Per block, f = d · x.scale for the eight
// 32-element blocks of both activations is one multiply (stored, broadcast per block), each 16-element
// sub-block pair's two scales one permute per row, and the offsets (8 · Σx of each 16 elements, negated so
// that vpdpbusd adds onto them) one load from the table. The scale of a lane is f · sc, rounded as in
// FN(q6_K_x), and the accumulators and FMA order are those, so each result is bit-identical to it.
MULTI_ATTR void FN(q6_K_pairs)(const uint8_t *p0, const uint8_t *p1, const int R, const StretchPairTable *pt,
                               const int np, long blocks, float *out0, float *out1, long pf) {
    const uint8_t *p[2] = {p0, p1};
    const __m512i dupLo = _mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
    // Sub-block pair jj's two block scales sc[2jj], sc[2jj + 1]: eight lanes each.
    const __m512i scPick = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
    __m512 a0[2][2], a1[2][2];
    for (int r = 0; r < R; r++)
        for (int t = 0; t < np; t++) a0[r][t] = a1[r][t] = _mm512_setzero_ps();
    for (long b = 0; b < blocks; b++) {
        if (pf)
            for (int r = 0; r < R; r++)
                for (int o = 0; o < 210; o += 64) _mm_prefetch((const char *)(p[r] + 210 * b + pf + o), _MM_HINT_T0);
        __attribute__((aligned(64))) float fv[2][2][16];
        __m512 sc16[2];
        for (int r = 0; r < R; r++) {
            const uint8_t *q = p[r] + 210 * b;
            __m512 d = _mm512_set1_ps(FN(half)(q + 208));
            sc16[r] = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(q + 192))));
            for (int t = 0; t < np; t++) _mm512_store_ps(fv[r][t], _mm512_mul_ps(d, _mm512_loadu_ps(pt[t].scales + 16 * b)));
        }
        for (int n = 0; n < 2; n++) {
            __m256i g[2][4];
            for (int r = 0; r < R; r++) FN(q6_K_unpack)(p[r] + 210 * b, n, g[r]);
            for (int k = 0; k < 4; k++) {
                const int jj = 4 * n + k;
                const long j = 8 * b + jj;
                __m512i gp[2];
                __m512 scs[2];
                for (int r = 0; r < R; r++) {
                    gp[r] = _mm512_permutexvar_epi32(dupLo, _mm512_castsi256_si512(g[r][k]));
                    scs[r] = _mm512_permutexvar_ps(_mm512_add_epi32(scPick, _mm512_set1_epi32(2 * jj)), sc16[r]);
                }
                for (int t = 0; t < np; t++) {
                    __m512i xv = _mm512_load_si512((const void *)(pt[t].quants + 64 * j));
                    for (int r = 0; r < R; r++) {
                        __m512 scale = _mm512_mul_ps(FN(bcast64f)(&fv[r][t][2 * jj]), scs[r]);
                        __m512i o = _mm512_load_si512((const void *)(pt[t].offsets6 + 16 * j));
                        __m512 v = _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(o, gp[r], xv));
                        if (k & 1) a1[r][t] = _mm512_fmadd_ps(v, scale, a1[r][t]);
                        else a0[r][t] = _mm512_fmadd_ps(v, scale, a0[r][t]);
                    }
                }
            }
        }
    }
    FN(interleaved_sums)(a0, a1, R, np, out0, out1);
}

// `R` (1 or 2) Q8_0 rows against `2 · np` activation pairs laid out by stretch_multi_prepare, lane-interleaved
// as in FN(q5_0_pairs). AVX-512 has no vpsignb: the activations are negated where the weight is negative (a
// masked subtract, wrapping at -128 as vpsignb does); where the weight is zero |w| is zero, so not zeroing
// those activations changes no product. Every lane does what FN(q8_0_x) does (even blocks into a0, odd into
// a1, scale d · x.scale rounded as there), so each result is bit-identical to it.
MULTI_ATTR void FN(q8_0_pairs)(const uint8_t *p0, const uint8_t *p1, const int R, const StretchPairTable *pt,
                               const int np, long blocks, float *out0, float *out1, long pf) {
    const uint8_t *p[2] = {p0, p1};
    const __m512i dupLo = _mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
    const __m512i zero = _mm512_setzero_si512();
    __m512 a0[2][2], a1[2][2];
    for (int r = 0; r < R; r++)
        for (int t = 0; t < np; t++) a0[r][t] = a1[r][t] = _mm512_setzero_ps();
    for (long b = 0; b < blocks; b += 8) {
        const int G = blocks - b < 8 ? (int)(blocks - b) : 8;
        __attribute__((aligned(64))) float sv[2][2][16];
        FN(group_scales)(p, R, pt, np, b, G, 34, pf, sv);
        // Blocks kk (even, into a0) and kk + 1 (into a1); `two` is 0 for the last block of an odd count.
        for (int kk = 0; kk < G; kk += 2) {
            const int two = kk + 1 < G;
            const long j = b + kk;
            __m512i u0[2], u1[2];
            __mmask64 n0[2], n1[2];
            for (int r = 0; r < R; r++) {
                const uint8_t *q = p[r] + 34 * j;
                __m512i w0 = _mm512_permutexvar_epi32(dupLo, _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(q + 2))));
                __m512i w1 = two ? _mm512_permutexvar_epi32(dupLo, _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(q + 36))))
                                 : zero;
                u0[r] = _mm512_abs_epi8(w0);
                u1[r] = _mm512_abs_epi8(w1);
                n0[r] = _mm512_movepi8_mask(w0);
                n1[r] = _mm512_movepi8_mask(w1);
            }
            for (int t = 0; t < np; t++) {
                __m512i x0 = _mm512_load_si512((const void *)(pt[t].quants + 64 * j));
                // Past the last block the table is zero-padded (stretch_multi_prepare): a harmless read.
                __m512i x1 = _mm512_load_si512((const void *)(pt[t].quants + 64 * j + 64));
                for (int r = 0; r < R; r++) {
                    __m512i s0 = _mm512_dpbusd_epi32(zero, u0[r], _mm512_mask_sub_epi8(x0, n0[r], zero, x0));
                    a0[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s0), FN(bcast64f)(&sv[r][t][2 * kk]), a0[r][t]);
                    if (two) {
                        __m512i s1 = _mm512_dpbusd_epi32(zero, u1[r], _mm512_mask_sub_epi8(x1, n1[r], zero, x1));
                        a1[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s1), FN(bcast64f)(&sv[r][t][2 * kk + 2]), a1[r][t]);
                    }
                }
            }
        }
    }
    FN(interleaved_sums)(a0, a1, R, np, out0, out1);
}

#endif

// One row against `nx` (1-4) activations, with `nx` a constant in each case so the loops above unroll.
#define MULTI_CASES(kernel, blocks)                                  \
    switch (nx) {                                                    \
    case 1: FN(kernel)(p, x, 1, blocks, out); break;                \
    case 2: FN(kernel)(p, x, 2, blocks, out); break;                \
    case 3: FN(kernel)(p, x, 3, blocks, out); break;                \
    default: FN(kernel)(p, x, 4, blocks, out); break;               \
    }

#ifdef STRETCH_PAIRS
// One row's activation pairs through a pair kernel (R = 1), an odd last activation alone. The pair count is a
// constant at each call (`nx >= 4 ? 2 : 1`): with a run-time count the accumulator arrays live on the stack
// and every FMA waits on a store and a reload (4 streams: 66 → 70 tok/s when this was measured).
#define ROW_PAIRS(pairs, single, blocks, ...)                                       \
    if (nx >= 2) {                                                                  \
        if (nx >= 4) FN(pairs)(p, p, 1, __VA_ARGS__, 2, blocks, out, out, 0);       \
        else FN(pairs)(p, p, 1, __VA_ARGS__, 1, blocks, out, out, 0);               \
        if (nx & 1) FN(single)(p, x + nx - 1, 1, blocks, out + nx - 1);             \
        break;                                                                      \
    }
#else
#define ROW_PAIRS(pairs, single, blocks, ...)
#endif

static ATTR void FN(row_x)(int kind, const uint8_t *p, const StretchQ8 *x, const StretchPairTable *pt, int nx,
                           float *out) {
    (void)pt;  // only the 512-bit pair kernels read the interleaved layout
    long n = x->count;
    switch (kind) {
    case STRETCH_KIND_Q8_0:
        ROW_PAIRS(q8_0_pairs, q8_0_x, n / 32, pt)
        MULTI_CASES(q8_0_x, n / 32) break;
    case STRETCH_KIND_Q5_0:
        ROW_PAIRS(q5_0_pairs, q5_0_x, n / 32, pt)
        MULTI_CASES(q5_0_x, n / 32) break;
    case STRETCH_KIND_Q4_K:
        ROW_PAIRS(q4_K_pairs, q4_K_x, n / 256, x, pt)
        MULTI_CASES(q4_K_x, n / 256) break;
    case STRETCH_KIND_Q6_K:
        ROW_PAIRS(q6_K_pairs, q6_K_x, n / 256, pt)
        MULTI_CASES(q6_K_x, n / 256) break;
    // No shared-unpacking kernels for these yet: one activation at a time (bit-identical by construction).
    case STRETCH_KIND_Q2_K: for (int i = 0; i < nx; i++) out[i] = FN(q2_K)(p, x + i, n / 256); break;
    case STRETCH_KIND_Q3_K: for (int i = 0; i < nx; i++) out[i] = FN(q3_K)(p, x + i, n / 256); break;
    case STRETCH_KIND_IQ4_NL: for (int i = 0; i < nx; i++) out[i] = FN(iq4_nl)(p, x + i, n / 32); break;
    case STRETCH_KIND_IQ4_XS: for (int i = 0; i < nx; i++) out[i] = FN(iq4_xs)(p, x + i, n / 256); break;
    default: for (int i = 0; i < nx; i++) out[i] = 0; break;
    }
}
#undef MULTI_CASES
#undef ROW_PAIRS

#ifdef STRETCH_PAIRS
// Two rows of Q5_0, Q8_0, Q4_K or Q6_K against `nx` (1-4) activations: pairs through the two-row kernels, an odd
// last activation one row at a time. With `pf` > 0 the pair kernels prefetch each block `pf` bytes ahead.
#define ROWS2_CASES(pairs, single, blocks, ...)                                               \
    if (nx >= 4) FN(pairs)(p0, p1, 2, __VA_ARGS__, 2, blocks, out0, out1, pf);                    \
    else if (nx >= 2) FN(pairs)(p0, p1, 2, __VA_ARGS__, 1, blocks, out0, out1, pf);               \
    if (nx & 1) {                                                                            \
        FN(single)(p0, x + nx - 1, 1, blocks, out0 + nx - 1);                                \
        FN(single)(p1, x + nx - 1, 1, blocks, out1 + nx - 1);                                \
    }

static ATTR void FN(rows2_x)(int kind, const uint8_t *p0, const uint8_t *p1, const StretchQ8 *x,
                             const StretchPairTable *pt, int nx, float *out0, float *out1, long pf) {
    long n = x->count;
    switch (kind) {
    case STRETCH_KIND_Q5_0: ROWS2_CASES(q5_0_pairs, q5_0_x, n / 32, pt) break;
    case STRETCH_KIND_Q8_0: ROWS2_CASES(q8_0_pairs, q8_0_x, n / 32, pt) break;
    case STRETCH_KIND_Q4_K: ROWS2_CASES(q4_K_pairs, q4_K_x, n / 256, x, pt) break;
    case STRETCH_KIND_Q6_K: ROWS2_CASES(q6_K_pairs, q6_K_x, n / 256, pt) break;
    default:  // no two-row kernel for this format (FN(rows_x) does not send it here): each row alone
        FN(row_x)(kind, p0, x, pt, nx, out0);
        FN(row_x)(kind, p1, x, pt, nx, out1);
        break;
    }
}

// The formats with two-row pair kernels (FN(rows2_x) takes any format, these at their best).
static inline int FN(has_row_pairs)(int kind) {
    return kind == STRETCH_KIND_Q5_0 || kind == STRETCH_KIND_Q8_0 || kind == STRETCH_KIND_Q4_K || kind == STRETCH_KIND_Q6_K;
}
#undef ROWS2_CASES
#endif

// Rows against `nx` activations, four at a time; `y[i][r]`. Prefetch as in FN(rows).
static ATTR void FN(rows_x)(int kind, const uint8_t *w, size_t rowBytes, long rows, const StretchQ8 *x, long nx,
                            const StretchPairTable *pt, float *const *y) {
    size_t ahead = rowBytes >= 3000 ? rowBytes : (3000 / rowBytes) * rowBytes;
    long r = 0;
#ifdef STRETCH_PAIRS
    // Q5_0, Q8_0, Q4_K and Q6_K two rows at a time while there are activation pairs: what depends only on
    // the activations is done once for both rows. The kernels prefetch each block of both rows twice the
    // one-row distance ahead as they go, instead of whole rows in a burst: at 4 activations the burst
    // stalled on the fill buffers (`perf`: 14% of the engine's time on the prefetch loop); spread out,
    // rows streamed from DRAM took Q8_0 139 → 119 ns, Q6_K 900 → 655, Q4_K 715 → 560 (Q5_0 unchanged).
    if (FN(has_row_pairs)(kind) && nx >= 2) {
        for (; r + 2 <= rows; r += 2) {
            const uint8_t *p = w + r * rowBytes, *p1 = p + rowBytes;
            for (long i0 = 0; i0 < nx; i0 += 4) {
                int k = nx - i0 < 4 ? (int)(nx - i0) : 4;
                float out0[4], out1[4];
                FN(rows2_x)(kind, p, p1, x + i0, pt + i0 / 2, k, out0, out1, i0 == 0 ? (long)(2 * ahead) : 0);
                for (int i = 0; i < k; i++) {
                    y[i0 + i][r] = out0[i];
                    y[i0 + i][r + 1] = out1[i];
                }
            }
        }
    }
#endif
    for (; r < rows; r++) {
        const uint8_t *p = w + r * rowBytes;
        for (size_t o = 0; o < rowBytes; o += 64) _mm_prefetch((const char *)(p + ahead + o), _MM_HINT_T0);
        for (long i0 = 0; i0 < nx; i0 += 4) {
            int k = nx - i0 < 4 ? (int)(nx - i0) : 4;
            float out[4];
            FN(row_x)(kind, p, x + i0, pt + i0 / 2, k, out);
            for (int i = 0; i < k; i++) y[i0 + i][r] = out[i];
        }
    }
}

#undef MULTI_ATTR
