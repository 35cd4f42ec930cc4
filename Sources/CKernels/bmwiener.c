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
#include "half_scalar.h"
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define BS 8
#define BB 64
#define MAXG 32

static float kaiser_w[BB];   // Kaiser window (β = 2), outer product
// The factors of the fast DCT (even/odd split of the orthonormal DCT-II matrix C, row i =
// frequency i): C[0][0], C[4][0], C[2][0], C[2][1],
// C[6][0], C[6][1], then the odd rows' first four columns C[1|3|5|7][0..3].
static float dct_e[6];
static float dct_o[16];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static double bessel_i0(double x) {
    double s = 1, t = 1;
    for (int k = 1; k < 40; k++) { t *= (x / (2 * k)) * (x / (2 * k)); s += t; }
    return s;
}

// Filled once, before any use, whichever thread comes first (pthread_once: the others wait).
static void fill_tables(void) {
    float c[BB], kw[BB];
    for (int i = 0; i < BS; i++)
        for (int j = 0; j < BS; j++) {
            double a = i == 0 ? sqrt(1.0 / BS) : sqrt(2.0 / BS);
            c[i * BS + j] = (float)(a * cos(M_PI * (2 * j + 1) * i / (2.0 * BS)));
        }
    double k1[BS];
    for (int n = 0; n < BS; n++) {
        double r = 2.0 * n / (BS - 1) - 1;
        k1[n] = bessel_i0(2.0 * sqrt(1 - r * r)) / bessel_i0(2.0);
    }
    for (int i = 0; i < BS; i++)
        for (int j = 0; j < BS; j++) kw[i * BS + j] = (float)(k1[i] * k1[j]);
    memcpy(kaiser_w, kw, sizeof kw);
    const float e[6] = {c[0], c[4 * BS], c[2 * BS], c[2 * BS + 1], c[6 * BS], c[6 * BS + 1]};
    memcpy(dct_e, e, sizeof e);
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < 4; k++) dct_o[i * 4 + k] = c[(2 * i + 1) * BS + k];
}

static void make_tables(void) { pthread_once(&tables_once, fill_tables); }


// Squared distance of the 8x8 block at (cy, cx) of plane 0 to `ref`: each lane sums its column
// over the rows, then the lanes are added as ((0+4)+(2+6))+((1+5)+(3+7)). When the first four
// rows' sum already exceeds `limit`, that partial sum is returned: the whole one could only be
// larger (every term is non-negative and each rounding monotone), so the block is refused
// either way, and a distance under `limit` is always the whole sum.
static inline float lanes_plain(const float *acc) {
    return ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]));
}
static inline float dist_plain(const uint16_t *const *y, int cy, int cx, const float *ref, float limit) {
    float acc[BS] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int r = 0; r < BS; r++) {
        if (r == BS / 2) { const float part = lanes_plain(acc); if (part > limit) return part; }
        const uint16_t *row = y[cy + r] + cx;
        for (int j = 0; j < BS; j++) { const float d = from_half(row[j]) - ref[r * BS + j]; acc[j] = __builtin_fmaf(d, d, acc[j]); }
    }
    return lanes_plain(acc);
}

#if defined(__x86_64__)
#include <immintrin.h>
__attribute__((target("avx2,fma,f16c"))) static inline float lanes_avx2(__m256 acc) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));  // (0+4, 1+5, 2+6, 3+7)
    __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));                                      // ((0+4)+(2+6), (1+5)+(3+7))
    return _mm_cvtss_f32(_mm_add_ss(t, _mm_shuffle_ps(t, t, 0x55)));
}
// Eight halves as floats.
__attribute__((target("avx2,fma,f16c"))) static inline __m256 load_half_avx2(const uint16_t *p) {
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}
__attribute__((target("avx2,fma,f16c"))) static inline float dist_avx2(const uint16_t *const *y, int cy, int cx, const float *ref, float limit) {
    __m256 acc = _mm256_setzero_ps();
    for (int r = 0; r < BS / 2; r++) {
        const __m256 d = _mm256_sub_ps(load_half_avx2(y[cy + r] + cx), _mm256_loadu_ps(ref + r * BS));
        acc = _mm256_fmadd_ps(d, d, acc);
    }
    const float part = lanes_avx2(acc);
    if (part > limit) return part;
    for (int r = BS / 2; r < BS; r++) {
        const __m256 d = _mm256_sub_ps(load_half_avx2(y[cy + r] + cx), _mm256_loadu_ps(ref + r * BS));
        acc = _mm256_fmadd_ps(d, d, acc);
    }
    return lanes_avx2(acc);
}

