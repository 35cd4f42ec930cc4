// Half-precision (IEEE binary16) storage for the skip connections' rolling rows: the values a
// U-Net keeps longest are held in 2 bytes instead of 4. Conversions round to nearest even, in
// the F16C instructions where the CPU has them and in the plain code otherwise (the same bits);
// arithmetic stays in float.
#include "half_scalar.h"

static void to_half_plain(const float *x, uint16_t *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = to_half(x[i]);
}

static void from_half_plain(const uint16_t *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = from_half(x[i]);
}

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx,f16c"))) static void to_half_f16c(const float *x, uint16_t *y, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(y + i), _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    to_half_plain(x + i, y + i, n - i);
}

__attribute__((target("avx,f16c"))) static void from_half_f16c(const uint16_t *x, float *y, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i))));
    from_half_plain(x + i, y + i, n - i);
}

__attribute__((target("avx512f"))) static void to_half_avx512(const float *x, uint16_t *y, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm256_storeu_si256((__m256i *)(y + i), _mm512_cvtps_ph(_mm512_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    to_half_plain(x + i, y + i, n - i);
}

__attribute__((target("avx512f"))) static void from_half_avx512(const uint16_t *x, float *y, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(x + i))));
    from_half_plain(x + i, y + i, n - i);
}

#endif

void lk_to_half(const float *x, uint16_t *y, size_t n) { lk_to_half_planes(x, 0, y, 0, n, 1); }

void lk_from_half(const uint16_t *x, float *y, size_t n) { lk_from_half_planes(x, 0, y, 0, n, 1); }

void lk_to_half_planes(const float *x, size_t xplane, uint16_t *y, size_t yplane, size_t n, size_t planes) {
    void (*f)(const float *, uint16_t *, size_t) = to_half_plain;
#if defined(__x86_64__)
    if (lk_simd_level() >= LK_SIMD_AVX512) f = to_half_avx512;
    else if (has_f16c()) f = to_half_f16c;
#endif
    for (size_t p = 0; p < planes; p++) f(x + p * xplane, y + p * yplane, n);
}

void lk_from_half_planes(const uint16_t *x, size_t xplane, float *y, size_t yplane, size_t n, size_t planes) {
    void (*f)(const uint16_t *, float *, size_t) = from_half_plain;
#if defined(__x86_64__)
    if (lk_simd_level() >= LK_SIMD_AVX512) f = from_half_avx512;
    else if (has_f16c()) f = from_half_f16c;
#endif
    for (size_t p = 0; p < planes; p++) f(x + p * xplane, y + p * yplane, n);
}

void lk_to_half_reference(const float *x, uint16_t *y, size_t n) { to_half_plain(x, y, n); }

void lk_from_half_reference(const uint16_t *x, float *y, size_t n) { from_half_plain(x, y, n); }

void lk_round_half(float *x, size_t n) {
    uint16_t h[256];
    for (size_t i = 0; i < n; i += 256) {
        const size_t k = n - i < 256 ? n - i : 256;
        lk_to_half(x + i, h, k);
        lk_from_half(h, x + i, k);
    }
}

void lk_unshuffle_rows_half(const uint16_t *x, size_t xrow, size_t xplane, size_t C, size_t W, size_t rows, float *u,
                            size_t urow, size_t uplane, float *row) {
    // Each source row pair into floats (side by side in `row`), then the float unshuffle.
    for (size_t c = 0; c < C; c++)
        for (size_t y = 0; y < rows; y++) {
            lk_from_half(x + c * xplane + 2 * y * xrow, row, W);
            lk_from_half(x + c * xplane + (2 * y + 1) * xrow, row + W, W);
            lk_unshuffle_rows(row, W, 0, 1, W, 1, u + c * 4 * uplane + y * urow, urow, uplane);
        }
}

void lk_shuffle_add_relu_rows_half(const float *t, size_t trow, size_t tplane, const uint16_t *skip, size_t srow,
                                   size_t splane, size_t C, size_t W, size_t y0, size_t rows, float *out, size_t orow,
                                   size_t oplane, float *row) {
    for (size_t c = 0; c < C; c++)
        for (size_t r = 0; r < rows; r++) {
            lk_from_half(skip + c * splane + r * srow, row, W);
            lk_shuffle_add_relu_rows(t + c * 4 * tplane + ((y0 + r) / 2 - y0 / 2) * trow, trow, tplane, row, W, 0, 1, W, y0 + r, 1, out + c * oplane + r * orow,
                                     orow, oplane);
        }
}
