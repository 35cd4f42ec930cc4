// Winograd F(2x2, 3x3) and F(4x4, 3x3) for the wide 3x3 layers of the photo models: each m x m
// output tile (m = 2 or 4) is computed from an (m + 2) x (m + 2) input tile with (m + 2)²
// multiply-adds per input/output channel pair instead of 9 m². Tiles sit on rows and columns of
// the map being computed that are multiples of m, so every output pixel gets the same operations
// whichever call computes it when calls start on such rows and columns (and end on a tile's last
// row or the map's): row streaming equals whole-image inference bit for bit. The vector and plain
// paths do the same operations in the same order (one fused multiply-add per input channel in
// the products, the same transform operations), so their results are identical too.
//
// F(2x2) is exact row by row: a tile's top output row reads only its first three input rows and
// its bottom row only its last three. F(4x4) (interpolation points 0, ±1, ±2; Lavin and Gray
// 2016) is exact only in exact arithmetic: in floats an output row's rounding depends on input
// rows of its tile it does not depend on (up to three rows and columns away instead of one).
#include "ckernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

// No contraction of a · b + c into a fused multiply-add behind the code's back: the plain and
// vector paths must do the same operations (fused ones are written out).
#pragma STDC FP_CONTRACT OFF

int lk_wino_applies(size_t C, size_t Cout) { return C >= 16 && Cout >= 16; }

// F(4x4) pays from fewer input channels: its products are a quarter of the direct kernel's (the
// colour model's head0, 6 -> 48 channels, takes about half the direct kernel's time).
int lk_wino4_applies(size_t C, size_t Cout) { return C >= 4 && Cout >= 16; }

// ---- F(2x2, 3x3) transforms ------------------------------------------------------------------

size_t lk_wino_packed_size(size_t C, size_t Cout) { return 16 * ((Cout + 5) / 6 * 6) * C; }

void lk_wino_pack(const float *w, size_t C, size_t Cout, float *u) {
    const size_t nb = (Cout + 5) / 6;
    memset(u, 0, lk_wino_packed_size(C, Cout) * sizeof(float));
    for (size_t co = 0; co < Cout; co++)
        for (size_t ci = 0; ci < C; ci++) {
            const float *g = w + (co * C + ci) * 9;
            float t[4][3], U[4][4];
            for (int j = 0; j < 3; j++) {   // G g
                t[0][j] = g[j];
                t[1][j] = 0.5f * (g[j] + g[3 + j] + g[6 + j]);
                t[2][j] = 0.5f * (g[j] - g[3 + j] + g[6 + j]);
                t[3][j] = g[6 + j];
            }
            for (int i = 0; i < 4; i++) {   // (G g) Gᵀ
                U[i][0] = t[i][0];
                U[i][1] = 0.5f * (t[i][0] + t[i][1] + t[i][2]);
                U[i][2] = 0.5f * (t[i][0] - t[i][1] + t[i][2]);
                U[i][3] = t[i][2];
            }
            for (int e = 0; e < 16; e++) u[((e * nb + co / 6) * C + ci) * 6 + co % 6] = U[e / 4][e % 4];
        }
}

// Bᵀ d B of one 4x4 tile (rows r[0..3] from the tile's column 0), into v[e · es].
static inline void in_tile2(const float *const r[4], float *v, size_t es) {
    float s[4][4];
    for (int j = 0; j < 4; j++) {
        const float d0 = r[0][j], d1 = r[1][j], d2 = r[2][j], d3 = r[3][j];
        s[0][j] = d0 - d2;
        s[1][j] = d1 + d2;
        s[2][j] = d2 - d1;
        s[3][j] = d1 - d3;
    }
    for (int i = 0; i < 4; i++) {
        v[(4 * i + 0) * es] = s[i][0] - s[i][2];
        v[(4 * i + 1) * es] = s[i][1] + s[i][2];
        v[(4 * i + 2) * es] = s[i][2] - s[i][1];
        v[(4 * i + 3) * es] = s[i][1] - s[i][3];
    }
}

// Input transform of nt tiles of one channel: tile t reads columns 2t..2t+3 of rows r[0..3]
// (pointers at the strip's column 0, i.e. input column −1 of its first tile); columns at or
// beyond `cols` (the readable width from the strip's start) are taken as zero. Writes v[e·es + t].
static void in_strip2_plain(const float *const r[], size_t nt, size_t cols, float *v, size_t es) {
    for (size_t t = 0; t < nt; t++) {
        if (2 * t + 4 <= cols) {
            const float *q[4] = {r[0] + 2 * t, r[1] + 2 * t, r[2] + 2 * t, r[3] + 2 * t};
            in_tile2(q, v + t, es);
        } else {
            float z[4][4];
            for (int k = 0; k < 4; k++)
                for (int j = 0; j < 4; j++) z[k][j] = 2 * t + j < cols ? r[k][2 * t + j] : 0;
            const float *q[4] = {z[0], z[1], z[2], z[3]};
            in_tile2(q, v + t, es);
        }
    }
}

// Aᵀ m A of one tile's 16 products (m[e · ms]), plus bias and activation: y[2 · i + j].
static void out_tile2(const float *m, size_t ms, float b, int act, float *y) {
    float r0[4], r1[4];
    for (int j = 0; j < 4; j++) {
        r0[j] = m[j * ms] + m[(4 + j) * ms] + m[(8 + j) * ms];
        r1[j] = m[(4 + j) * ms] - m[(8 + j) * ms] - m[(12 + j) * ms];
    }
    y[0] = (r0[0] + r0[1] + r0[2]) + b;
    y[1] = (r0[1] - r0[2] - r0[3]) + b;
    y[2] = (r1[0] + r1[1] + r1[2]) + b;
    y[3] = (r1[1] - r1[2] - r1[3]) + b;
    if (act == LK_RELU)
        for (int k = 0; k < 4; k++) y[k] = y[k] > 0 ? y[k] : 0;
}

// ---- F(4x4, 3x3) transforms ------------------------------------------------------------------

size_t lk_wino4_packed_size(size_t C, size_t Cout) { return 36 * ((Cout + 5) / 6 * 6) * C; }

