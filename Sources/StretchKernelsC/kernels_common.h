// Block-format helpers shared by the decode kernels (kernels.c) and the int8 prefill GEMM (gemm_int8.c).
#ifndef STRETCH_KERNELS_COMMON_H
#define STRETCH_KERNELS_COMMON_H

#include <stdint.h>
#include <string.h>

static inline float stretch_half_scalar(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1F, man = h & 0x3FF, bits;
    if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else {  // subnormal: renormalize
            int e = -1;
            do { e++; man <<= 1; } while (!(man & 0x400));
            bits = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3FF) << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7F800000u | (man << 13);
    } else {
        bits = sign | ((exp + 112) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

// Scales and mins of the 8 sub-blocks from the 12-byte 6-bit table of Q4_K (as QuantLanes.scaleMinK4).
static inline void stretch_scale_min_k4(const uint8_t *t, uint8_t *sc, uint8_t *mn) {
    for (int j = 0; j < 4; j++) {
        sc[j] = t[j] & 63;
        mn[j] = t[j + 4] & 63;
    }
    for (int j = 4; j < 8; j++) {
        sc[j] = (t[j + 4] & 0x0F) | ((t[j - 4] >> 6) << 4);
        mn[j] = (t[j + 4] >> 4) | ((t[j] >> 6) << 4);
    }
}

#endif
