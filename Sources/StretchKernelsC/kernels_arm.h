// aarch64 kernels, included by kernels.c on aarch64 only (not a public header). Levels, picked at run time
// from the CPU's features: 1 NEON (baseline on aarch64), 2 + FEAT_DotProd (`sdot`), 3 + FEAT_I8MM (`smmla`,
// used by the several-activation kernels: two weight rows × two activations per instruction).
//
// Numerics: for every 32-element activation block each level computes the same exact integer (Σ w·x, times
// the format's integer sub-block scales where it has them) and then the same float operations in the same
// order (four blocks per vector, one FMA per group of four), so levels 1, 2 and 3 give bit-identical results
// and the several-activation kernels equal the one-activation kernel bit for bit. Against the portable
// scalar code they differ by float summation order only. Tests: Tests/KernelsC, scripts/test-arm.sh.

#include <arm_neon.h>
#include <stdlib.h>
#if defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif
#ifndef HWCAP2_I8MM
#define HWCAP2_I8MM (1 << 13)
#endif
#elif defined(__APPLE__)
#include <sys/sysctl.h>
#endif

#define ARM_INLINE static inline __attribute__((always_inline))
#define ARM_ATTR_DOT __attribute__((target("arch=armv8.2-a+dotprod")))
#define ARM_ATTR_I8MM __attribute__((target("arch=armv8.2-a+dotprod+i8mm")))

// MARK: - Features

#if defined(__APPLE__)
static int stretch_arm_sysctl(const char *name) {
    int v = 0;
    size_t n = sizeof v;
    return sysctlbyname(name, &v, &n, NULL, 0) == 0 && v != 0;
}
#endif

static int stretch_arm_max_level(void) {
    int dot = 0, mm = 0;
#if defined(__linux__)
    unsigned long hw = getauxval(AT_HWCAP), hw2 = getauxval(AT_HWCAP2);
    dot = (hw & HWCAP_ASIMDDP) != 0;
    mm = (hw2 & HWCAP2_I8MM) != 0;
#elif defined(__APPLE__)
    dot = stretch_arm_sysctl("hw.optional.arm.FEAT_DotProd");
    mm = stretch_arm_sysctl("hw.optional.arm.FEAT_I8MM");
#endif
    return dot ? (mm ? 3 : 2) : 1;
}

// MARK: - Weight groups (baseline NEON, shared by every level)

// Four consecutive 32-element blocks of one weight row, as signed bytes (the format's offset already
// taken off: Q5_0 q − 16, Q6_K q − 32, Q3_K v − 4), with per-block factors; lane i of each vector is
// block i. Block i contributes f·xs·(sa·Σ₀₋₁₅ w·x + sb·Σ₁₆₋₃₁ w·x) − g·xs·(ma·Σ₀₋₁₅ x + mb·Σ₁₆₋₃₁ x),
// sa/sb only in "scaled" formats, ma/mb/g only in formats with mins.
typedef struct {
    int8x16_t w[4][2];
    int32x4_t sa, sb, ma, mb;
    float32x4_t f, g;
} arm_group;

ARM_INLINE int arm_scaled(int kind) {
    return kind == STRETCH_KIND_Q6_K || kind == STRETCH_KIND_Q2_K || kind == STRETCH_KIND_Q3_K ||
           kind == STRETCH_KIND_IQ4_XS;
}

ARM_INLINE int arm_mins(int kind) { return kind == STRETCH_KIND_Q4_K || kind == STRETCH_KIND_Q2_K; }

// Four f16 scales `stride` bytes apart (`valid` of them; the rest 0) as floats (exact, like the scalar code).
ARM_INLINE float32x4_t arm_halves4(const uint8_t *p, size_t stride, int valid) {
    uint16_t h[4] = {0, 0, 0, 0};
    for (int i = 0; i < valid; i++) memcpy(&h[i], p + stride * (size_t)i, 2);
    return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(h)));
}

ARM_INLINE int32x4_t arm_ints4(int a, int b, int c, int d) {
    int32_t v[4] = {a, b, c, d};
    return vld1q_s32(v);
}

