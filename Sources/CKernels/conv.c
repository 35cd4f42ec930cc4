#include "ckernels.h"

#include <math.h>
#include <string.h>

void lk_im2col(const float *x, size_t C, size_t H, size_t W, size_t k, float *cols) {
    const long p = (long)k / 2;
    const size_t HW = H * W;
    for (size_t c = 0; c < C; c++) {
        for (size_t ky = 0; ky < k; ky++) {
            for (size_t kx = 0; kx < k; kx++) {
                float *dst = cols + ((c * k + ky) * k + kx) * HW;
                const long dx = (long)kx - p, dy = (long)ky - p;
                for (size_t y = 0; y < H; y++) {
                    const long sy = (long)y + dy;
                    float *row = dst + y * W;
                    if (sy < 0 || sy >= (long)H) {
                        memset(row, 0, W * sizeof(float));
                        continue;
                    }
                    const float *src = x + (c * H + (size_t)sy) * W;
                    size_t x0 = dx < 0 ? (size_t)(-dx) : 0;
                    size_t x1 = dx > 0 ? W - (size_t)dx : W;
                    if (x0 > W) x0 = W;
                    if (x1 > W) x1 = 0;
                    for (size_t xx = 0; xx < x0; xx++) row[xx] = 0;
                    if (x1 > x0) memcpy(row + x0, src + (long)x0 + dx, (x1 - x0) * sizeof(float));
                    for (size_t xx = x1 > x0 ? x1 : x0; xx < W; xx++) row[xx] = 0;
                }
            }
        }
    }
}

void lk_col2im_add(const float *cols, size_t C, size_t H, size_t W, size_t k, float *dx) {
    const long p = (long)k / 2;
    const size_t HW = H * W;
    for (size_t c = 0; c < C; c++) {
        for (size_t ky = 0; ky < k; ky++) {
            for (size_t kx = 0; kx < k; kx++) {
                const float *src = cols + ((c * k + ky) * k + kx) * HW;
                const long ox = (long)kx - p, oy = (long)ky - p;
                for (size_t y = 0; y < H; y++) {
                    const long sy = (long)y + oy;
                    if (sy < 0 || sy >= (long)H) continue;
                    float *drow = dx + (c * H + (size_t)sy) * W;
                    const float *row = src + y * W;
                    size_t x0 = ox < 0 ? (size_t)(-ox) : 0;
                    size_t x1 = ox > 0 ? W - (size_t)ox : W;
                    for (size_t xx = x0; xx < x1; xx++) drow[(long)xx + ox] += row[xx];
                }
            }
        }
    }
}

void lk_im2col_strided(const float *x, size_t C, size_t H, size_t W, size_t k, size_t stride, size_t pad, size_t Ho,
                       size_t Wo, float *cols) {
    const size_t HWo = Ho * Wo;
    for (size_t c = 0; c < C; c++)
        for (size_t ky = 0; ky < k; ky++)
            for (size_t kx = 0; kx < k; kx++) {
                float *dst = cols + ((c * k + ky) * k + kx) * HWo;
                for (size_t oy = 0; oy < Ho; oy++) {
                    const long sy = (long)(oy * stride + ky) - (long)pad;
                    for (size_t ox = 0; ox < Wo; ox++) {
                        const long sx = (long)(ox * stride + kx) - (long)pad;
                        dst[oy * Wo + ox] = (sy >= 0 && sy < (long)H && sx >= 0 && sx < (long)W) ? x[(c * H + (size_t)sy) * W + (size_t)sx] : 0;
                    }
                }
            }
}