// num += kw·blk, den += kw over the block at (rows[r] + x), kw the block's weights.
__attribute__((target("avx2,fma,f16c"))) static inline void agg_avx2(float *const *nrows, float *const *drows, int x, const float *blk, const float *kw) {
    for (int r = 0; r < BS; r++) {
        const __m256 k = _mm256_loadu_ps(kw + r * BS);
        float *nr = nrows[r] + x, *dr = drows[r] + x;
        _mm256_storeu_ps(nr, _mm256_fmadd_ps(k, _mm256_loadu_ps(blk + r * BS), _mm256_loadu_ps(nr)));
        _mm256_storeu_ps(dr, _mm256_add_ps(_mm256_loadu_ps(dr), k));
    }
}
#endif

static inline void agg_plain(float *const *nrows, float *const *drows, int x, const float *blk, const float *kw) {
    for (int r = 0; r < BS; r++) {
        float *nr = nrows[r] + x, *dr = drows[r] + x;
        for (int j = 0; j < BS; j++) {
            nr[j] = __builtin_fmaf(kw[r * BS + j], blk[r * BS + j], nr[j]);
            dr[j] += kw[r * BS + j];
        }
    }
}

static const float haar_h = 0.70710678118654752f;

// The 2-D DCT of an 8x8 block as two passes of a fast 1-D DCT over eight row vectors (each pass
// transforms along the rows' index: even/odd split, 36 operations instead of 64 multiply-adds)
// with a transpose between. The coefficients come out transposed (C·X·Cᵀ)ᵀ; the Wiener weights
// and the Haar transform treat coefficients one by one, and the inverse takes them in that
// layout, so nothing else depends on it. The AVX2 and plain versions do the same operations in
// the same order (every fused multiply-add an fmaf).
#define DCT_PASSES(SUF, ATTR, V, LOADR, LOAD, STORE, ADD, SUB, MUL, FMA, SET1, TRANSPOSE)                       \
    ATTR static inline void dct1_##SUF(V *x) {                                                            \
        V s0 = ADD(x[0], x[7]), s1 = ADD(x[1], x[6]), s2 = ADD(x[2], x[5]), s3 = ADD(x[3], x[4]);       \
        V d0 = SUB(x[0], x[7]), d1 = SUB(x[1], x[6]), d2 = SUB(x[2], x[5]), d3 = SUB(x[3], x[4]);       \
        V e0 = ADD(s0, s3), e1 = ADD(s1, s2), f0 = SUB(s0, s3), f1 = SUB(s1, s2);                       \
        x[0] = MUL(SET1(dct_e[0]), ADD(e0, e1));                                                        \
        x[4] = MUL(SET1(dct_e[1]), SUB(e0, e1));                                                        \
        x[2] = FMA(SET1(dct_e[3]), f1, MUL(SET1(dct_e[2]), f0));                                        \
        x[6] = FMA(SET1(dct_e[5]), f1, MUL(SET1(dct_e[4]), f0));                                        \
        for (int i = 0; i < 4; i++) {                                                                   \
            const float *o = dct_o + 4 * i;                                                             \
            V a = MUL(SET1(o[0]), d0);                                                                  \
            a = FMA(SET1(o[1]), d1, a); a = FMA(SET1(o[2]), d2, a); a = FMA(SET1(o[3]), d3, a);        \
            x[2 * i + 1] = a;                                                                           \
        }                                                                                               \
    }                                                                                                   \
    ATTR static inline void idct1_##SUF(V *x) {                                                           \
        V a = MUL(SET1(dct_e[0]), x[0]), b = MUL(SET1(dct_e[1]), x[4]);                                 \
        V g0 = ADD(a, b), g1 = SUB(a, b);                                                               \
        V h0 = FMA(SET1(dct_e[4]), x[6], MUL(SET1(dct_e[2]), x[2]));                                    \
        V h1 = FMA(SET1(dct_e[5]), x[6], MUL(SET1(dct_e[3]), x[2]));                                    \
        V ev[4] = {ADD(g0, h0), ADD(g1, h1), SUB(g1, h1), SUB(g0, h0)};                                 \
        V od[4];                                                                                        \
        for (int k = 0; k < 4; k++) {                                                                   \
            V t = MUL(SET1(dct_o[k]), x[1]);                                                            \
            t = FMA(SET1(dct_o[4 + k]), x[3], t); t = FMA(SET1(dct_o[8 + k]), x[5], t);                 \
            od[k] = FMA(SET1(dct_o[12 + k]), x[7], t);                                                  \
        }                                                                                               \
        for (int k = 0; k < 4; k++) { x[k] = ADD(ev[k], od[k]); x[7 - k] = SUB(ev[k], od[k]); }         \
    }                                                                                                   \
    /* out = the block at (rows[r] + x), transformed (transposed layout). */                            \
    ATTR static inline void fdct_rows_##SUF(float *out, const uint16_t *const *rows, int x) {              \
        V v[BS];                                                                                        \
        for (int r = 0; r < BS; r++) v[r] = LOADR(rows[r] + x);                                         \
        dct1_##SUF(v); TRANSPOSE(v); dct1_##SUF(v);                                                     \
        for (int r = 0; r < BS; r++) STORE(out + r * BS, v[r]);                                         \
    }                                                                                                   \
    /* blk = the pixels of coefficients c (transposed layout). */                                       \
    ATTR static inline void idct_##SUF(float *blk, const float *c) {                                     \
        V v[BS];                                                                                        \
        for (int r = 0; r < BS; r++) v[r] = LOAD(c + r * BS);                                           \
        idct1_##SUF(v); TRANSPOSE(v); idct1_##SUF(v);                                                   \
        for (int r = 0; r < BS; r++) STORE(blk + r * BS, v[r]);                                         \
    }                                                                                                   \
    /* The orthonormal Haar transform along a group of m (a power of two) blocks, in place, eight */    \
    /* coefficients at a time: each level splits the first `len` into sums and differences (times */   \
    /* 1/√2); the differences are final as they come, the sums go on in registers. */                   \
    ATTR static inline void haar_fwd_##SUF(float (*g)[BB], int m) {                                      \
        const V h = SET1(haar_h);                                                                       \
        for (int j = 0; j < BB; j += BS) {                                                              \
            V a[MAXG];                                                                                  \
            for (int i = 0; i < m; i++) a[i] = LOAD(g[i] + j);                                          \
            for (int len = m; len > 1; len /= 2)                                                        \
                for (int i = 0; i < len / 2; i++) {                                                     \
                    STORE(g[len / 2 + i] + j, MUL(SUB(a[2 * i], a[2 * i + 1]), h));                     \
                    a[i] = MUL(ADD(a[2 * i], a[2 * i + 1]), h);                                         \
                }                                                                                       \
            STORE(g[0] + j, a[0]);                                                                      \
        }                                                                                               \
    }                                                                                                   \
    ATTR static inline void haar_inv_##SUF(float (*g)[BB], int m) {                                      \
        const V h = SET1(haar_h);                                                                       \
        for (int j = 0; j < BB; j += BS) {                                                              \
            V a[MAXG];                                                                                  \
            a[0] = LOAD(g[0] + j);                                                                      \
            for (int len = 2; len <= m; len *= 2)                                                       \
                for (int i = len / 2 - 1; i >= 0; i--) {                                                \
                    const V d = LOAD(g[len / 2 + i] + j);                                               \
                    const V s = a[i];                                                                   \
                    a[2 * i] = MUL(ADD(s, d), h);                                                       \
                    a[2 * i + 1] = MUL(SUB(s, d), h);                                                   \
                }                                                                                       \
            for (int i = 0; i < m; i++) STORE(g[i] + j, a[i]);                                          \
        }                                                                                               \
    }

