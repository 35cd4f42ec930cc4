#include "ckernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx2,fma"))) static inline float hsum8(__m256 v) {
    // Fixed order: (l0+l4, l1+l5, l2+l6, l3+l7) then pairs, then the last two.
    __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
    __m128 s = _mm_add_ps(lo, hi);
    __m128 sh = _mm_movehl_ps(s, s);
    s = _mm_add_ps(s, sh);
    sh = _mm_shuffle_ps(s, s, 0x55);
    s = _mm_add_ss(s, sh);
    return _mm_cvtss_f32(s);
}

__attribute__((target("avx2,fma"))) static void dense_avx2(const float *x, size_t rows, size_t in, const float *w,
                                                         const float *b, size_t out, float *y) {
    const size_t k8 = in & ~(size_t)7;
    for (size_t r0 = 0; r0 < rows; r0 += 8) {
        const size_t nr = rows - r0 < 8 ? rows - r0 : 8;
        for (size_t j = 0; j < out; j++) {
            const float *wj = w + j * in;
            __m256 acc[8];
            for (size_t i = 0; i < 8; i++) acc[i] = _mm256_setzero_ps();
            for (size_t k = 0; k < k8; k += 8) {
                __m256 wv = _mm256_loadu_ps(wj + k);
                for (size_t i = 0; i < nr; i++) acc[i] = _mm256_fmadd_ps(_mm256_loadu_ps(x + (r0 + i) * in + k), wv, acc[i]);
            }
            for (size_t i = 0; i < nr; i++) {
                const float *xr = x + (r0 + i) * in;
                float s = hsum8(acc[i]);
                for (size_t k = k8; k < in; k++) s = __builtin_fmaf(xr[k], wj[k], s);
                y[(r0 + i) * out + j] = s + b[j];
            }
        }
    }
}
#endif

static void dense_generic(const float *x, size_t rows, size_t in, const float *w, const float *b, size_t out, float *y) {
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * in;
        for (size_t j = 0; j < out; j++) {
            const float *wj = w + j * in;
            float part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
            size_t k = 0;
            for (; k + 8 <= in; k += 8)
                for (int l = 0; l < 8; l++) part[l] += xr[k + l] * wj[k + l];
            float s = ((part[0] + part[4]) + (part[2] + part[6])) + ((part[1] + part[5]) + (part[3] + part[7]));
            for (; k < in; k++) s += xr[k] * wj[k];
            y[r * out + j] = s + b[j];
        }
    }
}

void lk_dense_forward_exact(const float *x, size_t rows, size_t in, const float *w, const float *b, size_t out,
                            float *y) {
#if defined(__x86_64__)
    if (lk_simd_level() >= LK_SIMD_AVX2) {
        dense_avx2(x, rows, in, w, b, out, y);
        return;
    }
#endif
    dense_generic(x, rows, in, w, b, out, y);
}