void lk_col2im_add_strided(const float *cols, size_t C, size_t H, size_t W, size_t k, size_t stride, size_t pad, size_t Ho,
                           size_t Wo, float *dx) {
    const size_t HWo = Ho * Wo;
    for (size_t c = 0; c < C; c++)
        for (size_t ky = 0; ky < k; ky++)
            for (size_t kx = 0; kx < k; kx++) {
                const float *src = cols + ((c * k + ky) * k + kx) * HWo;
                for (size_t oy = 0; oy < Ho; oy++) {
                    const long sy = (long)(oy * stride + ky) - (long)pad;
                    if (sy < 0 || sy >= (long)H) continue;
                    for (size_t ox = 0; ox < Wo; ox++) {
                        const long sx = (long)(ox * stride + kx) - (long)pad;
                        if (sx >= 0 && sx < (long)W) dx[(c * H + (size_t)sy) * W + (size_t)sx] += src[oy * Wo + ox];
                    }
                }
            }
}

#if defined(__x86_64__)
#include <immintrin.h>

// 6 output channels x 16 pixels per block (12 accumulators), weights repacked so the 6
// broadcasts of a tap are contiguous; every pixel sees the same fma sequence (ci, ky, kx order).
#include <stdlib.h>

// One tap: 16 input pixels (v0, v1) times the tap's 6 weights at wt, into accumulators a00..a51.
#define TAP_6x16(V0, V1, WT)                                                                                    \
    do {                                                                                                        \
        const __m256 v0 = (V0), v1 = (V1);                                                                      \
        const float *w_ = (WT);                                                                                 \
        __m256 w0 = _mm256_broadcast_ss(w_ + 0), w1 = _mm256_broadcast_ss(w_ + 1), w2 = _mm256_broadcast_ss(w_ + 2); \
        a00 = _mm256_fmadd_ps(w0, v0, a00); a01 = _mm256_fmadd_ps(w0, v1, a01);                                \
        a10 = _mm256_fmadd_ps(w1, v0, a10); a11 = _mm256_fmadd_ps(w1, v1, a11);                                \
        a20 = _mm256_fmadd_ps(w2, v0, a20); a21 = _mm256_fmadd_ps(w2, v1, a21);                                \
        __m256 w3 = _mm256_broadcast_ss(w_ + 3), w4 = _mm256_broadcast_ss(w_ + 4), w5 = _mm256_broadcast_ss(w_ + 5); \
        a30 = _mm256_fmadd_ps(w3, v0, a30); a31 = _mm256_fmadd_ps(w3, v1, a31);                                \
        a40 = _mm256_fmadd_ps(w4, v0, a40); a41 = _mm256_fmadd_ps(w4, v1, a41);                                \
        a50 = _mm256_fmadd_ps(w5, v0, a50); a51 = _mm256_fmadd_ps(w5, v1, a51);                                \
    } while (0)

// Bias, activation and store of a block's first nco output channels (planes oplane apart).
__attribute__((target("avx2,fma"), always_inline)) static inline void store_6x16(const __m256 acc[6][2], size_t nco, const float *b,
                                                                               int act, float *dst, size_t oplane) {
    for (size_t o = 0; o < nco; o++) {
        __m256 bv = _mm256_set1_ps(b[o]);
        __m256 r0 = _mm256_add_ps(acc[o][0], bv), r1 = _mm256_add_ps(acc[o][1], bv);
        if (act == LK_RELU) {
            r0 = _mm256_max_ps(r0, _mm256_setzero_ps());
            r1 = _mm256_max_ps(r1, _mm256_setzero_ps());
        }
        _mm256_storeu_ps(dst + o * oplane, r0);
        _mm256_storeu_ps(dst + o * oplane + 8, r1);
    }
}
#define SUFFIX avx2
#define TARGET __attribute__((target("avx2,fma")))
#define V __m256
#define L 8
#define V_ZERO() _mm256_setzero_ps()
#define V_LOAD(p) _mm256_load_ps(p)
#define V_LOADU(p) _mm256_loadu_ps(p)
#define V_STORE(p, v) _mm256_store_ps(p, v)
#define V_STOREU(p, v) _mm256_storeu_ps(p, v)
#define V_SET1(x) _mm256_set1_ps(x)
#define V_FMADD(a, b, c) _mm256_fmadd_ps(a, b, c)
#define V_ADD(a, b) _mm256_add_ps(a, b)
#define V_MAX(a, b) _mm256_max_ps(a, b)
#include "conv_blocks.h"

