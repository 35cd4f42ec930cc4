// The 1x1 and narrow convolution blocks of conv.c, written once over the vector width. conv.c
// includes this file once per width (no include guard), with these defined (the file undefines
// them at its end, ready for the next width):
//   SUFFIX               the functions' name suffix (conv1x1_SUFFIX, conv_narrow_SUFFIX)
//   TARGET               their attribute, e.g. __attribute__((target("avx2,fma")))
//   V, L                 the vector type and how many floats it holds
//   V_ZERO(), V_LOAD(p), V_LOADU(p), V_STORE(p, v), V_STOREU(p, v), V_SET1(x), V_FMADD(a, b, c),
//   V_ADD(a, b), V_MAX(a, b)
// Every pixel sees the same fma sequence (ci, ky, kx order, from zero, then the bias) at every
// width and in the 6 x 16 blocks of conv_avx2, so the widths give the same bits.

#define CB_CAT_(a, b) a##b
#define CB_CAT(a, b) CB_CAT_(a, b)

// 1x1 layers (a GEMM): 6 output channels x 2L pixels per block. Each 2L-pixel column block of
// the input is packed once (C x 2L floats, contiguous, in L1) and then read by every
// output-channel block. W >= 2L. Returns 0, or -1 (output unwritten) when the pack cannot be
// allocated.
TARGET static int CB_CAT(conv1x1_, SUFFIX)(const float *xp, size_t xrow, size_t xplane, size_t C, size_t H, size_t W,
                                           const float *wr, const float *b, size_t Cout, int act, float *out, size_t orow,
                                           size_t oplane) {
    const size_t nblk = (Cout + 5) / 6, B = 2 * L;
    float *pk = aligned_alloc(64, (C * B * sizeof(float) + 63) / 64 * 64);
    if (pk == NULL) return -1;
    for (size_t y = 0; y < H; y++) {
        for (size_t x = 0, bx; x < W; x = bx + B) {
            bx = x + B <= W ? x : W - B;   // the last block overlaps the one before: the same values again
            for (size_t ci = 0; ci < C; ci++) {
                const float *src = xp + ci * xplane + y * xrow + bx;
                V_STORE(pk + ci * B, V_LOADU(src));
                V_STORE(pk + ci * B + L, V_LOADU(src + L));
            }
            for (size_t blk = 0; blk < nblk; blk++) {
                const size_t co0 = blk * 6, nco = Cout - co0 < 6 ? Cout - co0 : 6;
                const float *wt = wr + blk * C * 6;
                V a[6][2];
                for (int o = 0; o < 6; o++) a[o][0] = a[o][1] = V_ZERO();
                const float *v = pk;
                for (size_t ci = 0; ci < C; ci++, wt += 6, v += B) {
                    const V v0 = V_LOAD(v), v1 = V_LOAD(v + L);
                    for (int o = 0; o < 6; o++) {
                        const V wv = V_SET1(wt[o]);
                        a[o][0] = V_FMADD(wv, v0, a[o][0]);
                        a[o][1] = V_FMADD(wv, v1, a[o][1]);
                    }
                }
                for (size_t o = 0; o < nco; o++) {
                    const V bv = V_SET1(b[co0 + o]);
                    float *dst = out + (co0 + o) * oplane + y * orow + bx;
                    for (int j = 0; j < 2; j++) {
                        V r = V_ADD(a[o][j], bv);
                        if (act == LK_RELU) r = V_MAX(r, V_ZERO());
                        V_STOREU(dst + L * j, r);
                    }
                }
            }
        }
    }
    free(pk);
    return 0;
}

// A layer of at most 3 output channels (the photo models' tail), k x k, W >= 4L: 3 channels x
// 4L pixels per block instead of 6 x 2L with half the channels padding.
TARGET static void CB_CAT(conv_narrow_, SUFFIX)(const float *xp, size_t xrow, size_t xplane, size_t C, size_t H, size_t W,
                                                size_t k, const float *wr, const float *b, size_t Cout, int act, float *out,
                                                size_t orow, size_t oplane) {
    const size_t B = 4 * L;
    for (size_t y = 0; y < H; y++) {
        for (size_t x = 0, bx; x < W; x = bx + B) {
            bx = x + B <= W ? x : W - B;
            V a[3][4];
            for (int o = 0; o < 3; o++)
                for (int j = 0; j < 4; j++) a[o][j] = V_ZERO();
            const float *wt = wr;
            for (size_t ci = 0; ci < C; ci++) {
                const float *plane = xp + ci * xplane + y * xrow + bx;
                for (size_t ky = 0; ky < k; ky++) {
                    const float *row = plane + ky * xrow;
                    for (size_t kx = 0; kx < k; kx++, wt += 6) {
                        V v[4];
                        for (int j = 0; j < 4; j++) v[j] = V_LOADU(row + kx + L * j);
                        for (int o = 0; o < 3; o++) {
                            const V wv = V_SET1(wt[o]);
                            for (int j = 0; j < 4; j++) a[o][j] = V_FMADD(wv, v[j], a[o][j]);
                        }
                    }
                }
            }
            for (size_t o = 0; o < Cout; o++) {
                const V bv = V_SET1(b[o]);
                for (int j = 0; j < 4; j++) {
                    V r = V_ADD(a[o][j], bv);
                    if (act == LK_RELU) r = V_MAX(r, V_ZERO());
                    V_STOREU(out + o * oplane + y * orow + bx + L * j, r);
                }
            }
        }
    }
}

#undef CB_CAT
#undef CB_CAT_
#undef SUFFIX
#undef TARGET
#undef V
#undef L
#undef V_ZERO
#undef V_LOAD
#undef V_LOADU
#undef V_STORE
#undef V_STOREU
#undef V_SET1
#undef V_FMADD
#undef V_ADD
#undef V_MAX
