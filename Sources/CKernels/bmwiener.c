// Collaborative Wiener filtering guided by a pilot estimate: the second stage of BM3D (Dabov et
// al. 2007), with the pilot given from outside (the network's output). For each reference block
// (8x8, every `step` pixels), the blocks of the pilot's first plane most like it within
// ±radius are grouped; each plane's group of noisy blocks is taken to a 3-D transform (2-D DCT,
// then Haar along the group), shrunk by the Wiener weights the pilot's own transform gives
// (P² / (P² + σ²)), taken back and added into accumulators with BM3D's weights.
//
// One call handles one row of reference blocks, reading and writing rows through tables of row
// pointers indexed by absolute image row, so a caller can stream an image through ring buffers.
// Reference rows must be handled in order; each pixel's sum then takes its terms in the same
// order however the image is banded. The AVX2 clone and the plain one give the same bits (every
// multiply-add is an fmaf, sums run in the same order).
#include "ckernels.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BS 8
#define BB 64
#define MAXG 32

static float dct_c[BB];      // orthonormal DCT-II matrix, row i = frequency i
static float dct_ct[BB];     // its transpose
static float kaiser_w[BB];   // Kaiser window (β = 2), outer product
static int tables_ready = 0;

static double bessel_i0(double x) {
    double s = 1, t = 1;
    for (int k = 1; k < 40; k++) { t *= (x / (2 * k)) * (x / (2 * k)); s += t; }
    return s;
}

static void make_tables(void) {
    if (__atomic_load_n(&tables_ready, __ATOMIC_ACQUIRE)) return;
    float c[BB], ct[BB], kw[BB];
    for (int i = 0; i < BS; i++)
        for (int j = 0; j < BS; j++) {
            double a = i == 0 ? sqrt(1.0 / BS) : sqrt(2.0 / BS);
            c[i * BS + j] = (float)(a * cos(M_PI * (2 * j + 1) * i / (2.0 * BS)));
        }
    for (int i = 0; i < BS; i++)
        for (int j = 0; j < BS; j++) ct[i * BS + j] = c[j * BS + i];
    double k1[BS];
    for (int n = 0; n < BS; n++) {
        double r = 2.0 * n / (BS - 1) - 1;
        k1[n] = bessel_i0(2.0 * sqrt(1 - r * r)) / bessel_i0(2.0);
    }
    for (int i = 0; i < BS; i++)
        for (int j = 0; j < BS; j++) kw[i * BS + j] = (float)(k1[i] * k1[j]);
    memcpy(dct_c, c, sizeof c);
    memcpy(dct_ct, ct, sizeof ct);
    memcpy(kaiser_w, kw, sizeof kw);
    __atomic_store_n(&tables_ready, 1, __ATOMIC_RELEASE);
}


// (d, i) pairs ordered by d, then i: a total order, so the group does not depend on how a
// selection happened to run.
static inline int pair_less(float da, int ia, float db, int ib) { return da < db || (da == db && ia < ib); }

static void sort_pairs(float *d, int *i, int n) {
    for (int a = 1; a < n; a++) {
        float dv = d[a]; int iv = i[a]; int b = a;
        while (b > 0 && pair_less(dv, iv, d[b - 1], i[b - 1])) { d[b] = d[b - 1]; i[b] = i[b - 1]; b--; }
        d[b] = dv; i[b] = iv;
    }
}

// Moves the k smallest pairs (in pair order) to the front, in any order (quickselect).
static void select_smallest(float *d, int *i, int n, int k) {
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        const int mid = lo + (hi - lo) / 2;
        const float pd = d[mid]; const int pi = i[mid];
        int a = lo, b = hi;
        while (a <= b) {
            while (pair_less(d[a], i[a], pd, pi)) a++;
            while (pair_less(pd, pi, d[b], i[b])) b--;
            if (a <= b) {
                float td = d[a]; d[a] = d[b]; d[b] = td;
                int ti = i[a]; i[a] = i[b]; i[b] = ti;
                a++; b--;
            }
        }
        if (k - 1 <= b) hi = b;
        else if (k - 1 >= a) lo = a;
        else break;
    }
}