ARM_INLINE int8x16_t arm_minus(uint8x16_t v, uint8_t offset) {
    return vreinterpretq_s8_u8(vsubq_u8(v, vdupq_n_u8(offset)));
}

// Groups of the 32-element formats: blocks 4g ... 4g + valid − 1; missing blocks are zero (weights and f).
ARM_INLINE void arm_unpack_q8_0(const uint8_t *row, long g, int valid, arm_group *gr) {
    const uint8_t *q = row + 34 * 4 * g;
    for (int i = 0; i < 4; i++) {
        gr->w[i][0] = i < valid ? vld1q_s8((const int8_t *)(q + 34 * i + 2)) : vdupq_n_s8(0);
        gr->w[i][1] = i < valid ? vld1q_s8((const int8_t *)(q + 34 * i + 18)) : vdupq_n_s8(0);
    }
    gr->f = arm_halves4(q, 34, valid);
}

ARM_INLINE void arm_unpack_q5_0(const uint8_t *row, long g, int valid, arm_group *gr) {
    static const uint8_t spread_lo[16] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1};
    static const uint8_t spread_hi[16] = {2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3};
    static const uint8_t bits[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    const uint8_t *q = row + 22 * 4 * g;
    const uint8x16_t m4 = vdupq_n_u8(0x0F), b4 = vdupq_n_u8(0x10), bit = vld1q_u8(bits);
    for (int i = 0; i < 4; i++) {
        if (i >= valid) {
            gr->w[i][0] = gr->w[i][1] = vdupq_n_s8(0);
            continue;
        }
        const uint8_t *b = q + 22 * i;
        uint32_t qh;
        memcpy(&qh, b + 2, 4);
        // Bit e of qh is the fifth bit of element e: spread its four bytes, test one bit per lane.
        uint8x16_t hb = vreinterpretq_u8_u32(vdupq_n_u32(qh));
        uint8x16_t hlo = vandq_u8(vtstq_u8(vqtbl1q_u8(hb, vld1q_u8(spread_lo)), bit), b4);
        uint8x16_t hhi = vandq_u8(vtstq_u8(vqtbl1q_u8(hb, vld1q_u8(spread_hi)), bit), b4);
        uint8x16_t qs = vld1q_u8(b + 6);
        gr->w[i][0] = arm_minus(vorrq_u8(vandq_u8(qs, m4), hlo), 16);
        gr->w[i][1] = arm_minus(vorrq_u8(vshrq_n_u8(qs, 4), hhi), 16);
    }
    gr->f = arm_halves4(q, 22, valid);
}

ARM_INLINE void arm_unpack_iq4_nl(const uint8_t *row, long g, int valid, arm_group *gr) {
    const uint8_t *q = row + 18 * 4 * g;
    const int8x16_t grid = vld1q_s8(stretch_iq4_grid);
    const uint8x16_t m4 = vdupq_n_u8(0x0F);
    for (int i = 0; i < 4; i++) {
        if (i >= valid) {
            gr->w[i][0] = gr->w[i][1] = vdupq_n_s8(0);
            continue;
        }
        uint8x16_t qs = vld1q_u8(q + 18 * i + 2);
        gr->w[i][0] = vqtbl1q_s8(grid, vandq_u8(qs, m4));
        gr->w[i][1] = vqtbl1q_s8(grid, vshrq_n_u8(qs, 4));
    }
    gr->f = arm_halves4(q, 18, valid);
}

