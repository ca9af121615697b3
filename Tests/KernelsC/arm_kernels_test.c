// Checks every C kernel level of this CPU against the portable scalar level and against a naive
// double-precision reference written here from ggml's block layouts (independent of kernels.c):
//   - integer decode dots (8 formats, odd block and row counts): |y − exact| ≤ 1e-5 · Σ|terms| at every
//     level (the levels differ from the scalar code in float summation order only); on aarch64 the NEON,
//     dotprod and i8mm levels are bit-identical to each other (same exact integers, same float steps);
//   - several-activation dots (1-6 activations): bit-identical to the one-activation kernel, every level;
//   - activation quantization and IQ4 dequantization: bit-identical to the scalar level (and IQ4 to the
//     exact reference);
//   - panel packing: exact; panel GEMM: ≤ 1e-5 · Σ|w·x| from double at every level, and bit-identical to a
//     sequential fmaf chain per output at the vector levels (NEON, AVX2, AVX-512 all run exactly that).
// Built and run by scripts/test-arm.sh: natively (x86: scalar, AVX2, AVX-512 VNNI) and for aarch64 under
// qemu-user. `--expect-max N` fails unless the dispatcher's highest level is N (checks feature detection);
// `--gguf FILE` also checks every row of every tensor of FILE that has an integer kernel.
#include "StretchKernelsC.h"

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int failures = 0, checks = 0;

#define CHECK(cond, ...)                                                            \
    do {                                                                            \
        checks++;                                                                   \
        if (!(cond)) {                                                              \
            if (failures++ < 20) {                                                  \
                fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                \
                fprintf(stderr, __VA_ARGS__);                                       \
                fprintf(stderr, "\n");                                              \
            }                                                                       \
        }                                                                           \
    } while (0)

// MARK: - Random data

static uint64_t rng = 0x5EED;