void lk_wino4_pack(const float *w, size_t C, size_t Cout, float *u) {
    // G (6x3), rows for the points 0, 1, −1, 2, −2, ∞; computed in double, rounded once.
    static const double G[6][3] = {{1.0 / 4, 0, 0},           {-1.0 / 6, -1.0 / 6, -1.0 / 6}, {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                   {1.0 / 24, 1.0 / 12, 1.0 / 6}, {1.0 / 24, -1.0 / 12, 1.0 / 6}, {0, 0, 1}};
    const size_t nb = (Cout + 5) / 6;
    // Block by block and input channel by input channel, so that each element's six output
    // channels are written side by side (training packs every step); the last block's padding
    // channels are written as zeros.
    for (size_t blk = 0; blk < nb; blk++)
        for (size_t ci = 0; ci < C; ci++)
            for (size_t o = 0; o < 6; o++) {
                const size_t co = blk * 6 + o;
                float *ue = u + (blk * C + ci) * 6 + o, *const end = ue + 36 * nb * C * 6;   // element e at e · nb · C · 6
                if (co >= Cout) {
                    for (; ue < end; ue += nb * C * 6) *ue = 0;
                    continue;
                }
                const float *g = w + (co * C + ci) * 9;
                double t[6][3];
                for (int i = 0; i < 6; i++)   // G g
                    for (int j = 0; j < 3; j++) t[i][j] = G[i][0] * g[j] + G[i][1] * g[3 + j] + G[i][2] * g[6 + j];
                for (int i = 0; i < 6; i++)   // (G g) Gᵀ
                    for (int j = 0; j < 6; j++, ue += nb * C * 6) *ue = (float)(t[i][0] * G[j][0] + t[i][1] * G[j][1] + t[i][2] * G[j][2]);
            }
}

// The 1-D transforms, written once for floats and once for vectors with the same operations:
// Bᵀ d (six values in, six out) and Aᵀ m (six in, four out).
#define W4_IN(T, ADD, SUB, FMA, K, d0, d1, d2, d3, d4, d5, v)                  \
    do {                                                                     \
        const T t1_ = FMA(K(-4), d2, d4), t2_ = FMA(K(-4), d1, d3);          \
        const T t3_ = SUB(d4, d2), t4_ = SUB(d3, d1);                        \
        const T t5_ = ADD(t4_, t4_);                                          \
        v[0] = FMA(K(-5), d2, FMA(K(4), d0, d4));                            \
        v[1] = ADD(t1_, t2_);                                                \
        v[2] = SUB(t1_, t2_);                                                \
        v[3] = ADD(t3_, t5_);                                                \
        v[4] = SUB(t3_, t5_);                                                \
        v[5] = FMA(K(-5), d3, FMA(K(4), d1, d5));                            \
    } while (0)

#define W4_OUT(T, ADD, SUB, FMA, K, m0, m1, m2, m3, m4, m5, y)                 \
    do {                                                                     \
        const T a_ = ADD(m1, m2), b_ = SUB(m1, m2), c_ = ADD(m3, m4), d_ = SUB(m3, m4); \
        y[0] = ADD(ADD(m0, a_), c_);                                         \
        y[1] = FMA(K(2), d_, b_);                                            \
        y[2] = FMA(K(4), c_, a_);                                            \
        y[3] = ADD(FMA(K(8), d_, b_), m5);                                   \
    } while (0)

#define S_ADD(a, b) ((a) + (b))
#define S_SUB(a, b) ((a) - (b))
#define S_FMA(a, b, c) fmaf(a, b, c)
#define S_K(x) ((float)(x))

// Bᵀ d B of one tile: d[k][j] (row k, column j, 6x6 of type T) through W4_IN down the columns,
// then along the rows; result e = 6i + j handed to PUT(e, value).
#define W4_IN_2D(T, ADD, SUB, FMA, K, d, PUT)                                                     \
    do {                                                                                         \
        T s_[6][6];                                                                              \
        for (int j_ = 0; j_ < 6; j_++) {                                                          \
            T c_[6];                                                                             \
            W4_IN(T, ADD, SUB, FMA, K, d[0][j_], d[1][j_], d[2][j_], d[3][j_], d[4][j_], d[5][j_], c_); \
            for (int i_ = 0; i_ < 6; i_++) s_[i_][j_] = c_[i_];                                   \
        }                                                                                        \
        for (int i_ = 0; i_ < 6; i_++) {                                                          \
            T c_[6];                                                                             \
            W4_IN(T, ADD, SUB, FMA, K, s_[i_][0], s_[i_][1], s_[i_][2], s_[i_][3], s_[i_][4], s_[i_][5], c_); \
            for (int j_ = 0; j_ < 6; j_++) PUT(6 * i_ + j_, c_[j_]);                              \
        }                                                                                        \
    } while (0)

// The first half of Aᵀ m A: W4_OUT down the columns of a tile's 36 products, GET(e) the one at
// e = 6i + j; r[i][j] (4x6 of type T) for the rows' pass, which each caller ends in its own way.
#define W4_OUT_COLUMNS(T, ADD, SUB, FMA, K, GET, r)                                               \
    do {                                                                                         \
        for (int j_ = 0; j_ < 6; j_++) {                                                          \
            T o_[4];                                                                             \
            W4_OUT(T, ADD, SUB, FMA, K, GET(j_), GET(6 + j_), GET(12 + j_), GET(18 + j_), GET(24 + j_), GET(30 + j_), o_); \
            for (int i_ = 0; i_ < 4; i_++) r[i_][j_] = o_[i_];                                    \
        }                                                                                        \
    } while (0)

// Bᵀ d B of one 6x6 tile (rows r[0..5] from the tile's column 0), into v[e · es].
static inline void in_tile4(const float *const r[6], float *v, size_t es) {
#define PUT(e, x) v[(e) * es] = (x)
    W4_IN_2D(float, S_ADD, S_SUB, S_FMA, S_K, r, PUT);
#undef PUT
}

// Input transform of nt tiles of one channel: tile t reads columns 4t..4t+5 of rows r[0..5]
// (pointers at the strip's column 0); columns at or beyond `cols` are taken as zero.
static void in_strip4_plain(const float *const r[], size_t nt, size_t cols, float *v, size_t es) {
    for (size_t t = 0; t < nt; t++) {
        if (4 * t + 6 <= cols) {
            const float *q[6] = {r[0] + 4 * t, r[1] + 4 * t, r[2] + 4 * t, r[3] + 4 * t, r[4] + 4 * t, r[5] + 4 * t};
            in_tile4(q, v + t, es);
        } else {
            float z[6][6];
            for (int k = 0; k < 6; k++)
                for (int j = 0; j < 6; j++) z[k][j] = 4 * t + j < cols ? r[k][4 * t + j] : 0;
            const float *q[6] = {z[0], z[1], z[2], z[3], z[4], z[5]};
            in_tile4(q, v + t, es);
        }
    }
}

// Aᵀ m A of one tile's 36 products (m[e · ms]), plus bias and activation: y[4 · i + j].
static void out_tile4(const float *m, size_t ms, float b, int act, float *y) {
    float r[4][6];
#define GET(e) m[(e) * ms]
    W4_OUT_COLUMNS(float, S_ADD, S_SUB, S_FMA, S_K, GET, r);
#undef GET
    for (int i = 0; i < 4; i++) {
        float c[4];
        W4_OUT(float, S_ADD, S_SUB, S_FMA, S_K, r[i][0], r[i][1], r[i][2], r[i][3], r[i][4], r[i][5], c);
        for (int j = 0; j < 4; j++) {
            const float v = c[j] + b;
            y[4 * i + j] = act == LK_RELU ? (v > 0 ? v : 0) : v;
        }
    }
}

// ---- The drivers, shared by both ---------------------------------------------------------------

// One Winograd variant: m x m output tiles, E = (m + 2)² transform elements; the plain input
// transform of a strip of tiles (rows r[0 .. m + 1]) and output transform of one tile (y[m · i + j]),
// and the vector ones (NULL where there are none): a strip of tiles, and 8 whole tiles of one
// output channel (products e · 96 apart) stored as `rows` rows of 8m columns. Tiles per block:
// `tiles`, half as many from `wide` input channels, so that the block's transformed input
// (E · C · tiles floats) stays in L2 (measured on 48-128 channels).
typedef struct {
    size_t m, E, tiles, wide;
    void (*in_plain)(const float *const r[], size_t nt, size_t cols, float *v, size_t es);
    void (*out_plain)(const float *m, size_t ms, float b, int act, float *y);
    void (*in_vector)(const float *const r[], size_t nt, size_t cols, float *v, size_t es);
    void (*out_vector)(const float *m, float b, int act, float *dst, size_t orow, size_t rows);
    // AVX-512 (NULL where there are none): a strip of tiles 16 at a time, and 16 whole tiles.
    void (*in_wide)(const float *const r[], size_t nt, size_t cols, float *v, size_t es);
    void (*out_wide)(const float *m, float b, int act, float *dst, size_t orow, size_t rows);
} variant;

// One product of the plain path: Σ over the input channels of weight × transformed input, one
// fused multiply-add each, in channel order (as the vector path).
static inline float dot_e(const float *ue, const float *ve, size_t C, size_t TB) {
    float acc = 0;
    for (size_t ci = 0; ci < C; ci++) acc = fmaf(ue[ci * 6], ve[ci * TB], acc);
    return acc;
}

static size_t tiles_per_block(const variant *f, size_t C) { return C >= f->wide ? f->tiles / 2 : f->tiles; }

// Rows of tile row ty of one channel (input rows m·ty ... m·ty + m + 1 from xp, from column
// col); rows past H + 1 read as zero.
static void tile_rows(const variant *f, const float *xp, size_t xrow, size_t H, size_t ty, size_t col, const float *zero,
                      const float *r[6]) {
    for (size_t k = 0; k < f->m + 2; k++) r[k] = f->m * ty + k <= H + 1 ? xp + (f->m * ty + k) * xrow + col : zero;
}

// A tile's outputs y (m x m) into dst: `rows` rows and `cols` columns of it.
static void store_tile(const float *y, size_t m, float *dst, size_t orow, size_t rows, size_t cols) {
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++) dst[i * orow + j] = y[m * i + j];
}