// Groups of the 256-element formats: half h = g % 2 of super-block g / 2 (sub-blocks 4h ... 4h + 3).
ARM_INLINE void arm_unpack_q4_K(const uint8_t *row, long g, arm_group *gr) {
    const uint8_t *q = row + 144 * (g >> 1);
    const int h = (int)(g & 1);
    float d = stretch_half_scalar(q), dmin = stretch_half_scalar(q + 2);
    uint8_t sc[8], mn[8];
    stretch_scale_min_k4(q + 4, sc, mn);
    const uint8x16_t m4 = vdupq_n_u8(0x0F);
    for (int c = 0; c < 2; c++) {  // 32 bytes: low nibbles sub-block 2c', high nibbles 2c' + 1
        const uint8_t *qs = q + 16 + 64 * h + 32 * c;
        uint8x16_t v0 = vld1q_u8(qs), v1 = vld1q_u8(qs + 16);
        gr->w[2 * c][0] = vreinterpretq_s8_u8(vandq_u8(v0, m4));
        gr->w[2 * c][1] = vreinterpretq_s8_u8(vandq_u8(v1, m4));
        gr->w[2 * c + 1][0] = vreinterpretq_s8_u8(vshrq_n_u8(v0, 4));
        gr->w[2 * c + 1][1] = vreinterpretq_s8_u8(vshrq_n_u8(v1, 4));
    }
    const int s = 4 * h;
    float f[4] = {d * (float)sc[s], d * (float)sc[s + 1], d * (float)sc[s + 2], d * (float)sc[s + 3]};
    gr->f = vld1q_f32(f);
    gr->ma = gr->mb = arm_ints4(mn[s], mn[s + 1], mn[s + 2], mn[s + 3]);
    gr->g = vdupq_n_f32(dmin);
}

ARM_INLINE void arm_unpack_q6_K(const uint8_t *row, long g, arm_group *gr) {
    const uint8_t *q = row + 210 * (g >> 1);
    const int n = (int)(g & 1);
    const uint8_t *ql = q + 64 * n, *qh = q + 128 + 32 * n;
    const int8_t *sc = (const int8_t *)(q + 192) + 8 * n;
    const uint8x16_t m4 = vdupq_n_u8(0x0F), m3 = vdupq_n_u8(0x03), m30 = vdupq_n_u8(0x30);
    for (int e = 0; e < 2; e++) {
        uint8x16_t a = vld1q_u8(ql + 16 * e), c = vld1q_u8(ql + 32 + 16 * e), hh = vld1q_u8(qh + 16 * e);
        gr->w[0][e] = arm_minus(vorrq_u8(vandq_u8(a, m4), vshlq_n_u8(vandq_u8(hh, m3), 4)), 32);
        gr->w[1][e] = arm_minus(vorrq_u8(vandq_u8(c, m4), vandq_u8(vshlq_n_u8(hh, 2), m30)), 32);
        gr->w[2][e] = arm_minus(vorrq_u8(vshrq_n_u8(a, 4), vandq_u8(hh, m30)), 32);
        gr->w[3][e] = arm_minus(vorrq_u8(vshrq_n_u8(c, 4), vandq_u8(vshrq_n_u8(hh, 2), m30)), 32);
    }
    gr->sa = arm_ints4(sc[0], sc[2], sc[4], sc[6]);
    gr->sb = arm_ints4(sc[1], sc[3], sc[5], sc[7]);
    gr->f = vdupq_n_f32(stretch_half_scalar(q + 208));
}

ARM_INLINE void arm_unpack_q2_K(const uint8_t *row, long g, arm_group *gr) {
    const uint8_t *q = row + 84 * (g >> 1);
    const int h = (int)(g & 1);
    const uint8x16_t m3 = vdupq_n_u8(3);
    uint8x16_t v[2] = {vld1q_u8(q + 16 + 32 * h), vld1q_u8(q + 32 + 32 * h)};
    for (int e = 0; e < 2; e++) {
        gr->w[0][e] = vreinterpretq_s8_u8(vandq_u8(v[e], m3));
        gr->w[1][e] = vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(v[e], 2), m3));
        gr->w[2][e] = vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(v[e], 4), m3));
        gr->w[3][e] = vreinterpretq_s8_u8(vshrq_n_u8(v[e], 6));
    }
    const uint8_t *s = q + 8 * h;  // the scale/min bytes of sub-blocks 2k, 2k + 1 for k = 4h ... 4h + 3
    gr->sa = arm_ints4(s[0] & 0x0F, s[2] & 0x0F, s[4] & 0x0F, s[6] & 0x0F);
    gr->sb = arm_ints4(s[1] & 0x0F, s[3] & 0x0F, s[5] & 0x0F, s[7] & 0x0F);
    gr->ma = arm_ints4(s[0] >> 4, s[2] >> 4, s[4] >> 4, s[6] >> 4);
    gr->mb = arm_ints4(s[1] >> 4, s[3] >> 4, s[5] >> 4, s[7] >> 4);
    gr->f = vdupq_n_f32(stretch_half_scalar(q + 80));
    gr->g = vdupq_n_f32(stretch_half_scalar(q + 82));
}

