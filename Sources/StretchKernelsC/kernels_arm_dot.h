// aarch64 dot kernel bodies, included once per level by kernels_arm.h with these macros defined:
//   FN(name)          the function name with the level's suffix
//   ATTR              the level's `__attribute__((target(...)))` (empty for baseline NEON)
//   DOT16(acc, w, x)  acc + 16 int8 · int8 products in four int32 lanes
// Not a public header.

// The exact integers of the four blocks of a group against activation quants `xq` (lane i = block i).
ATTR ARM_INLINE int32x4_t FN(group_int)(const arm_group *gr, const int scaled, const int8_t *xq) {
    const int32x4_t z = vdupq_n_s32(0);
    int32x4_t lo[4], hi[4];
    if (scaled) {
        for (int i = 0; i < 4; i++) {
            lo[i] = DOT16(z, gr->w[i][0], vld1q_s8(xq + 32 * i));
            hi[i] = DOT16(z, gr->w[i][1], vld1q_s8(xq + 32 * i + 16));
        }
        return vmlaq_s32(vmulq_s32(arm_reduce4(lo), gr->sa), arm_reduce4(hi), gr->sb);
    }
    for (int i = 0; i < 4; i++) lo[i] = DOT16(DOT16(z, gr->w[i][0], vld1q_s8(xq + 32 * i)), gr->w[i][1], vld1q_s8(xq + 32 * i + 16));
    return arm_reduce4(lo);
}

// One row of `kind` against `nx` (1-4) activations; `kind` and `nx` are constants at every call site.
ATTR ARM_INLINE void FN(row_x)(const int kind, const uint8_t *p, const StretchQ8 *x, const int nx, float *out) {
    const int scaled = arm_scaled(kind), mins = arm_mins(kind);
    const long blocks = x->count / 32, groups = blocks / 4;
    const int rem = (int)(blocks % 4);
    float32x4_t acc[4];
    for (int i = 0; i < nx; i++) acc[i] = vdupq_n_f32(0);
    for (long g = 0; g < groups; g++) {
        arm_group gr;
        arm_unpack(kind, p, g, 4, &gr);
        for (int i = 0; i < nx; i++) {
            int32x4_t I = FN(group_int)(&gr, scaled, x[i].quants + 128 * g);
            acc[i] = arm_float_step(&gr, mins, I, x[i].scales + 4 * g, x[i].sums16 + 8 * g, acc[i]);
        }
    }
    if (rem) {
        arm_group gr;
        arm_unpack(kind, p, groups, rem, &gr);
        for (int i = 0; i < nx; i++) {
            arm_padded pad;
            arm_pad(x + i, groups, rem, &pad);
            acc[i] = arm_float_step(&gr, mins, FN(group_int)(&gr, scaled, pad.quants), pad.scales, pad.sums16, acc[i]);
        }
    }
    for (int i = 0; i < nx; i++) out[i] = vaddvq_f32(acc[i]);
}

#define ARM_NX_CASES(K)                                                     \
    case K:                                                                 \
        switch (nx) {                                                       \
        case 1: FN(row_x)(K, p, x, 1, out); break;                          \
        case 2: FN(row_x)(K, p, x, 2, out); break;                          \
        case 3: FN(row_x)(K, p, x, 3, out); break;                          \
        default: FN(row_x)(K, p, x, 4, out); break;                         \
        }                                                                   \
        break;

static ATTR void FN(row_kind)(int kind, const uint8_t *p, const StretchQ8 *x, int nx, float *out) {
    switch (kind) {
    ARM_NX_CASES(STRETCH_KIND_Q8_0)
    ARM_NX_CASES(STRETCH_KIND_Q5_0)
    ARM_NX_CASES(STRETCH_KIND_Q4_K)
    ARM_NX_CASES(STRETCH_KIND_Q6_K)
    ARM_NX_CASES(STRETCH_KIND_Q2_K)
    ARM_NX_CASES(STRETCH_KIND_Q3_K)
    ARM_NX_CASES(STRETCH_KIND_IQ4_NL)
    ARM_NX_CASES(STRETCH_KIND_IQ4_XS)
    default: for (int i = 0; i < nx; i++) out[i] = 0; break;
    }
}
#undef ARM_NX_CASES

// Rows against one activation. Each row prefetches the one ~3 KB ahead, as the x86 kernels do (not
// measured on ARM hardware).
static ATTR void FN(rows)(int kind, const uint8_t *w, size_t rowBytes, long rows, const StretchQ8 *x, float *y) {
    size_t ahead = rowBytes >= 3000 ? rowBytes : (3000 / rowBytes) * rowBytes;
    for (long r = 0; r < rows; r++) {
        const uint8_t *p = w + r * rowBytes;
        for (size_t o = 0; o < rowBytes; o += 64) __builtin_prefetch(p + ahead + o);
        FN(row_kind)(kind, p, x, 1, y + r);
    }
}

// Rows against `nx` activations, four at a time; `y[i][r]`.
static ATTR void FN(rows_x)(int kind, const uint8_t *w, size_t rowBytes, long rows, const StretchQ8 *x, long nx,
                            float *const *y) {
    size_t ahead = rowBytes >= 3000 ? rowBytes : (3000 / rowBytes) * rowBytes;
    for (long r = 0; r < rows; r++) {
        const uint8_t *p = w + r * rowBytes;
        for (size_t o = 0; o < rowBytes; o += 64) __builtin_prefetch(p + ahead + o);
        for (long i0 = 0; i0 < nx; i0 += 4) {
            int k = nx - i0 < 4 ? (int)(nx - i0) : 4;
            float out[4];
            FN(row_kind)(kind, p, x + i0, k, out);
            for (int i = 0; i < k; i++) y[i0 + i][r] = out[i];
        }
    }
}