static size_t least(size_t a, size_t b) { return a < b ? a : b; }

/// The plain path (any CPU), and the reference the vector path must equal bit for bit.
static int run_plain(const variant *f, const float *xp, size_t xrow, size_t xplane, size_t C, size_t H, size_t W, const float *u,
                     const float *b, size_t Cout, int act, float *out, size_t orow, size_t oplane) {
    const size_t m = f->m, E = f->E, nb = (Cout + 5) / 6, ntx = (W + m - 1) / m, nty = (H + m - 1) / m, TB = tiles_per_block(f, C);
    float *V = malloc(E * C * TB * sizeof(float));
    float *zero = calloc(W + 40, sizeof(float));
    if (V == NULL || zero == NULL) { free(V); free(zero); return -1; }
    for (size_t ty = 0; ty < nty; ty++) {
        for (size_t tx0 = 0; tx0 < ntx; tx0 += TB) {
            const size_t nt = least(ntx - tx0, TB);
            for (size_t ci = 0; ci < C; ci++) {
                const float *r[6];
                tile_rows(f, xp + ci * xplane, xrow, H, ty, m * tx0, zero, r);
                f->in_plain(r, nt, W + 2 - m * tx0, V + ci * TB, C * TB);
            }
            for (size_t co = 0; co < Cout; co++) {
                const size_t blk = co / 6, o = co % 6;
                for (size_t t = 0; t < nt; t++) {
                    float p[36], y[16];
                    for (size_t e = 0; e < E; e++) p[e] = dot_e(u + ((e * nb + blk) * C) * 6 + o, V + e * C * TB + t, C, TB);
                    f->out_plain(p, 1, b[co], act, y);
                    const size_t ox = m * (tx0 + t);
                    store_tile(y, m, out + co * oplane + m * ty * orow + ox, orow, least(m, H - m * ty), least(m, W - ox));
                }
            }
        }
    }
    free(V);
    free(zero);
    return 0;
}

#if defined(__x86_64__)
#include <immintrin.h>
#include <pthread.h>

// The vector path's block buffers, kept per thread from call to call (a layer is called once per
// band of rows: allocating them each time cost fresh pages, about 4% of a denoise) and freed when
// the thread ends. scratch(slot, n): 64-byte-aligned room for n bytes, or NULL.
typedef struct { void *p[2]; size_t n[2]; } scratch_buffers;
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static int scratch_ok;
static void scratch_release(void *b) {
    scratch_buffers *s = b;
    free(s->p[0]);
    free(s->p[1]);
    free(s);
}
static void scratch_setup(void) { scratch_ok = pthread_key_create(&scratch_key, scratch_release) == 0; }
static void *scratch(int slot, size_t n) {
    pthread_once(&scratch_once, scratch_setup);
    if (!scratch_ok) return NULL;
    scratch_buffers *s = pthread_getspecific(scratch_key);
    if (s == NULL) {
        if ((s = calloc(1, sizeof *s)) == NULL) return NULL;
        if (pthread_setspecific(scratch_key, s) != 0) { free(s); return NULL; }
    }
    if (s->n[slot] < n) {
        free(s->p[slot]);
        s->n[slot] = 0;
        if ((s->p[slot] = aligned_alloc(64, (n + 63) / 64 * 64)) == NULL) return NULL;
        s->n[slot] = n;
    }
    return s->p[slot];
}

// The products of one transform element e for 6 output channels and 16 tiles: ue the packed
// weights (C x 6), ve the transformed input (C rows of TB tiles), into me[o · 16 + t].
__attribute__((target("avx2,fma"))) static inline void products_6x16(const float *ue, const float *ve, size_t C, size_t TB, float *me) {
    __m256 a00 = _mm256_setzero_ps(), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00;
    __m256 a30 = a00, a31 = a00, a40 = a00, a41 = a00, a50 = a00, a51 = a00;
    for (size_t ci = 0; ci < C; ci++, ue += 6, ve += TB) {
        const __m256 v0 = _mm256_loadu_ps(ve), v1 = _mm256_loadu_ps(ve + 8);
        __m256 w0 = _mm256_broadcast_ss(ue + 0), w1 = _mm256_broadcast_ss(ue + 1), w2 = _mm256_broadcast_ss(ue + 2);
        a00 = _mm256_fmadd_ps(w0, v0, a00); a01 = _mm256_fmadd_ps(w0, v1, a01);
        a10 = _mm256_fmadd_ps(w1, v0, a10); a11 = _mm256_fmadd_ps(w1, v1, a11);
        a20 = _mm256_fmadd_ps(w2, v0, a20); a21 = _mm256_fmadd_ps(w2, v1, a21);
        __m256 w3 = _mm256_broadcast_ss(ue + 3), w4 = _mm256_broadcast_ss(ue + 4), w5 = _mm256_broadcast_ss(ue + 5);
        a30 = _mm256_fmadd_ps(w3, v0, a30); a31 = _mm256_fmadd_ps(w3, v1, a31);
        a40 = _mm256_fmadd_ps(w4, v0, a40); a41 = _mm256_fmadd_ps(w4, v1, a41);
        a50 = _mm256_fmadd_ps(w5, v0, a50); a51 = _mm256_fmadd_ps(w5, v1, a51);
    }
    _mm256_store_ps(me + 0, a00); _mm256_store_ps(me + 8, a01);
    _mm256_store_ps(me + 16, a10); _mm256_store_ps(me + 24, a11);
    _mm256_store_ps(me + 32, a20); _mm256_store_ps(me + 40, a21);
    _mm256_store_ps(me + 48, a30); _mm256_store_ps(me + 56, a31);
    _mm256_store_ps(me + 64, a40); _mm256_store_ps(me + 72, a41);
    _mm256_store_ps(me + 80, a50); _mm256_store_ps(me + 88, a51);
}