ARM_INLINE void arm_unpack_q3_K(const uint8_t *row, long g, arm_group *gr) {
    const uint8_t *q = row + 110 * (g >> 1);
    const int h = (int)(g & 1);
    int8_t sc[16];
    stretch_scales_k3(q + 96, sc);
    const uint8x16_t m3 = vdupq_n_u8(3), one = vdupq_n_u8(1);
    uint8x16_t v[2] = {vld1q_u8(q + 32 + 32 * h), vld1q_u8(q + 48 + 32 * h)};
    uint8x16_t hm[2] = {vld1q_u8(q), vld1q_u8(q + 16)};
    for (int i = 0; i < 4; i++) {
        // Variable shifts (a negative left shift): the amounts are not compile-time constants.
        int8x16_t lowShift = vdupq_n_s8((int8_t)(-2 * i)), highShift = vdupq_n_s8((int8_t)(-(4 * h + i)));
        for (int e = 0; e < 2; e++) {
            uint8x16_t low = vandq_u8(vshlq_u8(v[e], lowShift), m3);
            uint8x16_t high = vandq_u8(vshlq_u8(hm[e], highShift), one);
            gr->w[i][e] = arm_minus(vorrq_u8(low, vshlq_n_u8(high, 2)), 4);
        }
    }
    const int8_t *s = sc + 8 * h;
    gr->sa = arm_ints4(s[0], s[2], s[4], s[6]);
    gr->sb = arm_ints4(s[1], s[3], s[5], s[7]);
    gr->f = vdupq_n_f32(stretch_half_scalar(q + 108));
}

ARM_INLINE void arm_unpack_iq4_xs(const uint8_t *row, long g, arm_group *gr) {
    const uint8_t *q = row + 136 * (g >> 1);
    const int h = (int)(g & 1);
    const int8x16_t grid = vld1q_s8(stretch_iq4_grid);
    const uint8x16_t m4 = vdupq_n_u8(0x0F);
    int s[4];
    for (int i = 0; i < 4; i++) {
        uint8x16_t qs = vld1q_u8(q + 8 + 16 * (4 * h + i));
        gr->w[i][0] = vqtbl1q_s8(grid, vandq_u8(qs, m4));
        gr->w[i][1] = vqtbl1q_s8(grid, vshrq_n_u8(qs, 4));
        s[i] = stretch_scale_iq4xs(q, 4 * h + i);
    }
    gr->sa = gr->sb = arm_ints4(s[0], s[1], s[2], s[3]);
    gr->f = vdupq_n_f32(stretch_half_scalar(q));
}

// Group g of a row of `kind` (`valid` < 4 only at the end of a row of a 32-element format).
ARM_INLINE void arm_unpack(const int kind, const uint8_t *row, long g, int valid, arm_group *gr) {
    switch (kind) {
    case STRETCH_KIND_Q8_0: arm_unpack_q8_0(row, g, valid, gr); break;
    case STRETCH_KIND_Q5_0: arm_unpack_q5_0(row, g, valid, gr); break;
    case STRETCH_KIND_IQ4_NL: arm_unpack_iq4_nl(row, g, valid, gr); break;
    case STRETCH_KIND_Q4_K: arm_unpack_q4_K(row, g, gr); break;
    case STRETCH_KIND_Q6_K: arm_unpack_q6_K(row, g, gr); break;
    case STRETCH_KIND_Q2_K: arm_unpack_q2_K(row, g, gr); break;
    case STRETCH_KIND_Q3_K: arm_unpack_q3_K(row, g, gr); break;
    default: arm_unpack_iq4_xs(row, g, gr); break;
    }
}

// Lane i = the sum of the lanes of v[i] (exact: integers).
ARM_INLINE int32x4_t arm_reduce4(const int32x4_t v[4]) {
    return vpaddq_s32(vpaddq_s32(v[0], v[1]), vpaddq_s32(v[2], v[3]));
}

