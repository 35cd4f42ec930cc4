// Scalar IEEE binary16 conversions (round to nearest even; exact back), shared by half.c's
// plain paths and the kernels that read rows stored as halves (bmwiener.c), and whether the
// CPU's F16C instructions may be used (the AVX2 level and the flag).
#ifndef LK_HALF_SCALAR_H
#define LK_HALF_SCALAR_H

#include "ckernels.h"
#include <stdint.h>
#include <string.h>

static inline uint16_t to_half(float value) {
    const uint32_t infinity = 255u << 23, overflow = (127u + 16) << 23, magic = ((127u - 15) + (23 - 10) + 1) << 23;
    uint32_t f;
    memcpy(&f, &value, 4);
    const uint32_t sign = f & 0x80000000u;
    f ^= sign;
    uint16_t o;
    if (f >= overflow) {
        o = f > infinity ? 0x7e00 : 0x7c00;   // NaN stays NaN; too large becomes infinity
    } else if (f < (113u << 23)) {
        // A subnormal half (or zero): the float addition rounds the mantissa to nearest even.
        float v, m;
        memcpy(&v, &f, 4);
        memcpy(&m, &magic, 4);
        v += m;
        uint32_t r;
        memcpy(&r, &v, 4);
        o = (uint16_t)(r - magic);
    } else {
        const uint32_t odd = (f >> 13) & 1;
        f += ((uint32_t)(15 - 127) << 23) + 0xfff + odd;
        o = (uint16_t)(f >> 13);
    }
    return o | (uint16_t)(sign >> 16);
}

static inline float from_half(uint16_t h) {
    const uint32_t exponent = 0x7c00u << 13, magic = 113u << 23;
    uint32_t o = ((uint32_t)h & 0x7fff) << 13;
    const uint32_t e = o & exponent;
    o += (127u - 15) << 23;
    if (e == exponent) {
        o += (128u - 16) << 23;   // infinity, NaN
    } else if (e == 0) {
        o += 1u << 23;            // subnormal: renormalise
        float f, m;
        memcpy(&f, &o, 4);
        memcpy(&m, &magic, 4);
        f -= m;
        memcpy(&o, &f, 4);
    }
    o |= ((uint32_t)h & 0x8000) << 16;
    float r;
    memcpy(&r, &o, 4);
    return r;
}

#if defined(__x86_64__)
static inline int has_f16c(void) { return lk_simd_level() >= LK_SIMD_AVX2 && __builtin_cpu_supports("f16c"); }
#endif

#endif