// AVX-512F: the same blocks twice as wide (6 channels x 32 pixels for 1x1 layers, 3 x 64 for
// the narrow ones). Rows narrower than a block take the AVX2 kernels.
#define SUFFIX avx512
#define TARGET __attribute__((target("avx512f")))
#define V __m512
#define L 16
#define V_ZERO() _mm512_setzero_ps()
#define V_LOAD(p) _mm512_load_ps(p)
#define V_LOADU(p) _mm512_loadu_ps(p)
#define V_STORE(p, v) _mm512_store_ps(p, v)
#define V_STOREU(p, v) _mm512_storeu_ps(p, v)
#define V_SET1(x) _mm512_set1_ps(x)
#define V_FMADD(a, b, c) _mm512_fmadd_ps(a, b, c)
#define V_ADD(a, b) _mm512_add_ps(a, b)
#define V_MAX(a, b) _mm512_max_ps(a, b)
#include "conv_blocks.h"

/// The kernel on weights already packed by lk_conv_pack (wr); w is still read by the scalar
/// tail. Returns 0, or -1 (output unwritten) when its buffer cannot be allocated.
__attribute__((target("avx2,fma"))) static int conv_avx2(const float *xp, size_t xrow, size_t xplane, size_t C, size_t H,
                                                        size_t W, size_t k, const float *wr, const float *w, const float *b, size_t Cout,
                                                        int act, float *out, size_t orow, size_t oplane) {
    const size_t kk = k * k, taps = C * kk;
    const size_t nblk = (Cout + 5) / 6;
    if (k == 1 && W >= 16) return conv1x1_avx2(xp, xrow, xplane, C, H, W, wr, b, Cout, act, out, orow, oplane);
    if (Cout <= 3 && W >= 32) {
        conv_narrow_avx2(xp, xrow, xplane, C, H, W, k, wr, b, Cout, act, out, orow, oplane);
        return 0;
    }
    const size_t XC = 128;   // pixels per chunk: the chunk's input rows stay in L2 across all output-channel blocks
    for (size_t y = 0; y < H; y++) {
        for (size_t xc = 0; xc < W; xc += XC) {
            const size_t xe = xc + XC < W ? xc + XC : W;
            for (size_t blk = 0; blk < nblk; blk++) {
                const size_t co0 = blk * 6, nco = Cout - co0 < 6 ? Cout - co0 : 6;
                const float *wb = wr + blk * taps * 6;
                // A last partial block is computed as the 16 pixels ending at xe (overlapped
                // pixels get the same values again); only rows narrower than 16 go scalar.
                size_t x = xc;
                for (size_t bx; W >= 16 && x < xe; x = bx + 16) {
                    bx = x + 16 <= xe ? x : xe - 16;
                    __m256 a00 = _mm256_setzero_ps(), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00;
                    __m256 a30 = a00, a31 = a00, a40 = a00, a41 = a00, a50 = a00, a51 = a00;
                    const float *wt = wb;
                    for (size_t ci = 0; ci < C; ci++) {
                        const float *plane = xp + ci * xplane + y * xrow + bx;
                        for (size_t ky = 0; ky < k; ky++) {
                            const float *row = plane + ky * xrow;
                            for (size_t kx = 0; kx < k; kx++, wt += 6) {
                                TAP_6x16(_mm256_loadu_ps(row + kx), _mm256_loadu_ps(row + kx + 8), wt);
                            }
                        }
                    }
                    const __m256 acc[6][2] = {{a00, a01}, {a10, a11}, {a20, a21}, {a30, a31}, {a40, a41}, {a50, a51}};
                    store_6x16(acc, nco, b + co0, act, out + co0 * oplane + y * orow + bx, oplane);
                }
                // Tail pixels: the same fma sequence, one lane at a time.
                for (; x < xe; x++) {
                    for (size_t o = 0; o < nco; o++) {
                        float acc = 0;
                        const float *wo = w + (co0 + o) * taps;
                        for (size_t ci = 0; ci < C; ci++)
                            for (size_t ky = 0; ky < k; ky++)
                                for (size_t kx = 0; kx < k; kx++)
                                    acc = fmaf(wo[ci * kk + ky * k + kx], xp[ci * xplane + (y + ky) * xrow + x + kx], acc);
                        float r = acc + b[co0 + o];
                        if (act == LK_RELU) r = r > 0 ? r : 0;
                        out[(co0 + o) * oplane + y * orow + x] = r;
                    }
                }
            }
        }
    }
    return 0;
}