// The float part, the same at every level: acc += I · (f · xs), then acc −= M · (g · xs) with M the
// integer mins times the activations' 16-element sums. `xs`, `s16` start at the group's first block.
ARM_INLINE float32x4_t arm_float_step(const arm_group *gr, const int mins, int32x4_t I, const float *xs,
                                      const int32_t *s16, float32x4_t acc) {
    float32x4_t xs4 = vld1q_f32(xs);
    acc = vfmaq_f32(acc, vcvtq_f32_s32(I), vmulq_f32(gr->f, xs4));
    if (mins) {
        int32x4x2_t s = vld2q_s32(s16);  // even: first halves, odd: second halves
        int32x4_t M = vmlaq_s32(vmulq_s32(gr->ma, s.val[0]), gr->mb, s.val[1]);
        acc = vfmsq_f32(acc, vcvtq_f32_s32(M), vmulq_f32(gr->g, xs4));
    }
    return acc;
}

// The last, partial group of a row against one activation, through zero-padded copies of its blocks.
typedef struct {
    int8_t quants[128];
    float scales[4];
    int32_t sums16[8];
} arm_padded;

ARM_INLINE void arm_pad(const StretchQ8 *x, long g, int valid, arm_padded *t) {
    memset(t, 0, sizeof *t);
    memcpy(t->quants, x->quants + 128 * g, (size_t)(32 * valid));
    memcpy(t->scales, x->scales + 4 * g, sizeof(float) * (size_t)valid);
    memcpy(t->sums16, x->sums16 + 8 * g, sizeof(int32_t) * (size_t)(2 * valid));
}

// MARK: - Dot kernels per level

// 16 × (int8 · int8) summed into four int32 lanes, added to `acc`. NEON: widening multiplies (products fit
// in 16 bits, even −128 · −128) and pairwise widening adds; exact.
ARM_INLINE int32x4_t arm_dot16_neon(int32x4_t acc, int8x16_t w, int8x16_t x) {
    acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(w), vget_low_s8(x)));
    return vpadalq_s16(acc, vmull_high_s8(w, x));
}

#define FN(name) name##_neon
#define ATTR
#define DOT16(acc, w, x) arm_dot16_neon((acc), (w), (x))
#include "kernels_arm_dot.h"
#undef FN
#undef ATTR
#undef DOT16

#define FN(name) name##_dot
#define ATTR ARM_ATTR_DOT
#define DOT16(acc, w, x) vdotq_s32((acc), (w), (x))
#include "kernels_arm_dot.h"
#undef FN
#undef ATTR
#undef DOT16

// MARK: - i8mm: two rows × two activations per smmla

// smmla multiplies a 2×8 by an 8×2 int8 matrix: with rows r0, r1 interleaved 8 bytes at a time and
// activations a, b likewise, one instruction gives [r0·a, r0·b, r1·a, r1·b] over 8 elements. The
// activations are interleaved once per call (`arm_interleave`); each weight group is unpacked once per row
// and its halves zipped once per row pair.

// Pair (a, b) as 16-element chunks c: bytes 32c ... 32c + 31 = a[16c ... +7], b[16c ... +7], a[16c + 8 ... +15],
// b[16c + 8 ... +15].
ARM_INLINE void arm_interleave(const int8_t *a, const int8_t *b, long count, int8_t *out) {
    for (long c = 0; c < count / 16; c++) {
        int64x2_t va = vreinterpretq_s64_s8(vld1q_s8(a + 16 * c)), vb = vreinterpretq_s64_s8(vld1q_s8(b + 16 * c));
        vst1q_s8(out + 32 * c, vreinterpretq_s8_s64(vzip1q_s64(va, vb)));
        vst1q_s8(out + 32 * c + 16, vreinterpretq_s8_s64(vzip2q_s64(va, vb)));
    }
}