// Squared distance of the 8x8 block at (cy, cx) of plane 0 to `ref`: each lane sums its column
// over the rows, then the lanes are added as ((0+4)+(2+6))+((1+5)+(3+7)).
static inline float dist_plain(const float *const *y, int cy, int cx, const float *ref) {
    float acc[BS] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int r = 0; r < BS; r++) {
        const float *row = y[cy + r] + cx;
        for (int j = 0; j < BS; j++) { const float d = row[j] - ref[r * BS + j]; acc[j] = __builtin_fmaf(d, d, acc[j]); }
    }
    return ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]));
}

#if defined(__x86_64__)
#include <immintrin.h>
__attribute__((target("avx2,fma"))) static inline float dist_avx2(const float *const *y, int cy, int cx, const float *ref) {
    __m256 acc = _mm256_setzero_ps();
    for (int r = 0; r < BS; r++) {
        const __m256 d = _mm256_sub_ps(_mm256_loadu_ps(y[cy + r] + cx), _mm256_loadu_ps(ref + r * BS));
        acc = _mm256_fmadd_ps(d, d, acc);
    }
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));  // (0+4, 1+5, 2+6, 3+7)
    __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));                                      // ((0+4)+(2+6), (1+5)+(3+7))
    return _mm_cvtss_f32(_mm_add_ss(t, _mm_shuffle_ps(t, t, 0x55)));
}

// out = m · x (8x8, row-major): row i = Σ_k m[i][k] x[k], k in order, one fma each.
__attribute__((target("avx2,fma"))) static inline void mm8_avx2(float *out, const float *m, const float *x) {
    __m256 xr[BS];
    for (int k = 0; k < BS; k++) xr[k] = _mm256_loadu_ps(x + k * BS);
    for (int i = 0; i < BS; i++) {
        __m256 acc = _mm256_mul_ps(_mm256_set1_ps(m[i * BS]), xr[0]);
        for (int k = 1; k < BS; k++) acc = _mm256_fmadd_ps(_mm256_set1_ps(m[i * BS + k]), xr[k], acc);
        _mm256_storeu_ps(out + i * BS, acc);
    }
}
#endif

static inline void mm8_plain(float *out, const float *m, const float *x) {
    for (int i = 0; i < BS; i++) {
        float acc[BS];
        for (int j = 0; j < BS; j++) acc[j] = m[i * BS] * x[j];
        for (int k = 1; k < BS; k++)
            for (int j = 0; j < BS; j++) acc[j] = __builtin_fmaf(m[i * BS + k], x[k * BS + j], acc[j]);
        for (int j = 0; j < BS; j++) out[i * BS + j] = acc[j];
    }
}

#if defined(__x86_64__)
// out = m · X where X's row k is rows[k] + x (an 8x8 block read in place).
__attribute__((target("avx2,fma"))) static inline void mm8_rows_avx2(float *out, const float *m, const float *const *rows, int x) {
    __m256 xr[BS];
    for (int k = 0; k < BS; k++) xr[k] = _mm256_loadu_ps(rows[k] + x);
    for (int i = 0; i < BS; i++) {
        __m256 acc = _mm256_mul_ps(_mm256_set1_ps(m[i * BS]), xr[0]);
        for (int k = 1; k < BS; k++) acc = _mm256_fmadd_ps(_mm256_set1_ps(m[i * BS + k]), xr[k], acc);
        _mm256_storeu_ps(out + i * BS, acc);
    }
}

// num += w·kaiser·blk, den += w·kaiser over the block at (rows[r] + x).
__attribute__((target("avx2,fma"))) static inline void agg_avx2(float *const *nrows, float *const *drows, int x, const float *blk, float w, const float *kaiser) {
    const __m256 wv = _mm256_set1_ps(w);
    for (int r = 0; r < BS; r++) {
        const __m256 kw = _mm256_mul_ps(wv, _mm256_loadu_ps(kaiser + r * BS));
        float *nr = nrows[r] + x, *dr = drows[r] + x;
        _mm256_storeu_ps(nr, _mm256_fmadd_ps(kw, _mm256_loadu_ps(blk + r * BS), _mm256_loadu_ps(nr)));
        _mm256_storeu_ps(dr, _mm256_add_ps(_mm256_loadu_ps(dr), kw));
    }
}
#endif