// The AVX-512 blocks where a layer has them (1x1, or at most 3 output channels), else AVX2.
static int conv_vector(const float *xp, size_t xrow, size_t xplane, size_t C, size_t H, size_t W, size_t k, const float *wr,
                       const float *w, const float *b, size_t Cout, int act, float *out, size_t orow, size_t oplane) {
    if (lk_simd_level() >= LK_SIMD_AVX512) {
        if (k == 1 && W >= 32) return conv1x1_avx512(xp, xrow, xplane, C, H, W, wr, b, Cout, act, out, orow, oplane);
        if (Cout <= 3 && W >= 64) {
            conv_narrow_avx512(xp, xrow, xplane, C, H, W, k, wr, b, Cout, act, out, orow, oplane);
            return 0;
        }
    }
    return conv_avx2(xp, xrow, xplane, C, H, W, k, wr, w, b, Cout, act, out, orow, oplane);
}
#endif

size_t lk_conv_packed_size(size_t C, size_t k, size_t Cout) { return (Cout + 5) / 6 * 6 * C * k * k; }

void lk_conv_pack(const float *w, size_t C, size_t k, size_t Cout, float *wr) {
    const size_t taps = C * k * k;
    memset(wr, 0, lk_conv_packed_size(C, k, Cout) * sizeof(float));
    for (size_t co = 0; co < Cout; co++)
        for (size_t t = 0; t < taps; t++) wr[((co / 6) * taps + t) * 6 + co % 6] = w[co * taps + t];
}

static void conv_generic(const float *xp, size_t xrow, size_t xplane, size_t C, size_t H, size_t W, size_t k,
                         const float *w, const float *b, size_t Cout, int act, float *out, size_t orow, size_t oplane) {
    const size_t kk = k * k;
    for (size_t co = 0; co < Cout; co++)
        for (size_t y = 0; y < H; y++)
            for (size_t x = 0; x < W; x++) {
                float acc = 0;
                for (size_t ci = 0; ci < C; ci++)
                    for (size_t ky = 0; ky < k; ky++)
                        for (size_t kx = 0; kx < k; kx++)
                            acc = fmaf(w[(co * C + ci) * kk + ky * k + kx], xp[ci * xplane + (y + ky) * xrow + x + kx], acc);
                float r = acc + b[co];
                if (act == LK_RELU) r = r > 0 ? r : 0;
                out[co * oplane + y * orow + x] = r;
            }
}

void lk_conv_exact_strided(const float *xp, size_t xrow, size_t xplane, size_t C, size_t H, size_t W, size_t k,
                           const float *w, const float *b, size_t Cout, int act, float *out, size_t orow, size_t oplane) {
#if defined(__x86_64__)
    if (lk_simd_level() >= LK_SIMD_AVX2) {
        // On an allocation failure the plain kernel computes the same sums bit for bit.
        float *wr = malloc(lk_conv_packed_size(C, k, Cout) * sizeof(float));
        if (wr != NULL) {
            lk_conv_pack(w, C, k, Cout, wr);
            int r = conv_vector(xp, xrow, xplane, C, H, W, k, wr, w, b, Cout, act, out, orow, oplane);
            free(wr);
            if (r == 0) return;
        }
    }
#endif
    conv_generic(xp, xrow, xplane, C, H, W, k, w, b, Cout, act, out, orow, oplane);
}