// Transposes four [r0a, r0b, r1a, r1b] vectors (one per block) into one vector of four blocks per combination.
ARM_INLINE void arm_transpose4(const int32x4_t m[4], int32x4_t t[4]) {
    int32x4_t t0 = vtrn1q_s32(m[0], m[1]), t1 = vtrn2q_s32(m[0], m[1]);
    int32x4_t t2 = vtrn1q_s32(m[2], m[3]), t3 = vtrn2q_s32(m[2], m[3]);
    t[0] = vreinterpretq_s32_s64(vzip1q_s64(vreinterpretq_s64_s32(t0), vreinterpretq_s64_s32(t2)));
    t[1] = vreinterpretq_s32_s64(vzip1q_s64(vreinterpretq_s64_s32(t1), vreinterpretq_s64_s32(t3)));
    t[2] = vreinterpretq_s32_s64(vzip2q_s64(vreinterpretq_s64_s32(t0), vreinterpretq_s64_s32(t2)));
    t[3] = vreinterpretq_s32_s64(vzip2q_s64(vreinterpretq_s64_s32(t1), vreinterpretq_s64_s32(t3)));
}

// Rows p0, p1 against `np` (1-2) activation pairs x[2t], x[2t + 1] (interleaved copies in xi[t]);
// out[4t + 2r + a] = row r · activation 2t + a, bit-identical to the one-activation kernels.
ARM_ATTR_I8MM ARM_INLINE void arm_pair_i8mm(const int kind, const uint8_t *p0, const uint8_t *p1,
                                            const StretchQ8 *x, int8_t *const *xi, const int np, float *out) {
    const int scaled = arm_scaled(kind), mins = arm_mins(kind);
    const long blocks = x->count / 32, groups = blocks / 4;
    const int rem = (int)(blocks % 4);
    const int32x4_t z = vdupq_n_s32(0);
    float32x4_t acc[2][4];
    for (int t = 0; t < np; t++)
        for (int c = 0; c < 4; c++) acc[t][c] = vdupq_n_f32(0);
    for (long g = 0; g < groups; g++) {
        arm_group gr[2];
        arm_unpack(kind, p0, g, 4, &gr[0]);
        arm_unpack(kind, p1, g, 4, &gr[1]);
        int32x4_t m[2][2][4];  // [pair][half][block]
        for (int i = 0; i < 4; i++) {
            for (int e = 0; e < 2; e++) {
                int64x2_t w0 = vreinterpretq_s64_s8(gr[0].w[i][e]), w1 = vreinterpretq_s64_s8(gr[1].w[i][e]);
                int8x16_t lo = vreinterpretq_s8_s64(vzip1q_s64(w0, w1)), hi = vreinterpretq_s8_s64(vzip2q_s64(w0, w1));
                for (int t = 0; t < np; t++) {
                    const int8_t *b = xi[t] + 256 * g + 64 * i + 32 * e;
                    // Unscaled formats add both halves in one accumulator.
                    int32x4_t start = (scaled || e == 0) ? z : m[t][0][i];
                    m[t][scaled ? e : 0][i] = vmmlaq_s32(vmmlaq_s32(start, lo, vld1q_s8(b)), hi, vld1q_s8(b + 16));
                }
            }
        }
        for (int t = 0; t < np; t++) {
            int32x4_t L[4], H[4];
            arm_transpose4(m[t][0], L);
            if (scaled) arm_transpose4(m[t][1], H);
            for (int c = 0; c < 4; c++) {
                const arm_group *r = &gr[c >> 1];
                const StretchQ8 *a = x + 2 * t + (c & 1);
                int32x4_t I = scaled ? vmlaq_s32(vmulq_s32(L[c], r->sa), H[c], r->sb) : L[c];
                acc[t][c] = arm_float_step(r, mins, I, a->scales + 4 * g, a->sums16 + 8 * g, acc[t][c]);
            }
        }
    }
    if (rem) {
        arm_group gr[2];
        arm_unpack(kind, p0, groups, rem, &gr[0]);
        arm_unpack(kind, p1, groups, rem, &gr[1]);
        for (int t = 0; t < np; t++) {
            for (int a = 0; a < 2; a++) {
                arm_padded pad;
                arm_pad(x + 2 * t + a, groups, rem, &pad);
                for (int r = 0; r < 2; r++) {
                    int32x4_t I = group_int_dot(&gr[r], scaled, pad.quants);
                    acc[t][2 * r + a] = arm_float_step(&gr[r], mins, I, pad.scales, pad.sums16, acc[t][2 * r + a]);
                }
            }
        }
    }
    for (int t = 0; t < np; t++)
        for (int c = 0; c < 4; c++) out[4 * t + c] = vaddvq_f32(acc[t][c]);
}