static inline void mm8_rows_plain(float *out, const float *m, const float *const *rows, int x) {
    float blk[BB];
    for (int k = 0; k < BS; k++) memcpy(blk + k * BS, rows[k] + x, sizeof(float) * BS);
    mm8_plain(out, m, blk);
}

static inline void agg_plain(float *const *nrows, float *const *drows, int x, const float *blk, float w, const float *kaiser) {
    for (int r = 0; r < BS; r++) {
        float *nr = nrows[r] + x, *dr = drows[r] + x;
        for (int j = 0; j < BS; j++) {
            const float kw = w * kaiser[r * BS + j];
            nr[j] = __builtin_fmaf(kw, blk[r * BS + j], nr[j]);
            dr[j] += kw;
        }
    }
}


// The orthonormal Haar transform along a group of m (a power of two) blocks, in place: each
// level splits the first `len` rows into sums and differences (times 1/√2).
static const float haar_h = 0.70710678118654752f;
static inline void haar_forward(float (*g)[BB], float (*tmp)[BB], int m) {
    for (int len = m; len > 1; len /= 2) {
        for (int i = 0; i < len / 2; i++)
            for (int j = 0; j < BB; j++) {
                tmp[i][j] = (g[2 * i][j] + g[2 * i + 1][j]) * haar_h;
                tmp[len / 2 + i][j] = (g[2 * i][j] - g[2 * i + 1][j]) * haar_h;
            }
        memcpy(g, tmp, sizeof(float) * BB * len);
    }
}

static inline void haar_inverse(float (*g)[BB], float (*tmp)[BB], int m) {
    for (int len = 2; len <= m; len *= 2) {
        for (int i = 0; i < len / 2; i++)
            for (int j = 0; j < BB; j++) {
                tmp[2 * i][j] = (g[i][j] + g[len / 2 + i][j]) * haar_h;
                tmp[2 * i + 1][j] = (g[i][j] - g[len / 2 + i][j]) * haar_h;
            }
        memcpy(g, tmp, sizeof(float) * BB * len);
    }
}