void lk_conv_exact_packed(const float *xp, size_t xrow, size_t xplane, size_t C, size_t H, size_t W, size_t k,
                          const float *wr, const float *w, const float *b, size_t Cout, int act, float *out, size_t orow,
                          size_t oplane) {
#if defined(__x86_64__)
    if (wr != NULL && lk_simd_level() >= LK_SIMD_AVX2) {
        if (conv_vector(xp, xrow, xplane, C, H, W, k, wr, w, b, Cout, act, out, orow, oplane) == 0) return;
    }
#endif
    conv_generic(xp, xrow, xplane, C, H, W, k, w, b, Cout, act, out, orow, oplane);
}

int lk_conv_uses_packed(void) {
#if defined(__x86_64__)
    return lk_simd_level() >= LK_SIMD_AVX2;
#else
    return 0;
#endif
}

void lk_unshuffle_rows(const float *x, size_t xrow, size_t xplane, size_t C, size_t W, size_t rows, float *u, size_t urow,
                       size_t uplane) {
    const size_t w2 = W / 2;
    for (size_t c = 0; c < C; c++)
        for (size_t dy = 0; dy < 2; dy++)
            for (size_t dx = 0; dx < 2; dx++) {
                float *dst = u + (c * 4 + dy * 2 + dx) * uplane;
                for (size_t y = 0; y < rows; y++) {
                    const float *src = x + c * xplane + (2 * y + dy) * xrow + dx;
                    float *d = dst + y * urow;
                    for (size_t i = 0; i < w2; i++) d[i] = src[2 * i];
                }
            }
}

void lk_shuffle_add_relu_rows(const float *t, size_t trow, size_t tplane, const float *skip, size_t srow, size_t splane,
                              size_t C, size_t W, size_t y0, size_t rows, float *out, size_t orow, size_t oplane) {
    const size_t w2 = W / 2;
    for (size_t c = 0; c < C; c++)
        for (size_t r = 0; r < rows; r++) {
            const size_t y = y0 + r;
            const float *s = skip + c * splane + r * srow;
            const float *t0 = t + (c * 4 + (y & 1) * 2) * tplane + (y / 2 - y0 / 2) * trow, *t1 = t0 + tplane;
            float *o = out + c * oplane + r * orow;
            for (size_t x = 0; x < w2; x++) {
                float a = s[2 * x] + t0[x], b = s[2 * x + 1] + t1[x];
                o[2 * x] = a > 0 ? a : 0;
                o[2 * x + 1] = b > 0 ? b : 0;
            }
        }
}

void lk_add_relu(const float *a, const float *b, float *out, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float v = a[i] + b[i];
        out[i] = v > 0 ? v : 0;
    }
}

void lk_conv_exact(const float *xp, size_t C, size_t H, size_t W, size_t k, const float *w, const float *b,
                   size_t Cout, int act, float *out) {
    const size_t Wp = W + k - 1, Hp = H + k - 1;
    lk_conv_exact_strided(xp, Wp, Hp * Wp, C, H, W, k, w, b, Cout, act, out, W, H * W);
}

void lk_conv_reference(const float *xp, size_t C, size_t H, size_t W, size_t k, const float *w, const float *b,
                       size_t Cout, int act, float *out) {
    const size_t Wp = W + k - 1, Hp = H + k - 1;
    conv_generic(xp, Wp, Hp * Wp, C, H, W, k, w, b, Cout, act, out, W, H * W);
}

void lk_shuffle_add_relu(const float *t, const float *skip, size_t C, size_t H, size_t W, float *out, size_t orow,
                         size_t oplane) {
    lk_shuffle_add_relu_rows(t, W / 2, (H / 2) * (W / 2), skip, W, H * W, C, W, 0, H, out, orow, oplane);
}