#if defined(__x86_64__)
#define AVX_ATTR __attribute__((target("avx2,fma,f16c")))
AVX_ATTR static inline void transpose8_avx2(__m256 *v) {
    const __m256 t0 = _mm256_unpacklo_ps(v[0], v[1]), t1 = _mm256_unpackhi_ps(v[0], v[1]);
    const __m256 t2 = _mm256_unpacklo_ps(v[2], v[3]), t3 = _mm256_unpackhi_ps(v[2], v[3]);
    const __m256 t4 = _mm256_unpacklo_ps(v[4], v[5]), t5 = _mm256_unpackhi_ps(v[4], v[5]);
    const __m256 t6 = _mm256_unpacklo_ps(v[6], v[7]), t7 = _mm256_unpackhi_ps(v[6], v[7]);
    const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    v[0] = _mm256_permute2f128_ps(u0, u4, 0x20); v[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
    v[2] = _mm256_permute2f128_ps(u2, u6, 0x20); v[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
    v[4] = _mm256_permute2f128_ps(u0, u4, 0x31); v[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
    v[6] = _mm256_permute2f128_ps(u2, u6, 0x31); v[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}
#define AVX_FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
DCT_PASSES(avx2, AVX_ATTR, __m256, load_half_avx2, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_add_ps, _mm256_sub_ps,
           _mm256_mul_ps, AVX_FMA, _mm256_set1_ps, transpose8_avx2)
#endif

typedef struct { float l[BS]; } v8;
static inline v8 v8_load(const float *p) { v8 r; memcpy(r.l, p, sizeof r.l); return r; }
static inline v8 v8_load_half(const uint16_t *p) { v8 r; for (int j = 0; j < BS; j++) r.l[j] = from_half(p[j]); return r; }
static inline void v8_store(float *p, v8 a) { memcpy(p, a.l, sizeof a.l); }
static inline v8 v8_set1(float a) { v8 r; for (int j = 0; j < BS; j++) r.l[j] = a; return r; }
static inline v8 v8_add(v8 a, v8 b) { v8 r; for (int j = 0; j < BS; j++) r.l[j] = a.l[j] + b.l[j]; return r; }
static inline v8 v8_sub(v8 a, v8 b) { v8 r; for (int j = 0; j < BS; j++) r.l[j] = a.l[j] - b.l[j]; return r; }
static inline v8 v8_mul(v8 a, v8 b) { v8 r; for (int j = 0; j < BS; j++) r.l[j] = a.l[j] * b.l[j]; return r; }
static inline v8 v8_fma(v8 a, v8 b, v8 c) { v8 r; for (int j = 0; j < BS; j++) r.l[j] = __builtin_fmaf(a.l[j], b.l[j], c.l[j]); return r; }
static inline void transpose8_plain(v8 *v) {
    for (int i = 0; i < BS; i++)
        for (int j = i + 1; j < BS; j++) { const float t = v[i].l[j]; v[i].l[j] = v[j].l[i]; v[j].l[i] = t; }
}
DCT_PASSES(plain, , v8, v8_load_half, v8_load, v8_store, v8_add, v8_sub, v8_mul, v8_fma, v8_set1, transpose8_plain)

// The body, compiled twice (AVX2+FMA and plain); `NAME` is the function's name.
#define BMW_BODY(NAME, ATTR, DIST, FDCT, IDCT, HAARF, HAARI, AGG)                                                   \
    ATTR static void NAME(const lk_bmw_params *p, int ref_y, const uint16_t *const *z, const uint16_t *const *y, \
                          float *const *num, float *const *den) {                                    \
        const int W = p->width, H = p->height, R = p->radius, S = p->step, SR = p->stride < 1 ? 1 : p->stride;            \
        const int G = p->group < 1 ? 1 : (p->group > MAXG ? MAXG : p->group);                         \
        const float tau = p->tau * BB;                                                                \
        float refb[BB], blk[BB];                                                                      \
        float zg[MAXG][BB], yg[MAXG][BB];                                                             \
        int gx[MAXG], gy[MAXG];                                                                       \
        float cd[MAXG]; int ci[MAXG];                                                                 \
        const int y0 = ref_y - R < 0 ? 0 : ref_y - R;                                                 \
        const int y1 = ref_y + R > H - BS ? H - BS : ref_y + R;                                       \
        const int want = G - 1;                                                                       \
        for (int ref_x = 0;; ref_x += S) {                                                            \
            if (ref_x > W - BS) ref_x = W - BS;                                                       \
            for (int r = 0; r < BS; r++)                                                              \
                for (int j = 0; j < BS; j++) refb[r * BS + j] = from_half(y[ref_y + r][ref_x + j]);  \
            const int x0 = ref_x - R < 0 ? 0 : ref_x - R;                                             \
            const int x1 = ref_x + R > W - BS ? W - BS : ref_x + R;                                   \
            /* The `want` closest candidates under tau, kept sorted by (distance, index). They   */  \
            /* come in index order, so a newcomer goes after its equals and displaces the last */    \
            /* only when strictly closer. */                                                          \
            int nc = 0;                                                                               \
            float worst = tau;                                                                        \
            /* Candidates every SR pixels from the reference: the first at or after y0, x0. */       \
            for (int cy = y0 + (ref_y - y0) % SR; cy <= y1; cy += SR) {                               \
                for (int cx = x0 + (ref_x - x0) % SR; cx <= x1; cx += SR) {                           \
                    if (cy == ref_y && cx == ref_x) continue;                                         \
                    const float d = DIST(y, cy, cx, refb, worst);                                            \
                    if (!(d < worst) || want == 0) continue;                                          \
                    int k = nc < want ? nc++ : want - 1;                                              \
                    while (k > 0 && d < cd[k - 1]) { cd[k] = cd[k - 1]; ci[k] = ci[k - 1]; k--; }     \
                    cd[k] = d; ci[k] = (cy - y0) * (x1 - x0 + 1) + (cx - x0);                         \
                    if (nc == want) worst = cd[want - 1] < tau ? cd[want - 1] : tau;                  \
                }                                                                                     \
            }                                                                                         \
            int n = 1;                                                                                \
            gx[0] = ref_x; gy[0] = ref_y;                                                             \
            for (int k = 0; k < nc; k++) {                                                            \
                gy[n] = y0 + ci[k] / (x1 - x0 + 1); gx[n] = x0 + ci[k] % (x1 - x0 + 1); n++;          \
            }                                                                                         \
            int m = 1;                                                                                \
            while (m * 2 <= n) m *= 2;                                                                \
            for (int pl = 0; pl < p->planes; pl++) {                                                  \
                const float sg = p->sigma[pl], s2 = sg * sg;                                          \
                const uint16_t *const *zp = z + (size_t)pl * H;                                       \
                const uint16_t *const *yp = y + (size_t)pl * H;                                       \
                for (int g = 0; g < m; g++) {                                                         \
                    FDCT(yg[g], yp + gy[g], gx[g]);                                                   \
                    FDCT(zg[g], zp + gy[g], gx[g]);                                                   \
                }                                                                                     \
                HAARF(yg, m);                                                                         \
                HAARF(zg, m);                                                                         \
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
                float kw[BB];                                                                         \
                for (int j = 0; j < BB; j++) kw[j] = weight * kaiser_w[j];                            \
                HAARI(zg, m);                                                                         \
                float *const *np_ = num + (size_t)pl * H;                                             \
                float *const *dp_ = den + (size_t)pl * H;                                             \
                for (int g = 0; g < m; g++) {                                                         \
                    IDCT(blk, zg[g]);                                                                 \
                    AGG(np_ + gy[g], dp_ + gy[g], gx[g], blk, kw);                       \
                }                                                                                     \
            }                                                                                         \
            if (ref_x == W - BS) break;                                                               \
        }                                                                                             \
    }

#if defined(__x86_64__)
BMW_BODY(bmw_row_avx2, __attribute__((target("avx2,fma,f16c"))), dist_avx2, fdct_rows_avx2, idct_avx2, haar_fwd_avx2, haar_inv_avx2, agg_avx2)
#endif
BMW_BODY(bmw_row_plain, , dist_plain, fdct_rows_plain, idct_plain, haar_fwd_plain, haar_inv_plain, agg_plain)

void lk_bmw_row(const lk_bmw_params *p, int ref_y, const uint16_t *const *z, const uint16_t *const *y,
                float *const *num, float *const *den) {
    make_tables();
    if (p->width < BS || p->height < BS || ref_y < 0 || ref_y > p->height - BS) return;
#if defined(__x86_64__)
    if (has_f16c()) { bmw_row_avx2(p, ref_y, z, y, num, den); return; }
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