// The body, compiled twice (AVX2+FMA and plain); `NAME` is the function's name.
#define BMW_BODY(NAME, ATTR, DIST, MM8, MMROWS, AGG)                                                                          \
    ATTR static void NAME(const lk_bmw_params *p, int ref_y, const float *const *z, const float *const *y, \
                          float *const *num, float *const *den) {                                    \
        const int W = p->width, H = p->height, R = p->radius, S = p->step, SR = p->stride;                            \
        const int G = p->group < 1 ? 1 : (p->group > MAXG ? MAXG : p->group);                         \
        const float tau = p->tau * BB;                                                                \
        float refb[BB], blk[BB], t1[BB];                                                      \
        float zg[MAXG][BB], yg[MAXG][BB], tmp[MAXG][BB];                                              \
        int gx[MAXG], gy[MAXG];                                                                       \
        float gd[MAXG];                                                                               \
        float *cd = malloc(sizeof(float) * (2 * R + 1) * (2 * R + 1));                                \
        int *ci = malloc(sizeof(int) * (2 * R + 1) * (2 * R + 1));                                    \
        const int y0 = ref_y - R < 0 ? 0 : ref_y - R;                                                 \
        const int y1 = ref_y + R > H - BS ? H - BS : ref_y + R;                                       \
        for (int ref_x = 0;; ref_x += S) {                                                            \
            if (ref_x > W - BS) ref_x = W - BS;                                                       \
            for (int r = 0; r < BS; r++) memcpy(refb + r * BS, y[ref_y + r] + ref_x, sizeof(float) * BS); \
            int n = 1;                                                                                \
            gx[0] = ref_x; gy[0] = ref_y; gd[0] = 0;                                                  \
            const int x0 = ref_x - R < 0 ? 0 : ref_x - R;                                             \
            const int x1 = ref_x + R > W - BS ? W - BS : ref_x + R;                                   \
            int nc = 0;                                                                               \
            for (int cy = y0; cy <= y1; cy++) {                                                       \
                if (SR > 1 && (cy - ref_y) % SR) continue;                                            \
                for (int cx = x0; cx <= x1; cx++) {                                                   \
                    if (cy == ref_y && cx == ref_x) continue;                                         \
                    if (SR > 1 && (cx - ref_x) % SR) continue;                                        \
                    const float d = DIST(y, cy, cx, refb);                                            \
                    if (d < tau) { cd[nc] = d; ci[nc] = (cy - y0) * (x1 - x0 + 1) + (cx - x0); nc++; } \
                }                                                                                     \
            }                                                                                         \
            const int want = G - 1;                                                                   \
            if (nc > want) select_smallest(cd, ci, nc, want);                                         \
            const int take = nc < want ? nc : want;                                                   \
            sort_pairs(cd, ci, take);                                                                 \
            for (int k = 0; k < take; k++) {                                                          \
                gd[n] = cd[k]; gy[n] = y0 + ci[k] / (x1 - x0 + 1); gx[n] = x0 + ci[k] % (x1 - x0 + 1); n++; \
            }                                                                                         \
            int m = 1;                                                                                \
            while (m * 2 <= n) m *= 2;                                                                \
            for (int pl = 0; pl < p->planes; pl++) {                                                  \
                const float sg = p->sigma[pl], s2 = sg * sg;                                          \
                const float *const *zp = z + (size_t)pl * H;                                          \
                const float *const *yp = y + (size_t)pl * H;                                          \
                for (int g = 0; g < m; g++) {                                                         \
                    MMROWS(t1, dct_c, yp + gy[g], gx[g]); MM8(yg[g], t1, dct_ct);                      \
                    MMROWS(t1, dct_c, zp + gy[g], gx[g]); MM8(zg[g], t1, dct_ct);                      \
                }                                                                                     \
                haar_forward(yg, tmp, m);                                                             \
                haar_forward(zg, tmp, m);                                                             \
                float wsum[BB];                                                                       \
                for (int j = 0; j < BB; j++) wsum[j] = 0;                                             \
                for (int g = 0; g < m; g++)                                                           \
                    for (int j = 0; j < BB; j++) {                                                    \
                        const float e = yg[g][j] * yg[g][j];                                          \
                        const float w = e / (e + s2);                                                 \
                        zg[g][j] *= w;                                                                \
                        wsum[j] = __builtin_fmaf(w, w, wsum[j]);                                      \
                    }                                                                                 \
                float ws = 0;                                                                         \
                for (int j = 0; j < BB; j++) ws += wsum[j];                                           \
                const float weight = 1.0f / (s2 * (ws > 1e-12f ? ws : 1e-12f));                       \
                haar_inverse(zg, tmp, m);                                                             \
                float *const *np_ = num + (size_t)pl * H;                                             \
                float *const *dp_ = den + (size_t)pl * H;                                             \
                for (int g = 0; g < m; g++) {                                                         \
                    MM8(t1, dct_ct, zg[g]); MM8(blk, t1, dct_c);         \
                    AGG(np_ + gy[g], dp_ + gy[g], gx[g], blk, weight, kaiser_w);                       \
                }                                                                                     \
            }                                                                                         \
            if (ref_x == W - BS) break;                                                               \
        }                                                                                             \
        free(cd); free(ci);                                                                           \
    }

#if defined(__x86_64__)
BMW_BODY(bmw_row_avx2, __attribute__((target("avx2,fma"))), dist_avx2, mm8_avx2, mm8_rows_avx2, agg_avx2)
#endif
BMW_BODY(bmw_row_plain, , dist_plain, mm8_plain, mm8_rows_plain, agg_plain)

void lk_bmw_row(const lk_bmw_params *p, int ref_y, const float *const *z, const float *const *y,
                float *const *num, float *const *den) {
    make_tables();
    if (p->width < BS || p->height < BS || ref_y < 0 || ref_y > p->height - BS) return;
#if defined(__x86_64__)
    if (lk_simd_level() >= LK_SIMD_AVX2) { bmw_row_avx2(p, ref_y, z, y, num, den); return; }
#endif
    bmw_row_plain(p, ref_y, z, y, num, den);
}

int lk_bmw_next_ref_row(const lk_bmw_params *p, int ref_y) {
    if (p->height < BS) return -1;
    const int last = p->height - BS;
    if (ref_y >= last) return -1;
    const int next = ref_y + p->step;
    return next > last ? last : next;
}