// All E products of one 6-channel block for nh runs of 16 tiles (V at the first tile), into
// M[h][e][o][16] (runs E · 96 floats apart). The AVX2 kernel takes one run at a time (nh = 1).
typedef void (*products_fn)(const float *u, const float *V, size_t E, size_t nb, size_t blk, size_t C, size_t TB, size_t nh,
                            float *M);

__attribute__((target("avx2,fma"))) static void products_avx2(const float *u, const float *V, size_t E, size_t nb, size_t blk,
                                                             size_t C, size_t TB, size_t nh, float *M) {
    (void)nh;
    for (size_t e = 0; e < E; e++) products_6x16(u + (e * nb + blk) * C * 6, V + e * C * TB, C, TB, M + e * 96);
}

// AVX-512F, every product the same fma sequence as products_6x16's lanes: 6 channels x 32 tiles
// (two runs, 12 accumulators, 8 loads for 12 fmas), or for one run two transform elements at a
// time (6 channels x 16 tiles each).
__attribute__((target("avx512f"))) static void products_avx512(const float *u, const float *V, size_t E, size_t nb, size_t blk,
                                                              size_t C, size_t TB, size_t nh, float *M) {
    if (nh == 2) {
        for (size_t e = 0; e < E; e++) {
            const float *ue = u + (e * nb + blk) * C * 6, *ve = V + e * C * TB;
            __m512 a[6][2];
            for (int o = 0; o < 6; o++) a[o][0] = a[o][1] = _mm512_setzero_ps();
            for (size_t ci = 0; ci < C; ci++, ue += 6, ve += TB) {
                const __m512 v0 = _mm512_loadu_ps(ve), v1 = _mm512_loadu_ps(ve + 16);
                for (int o = 0; o < 6; o++) {
                    const __m512 w = _mm512_set1_ps(ue[o]);
                    a[o][0] = _mm512_fmadd_ps(w, v0, a[o][0]);
                    a[o][1] = _mm512_fmadd_ps(w, v1, a[o][1]);
                }
            }
            for (int o = 0; o < 6; o++) {
                _mm512_store_ps(M + e * 96 + o * 16, a[o][0]);
                _mm512_store_ps(M + (E + e) * 96 + o * 16, a[o][1]);
            }
        }
        return;
    }
    for (size_t e = 0; e < E; e += 2) {
        const size_t n = e + 1 < E ? 2 : 1;
        const float *ue[2] = {u + (e * nb + blk) * C * 6, u + ((e + n - 1) * nb + blk) * C * 6};
        const float *ve[2] = {V + e * C * TB, V + (e + n - 1) * C * TB};
        __m512 a[2][6];
        for (int p = 0; p < 2; p++)
            for (int o = 0; o < 6; o++) a[p][o] = _mm512_setzero_ps();
        for (size_t ci = 0; ci < C; ci++) {
            for (int p = 0; p < 2; p++) {
                const __m512 v = _mm512_loadu_ps(ve[p] + ci * TB);
                for (int o = 0; o < 6; o++) a[p][o] = _mm512_fmadd_ps(_mm512_set1_ps(ue[p][ci * 6 + o]), v, a[p][o]);
            }
        }
        for (size_t p = 0; p < n; p++)
            for (int o = 0; o < 6; o++) _mm512_store_ps(M + (e + p) * 96 + o * 16, a[p][o]);
    }
}

// F(2x2): 8 tiles at a time, columns 2t..2t+17 of each row split into the tiles' columns 0-3.
__attribute__((target("avx2,fma"))) static void in_strip2_avx2(const float *const r[], size_t nt, size_t cols, float *v, size_t es) {
    size_t t = 0;
    const __m256i even = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
    for (; t + 8 <= nt && 2 * t + 18 <= cols; t += 8) {
        __m256 d[4][4];
        for (int k = 0; k < 4; k++) {
            const float *p = r[k] + 2 * t;
            // a = cols 0..7, b = 8..15 → evens (col 0 of each tile) and odds (col 1); shifted by 2 for cols 2, 3.
            __m256 a = _mm256_permutevar8x32_ps(_mm256_loadu_ps(p), even);
            __m256 bb = _mm256_permutevar8x32_ps(_mm256_loadu_ps(p + 8), even);
            __m256 a2 = _mm256_permutevar8x32_ps(_mm256_loadu_ps(p + 2), even);
            __m256 b2 = _mm256_permutevar8x32_ps(_mm256_loadu_ps(p + 10), even);
            d[k][0] = _mm256_permute2f128_ps(a, bb, 0x20);
            d[k][1] = _mm256_permute2f128_ps(a, bb, 0x31);
            d[k][2] = _mm256_permute2f128_ps(a2, b2, 0x20);
            d[k][3] = _mm256_permute2f128_ps(a2, b2, 0x31);
        }
        __m256 s[4][4];
        for (int j = 0; j < 4; j++) {
            s[0][j] = _mm256_sub_ps(d[0][j], d[2][j]);
            s[1][j] = _mm256_add_ps(d[1][j], d[2][j]);
            s[2][j] = _mm256_sub_ps(d[2][j], d[1][j]);
            s[3][j] = _mm256_sub_ps(d[1][j], d[3][j]);
        }
        for (int i = 0; i < 4; i++) {
            _mm256_storeu_ps(v + (4 * i + 0) * es + t, _mm256_sub_ps(s[i][0], s[i][2]));
            _mm256_storeu_ps(v + (4 * i + 1) * es + t, _mm256_add_ps(s[i][1], s[i][2]));
            _mm256_storeu_ps(v + (4 * i + 2) * es + t, _mm256_sub_ps(s[i][2], s[i][1]));
            _mm256_storeu_ps(v + (4 * i + 3) * es + t, _mm256_sub_ps(s[i][1], s[i][3]));
        }
    }
    const float *q[4] = {r[0] + 2 * t, r[1] + 2 * t, r[2] + 2 * t, r[3] + 2 * t};
    in_strip2_plain(q, nt - t, cols - 2 * t, v + t, es);
}