static uint64_t next(void) {  // splitmix64
    uint64_t z = (rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static float uniform(float lo, float hi) { return lo + (hi - lo) * (float)((next() >> 40) * 0x1p-24); }

// A random finite f16 of modest size (2^-15 ... 2^-4, subnormals included), either sign.
static uint16_t random_half(void) {
    uint64_t r = next();
    return (uint16_t)((r & 0x8000) | ((r >> 16) % 12) << 10 | ((r >> 32) & 0x3FF));
}

static double half_value(const uint8_t *p) {
    uint16_t h = (uint16_t)(p[0] | p[1] << 8);
    int exp = (h >> 10) & 0x1F, man = h & 0x3FF;
    double v = exp == 0 ? ldexp(man, -24) : ldexp(1024 + man, exp - 25);
    return (h & 0x8000) ? -v : v;
}

// MARK: - Formats

typedef struct {
    int kind;
    const char *name;
    int blockSize, blockBytes;
    int halves[2];  // byte offsets of the f16 fields (-1: none)
} Format;

static const Format formats[] = {
    {STRETCH_KIND_Q8_0, "Q8_0", 32, 34, {0, -1}},    {STRETCH_KIND_Q5_0, "Q5_0", 32, 22, {0, -1}},
    {STRETCH_KIND_Q4_K, "Q4_K", 256, 144, {0, 2}},   {STRETCH_KIND_Q6_K, "Q6_K", 256, 210, {208, -1}},
    {STRETCH_KIND_Q2_K, "Q2_K", 256, 84, {80, 82}},  {STRETCH_KIND_Q3_K, "Q3_K", 256, 110, {108, -1}},
    {STRETCH_KIND_IQ4_NL, "IQ4_NL", 32, 18, {0, -1}}, {STRETCH_KIND_IQ4_XS, "IQ4_XS", 256, 136, {0, -1}},
};

static const int iq4_grid[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

// Naive dequantization of one block (ggml's dequantize_row_* layouts) as w = a − b: `a` the scaled part,
// `b` the part from the block mins (0 in formats without), so the tests can bound the rounding by Σ|a·x| + Σ|b·x|.
static void dequantize_block(int kind, const uint8_t *q, double *a, double *b) {
    for (int i = 0; i < 256; i++) b[i] = 0;
    switch (kind) {
    case STRETCH_KIND_Q8_0:
        for (int i = 0; i < 32; i++) a[i] = half_value(q) * (int8_t)q[2 + i];
        break;
    case STRETCH_KIND_Q5_0: {
        uint32_t qh = (uint32_t)q[2] | (uint32_t)q[3] << 8 | (uint32_t)q[4] << 16 | (uint32_t)q[5] << 24;
        for (int j = 0; j < 16; j++) {
            int x0 = ((q[6 + j] & 0x0F) | (((qh >> j) << 4) & 0x10)) - 16;
            int x1 = ((q[6 + j] >> 4) | ((qh >> (j + 12)) & 0x10)) - 16;
            a[j] = half_value(q) * x0;
            a[j + 16] = half_value(q) * x1;
        }
        break;
    }
    case STRETCH_KIND_Q4_K: {
        double d = half_value(q), dmin = half_value(q + 2);
        const uint8_t *s = q + 4, *qs = q + 16;
        for (int j = 0; j < 8; j++) {
            int sc, m;
            if (j < 4) {
                sc = s[j] & 63;
                m = s[j + 4] & 63;
            } else {
                sc = (s[j + 4] & 0x0F) | ((s[j - 4] >> 6) << 4);
                m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
            }
            for (int l = 0; l < 32; l++) {
                int v = (j & 1) ? qs[32 * (j / 2) + l] >> 4 : qs[32 * (j / 2) + l] & 0x0F;
                a[32 * j + l] = d * sc * v;
                b[32 * j + l] = dmin * m;
            }
        }
        break;
    }
    case STRETCH_KIND_Q6_K: {
        double d = half_value(q + 208);
        for (int n = 0; n < 2; n++) {
            const uint8_t *ql = q + 64 * n, *qh = q + 128 + 32 * n;
            const int8_t *sc = (const int8_t *)(q + 192) + 8 * n;
            double *y = a + 128 * n;
            for (int l = 0; l < 32; l++) {
                int is = l / 16;
                y[l] = d * sc[is] * (((ql[l] & 0xF) | ((qh[l] & 3) << 4)) - 32);
                y[l + 32] = d * sc[is + 2] * (((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
                y[l + 64] = d * sc[is + 4] * (((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
                y[l + 96] = d * sc[is + 6] * (((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
            }
        }
        break;
    }
    case STRETCH_KIND_Q2_K: {
        double d = half_value(q + 80), dmin = half_value(q + 82);
        int is = 0, o = 0;
        for (int n = 0; n < 2; n++) {
            const uint8_t *qs = q + 16 + 32 * n;
            for (int shift = 0; shift < 8; shift += 2) {
                for (int h = 0; h < 2; h++) {
                    int sc = q[is++];
                    for (int l = 0; l < 16; l++, o++) {
                        a[o] = d * (sc & 0xF) * ((qs[16 * h + l] >> shift) & 3);
                        b[o] = dmin * (sc >> 4);
                    }
                }
            }
        }
        break;
    }
    case STRETCH_KIND_Q3_K: {
        // The 16 6-bit scales, via ggml's 32-bit masks.
        uint32_t aux[4];
        memcpy(aux, q + 96, 12);
        uint32_t tmp = aux[2];
        const uint32_t k1 = 0x03030303, k2 = 0x0f0f0f0f;
        aux[2] = ((aux[0] >> 4) & k2) | (((tmp >> 4) & k1) << 4);
        aux[3] = ((aux[1] >> 4) & k2) | (((tmp >> 6) & k1) << 4);
        aux[0] = (aux[0] & k2) | (((tmp >> 0) & k1) << 4);
        aux[1] = (aux[1] & k2) | (((tmp >> 2) & k1) << 4);
        const int8_t *scales = (const int8_t *)aux;
        double d = half_value(q + 108);
        const uint8_t *hm = q;
        int is = 0, o = 0, m = 1;
        for (int n = 0; n < 2; n++) {
            const uint8_t *qs = q + 32 + 32 * n;
            for (int shift = 0; shift < 8; shift += 2, m <<= 1) {
                for (int h = 0; h < 2; h++) {
                    double dl = d * (scales[is++] - 32);
                    for (int l = 0; l < 16; l++, o++) {
                        int i = 16 * h + l;
                        a[o] = dl * (((qs[i] >> shift) & 3) - ((hm[i] & m) ? 0 : 4));
                    }
                }
            }
        }
        break;
    }
    case STRETCH_KIND_IQ4_NL:
        for (int j = 0; j < 16; j++) {
            a[j] = half_value(q) * iq4_grid[q[2 + j] & 0xF];
            a[j + 16] = half_value(q) * iq4_grid[q[2 + j] >> 4];
        }
        break;
    default: {  // IQ4_XS
        int scalesH = q[2] | q[3] << 8;
        for (int ib = 0; ib < 8; ib++) {
            int ls = ((q[4 + ib / 2] >> 4 * (ib % 2)) & 0xF) | (((scalesH >> 2 * ib) & 3) << 4);
            double dl = half_value(q) * (ls - 32);
            const uint8_t *qs = q + 8 + 16 * ib;
            for (int j = 0; j < 16; j++) {
                a[32 * ib + j] = dl * iq4_grid[qs[j] & 0xF];
                a[32 * ib + j + 16] = dl * iq4_grid[qs[j] >> 4];
            }
        }
        break;
    }
    }
}

static void random_blocks(const Format *f, uint8_t *p, long blocks) {
    for (long i = 0; i < blocks * f->blockBytes; i++) p[i] = (uint8_t)next();
    for (long b = 0; b < blocks; b++) {
        for (int k = 0; k < 2; k++) {
            if (f->halves[k] < 0) continue;
            uint16_t h = random_half();
            memcpy(p + b * f->blockBytes + f->halves[k], &h, 2);
        }
    }
}

// MARK: - Levels

static int max_level(void) {
    int saved = stretch_kernels_level();
    stretch_kernels_set_level(99);  // clamped to the highest supported
    int m = stretch_kernels_level();
    stretch_kernels_set_level(saved);
    return m;
}

static int set_level(int level) {
    stretch_kernels_set_level(level);
    CHECK(stretch_kernels_level() == level, "forced level %d, dispatcher reports %d", level, stretch_kernels_level());
    return level;
}

// MARK: - Activations

typedef struct {
    int8_t *q;
    float *scales, *sums;
    int32_t *sums16;
    long count;
} Q8;

static Q8 q8_alloc(long count) {
    Q8 a = {malloc((size_t)count), malloc(sizeof(float) * (size_t)(count / 32)), malloc(sizeof(float) * (size_t)(count / 32)),
            malloc(sizeof(int32_t) * (size_t)(count / 16)), count};
    return a;
}

static void q8_free(Q8 *a) {
    free(a->q);
    free(a->scales);
    free(a->sums);
    free(a->sums16);
}

static void quantize(const float *x, Q8 *a) { stretch_quantize_q8(x, a->count, a->q, a->scales, a->sums, a->sums16); }

static StretchQ8 view(const Q8 *a) { return (StretchQ8){a->q, a->scales, a->sums, a->sums16, a->count}; }

static int same_bits(float a, float b) { return memcmp(&a, &b, sizeof a) == 0; }

// MARK: - Tests

static void test_quantization(int maxLevel) {
    const long count = 32 * 37;
    float *x = malloc(sizeof(float) * count);
    for (long i = 0; i < count; i++) x[i] = uniform(-3, 3);
    for (int i = 0; i < 32; i++) x[i] = 0;  // an all-zero block
    x[32] = 127; x[33] = 0.5f; x[34] = 1.5f; x[35] = -2.5f;  // ties at scale 1
    x[100] = 5000;  // a massive activation
    x[200] = -1e-30f;
    Q8 ref = q8_alloc(count), got = q8_alloc(count);
    set_level(0);
    quantize(x, &ref);
    CHECK(ref.q[32] == 127 && ref.q[33] == 0 && ref.q[34] == 2 && ref.q[35] == -2, "scalar: round half to even");
    CHECK(ref.scales[0] == 0 && ref.q[0] == 0, "scalar: zero block");
    for (int level = 1; level <= maxLevel; level++) {
        set_level(level);
        memset(got.q, 0x55, (size_t)count);
        quantize(x, &got);
        CHECK(memcmp(got.q, ref.q, (size_t)count) == 0, "level %d: quants differ from scalar", level);
        CHECK(memcmp(got.scales, ref.scales, sizeof(float) * (size_t)(count / 32)) == 0, "level %d: scales", level);
        CHECK(memcmp(got.sums, ref.sums, sizeof(float) * (size_t)(count / 32)) == 0, "level %d: sums", level);
        CHECK(memcmp(got.sums16, ref.sums16, sizeof(int32_t) * (size_t)(count / 16)) == 0, "level %d: sums16", level);
    }
    q8_free(&ref);
    q8_free(&got);
    free(x);
}

enum { ROWS = 5, MAXNX = 6 };

static void test_dots(const Format *f, long blocks, int maxLevel) {
    const long count = blocks * f->blockSize, rowBytes = blocks * f->blockBytes;
    uint8_t *w = malloc((size_t)(rowBytes * ROWS));
    random_blocks(f, w, blocks * ROWS);
    // Activations with an outlier each, as at a sequence's first token.
    Q8 xs[MAXNX];
    StretchQ8 views[MAXNX];
    float *x = malloc(sizeof(float) * (size_t)count);
    set_level(0);
    for (int i = 0; i < MAXNX; i++) {
        for (long k = 0; k < count; k++) x[k] = uniform(-3, 3);
        x[(i * 37 + 5) % count] = 150;
        xs[i] = q8_alloc(count);
        quantize(x, &xs[i]);
        views[i] = view(&xs[i]);
    }
    free(x);
    // The exact dot and the magnitude that bounds its float rounding, per row and activation.
    double exact[ROWS][MAXNX], mag[ROWS][MAXNX];
    double *a = malloc(sizeof(double) * 256), *b = malloc(sizeof(double) * 256);
    for (int r = 0; r < ROWS; r++) {
        for (int i = 0; i < MAXNX; i++) exact[r][i] = mag[r][i] = 0;
        for (long blk = 0; blk < blocks; blk++) {
            dequantize_block(f->kind, w + r * rowBytes + blk * f->blockBytes, a, b);
            for (int i = 0; i < MAXNX; i++) {
                for (int e = 0; e < f->blockSize; e++) {
                    long k = blk * f->blockSize + e;
                    double xv = (double)xs[i].scales[k / 32] * xs[i].q[k];
                    exact[r][i] += (a[e] - b[e]) * xv;
                    mag[r][i] += fabs(a[e] * xv) + fabs(b[e] * xv);
                }
            }
        }
    }
    free(a);
    free(b);
    float single[4][MAXNX][ROWS];  // [level][activation][row]
    for (int level = 0; level <= maxLevel; level++) {
        set_level(level);
        for (int i = 0; i < MAXNX; i++) {
            for (int r = 0; r < ROWS; r++) single[level][i][r] = NAN;
            stretch_dot_rows(f->kind, w, (size_t)rowBytes, ROWS, &views[i], single[level][i]);
            for (int r = 0; r < ROWS; r++) {
                double err = fabs((double)single[level][i][r] - exact[r][i]);
                CHECK(err <= 1e-5 * mag[r][i] + 1e-30, "%s blocks %ld level %d row %d act %d: %.9g vs exact %.9g (|err| %.3g, bound %.3g)",
                      f->name, blocks, level, r, i, single[level][i][r], exact[r][i], err, 1e-5 * mag[r][i]);
#ifdef __aarch64__
                if (level > 1)
                    CHECK(same_bits(single[level][i][r], single[1][i][r]), "%s blocks %ld: level %d differs from NEON at row %d act %d (%.9g vs %.9g)",
                          f->name, blocks, level, r, i, single[level][i][r], single[1][i][r]);
#endif
            }
        }
        // Several activations at once: each result equals the one-activation kernel's bit for bit.
        for (int nx = 1; nx <= MAXNX; nx++) {
            float storage[MAXNX][ROWS];
            float *outs[MAXNX];
            for (int i = 0; i < nx; i++) {
                outs[i] = storage[i];
                for (int r = 0; r < ROWS; r++) storage[i][r] = NAN;
            }
            // Also fewer rows than ROWS: an even count and the odd last row of the paired (i8mm) kernels.
            for (long rows = ROWS; rows >= ROWS - 1; rows--) {
                stretch_dot_rows_multi(f->kind, w, (size_t)rowBytes, rows, views, nx, outs);
                for (int i = 0; i < nx; i++) {
                    for (int r = 0; r < rows; r++) {
                        CHECK(same_bits(storage[i][r], single[level][i][r]), "%s blocks %ld level %d: %d activations, %ld rows: act %d row %d %.9g vs one at a time %.9g",
                              f->name, blocks, level, nx, rows, i, r, storage[i][r], single[level][i][r]);
                    }
                }
            }
        }
    }
    for (int i = 0; i < MAXNX; i++) q8_free(&xs[i]);
    free(w);
}

static void test_iq4_dequantization(int maxLevel) {
    for (int which = 0; which < 2; which++) {
        const Format *f = which ? &formats[7] : &formats[6];
        const long blocks = 7;
        const long n = blocks * f->blockSize;
        uint8_t *p = malloc((size_t)(blocks * f->blockBytes));
        random_blocks(f, p, blocks);
        double a[256], b[256];
        float *ref = malloc(sizeof(float) * (size_t)n), *got = malloc(sizeof(float) * (size_t)n);
        for (long blk = 0; blk < blocks; blk++) {
            dequantize_block(f->kind, p + blk * f->blockBytes, a, b);
            // d · scale · grid has at most 24 significant bits: exact in float, whatever the rounding order.
            for (int e = 0; e < f->blockSize; e++) ref[blk * f->blockSize + e] = (float)a[e];
        }
        for (int level = 0; level <= maxLevel; level++) {
            set_level(level);
            stretch_dequantize_iq4(f->kind, p, blocks, got);
            CHECK(memcmp(got, ref, sizeof(float) * (size_t)n) == 0, "%s dequantization level %d differs from the reference", f->name, level);
        }
        free(p);
        free(ref);
        free(got);
    }
}

static void test_gemm(int maxLevel) {
    const int shapes[][2] = {{32, 64}, {31, 40}, {16, 96}, {17, 19}, {5, 17}, {1, 16}, {20, 896}};
    const long tokenCounts[] = {1, 2, 3, 4, 5, 6, 9, 13, 14, 15};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const int nr = shapes[s][0];
        const long cols = shapes[s][1];
        float *rows = malloc(sizeof(float) * (size_t)(nr * cols)), *panel = malloc(sizeof(float) * (size_t)(32 * cols));
        for (long i = 0; i < nr * cols; i++) rows[i] = uniform(-1, 1);
        for (size_t tc = 0; tc < sizeof tokenCounts / sizeof tokenCounts[0]; tc++) {
            const long tokens = tokenCounts[tc], ldy = nr + 3;
            float *x = malloc(sizeof(float) * (size_t)(tokens * cols));
            for (long i = 0; i < tokens * cols; i++) x[i] = uniform(-2, 2);
            float *y = malloc(sizeof(float) * (size_t)(tokens * ldy));
            for (int level = 0; level <= maxLevel; level++) {
                set_level(level);
                for (long i = 0; i < 32 * cols; i++) panel[i] = NAN;
                stretch_pack_panel32(rows, cols, nr, panel);
                int packed = 1;
                for (long k = 0; k < cols; k++)
                    for (int r = 0; r < 32; r++)
                        packed &= same_bits(panel[32 * k + r], r < nr ? rows[r * cols + k] : 0.0f);
                CHECK(packed, "pack level %d nr %d cols %ld", level, nr, cols);
                for (long i = 0; i < tokens * ldy; i++) y[i] = NAN;
                stretch_gemm_panel32(panel, cols, x, cols, tokens, y, ldy, nr);
                for (long t = 0; t < tokens; t++) {
                    for (int r = 0; r < ldy; r++) {
                        float got = y[t * ldy + r];
                        if (r >= nr) {
                            CHECK(isnan(got), "gemm level %d wrote past nr at t %ld r %d", level, t, r);
                            continue;
                        }
                        double exact = 0, mag = 0;
                        for (long k = 0; k < cols; k++) {
                            exact += (double)rows[r * cols + k] * x[t * cols + k];
                            mag += fabs((double)rows[r * cols + k] * x[t * cols + k]);
                        }
                        CHECK(fabs(got - exact) <= 1e-5 * mag, "gemm level %d nr %d cols %ld tokens %ld t %ld r %d: %.9g vs %.9g",
                              level, nr, cols, tokens, t, r, got, exact);
                        // The vector levels run one FMA chain per output over k in order: exactly fmaf's.
                        float chain = 0;
                        for (long k = 0; k < cols; k++) chain = fmaf(rows[r * cols + k], x[t * cols + k], chain);
                        if (level > 0)
                            CHECK(same_bits(got, chain), "gemm level %d nr %d cols %ld tokens %ld t %ld r %d: %.9g vs FMA chain %.9g",
                                  level, nr, cols, tokens, t, r, got, chain);
                    }
                }
            }
            free(x);
            free(y);
        }
        free(rows);
        free(panel);
    }
}

// MARK: - Real tensors (--gguf FILE)

// A minimal GGUF reader: enough to find each tensor's type, shape and data. Bounds are checked; a file it
// cannot read is a test failure, not a crash.
typedef struct {
    const uint8_t *p;
    size_t size, at;
    int ok;
} Reader;

static uint64_t read_uint(Reader *r, int bytes) {
    uint64_t v = 0;
    if (r->at + (size_t)bytes > r->size) {
        r->ok = 0;
        return 0;
    }
    for (int i = 0; i < bytes; i++) v |= (uint64_t)r->p[r->at + i] << (8 * i);
    r->at += (size_t)bytes;
    return v;
}

static void skip(Reader *r, uint64_t n) {
    if (n > r->size - r->at) r->ok = 0;
    else r->at += (size_t)n;
}

static void skip_value(Reader *r, uint32_t type, int depth) {
    static const int sizes[13] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    if (!r->ok || type > 12 || depth > 2) {
        r->ok = 0;
        return;
    }
    if (type == 8) {
        skip(r, read_uint(r, 8));
    } else if (type == 9) {
        uint32_t elem = (uint32_t)read_uint(r, 4);
        uint64_t n = read_uint(r, 8);
        if (elem != 8 && elem != 9 && elem <= 12) {
            if (n > (r->size - r->at) / (uint64_t)sizes[elem]) r->ok = 0;
            else skip(r, n * (uint64_t)sizes[elem]);
        } else {
            for (uint64_t i = 0; i < n && r->ok; i++) skip_value(r, elem, depth + 1);
        }
    } else {
        skip(r, (uint64_t)sizes[type]);
    }
}

// ggml type id -> index in `formats`, or -1.
static int format_of_ggml(uint32_t type) {
    switch (type) {
    case 8: return 0;   // Q8_0
    case 6: return 1;   // Q5_0
    case 12: return 2;  // Q4_K
    case 14: return 3;  // Q6_K
    case 10: return 4;  // Q2_K
    case 11: return 5;  // Q3_K
    case 20: return 6;  // IQ4_NL
    case 23: return 7;  // IQ4_XS
    default: return -1;
    }
}

// Every row of every 2-D tensor with an integer kernel, against one activation vector (with an outlier):
// every level ≤ 1e-5 of Σ|terms| from the exact double dot; on aarch64 the vector levels bit-identical; the
// two-activation kernel (the i8mm one at level 3) bit-identical to one at a time.
static void test_gguf(const char *path, int maxLevel) {
    int fd = open(path, O_RDONLY);
    struct stat st;
    CHECK(fd >= 0 && fstat(fd, &st) == 0, "cannot open %s", path);
    if (fd < 0) return;
    const uint8_t *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    CHECK(map != MAP_FAILED, "cannot map %s", path);
    if (map == MAP_FAILED) return;
    Reader r = {map, (size_t)st.st_size, 0, 1};
    CHECK(read_uint(&r, 4) == 0x46554747u, "%s: not a GGUF file", path);
    uint32_t version = (uint32_t)read_uint(&r, 4);
    uint64_t nTensors = read_uint(&r, 8), nKV = read_uint(&r, 8);
    CHECK(version == 3 && nTensors < 100000 && nKV < 100000, "%s: GGUF version %u, %llu tensors, %llu keys", path, version,
          (unsigned long long)nTensors, (unsigned long long)nKV);
    uint64_t alignment = 32;
    for (uint64_t i = 0; i < nKV && r.ok; i++) {
        uint64_t len = read_uint(&r, 8);
        size_t keyAt = r.at;
        skip(&r, len);
        uint32_t type = (uint32_t)read_uint(&r, 4);
        if (r.ok && len == 17 && memcmp(map + keyAt, "general.alignment", 17) == 0 && type == 4) alignment = read_uint(&r, 4);
        else skip_value(&r, type, 0);
    }
    typedef struct { size_t nameAt, nameLen; uint64_t cols, rows, offset; int format; } Info;
    Info *infos = calloc((size_t)nTensors + 1, sizeof(Info));
    for (uint64_t i = 0; i < nTensors && r.ok; i++) {
        Info *t = &infos[i];
        t->nameLen = (size_t)read_uint(&r, 8);
        t->nameAt = r.at;
        skip(&r, t->nameLen);
        uint32_t nd = (uint32_t)read_uint(&r, 4);
        uint64_t dims[4] = {1, 1, 1, 1};
        for (uint32_t d = 0; d < nd && r.ok; d++) {
            uint64_t v = read_uint(&r, 8);
            if (d < 4) dims[d] = v;
        }
        t->format = nd == 2 ? format_of_ggml((uint32_t)read_uint(&r, 4)) : (read_uint(&r, 4), -1);
        t->offset = read_uint(&r, 8);
        t->cols = dims[0];
        t->rows = dims[1];
    }
    CHECK(r.ok && alignment > 0, "%s: truncated or malformed header", path);
    size_t data = (r.at + alignment - 1) / alignment * alignment;
    long tensors = 0, rowsChecked = 0;
    double worst = 0;
    for (uint64_t i = 0; i < nTensors && r.ok; i++) {
        Info *t = &infos[i];
        if (t->format < 0) continue;
        const Format *f = &formats[t->format];
        const long cols = (long)t->cols, rows = (long)t->rows;
        const size_t rowBytes = (size_t)(cols / f->blockSize * f->blockBytes);
        if (cols % f->blockSize || data + t->offset + rowBytes * (size_t)rows > (size_t)st.st_size) {
            CHECK(0, "%s: tensor %.*s out of bounds", path, (int)t->nameLen, map + t->nameAt);
            continue;
        }
        const uint8_t *w = map + data + t->offset;
        float *x = malloc(sizeof(float) * (size_t)cols);
        Q8 xs[2];
        StretchQ8 views[2];
        set_level(0);
        for (int k = 0; k < 2; k++) {
            for (long e = 0; e < cols; e++) x[e] = uniform(-3, 3);
            x[(k * 131 + 7) % cols] = 150;
            xs[k] = q8_alloc(cols);
            quantize(x, &xs[k]);
            views[k] = view(&xs[k]);
        }
        free(x);
        double *exact = malloc(sizeof(double) * (size_t)rows), *mag = malloc(sizeof(double) * (size_t)rows);
        double a[256], b[256];
        for (long row = 0; row < rows; row++) {
            exact[row] = mag[row] = 0;
            for (long blk = 0; blk < cols / f->blockSize; blk++) {
                dequantize_block(f->kind, w + (size_t)row * rowBytes + (size_t)(blk * f->blockBytes), a, b);
                for (int e = 0; e < f->blockSize; e++) {
                    long k = blk * f->blockSize + e;
                    double xv = (double)xs[0].scales[k / 32] * xs[0].q[k];
                    exact[row] += (a[e] - b[e]) * xv;
                    mag[row] += fabs(a[e] * xv) + fabs(b[e] * xv);
                }
            }
        }
        float *y[4], *y2[2];
        for (int level = 0; level <= maxLevel; level++) {
            set_level(level);
            y[level] = malloc(sizeof(float) * (size_t)rows);
            stretch_dot_rows(f->kind, w, rowBytes, rows, &views[0], y[level]);
            float *second = malloc(sizeof(float) * (size_t)rows);
            stretch_dot_rows(f->kind, w, rowBytes, rows, &views[1], second);
            y2[0] = malloc(sizeof(float) * (size_t)rows);
            y2[1] = malloc(sizeof(float) * (size_t)rows);
            stretch_dot_rows_multi(f->kind, w, rowBytes, rows, views, 2, y2);
            long bad = 0, badMulti = 0, badSame = 0;
            for (long row = 0; row < rows; row++) {
                double err = fabs((double)y[level][row] - exact[row]) / (mag[row] > 0 ? mag[row] : 1);
                if (err > worst) worst = err;
                bad += !(err <= 1e-5);
                badMulti += !same_bits(y2[0][row], y[level][row]) || !same_bits(y2[1][row], second[row]);
#ifdef __aarch64__
                if (level > 1) badSame += !same_bits(y[level][row], y[1][row]);
#endif
            }
            CHECK(bad == 0, "%.*s (%s) level %d: %ld of %ld rows off the exact dot", (int)t->nameLen, map + t->nameAt, f->name, level, bad, rows);
            CHECK(badMulti == 0, "%.*s (%s) level %d: %ld rows of the two-activation kernel differ", (int)t->nameLen, map + t->nameAt, f->name, level, badMulti);
            CHECK(badSame == 0, "%.*s (%s) level %d: %ld rows differ from NEON", (int)t->nameLen, map + t->nameAt, f->name, level, badSame);
            free(second);
            free(y2[0]);
            free(y2[1]);
        }
        for (int level = 0; level <= maxLevel; level++) free(y[level]);
        free(exact);
        free(mag);
        for (int k = 0; k < 2; k++) q8_free(&xs[k]);
        tensors++;
        rowsChecked += rows;
    }
    printf("%s: %ld tensors, %ld rows, every level; worst |error| %.2g of sum |terms|\n", path, tensors, rowsChecked, worst);
    CHECK(tensors > 0, "%s: no tensor with an integer kernel", path);
    free(infos);
    munmap((void *)map, (size_t)st.st_size);
    close(fd);
}

int main(int argc, char **argv) {
    int expect = -1;
    const char *gguf[8];
    int nGGUF = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--expect-max") == 0 && i + 1 < argc) expect = atoi(argv[++i]);
        else if (strcmp(argv[i], "--gguf") == 0 && i + 1 < argc && nGGUF < 8) gguf[nGGUF++] = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--expect-max LEVEL] [--gguf FILE]...\n", argv[0]);
            return 2;
        }
    }
    clock_t start = clock();
    int maxLevel = max_level();
#if defined(__aarch64__)
    const char *names[] = {"scalar", "NEON", "NEON+dotprod", "NEON+dotprod+i8mm"};
#elif defined(__x86_64__)
    const char *names[] = {"scalar", "AVX2", "AVX-512 VNNI", "?"};
#else
    const char *names[] = {"scalar", "?", "?", "?"};
#endif
    printf("highest kernel level: %d (%s)\n", maxLevel, names[maxLevel & 3]);
    if (expect >= 0) CHECK(maxLevel == expect, "expected highest level %d, dispatcher found %d", expect, maxLevel);
    if (maxLevel > 3) maxLevel = 3;
    test_quantization(maxLevel);
    test_iq4_dequantization(maxLevel);
    // Odd block counts: 32-element formats leave 1-3 blocks after groups of four; K-quants 1, 3, 5 super-blocks.
    const long small[] = {1, 2, 3, 5, 7, 13, 28, 37}, large[] = {1, 3, 5};
    for (size_t k = 0; k < sizeof formats / sizeof formats[0]; k++) {
        const Format *f = &formats[k];
        if (f->blockSize == 32)
            for (size_t i = 0; i < sizeof small / sizeof small[0]; i++) test_dots(f, small[i], maxLevel);
        else
            for (size_t i = 0; i < sizeof large / sizeof large[0]; i++) test_dots(f, large[i], maxLevel);
    }
    test_gemm(maxLevel);
    for (int i = 0; i < nGGUF; i++) test_gguf(gguf[i], maxLevel);
    stretch_kernels_set_level(99);
    printf("%d checks, %d failed, levels 0-%d, %.1f s CPU\n", checks, failures, maxLevel,
           (double)(clock() - start) / CLOCKS_PER_SEC);
    return failures ? 1 : 0;
}