// The pair kernel with `kind` and `np` constants, so the unpacking and the loops above specialize.
#define ARM_PAIR_CASE(K)                                                     \
    case K:                                                                  \
        if (np == 1) arm_pair_i8mm(K, p0, p1, x, xi, 1, out);                \
        else arm_pair_i8mm(K, p0, p1, x, xi, 2, out);                        \
        break;

static ARM_ATTR_I8MM void arm_pair_kind_i8mm(int kind, const uint8_t *p0, const uint8_t *p1, const StretchQ8 *x,
                                             int8_t *const *xi, int np, float *out) {
    switch (kind) {
    ARM_PAIR_CASE(STRETCH_KIND_Q8_0)
    ARM_PAIR_CASE(STRETCH_KIND_Q5_0)
    ARM_PAIR_CASE(STRETCH_KIND_Q4_K)
    ARM_PAIR_CASE(STRETCH_KIND_Q6_K)
    ARM_PAIR_CASE(STRETCH_KIND_Q2_K)
    ARM_PAIR_CASE(STRETCH_KIND_Q3_K)
    ARM_PAIR_CASE(STRETCH_KIND_IQ4_NL)
    ARM_PAIR_CASE(STRETCH_KIND_IQ4_XS)
    default: for (int i = 0; i < 4 * np; i++) out[i] = 0; break;
    }
}
#undef ARM_PAIR_CASE

// Rows against `nx` activations: row pairs × activation pairs by smmla, an odd last row or activation by
// the dotprod kernels (the same numbers either way). Falls back to dotprod alone if the scratch for the
// interleaved activations cannot be allocated.
static ARM_ATTR_I8MM void arm_rows_x_i8mm(int kind, const uint8_t *w, size_t rowBytes, long rows, const StretchQ8 *x,
                                          long nx, float *const *y) {
    const long pairs = nx / 2, count = x->count;
    int8_t *scratch = pairs > 0 && rows >= 2 ? malloc((size_t)(2 * count * pairs)) : NULL;
    if (!scratch) {
        rows_x_dot(kind, w, rowBytes, rows, x, nx, y);
        return;
    }
    int8_t *xi[2];
    for (long t = 0; t < pairs; t++) arm_interleave(x[2 * t].quants, x[2 * t + 1].quants, count, scratch + 2 * count * t);
    size_t ahead = rowBytes >= 3000 ? rowBytes : (3000 / rowBytes) * rowBytes;
    long r = 0;
    for (; r + 2 <= rows; r += 2) {
        const uint8_t *p0 = w + r * rowBytes, *p1 = p0 + rowBytes;
        for (size_t o = 0; o < 2 * rowBytes; o += 64) __builtin_prefetch(p0 + 2 * ahead + o);
        for (long t0 = 0; t0 < pairs; t0 += 2) {
            int np = pairs - t0 < 2 ? 1 : 2;
            float out[8];
            for (int t = 0; t < np; t++) xi[t] = scratch + 2 * count * (t0 + t);
            arm_pair_kind_i8mm(kind, p0, p1, x + 2 * t0, xi, np, out);
            for (int t = 0; t < np; t++) {
                for (int c = 0; c < 4; c++) y[2 * (t0 + t) + (c & 1)][r + (c >> 1)] = out[4 * t + c];
            }
        }
        if (nx & 1) {
            float out[1];
            for (int k = 0; k < 2; k++) {
                row_kind_dot(kind, p0 + k * rowBytes, x + nx - 1, 1, out);
                y[nx - 1][r + k] = out[0];
            }
        }
    }
    free(scratch);
    if (r < rows) {
        float *last[64];
        for (long i0 = 0; i0 < nx; i0 += 64) {
            long k = nx - i0 < 64 ? nx - i0 : 64;
            for (long i = 0; i < k; i++) last[i] = y[i0 + i] + r;
            rows_x_dot(kind, w + r * rowBytes, rowBytes, rows - r, x + i0, k, last);
        }
    }
}