__attribute__((target("avx2,fma"))) static void out_tiles2_avx2(const float *m, float b, int act, float *dst, size_t orow, size_t rows) {
    __m256 r0[4], r1[4];
    for (int j = 0; j < 4; j++) {
        const __m256 mj = _mm256_load_ps(m + j * 96), m4 = _mm256_load_ps(m + (4 + j) * 96);
        const __m256 m8 = _mm256_load_ps(m + (8 + j) * 96), m12 = _mm256_load_ps(m + (12 + j) * 96);
        r0[j] = _mm256_add_ps(_mm256_add_ps(mj, m4), m8);
        r1[j] = _mm256_sub_ps(_mm256_sub_ps(m4, m8), m12);
    }
    const __m256 bv = _mm256_set1_ps(b), zv = _mm256_setzero_ps();
    __m256 y[2][2] = {{_mm256_add_ps(_mm256_add_ps(_mm256_add_ps(r0[0], r0[1]), r0[2]), bv),
                       _mm256_add_ps(_mm256_sub_ps(_mm256_sub_ps(r0[1], r0[2]), r0[3]), bv)},
                      {_mm256_add_ps(_mm256_add_ps(_mm256_add_ps(r1[0], r1[1]), r1[2]), bv),
                       _mm256_add_ps(_mm256_sub_ps(_mm256_sub_ps(r1[1], r1[2]), r1[3]), bv)}};
    for (size_t i = 0; i < rows; i++) {
        if (act == LK_RELU) {
            y[i][0] = _mm256_max_ps(y[i][0], zv);
            y[i][1] = _mm256_max_ps(y[i][1], zv);
        }
        // Interleave the row's two columns: tile t → output columns 2t, 2t+1.
        const __m256 lo = _mm256_unpacklo_ps(y[i][0], y[i][1]), hi = _mm256_unpackhi_ps(y[i][0], y[i][1]);
        _mm256_storeu_ps(dst + i * orow, _mm256_permute2f128_ps(lo, hi, 0x20));
        _mm256_storeu_ps(dst + i * orow + 8, _mm256_permute2f128_ps(lo, hi, 0x31));
    }
}

#define V_ADD(a, b) _mm256_add_ps(a, b)
#define V_SUB(a, b) _mm256_sub_ps(a, b)
#define V_FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define V_K(x) _mm256_set1_ps((float)(x))

// The rows a vector input transform reads for its `tiles` tiles from tile t (columns 4t ... 4t +
// 4·tiles + 1): r[k] + 4t where the strip has them all, else a copy in buf (72 a row) with zeros
// from `cols` on, as in_strip4_plain reads a tile that passes the row's end (the strip's last
// tiles: the vector transforms may not read past `cols`). Returns how many of the tiles the
// strip has (nt − t at the end).
static size_t strip_rows(const float *const r[], size_t t, size_t nt, size_t cols, size_t tiles, float buf[][72],
                         const float *rows[6]) {
    const size_t n = least(tiles, nt - t), span = 4 * tiles + 2;
    const size_t have = cols > 4 * t ? least(span, cols - 4 * t) : 0;
    const int whole = n == tiles && have == span;
    for (int k = 0; k < 6; k++) {
        if (whole) { rows[k] = r[k] + 4 * t; continue; }
        for (size_t j = 0; j < have; j++) buf[k][j] = r[k][4 * t + j];
        for (size_t j = have; j < 72; j++) buf[k][j] = 0;
        rows[k] = buf[k];
    }
    return n;
}

// Columns j ... j + 3 of 8 tiles (row pointer at tile 0's column 0; tile t at 4t): the in-lane
// transpose of the four 4-column chunks, tiles 0-3 in the low lanes and 4-7 in the high ones.
__attribute__((target("avx2,fma"))) static inline void columns4(const float *p, __m256 c[4]) {
    const __m256 y0 = _mm256_loadu2_m128(p + 16, p), y1 = _mm256_loadu2_m128(p + 20, p + 4);
    const __m256 y2 = _mm256_loadu2_m128(p + 24, p + 8), y3 = _mm256_loadu2_m128(p + 28, p + 12);
    const __m256 t0 = _mm256_unpacklo_ps(y0, y1), t1 = _mm256_unpackhi_ps(y0, y1);
    const __m256 t2 = _mm256_unpacklo_ps(y2, y3), t3 = _mm256_unpackhi_ps(y2, y3);
    c[0] = _mm256_shuffle_ps(t0, t2, 0x44);
    c[1] = _mm256_shuffle_ps(t0, t2, 0xEE);
    c[2] = _mm256_shuffle_ps(t1, t3, 0x44);
    c[3] = _mm256_shuffle_ps(t1, t3, 0xEE);
}

__attribute__((target("avx2,fma"))) static void in_strip4_avx2(const float *const r[], size_t nt, size_t cols, float *v, size_t es) {
    // 8 tiles at a time: columns 4t ... 4t + 33 of each row. A tile's columns 4 and 5 are the
    // next tile's 0 and 1: those vectors moved down a tile, columns 32 and 33 in the top lane.
    // The last tiles (fewer than 8, or past the row's end) from a copy (strip_rows), stored
    // under a mask.
    const __m256i next = _mm256_setr_epi32(1, 2, 3, 4, 5, 6, 7, 0);
    for (size_t t = 0; t < nt; t += 8) {
        float buf[6][72];
        const float *rows[6];
        const size_t n = strip_rows(r, t, nt, cols, 8, buf, rows);
        __m256 d[6][6];
        for (int k = 0; k < 6; k++) {
            const float *p = rows[k];
            columns4(p, d[k]);
            d[k][4] = _mm256_blend_ps(_mm256_permutevar8x32_ps(d[k][0], next), _mm256_broadcast_ss(p + 32), 0x80);
            d[k][5] = _mm256_blend_ps(_mm256_permutevar8x32_ps(d[k][1], next), _mm256_broadcast_ss(p + 33), 0x80);
        }
        // Whole groups with plain stores: AMD's Zen cores run a masked store as microcode (36 a
        // group), which took this transform from 8% to 13% of a colour photo's time on a Zen 3.
        if (n == 8) {
#define PUT(e, x) _mm256_storeu_ps(v + (e) * es + t, x)
            W4_IN_2D(__m256, V_ADD, V_SUB, V_FMA, V_K, d, PUT);
#undef PUT
            continue;
        }
        const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
#define PUT(e, x) _mm256_maskstore_ps(v + (e) * es + t, mask, x)
        W4_IN_2D(__m256, V_ADD, V_SUB, V_FMA, V_K, d, PUT);
#undef PUT
    }
}

