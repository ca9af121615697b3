// Integer dot products of quantized weight rows with Q8-quantized activations (decode matvec).
// Block layouts match Sources/Stretch/Tensors/Dequantize.swift; the activation layout matches
// Q8Activations.swift. x86-64 gets AVX2 (vpmaddubsw) and AVX-512 VNNI (vpdpbusd) variants, aarch64 NEON,
// dotprod (sdot) and i8mm (smmla) variants, chosen at run time; other targets get a portable scalar version.
// See docs/DESIGN.md, "Kernels".
#ifndef STRETCH_KERNELS_C_H
#define STRETCH_KERNELS_C_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Weight formats with a C kernel.
enum {
    STRETCH_KIND_Q8_0 = 0,
    STRETCH_KIND_Q5_0 = 1,
    STRETCH_KIND_Q4_K = 2,
    STRETCH_KIND_Q6_K = 3,
    STRETCH_KIND_Q2_K = 4,
    STRETCH_KIND_Q3_K = 5,
    STRETCH_KIND_IQ4_NL = 6,
    STRETCH_KIND_IQ4_XS = 7,
};

/// Mirror of Q8Activations: `count` int8 quants, `count/32` scales and sums (`scale * Σq`),
/// `count/16` integer sums of 16 values.
typedef struct {
    const int8_t *quants;
    const float *scales;
    const float *sums;
    const int32_t *sums16;
    long count;
} StretchQ8;

/// Asks for the `bytes` at `p` to be brought into the cache (one read prefetch per 64-byte line,
/// `prefetcht0` on x86). Never faults, whatever `p` is.
void stretch_prefetch(const void *p, size_t bytes);

/// Which implementation the dispatcher picked: 0 scalar; x86-64: 1 AVX2, 2 AVX-512 VNNI; aarch64: 1 NEON,
/// 2 NEON + dotprod, 3 NEON + dotprod + i8mm.
int stretch_kernels_level(void);

/// Forces an implementation (clamped to what the CPU supports); for tests and benchmarks.
void stretch_kernels_set_level(int level);

/// y[r] = Σ_i row_r[i] · x[i] for r in [0, rows), row r at `w + r * rowBytes`.
void stretch_dot_rows(int kind, const void *w, size_t rowBytes, long rows, const StretchQ8 *x, float *y);

/// y[i][r] = Σ_k row_r[k] · x[i][k] for r in [0, rows), i in [0, nx): the rows against several activation
/// vectors (batched decode), each weight block unpacked once for up to four of them. Every result is
/// bit-identical to `stretch_dot_rows` with that activation alone.
void stretch_dot_rows_multi(int kind, const void *w, size_t rowBytes, long rows, const StretchQ8 *x, long nx,
                            float *const *y);

/// Bytes `stretch_multi_prepare` writes for `nx` activation vectors of `cols` values (0 for fewer than 2).
size_t stretch_multi_prepared_bytes(long cols, long nx);

/// Lays out the activation pairs (vectors 2t, 2t + 1) of `x` for the batched kernels, lane by lane
/// interleaved with their per-block offsets and scales, into `dst` (64-byte aligned,
/// `stretch_multi_prepared_bytes` long): once per product, then shared by all rows and threads.
void stretch_multi_prepare(const StretchQ8 *x, long nx, void *dst);

/// `stretch_dot_rows_multi` with the activations also laid out by `stretch_multi_prepare` in `prepared`.
void stretch_dot_rows_multi_prepared(int kind, const void *w, size_t rowBytes, long rows, const StretchQ8 *x, long nx,
                                     const void *prepared, float *const *y);

/// Quantizes `count` (a multiple of 32) floats to Q8 blocks: per 32 values a scale `max|x| / 127`,
/// int8 values rounded to nearest even, the block sum `scale · Σq` and the two 16-value sums `Σq`.
void stretch_quantize_q8(const float *x, long count, int8_t *q, float *scales, float *sums, int32_t *sums16);

/// Dequantizes `blocks` blocks of IQ4_NL (`kind` STRETCH_KIND_IQ4_NL: x = d · grid[q]) or IQ4_XS
/// (STRETCH_KIND_IQ4_XS: x = (d · scale) · grid[q]) at `src` into `dst`, bit-exact with ggml's reference
/// (one rounding per product). A byte shuffle looks the grid up on AVX2; Swift has no such lookup.
void stretch_dequantize_iq4(int kind, const void *src, long blocks, float *dst);

/// Float32 product for several tokens against one packed panel of up to 32 weight rows:
/// y[t * ldy + r] = Σ_k panel[k * 32 + r] · x[t * ldx + k] for t < tokens, r < nr (≤ 32; only those
/// columns of y are written). Same ISA levels as the integer kernels.
void stretch_gemm_panel32(const float *panel, long cols, const float *x, long ldx, long tokens, float *y, long ldy,
                          int nr);

/// Packs `nr` (≤ 32) row-major rows of `cols` floats into a k-major panel (`cols * 32` floats; rows past
/// `nr` are zero) for stretch_gemm_panel32.
void stretch_pack_panel32(const float *rows, long cols, int nr, float *panel);

/// Whether the int8 prefill product (`stretch_gemm_q8`) serves weights of `kind` at the current level.
int stretch_gemm_q8_supports(int kind);

/// Bytes `stretch_gemm_q8_prepare` writes for `tokens` activation vectors of `cols` values.
size_t stretch_gemm_q8_activation_bytes(long cols, long tokens);

/// Lays out `tokens` Q8 activation vectors (stacked in `x`: token t's quants at `x->quants + t * x->count`,
/// its block scales and sums at `t * x->count / 32`, its 16-value sums at `t * x->count / 16`) for
/// `stretch_gemm_q8`, in groups of 8 tokens with each format's integer offsets precomputed.
void stretch_gemm_q8_prepare(const StretchQ8 *x, long tokens, void *dst);

/// Bytes of scratch `stretch_gemm_q8` needs for rows of `cols` columns (one unpacked panel chunk of 16 rows ×
/// 1,024 columns and 16 unpacked row chunks: 39 KB, whatever `cols`).
size_t stretch_gemm_q8_scratch_bytes(long cols);

/// Int8 prefill product: y[t * ldy + r] = Σ_k row_r[k] · x_t[k] for r < rows, t < tokens, row r at
/// `w + r * rowBytes`, activations prepared by `stretch_gemm_q8_prepare`. Weights are unpacked 16 rows
/// at a time into `scratch` and multiplied with every token by `vpdpbusd` (AVX-512 VNNI) or
/// `vpmaddubsw` (AVX2). Each result depends only on its row and token (not on the tiling).
void stretch_gemm_q8(int kind, const void *w, size_t rowBytes, long rows, const void *xprep, long cols, long tokens,
                     float *y, long ldy, void *scratch);

#ifdef __cplusplus
}
#endif

#endif