// MARK: - Entry points (level ≥ 1)

static void arm_rows(int level, int kind, const uint8_t *w, size_t rowBytes, long rows, const StretchQ8 *x, float *y) {
    if (level >= 2) rows_dot(kind, w, rowBytes, rows, x, y);
    else rows_neon(kind, w, rowBytes, rows, x, y);
}

static void arm_rows_x(int level, int kind, const uint8_t *w, size_t rowBytes, long rows, const StretchQ8 *x,
                       long nx, float *const *y) {
    if (level >= 3) arm_rows_x_i8mm(kind, w, rowBytes, rows, x, nx, y);
    else if (level == 2) rows_x_dot(kind, w, rowBytes, rows, x, nx, y);
    else rows_x_neon(kind, w, rowBytes, rows, x, nx, y);
}

// Activation quantization, the same bytes as quantize_scalar: the same max, the same float multiply by
// 127 / max, and fcvtns rounds to nearest even as lrintf does under the default rounding mode.
static void arm_quantize(const float *x, long count, int8_t *q, float *scales, float *sums, int32_t *sums16) {
    for (long b = 0; b < count / 32; b++) {
        const float *v = x + 32 * b;
        float32x4_t f[8];
        for (int i = 0; i < 8; i++) f[i] = vld1q_f32(v + 4 * i);
        float32x4_t m4 = vabsq_f32(f[0]);
        for (int i = 1; i < 8; i++) m4 = vmaxnmq_f32(m4, vabsq_f32(f[i]));
        float m = vmaxnmvq_f32(m4);
        float inv = m > 0 ? 127 / m : 0;
        int32x4_t r[8];
        for (int i = 0; i < 8; i++) r[i] = vcvtnq_s32_f32(vmulq_n_f32(f[i], inv));
        for (int k = 0; k < 2; k++) {
            int16x8_t a = vcombine_s16(vmovn_s32(r[4 * k]), vmovn_s32(r[4 * k + 1]));
            int16x8_t c = vcombine_s16(vmovn_s32(r[4 * k + 2]), vmovn_s32(r[4 * k + 3]));
            vst1q_s8(q + 32 * b + 16 * k, vcombine_s8(vmovn_s16(a), vmovn_s16(c)));
        }
        int32_t s0 = vaddvq_s32(vaddq_s32(vaddq_s32(r[0], r[1]), vaddq_s32(r[2], r[3])));
        int32_t s1 = vaddvq_s32(vaddq_s32(vaddq_s32(r[4], r[5]), vaddq_s32(r[6], r[7])));
        scales[b] = m / 127;
        sums16[2 * b] = s0;
        sums16[2 * b + 1] = s1;
        sums[b] = scales[b] * (float)(s0 + s1);
    }
}

// 32 IQ4 values scale · grid[nibble] (low nibbles first), as iq4_dequant32_scalar: one table lookup per 16.
static void arm_iq4_dequant32(const uint8_t *qs, float scale, float *y) {
    const int8x16_t grid = vld1q_s8(stretch_iq4_grid);
    uint8x16_t raw = vld1q_u8(qs);
    int8x16_t v[2] = {vqtbl1q_s8(grid, vandq_u8(raw, vdupq_n_u8(0x0F))), vqtbl1q_s8(grid, vshrq_n_u8(raw, 4))};
    for (int k = 0; k < 2; k++) {
        int16x8_t lo = vmovl_s8(vget_low_s8(v[k])), hi = vmovl_high_s8(v[k]);
        float *o = y + 16 * k;
        vst1q_f32(o, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(lo))), scale));
        vst1q_f32(o + 4, vmulq_n_f32(vcvtq_f32_s32(vmovl_high_s16(lo)), scale));
        vst1q_f32(o + 8, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(hi))), scale));
        vst1q_f32(o + 12, vmulq_n_f32(vcvtq_f32_s32(vmovl_high_s16(hi)), scale));
    }
}