// The output transform of 8 tiles of one output channel (m at tile 0's product 0, products
// e · 96 apart), with bias and activation, stored as 4 rows of 32 columns (rows below H skipped).
__attribute__((target("avx2,fma"))) static void out_tiles4_avx2(const float *m, float b, int act, float *dst, size_t orow,
                                                              size_t rows) {
    __m256 r[4][6];
#define GET(e) _mm256_load_ps(m + (e) * 96)
    W4_OUT_COLUMNS(__m256, V_ADD, V_SUB, V_FMA, V_K, GET, r);
#undef GET
    const __m256 bv = _mm256_set1_ps(b), zv = _mm256_setzero_ps();
    for (size_t i = 0; i < rows; i++) {
        __m256 y[4];
        W4_OUT(__m256, V_ADD, V_SUB, V_FMA, V_K, r[i][0], r[i][1], r[i][2], r[i][3], r[i][4], r[i][5], y);
        for (int j = 0; j < 4; j++) {
            y[j] = _mm256_add_ps(y[j], bv);
            if (act == LK_RELU) y[j] = _mm256_max_ps(y[j], zv);
        }
        // Tiles' columns interleaved: tile t → columns 4t ... 4t + 3.
        const __m256 t0 = _mm256_unpacklo_ps(y[0], y[1]), t1 = _mm256_unpackhi_ps(y[0], y[1]);
        const __m256 t2 = _mm256_unpacklo_ps(y[2], y[3]), t3 = _mm256_unpackhi_ps(y[2], y[3]);
        const __m256 z0 = _mm256_shuffle_ps(t0, t2, 0x44), z1 = _mm256_shuffle_ps(t0, t2, 0xEE);
        const __m256 z2 = _mm256_shuffle_ps(t1, t3, 0x44), z3 = _mm256_shuffle_ps(t1, t3, 0xEE);
        float *d = dst + i * orow;
        _mm256_storeu_ps(d, _mm256_permute2f128_ps(z0, z1, 0x20));
        _mm256_storeu_ps(d + 8, _mm256_permute2f128_ps(z2, z3, 0x20));
        _mm256_storeu_ps(d + 16, _mm256_permute2f128_ps(z0, z1, 0x31));
        _mm256_storeu_ps(d + 24, _mm256_permute2f128_ps(z2, z3, 0x31));
    }
}

#define Z_ADD(a, b) _mm512_add_ps(a, b)
#define Z_SUB(a, b) _mm512_sub_ps(a, b)
#define Z_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define Z_K(x) _mm512_set1_ps((float)(x))

// AVX-512F: 16 tiles at a time (columns 4t ... 4t + 65 of each row), the last ones as
// in_strip4_avx2 takes its last ones. Column j
// of tiles 0-7 picked from the first 32 floats, of tiles 8-15 from the next 32; columns 4 and 5
// are columns 0 and 1 moved down a tile, with columns 64 and 65 in the top lane.
__attribute__((target("avx512f"))) static void in_strip4_avx512(const float *const r[], size_t nt, size_t cols, float *v, size_t es) {
    const __m512i next = _mm512_setr_epi32(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);
    __m512i col[4];
    for (int j = 0; j < 4; j++)
        col[j] = _mm512_setr_epi32(j, j + 4, j + 8, j + 12, j + 16, j + 20, j + 24, j + 28, j, j + 4, j + 8, j + 12, j + 16, j + 20,
                                   j + 24, j + 28);
    for (size_t t = 0; t < nt; t += 16) {
        float buf[6][72];
        const float *rows[6];
        const size_t n = strip_rows(r, t, nt, cols, 16, buf, rows);
        __m512 d[6][6];
        for (int k = 0; k < 6; k++) {
            const float *p = rows[k];
            const __m512 l0 = _mm512_loadu_ps(p), l1 = _mm512_loadu_ps(p + 16);
            const __m512 l2 = _mm512_loadu_ps(p + 32), l3 = _mm512_loadu_ps(p + 48);
            for (int j = 0; j < 4; j++)
                d[k][j] = _mm512_mask_blend_ps(0xFF00, _mm512_permutex2var_ps(l0, col[j], l1), _mm512_permutex2var_ps(l2, col[j], l3));
            d[k][4] = _mm512_permutex2var_ps(d[k][0], next, _mm512_set1_ps(p[64]));
            d[k][5] = _mm512_permutex2var_ps(d[k][1], next, _mm512_set1_ps(p[65]));
        }
        const __mmask16 mask = (__mmask16)((1u << n) - 1);
#define PUT(e, x) _mm512_mask_storeu_ps(v + (e) * es + t, mask, x)
        W4_IN_2D(__m512, Z_ADD, Z_SUB, Z_FMA, Z_K, d, PUT);
#undef PUT
    }
}

// The output transform of 16 tiles of one output channel (as out_tiles4_avx2), stored as 4 rows
// of 64 columns: each 128-bit lane's 4 tiles transposed in place, then the lanes put in order.
__attribute__((target("avx512f"))) static void out_tiles4_avx512(const float *m, float b, int act, float *dst, size_t orow,
                                                                size_t rows) {
    __m512 r[4][6];
#define GET(e) _mm512_load_ps(m + (e) * 96)
    W4_OUT_COLUMNS(__m512, Z_ADD, Z_SUB, Z_FMA, Z_K, GET, r);
#undef GET
    const __m512 bv = _mm512_set1_ps(b), zv = _mm512_setzero_ps();
    for (size_t i = 0; i < rows; i++) {
        __m512 y[4];
        W4_OUT(__m512, Z_ADD, Z_SUB, Z_FMA, Z_K, r[i][0], r[i][1], r[i][2], r[i][3], r[i][4], r[i][5], y);
        for (int j = 0; j < 4; j++) {
            y[j] = _mm512_add_ps(y[j], bv);
            if (act == LK_RELU) y[j] = _mm512_max_ps(y[j], zv);
        }
        const __m512 t0 = _mm512_unpacklo_ps(y[0], y[1]), t1 = _mm512_unpackhi_ps(y[0], y[1]);
        const __m512 t2 = _mm512_unpacklo_ps(y[2], y[3]), t3 = _mm512_unpackhi_ps(y[2], y[3]);
        const __m512 z0 = _mm512_shuffle_ps(t0, t2, 0x44), z1 = _mm512_shuffle_ps(t0, t2, 0xEE);
        const __m512 z2 = _mm512_shuffle_ps(t1, t3, 0x44), z3 = _mm512_shuffle_ps(t1, t3, 0xEE);
        // z0 ... z3: tiles 4L, 4L + 1, 4L + 2, 4L + 3 in lane L.
        const __m512 p0 = _mm512_shuffle_f32x4(z0, z1, 0x44), q0 = _mm512_shuffle_f32x4(z2, z3, 0x44);
        const __m512 p1 = _mm512_shuffle_f32x4(z0, z1, 0xEE), q1 = _mm512_shuffle_f32x4(z2, z3, 0xEE);
        float *d = dst + i * orow;
        _mm512_storeu_ps(d, _mm512_shuffle_f32x4(p0, q0, 0x88));
        _mm512_storeu_ps(d + 16, _mm512_shuffle_f32x4(p0, q0, 0xDD));
        _mm512_storeu_ps(d + 32, _mm512_shuffle_f32x4(p1, q1, 0x88));
        _mm512_storeu_ps(d + 48, _mm512_shuffle_f32x4(p1, q1, 0xDD));
    }
}

