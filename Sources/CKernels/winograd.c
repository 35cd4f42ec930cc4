// Winograd F(2x2, 3x3) for the wide 3x3 layers of the photo models: each 2x2 output tile is
// computed from a 4x4 input tile with 16 multiply-adds per input/output channel pair instead of
// 36. Tiles sit on even rows and columns of the map being computed, so every output pixel gets
// the same operations wherever a call's rows start (an even row) and however the columns are
// split (at even columns): row streaming equals whole-image inference bit for bit. The vector
// and plain paths do the same operations in the same order (one fused multiply-add per input
// channel, fixed transform sums), so their results are identical too.
#include "ckernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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

int lk_wino_applies(size_t C, size_t Cout) { return C >= 16 && Cout >= 16; }

// Bᵀ d B of one 4x4 tile (d rows r0..r3 from column 0), into v[e · es].
static inline void in_tile(const float *r0, const float *r1, const float *r2, const float *r3, float *v, size_t es) {
    float s[4][4];
    for (int j = 0; j < 4; j++) {
        const float d0 = r0[j], d1 = r1[j], d2 = r2[j], d3 = r3[j];
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

// Input transform of nt tiles of one channel: tile t reads columns 2t..2t+3 of rows r0..r3
// (pointers at the strip's column 0, i.e. input column −1 of its first tile); columns at or
// beyond `cols` (the readable width from the strip's start) are taken as zero. Writes v[e·es + t].
static void in_strip_plain(const float *r0, const float *r1, const float *r2, const float *r3, size_t nt, size_t cols,
                           float *v, size_t es) {
    size_t t = 0;
    for (; t < nt && 2 * t + 4 <= cols; t++) in_tile(r0 + 2 * t, r1 + 2 * t, r2 + 2 * t, r3 + 2 * t, v + t, es);
    for (; t < nt; t++) {
        float q[4][4];
        for (int j = 0; j < 4; j++) {
            const size_t c = 2 * t + j;
            q[0][j] = c < cols ? r0[c] : 0;
            q[1][j] = c < cols ? r1[c] : 0;
            q[2][j] = c < cols ? r2[c] : 0;
            q[3][j] = c < cols ? r3[c] : 0;
        }
        in_tile(q[0], q[1], q[2], q[3], v + t, es);
    }
}

// Aᵀ m A of one tile's 16 products (m[e]), plus bias and activation: y00 y01 / y10 y11.
static inline void out_tile(const float *m, size_t ms, float b, int act, float y[4]) {
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

// Tiles per block: the block's transformed input (16 · C · TB floats) stays in L2.
static size_t tiles_per_block(size_t C) { return C >= 128 ? 32 : 64; }

/// The plain path (any CPU), and the reference the vector path must equal bit for bit.
static int wino_plain(const float *xp, size_t xrow, size_t xplane, size_t C, size_t H, size_t W, const float *u,
                      const float *b, size_t Cout, int act, float *out, size_t orow, size_t oplane, int odd) {
    // An odd first row: tiles start one row above it, whose output is not stored.
    if (odd) { xp -= xrow; H += 1; }
    const size_t nb = (Cout + 5) / 6, ntx = (W + 1) / 2, nty = (H + 1) / 2, TB = tiles_per_block(C);
    float *V = malloc(16 * C * TB * sizeof(float));
    float *zero = calloc(W + 8, sizeof(float));
    if (V == NULL || zero == NULL) { free(V); free(zero); return -1; }
    for (size_t ty = 0; ty < nty; ty++) {
        for (size_t tx0 = 0; tx0 < ntx; tx0 += TB) {
            const size_t nt = ntx - tx0 < TB ? ntx - tx0 : TB;
            for (size_t ci = 0; ci < C; ci++) {
                const float *r[4];
                for (int k = 0; k < 4; k++) r[k] = 2 * ty + k <= H + 1 ? xp + ci * xplane + (2 * ty + k) * xrow + 2 * tx0 : zero;
                in_strip_plain(r[0], r[1], r[2], r[3], nt, W + 2 - 2 * tx0, V + ci * TB, C * TB);
            }
            for (size_t co = 0; co < Cout; co++) {
                const size_t blk = co / 6, o = co % 6;
                for (size_t t = 0; t < nt; t++) {
                    float m[16], y[4];
                    for (int e = 0; e < 16; e++) {
                        float acc = 0;
                        const float *ue = u + ((e * nb + blk) * C) * 6 + o, *ve = V + e * C * TB + t;
                        for (size_t ci = 0; ci < C; ci++) acc = fmaf(ue[ci * 6], ve[ci * TB], acc);
                        m[e] = acc;
                    }
                    out_tile(m, 1, b[co], act, y);
                    const size_t oy = 2 * ty, ox = 2 * (tx0 + t);
                    float *dst = out + co * oplane + ox;   // row oy − odd of the call's output
                    if (!(odd && ty == 0)) {
                        float *d0 = dst + (oy - odd) * orow;
                        d0[0] = y[0];
                        if (ox + 1 < W) d0[1] = y[1];
                    }
                    if (oy + 1 < H) {
                        float *d1 = dst + (oy + 1 - odd) * orow;
                        d1[0] = y[2];
                        if (ox + 1 < W) d1[1] = y[3];
                    }
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

__attribute__((target("avx2,fma"))) static void in_strip_avx2(const float *r0, const float *r1, const float *r2, const float *r3,
                                                             size_t nt, size_t cols, float *v, size_t es) {
    size_t t = 0;
    // 8 tiles at a time: columns 2t..2t+17 of each row, split into the tiles' columns 0-3.
    const __m256i even = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
    for (; t + 8 <= nt && 2 * t + 18 <= cols; t += 8) {
        __m256 d[4][4];
        const float *rows[4] = {r0 + 2 * t, r1 + 2 * t, r2 + 2 * t, r3 + 2 * t};
        for (int k = 0; k < 4; k++) {
            // a = cols 0..7, b = 8..15 → evens (col 0 of each tile) and odds (col 1); shifted by 2 for cols 2, 3.
            __m256 a = _mm256_permutevar8x32_ps(_mm256_loadu_ps(rows[k]), even);
            __m256 bb = _mm256_permutevar8x32_ps(_mm256_loadu_ps(rows[k] + 8), even);
            __m256 a2 = _mm256_permutevar8x32_ps(_mm256_loadu_ps(rows[k] + 2), even);
            __m256 b2 = _mm256_permutevar8x32_ps(_mm256_loadu_ps(rows[k] + 10), even);
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
    in_strip_plain(r0 + 2 * t, r1 + 2 * t, r2 + 2 * t, r3 + 2 * t, nt - t, cols - 2 * t, v + t, es);
}

__attribute__((target("avx2,fma"))) static int wino_avx2(const float *xp, size_t xrow, size_t xplane, size_t C, size_t H, size_t W,
                                                        const float *u, const float *b, size_t Cout, int act, float *out,
                                                        size_t orow, size_t oplane, int odd) {
    if (odd) { xp -= xrow; H += 1; }
    const size_t nb = (Cout + 5) / 6, ntx = (W + 1) / 2, nty = (H + 1) / 2, TB = tiles_per_block(C);
    float *V = aligned_alloc(64, 16 * C * TB * sizeof(float));
    float *M = aligned_alloc(64, 16 * 6 * 16 * sizeof(float));
    float *zero = calloc(W + 24, sizeof(float));
    if (V == NULL || M == NULL || zero == NULL) { free(V); free(M); free(zero); return -1; }
    for (size_t ty = 0; ty < nty; ty++) {
        const int top = !(odd && ty == 0), both = 2 * ty + 1 < H;
        for (size_t tx0 = 0; tx0 < ntx; tx0 += TB) {
            const size_t nt = ntx - tx0 < TB ? ntx - tx0 : TB, nt16 = (nt + 15) / 16 * 16;
            for (size_t ci = 0; ci < C; ci++) {
                const float *r[4];
                for (int k = 0; k < 4; k++) r[k] = 2 * ty + k <= H + 1 ? xp + ci * xplane + (2 * ty + k) * xrow + 2 * tx0 : zero;
                float *vc = V + ci * TB;
                in_strip_avx2(r[0], r[1], r[2], r[3], nt, W + 2 - 2 * tx0, vc, C * TB);
                for (int e = 0; e < 16; e++) memset(vc + e * C * TB + nt, 0, (nt16 - nt) * sizeof(float));
            }
            for (size_t blk = 0; blk < nb; blk++) {
                const size_t co0 = blk * 6, nco = Cout - co0 < 6 ? Cout - co0 : 6;
                for (size_t t0 = 0; t0 < nt; t0 += 16) {
                    for (int e = 0; e < 16; e++) {
                        const float *ue = u + (e * nb + blk) * C * 6, *ve = V + e * C * TB + t0;
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
                        float *me = M + e * 96;   // M[e][o][16]
                        _mm256_store_ps(me + 0, a00); _mm256_store_ps(me + 8, a01);
                        _mm256_store_ps(me + 16, a10); _mm256_store_ps(me + 24, a11);
                        _mm256_store_ps(me + 32, a20); _mm256_store_ps(me + 40, a21);
                        _mm256_store_ps(me + 48, a30); _mm256_store_ps(me + 56, a31);
                        _mm256_store_ps(me + 64, a40); _mm256_store_ps(me + 72, a41);
                        _mm256_store_ps(me + 80, a50); _mm256_store_ps(me + 88, a51);
                    }
                    const size_t ntiles = nt - t0 < 16 ? nt - t0 : 16;
                    for (size_t o = 0; o < nco; o++) {
                        const size_t co = co0 + o;
                        // Row 2·ty of the tiles is output row 2·ty − odd of the call (never −1: not stored).
                        float *dst0 = out + co * oplane + (2 * ty + 1 - odd) * orow - orow + 2 * (tx0 + t0);
                        const __m256 bv = _mm256_set1_ps(b[co]), zv = _mm256_setzero_ps();
                        for (size_t h = 0; h < 16; h += 8) {
                            const float *m = M + o * 16 + h;
                            if (h + 8 <= ntiles && 2 * (tx0 + t0 + h + 8) <= W) {
                                __m256 r0[4], r1[4];
                                for (int j = 0; j < 4; j++) {
                                    const __m256 mj = _mm256_load_ps(m + j * 96), m4 = _mm256_load_ps(m + (4 + j) * 96);
                                    const __m256 m8 = _mm256_load_ps(m + (8 + j) * 96), m12 = _mm256_load_ps(m + (12 + j) * 96);
                                    r0[j] = _mm256_add_ps(_mm256_add_ps(mj, m4), m8);
                                    r1[j] = _mm256_sub_ps(_mm256_sub_ps(m4, m8), m12);
                                }
                                __m256 y00 = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(r0[0], r0[1]), r0[2]), bv);
                                __m256 y01 = _mm256_add_ps(_mm256_sub_ps(_mm256_sub_ps(r0[1], r0[2]), r0[3]), bv);
                                __m256 y10 = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(r1[0], r1[1]), r1[2]), bv);
                                __m256 y11 = _mm256_add_ps(_mm256_sub_ps(_mm256_sub_ps(r1[1], r1[2]), r1[3]), bv);
                                if (act == LK_RELU) {
                                    y00 = _mm256_max_ps(y00, zv); y01 = _mm256_max_ps(y01, zv);
                                    y10 = _mm256_max_ps(y10, zv); y11 = _mm256_max_ps(y11, zv);
                                }
                                // Interleave each row's two columns: tile i → output columns 2i, 2i+1.
                                __m256 lo, hi;
                                if (top) {
                                    lo = _mm256_unpacklo_ps(y00, y01);
                                    hi = _mm256_unpackhi_ps(y00, y01);
                                    _mm256_storeu_ps(dst0 + 2 * h, _mm256_permute2f128_ps(lo, hi, 0x20));
                                    _mm256_storeu_ps(dst0 + 2 * h + 8, _mm256_permute2f128_ps(lo, hi, 0x31));
                                }
                                if (both) {
                                    lo = _mm256_unpacklo_ps(y10, y11);
                                    hi = _mm256_unpackhi_ps(y10, y11);
                                    _mm256_storeu_ps(dst0 + orow + 2 * h, _mm256_permute2f128_ps(lo, hi, 0x20));
                                    _mm256_storeu_ps(dst0 + orow + 2 * h + 8, _mm256_permute2f128_ps(lo, hi, 0x31));
                                }
                            } else {
                                for (size_t i = h; i < h + 8 && i < ntiles; i++) {
                                    float y[4];
                                    out_tile(M + o * 16 + i, 96, b[co], act, y);
                                    const size_t ox = 2 * (tx0 + t0 + i);
                                    float *dst = dst0 + 2 * i;
                                    if (top) {
                                        dst[0] = y[0];
                                        if (ox + 1 < W) dst[1] = y[1];
                                    }
                                    if (both) {
                                        dst[orow] = y[2];
                                        if (ox + 1 < W) dst[orow + 1] = y[3];
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    free(V);
    free(M);
    free(zero);
    return 0;
}
#endif

// No memory for the block buffers (a smaller block cannot help either): NaN, so that a failure
// cannot pass for a result.
static void fill_nan(float *out, size_t Cout, size_t H, size_t W, size_t orow, size_t oplane) {
    for (size_t co = 0; co < Cout; co++)
        for (size_t y = 0; y < H; y++)
            for (size_t x = 0; x < W; x++) out[co * oplane + y * orow + x] = NAN;
}

void lk_conv3_wino(const float *xp, size_t xrow, size_t xplane, size_t C, size_t H, size_t W, const float *u, const float *b,
                   size_t Cout, int act, float *out, size_t orow, size_t oplane, int odd) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        if (wino_avx2(xp, xrow, xplane, C, H, W, u, b, Cout, act, out, orow, oplane, odd) == 0) return;
    }
#endif
    if (wino_plain(xp, xrow, xplane, C, H, W, u, b, Cout, act, out, orow, oplane, odd) != 0) fill_nan(out, Cout, H, W, orow, oplane);
}

void lk_conv3_wino_reference(const float *xp, size_t xrow, size_t xplane, size_t C, size_t H, size_t W, const float *u,
                             const float *b, size_t Cout, int act, float *out, size_t orow, size_t oplane, int odd) {
    if (wino_plain(xp, xrow, xplane, C, H, W, u, b, Cout, act, out, orow, oplane, odd) != 0) fill_nan(out, Cout, H, W, orow, oplane);
}