__attribute__((target("avx2,fma"))) static int run_avx2(const variant *f, int wide, const float *xp, size_t xrow, size_t xplane, size_t C, size_t H,
                                                       size_t W, const float *u, const float *b, size_t Cout, int act, float *out,
                                                       size_t orow, size_t oplane) {
    // AVX-512 takes blocks of twice the tiles (its products run on 32; L2 holds them).
    const products_fn products = wide ? products_avx512 : products_avx2;
    void (*in_vector)(const float *const r[], size_t nt, size_t cols, float *v, size_t es) = wide && f->in_wide ? f->in_wide : f->in_vector;
    const size_t runs = wide ? 2 : 1;
    const size_t m = f->m, E = f->E, nb = (Cout + 5) / 6, ntx = (W + m - 1) / m, nty = (H + m - 1) / m, TB = runs * tiles_per_block(f, C);
    float *V = scratch(0, E * C * TB * sizeof(float));
    float *M = scratch(1, runs * E * 96 * sizeof(float));   // M[h][e][o][16]: runs of 6 output channels x 16 tiles
    float *zero = calloc(W + 40, sizeof(float));
    if (V == NULL || M == NULL || zero == NULL) { free(zero); return -1; }
    for (size_t ty = 0; ty < nty; ty++) {
        const size_t rows = least(m, H - m * ty);
        for (size_t tx0 = 0; tx0 < ntx; tx0 += TB) {
            const size_t nt = least(ntx - tx0, TB), nt16 = (nt + 15) / 16 * 16;
            for (size_t ci = 0; ci < C; ci++) {
                const float *r[6];
                tile_rows(f, xp + ci * xplane, xrow, H, ty, m * tx0, zero, r);
                float *vc = V + ci * TB;
                in_vector(r, nt, W + 2 - m * tx0, vc, C * TB);
                if (nt16 > nt)
                    for (size_t e = 0; e < E; e++) memset(vc + e * C * TB + nt, 0, (nt16 - nt) * sizeof(float));
            }
            for (size_t blk = 0; blk < nb; blk++) {
                const size_t co0 = blk * 6, nco = least(Cout - co0, 6);
                for (size_t t00 = 0; t00 < nt; t00 += 16 * runs) {
                    const size_t nh = least(runs, (nt - t00 + 15) / 16);
                    products(u, V + t00, E, nb, blk, C, TB, nh, M);
                    for (size_t run = 0; run < nh; run++) {
                        const size_t t0 = t00 + 16 * run, ntiles = least(nt - t0, 16);
                        const float *Mr = M + run * E * 96;
                        for (size_t o = 0; o < nco; o++) {
                            const size_t co = co0 + o;
                            float *dst = out + co * oplane + m * ty * orow + m * (tx0 + t0);
                            const size_t cols = least(m * ntiles, W - m * (tx0 + t0));
                            if (wide && f->out_wide != NULL) {
                                if (cols == 16 * m) {
                                    f->out_wide(Mr + o * 16, b[co], act, dst, orow, rows);
                                } else {
                                    // The last tiles of the row: all 16 transformed (the
                                    // products of the ones past it are there, unused), `cols` kept.
                                    float y[4 * 64];
                                    f->out_wide(Mr + o * 16, b[co], act, y, 64, rows);
                                    store_tile(y, 64, dst, orow, rows, cols);
                                }
                                continue;
                            }
                            for (size_t h = 0; h < ntiles; h += 8) {
                                if (h + 8 <= ntiles && m * (tx0 + t0 + h + 8) <= W) {
                                    f->out_vector(Mr + o * 16 + h, b[co], act, dst + m * h, orow, rows);
                                } else {
                                    // The row's last tiles, as above.
                                    float y[4 * 32];   // 8 tiles' rows (m ≤ 4) as out_vector stores them
                                    f->out_vector(Mr + o * 16 + h, b[co], act, y, 8 * m, rows);
                                    store_tile(y, 8 * m, dst + m * h, orow, rows, least(8 * m, cols - m * h));
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    free(zero);
    return 0;
}
#endif

#if defined(__x86_64__)
#define VECTOR(f) f
#else
#define VECTOR(f) NULL
#endif
static const variant F2 = {2, 16, 64, 128, in_strip2_plain, out_tile2, VECTOR(in_strip2_avx2), VECTOR(out_tiles2_avx2), NULL, NULL};
static const variant F4 = {4, 36, 32, 96, in_strip4_plain, out_tile4, VECTOR(in_strip4_avx2), VECTOR(out_tiles4_avx2),
                           VECTOR(in_strip4_avx512), VECTOR(out_tiles4_avx512)};

// No memory for the block buffers (a smaller block cannot help either): NaN, so that a failure
// cannot pass for a result.
static void fill_nan(float *out, size_t Cout, size_t H, size_t W, size_t orow, size_t oplane) {
    for (size_t co = 0; co < Cout; co++)
        for (size_t y = 0; y < H; y++)
            for (size_t x = 0; x < W; x++) out[co * oplane + y * orow + x] = NAN;
}

// The vector path where the CPU has it (unless `plain_only`), else the plain one; NaN if neither ran.
static void dispatch(const variant *f, int plain_only, const float *xp, size_t xrow, size_t xplane, size_t C, size_t H, size_t W,
                     const float *u, const float *b, size_t Cout, int act, float *out, size_t orow, size_t oplane) {
#if defined(__x86_64__)
    const int level = lk_simd_level();
    if (!plain_only && level >= LK_SIMD_AVX2) {
        if (run_avx2(f, level >= LK_SIMD_AVX512, xp, xrow, xplane, C, H, W, u, b, Cout, act, out, orow, oplane) == 0) return;
    }
#endif
    if (run_plain(f, xp, xrow, xplane, C, H, W, u, b, Cout, act, out, orow, oplane) != 0) fill_nan(out, Cout, H, W, orow, oplane);
}

void lk_conv3_wino(const float *xp, size_t xrow, size_t xplane, size_t C, size_t H, size_t W, const float *u, const float *b,
                   size_t Cout, int act, float *out, size_t orow, size_t oplane) {
    dispatch(&F2, 0, xp, xrow, xplane, C, H, W, u, b, Cout, act, out, orow, oplane);
}

void lk_conv3_wino_reference(const float *xp, size_t xrow, size_t xplane, size_t C, size_t H, size_t W, const float *u,
                             const float *b, size_t Cout, int act, float *out, size_t orow, size_t oplane) {
    dispatch(&F2, 1, xp, xrow, xplane, C, H, W, u, b, Cout, act, out, orow, oplane);
}

void lk_conv3_wino4(const float *xp, size_t xrow, size_t xplane, size_t C, size_t H, size_t W, const float *u, const float *b,
                    size_t Cout, int act, float *out, size_t orow, size_t oplane) {
    dispatch(&F4, 0, xp, xrow, xplane, C, H, W, u, b, Cout, act, out, orow, oplane);
}

void lk_conv3_wino4_reference(const float *xp, size_t xrow, size_t xplane, size_t C, size_t H, size_t W, const float *u,
                              const float *b, size_t Cout, int act, float *out, size_t orow, size_t oplane) {
    dispatch(&F4, 1, xp, xrow, xplane, C, H, W, u, b, Cout, act, out, orow, oplane);
}

// ---- F(4x4, 3x3) weight gradient (training) -----------------------------------------------------
//
// The forward is Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A per tile, summed over input channels, so the
// gradient of the weights is dg = Gᵀ [Σ_tiles (A dY Aᵀ) ⊙ (Bᵀ d B)] G: the input tiles take the
// forward's transform, dY's 4x4 tiles A · Aᵀ (6x6), and the sum over tiles is, for each of
// the 36 transform elements, one (Cout x tiles) · (tiles x C) matrix product, which the caller
// runs on sgemm. A quarter of the direct gradient's multiply-adds.

// A · y of one 4-value column or row of dY's tile (six values out).
#define W4_GRAD(T, ADD, SUB, FMA, K, y0, y1, y2, y3, e)                        \
    do {                                                                     \
        const T p_ = FMA(K(4), y2, y0), q_ = FMA(K(8), y3, ADD(y1, y1));     \
        const T a_ = ADD(y0, y2), b_ = ADD(y1, y3);                           \
        e[0] = y0;                                                           \
        e[1] = ADD(a_, b_);                                                  \
        e[2] = SUB(a_, b_);                                                  \
        e[3] = ADD(p_, q_);                                                  \
        e[4] = SUB(p_, q_);                                                  \
        e[5] = y3;                                                           \
    } while (0)
#define P_FMA(a, b, c) ((a) * (b) + (c))

// A y Aᵀ of one tile: y[k][j] (4x4 of type T) through W4_GRAD down the columns, then along the
// rows; result e = 6i + j handed to PUT(e, value).
#define W4_GRAD_2D(T, ADD, SUB, FMA, K, y, PUT)                                                   \
    do {                                                                                         \
        T s_[6][4];                                                                              \
        for (int j_ = 0; j_ < 4; j_++) {                                                          \
            T e_[6];                                                                             \
            W4_GRAD(T, ADD, SUB, FMA, K, y[0][j_], y[1][j_], y[2][j_], y[3][j_], e_);             \
            for (int i_ = 0; i_ < 6; i_++) s_[i_][j_] = e_[i_];                                   \
        }                                                                                        \
        for (int i_ = 0; i_ < 6; i_++) {                                                          \
            T e_[6];                                                                             \
            W4_GRAD(T, ADD, SUB, FMA, K, s_[i_][0], s_[i_][1], s_[i_][2], s_[i_][3], e_);         \
            for (int j_ = 0; j_ < 6; j_++) PUT(6 * i_ + j_, e_[j_]);                              \
        }                                                                                        \
    } while (0)

// A dY Aᵀ of nt tiles side by side (d at the first tile's top left, rows W apart) into o[e · es + t].
static void grad_tiles_plain(const float *d, size_t W, size_t nt, float *o, size_t es) {
    for (size_t t = 0; t < nt; t++) {
        const float *c = d + 4 * t, *y[4] = {c, c + W, c + 2 * W, c + 3 * W};
#define PUT(e, x) o[(e) * es + t] = (x)
        W4_GRAD_2D(float, S_ADD, S_SUB, P_FMA, S_K, y, PUT);
#undef PUT
    }
}

typedef void (*strip_fn)(const float *const r[], size_t nt, size_t cols, float *v, size_t es);
typedef void (*grad_tiles_fn)(const float *d, size_t W, size_t nt, float *o, size_t es);

#if defined(__x86_64__)
// 8 tiles at a time (columns 4t ... 4t + 31 of the tile row), the rest plain.
__attribute__((target("avx2,fma"))) static void grad_tiles_avx2(const float *d, size_t W, size_t nt, float *o, size_t es) {
    size_t t = 0;
    for (; t + 8 <= nt; t += 8) {
        __m256 c[4][4];
        for (int k = 0; k < 4; k++) columns4(d + k * W + 4 * t, c[k]);
#define PUT(e, x) _mm256_storeu_ps(o + (e) * es + t, x)
        W4_GRAD_2D(__m256, V_ADD, V_SUB, V_FMA, V_K, c, PUT);
#undef PUT
    }
    grad_tiles_plain(d + 4 * t, W, nt - t, o + t, es);
}
#endif

// The widest input strip and dY tile transforms the CPU has (training needs no particular bits).
static strip_fn grad_strip(void) {
#if defined(__x86_64__)
    const int level = lk_simd_level();
    if (level >= LK_SIMD_AVX512) return in_strip4_avx512;
    if (level >= LK_SIMD_AVX2) return in_strip4_avx2;
#endif
    return in_strip4_plain;
}

static grad_tiles_fn grad_tiles(void) {
#if defined(__x86_64__)
    if (lk_simd_level() >= LK_SIMD_AVX2) return grad_tiles_avx2;
#endif
    return grad_tiles_plain;
}

void lk_wino4_grad_input(const float *xp, size_t xrow, size_t xplane, size_t C, size_t H, size_t W, float *v, size_t ld,
                         size_t es) {
    const size_t nty = H / 4, ntx = W / 4;
    const strip_fn strip = grad_strip();
    for (size_t ci = 0; ci < C; ci++)
        for (size_t ty = 0; ty < nty; ty++) {
            const float *r[6];
            for (int k = 0; k < 6; k++) r[k] = xp + ci * xplane + (4 * ty + (size_t)k) * xrow;
            strip(r, ntx, 4 * ntx + 2, v + ci * ld + ty * ntx, es);
        }
}

void lk_wino4_grad_output(const float *dy, size_t Cout, size_t H, size_t W, float *u, size_t ld, size_t es) {
    const size_t nty = H / 4, ntx = W / 4;
    const grad_tiles_fn tiles = grad_tiles();
    for (size_t co = 0; co < Cout; co++)
        for (size_t ty = 0; ty < nty; ty++) tiles(dy + (co * H + 4 * ty) * W, W, ntx, u + co * ld + ty * ntx, es);
}

void lk_wino4_grad_weights(const float *m, size_t C, size_t Cout, float *dw) {
    static const double G[6][3] = {{1.0 / 4, 0, 0},           {-1.0 / 6, -1.0 / 6, -1.0 / 6}, {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                   {1.0 / 24, 1.0 / 12, 1.0 / 6}, {1.0 / 24, -1.0 / 12, 1.0 / 6}, {0, 0, 1}};
    const size_t es = Cout * C;
    for (size_t co = 0; co < Cout; co++)
        for (size_t ci = 0; ci < C; ci++) {
            const float *x = m + co * C + ci;
            double t[3][6];
            for (int a = 0; a < 3; a++)   // Gᵀ X
                for (int j = 0; j < 6; j++) {
                    double s = 0;
                    for (int i = 0; i < 6; i++) s += G[i][a] * x[(6 * i + j) * es];
                    t[a][j] = s;
                }
            float *g = dw + (co * C + ci) * 9;
            for (int a = 0; a < 3; a++)   // (Gᵀ X) G
                for (int b = 0; b < 3; b++) {
                    double s = 0;
                    for (int j = 0; j < 6; j++) s += t[a][j] * G[j][b];
                    g[3 * a + b] += (float)s;
                }
        }
}
