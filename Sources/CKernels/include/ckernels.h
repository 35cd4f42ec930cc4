// CKernels: fused elementwise kernels for training and inference, and the exact convolution
// kernels of inference (direct, and Winograd F(2x2, 3x3) in winograd.c). Hot functions have an
// AVX2+FMA version and a plain one, picked at load time, so one binary runs everywhere and fast
// where it can; the exact kernels' two versions give the same bits.
#ifndef CKERNELS_H
#define CKERNELS_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Activation kinds (match Swift's `Activation`).
enum { LK_IDENTITY = 0, LK_RELU = 1, LK_LEAKY_RELU = 2, LK_SIGMOID = 3, LK_TANH = 4 };

/// y[r, :] = b for every row (the bias, before a GEMM with beta = 1).
void lk_fill_rows(float *y, const float *b, size_t rows, size_t cols);

/// y = f(y) in place.
void lk_activation_forward(int kind, float *y, size_t n, float slope);

/// dy *= f'(x) in place, where `y` = f(x) is the forward output.
void lk_activation_backward(int kind, float *dy, const float *y, size_t n, float slope);

/// db[c] += Σ_r dz[r, c]
void lk_add_column_sums(const float *dz, float *db, size_t rows, size_t cols);

/// Bernoulli cross-entropy from logits, summed: Σ max(l,0) − l·t + log(1 + e^−|l|).
/// Writes grad = σ(l) − t (if grad != NULL) and, if row_loss != NULL, each row's sum.
double lk_bce_logits(const float *logits, const float *target, float *grad, float *row_loss,
                     size_t rows, size_t cols);

/// Squared error Σ (y − t)²; grad = 2 (y − t) (if grad != NULL); per-row sums if row_loss.
double lk_squared_error(const float *y, const float *target, float *grad, float *row_loss,
                        size_t rows, size_t cols);

/// out = σ(x)
void lk_sigmoid(const float *x, float *out, size_t n);

/// VAE reparameterisation on `stats` = [mu | logvar] rows of 2·z: out_z = mu + eps·exp(logvar/2).
/// Returns the KL term Σ −½(1 + logvar − mu² − e^logvar) (per-row sums in row_kl if given).
double lk_vae_sample(const float *stats, const float *eps, float *out_z, float *row_kl,
                     size_t rows, size_t z);

/// Backward of `lk_vae_sample` plus β·KL: d_stats = [dz + β·mu | dz·eps·½e^(logvar/2) + β·½(e^logvar − 1)].
void lk_vae_sample_backward(const float *stats, const float *eps, const float *dz, float *d_stats,
                            size_t rows, size_t z, float beta);

/// One Adam step (PyTorch's form): m ← β1 m + (1−β1) g; v ← β2 v + (1−β2) g²;
/// p ← p − step · m / (√v / bc2_sqrt + eps), with weight decay wd added to g first.
/// Clears g afterwards when zero_grad is set.
void lk_adam(float *p, float *g, float *m, float *v, size_t n, float step, float beta1,
             float beta2, float bc2_sqrt, float eps, float wd, int zero_grad);

/// y += a·x
void lk_axpy(float *y, const float *x, float a, size_t n);

/// Vector exp and log used by the kernels (max relative error about 2e-7 / 1e-7).
void lk_exp(const float *x, float *out, size_t n);
void lk_log(const float *x, float *out, size_t n);

#ifdef __cplusplus
}
#endif

#ifdef __cplusplus
extern "C" {
#endif
/// y = x · wᵀ + b for x (rows, in), w (out, in), b (out), y (rows, out), computed so that each
/// y[r, j] comes out bit-identical whatever the other rows are and however many there are: every
/// row runs the same instruction sequence (8-lane partial sums over k, a fixed reduction, the
/// tail). For inference whose output must not depend on batching. Rows are blocked by 8 so each
/// weight row is loaded once per 8 input rows.
void lk_dense_forward_exact(const float *x, size_t rows, size_t in, const float *w, const float *b,
                            size_t out, float *y);
#ifdef __cplusplus
}
#endif

#ifdef __cplusplus
extern "C" {
#endif
/// im2col for a k x k convolution, stride 1, zero padding k/2: x (C, H, W) →
/// cols (C·k·k, H·W), row (c·k + ky)·k + kx.
void lk_im2col(const float *x, size_t C, size_t H, size_t W, size_t k, float *cols);

/// The adjoint of lk_im2col: dx (C, H, W) += the columns scattered back.
void lk_col2im_add(const float *cols, size_t C, size_t H, size_t W, size_t k, float *dx);

/// im2col for any stride and zero padding: cols (C·k·k, Ho·Wo), entry (c·k + ky)·k + kx, (oy, ox) =
/// x[c, oy·stride + ky − pad, ox·stride + kx − pad] (0 outside the image).
void lk_im2col_strided(const float *x, size_t C, size_t H, size_t W, size_t k, size_t stride, size_t pad, size_t Ho,
                       size_t Wo, float *cols);

/// The adjoint of lk_im2col_strided: dx (C, H, W) += the columns scattered back.
void lk_col2im_add_strided(const float *cols, size_t C, size_t H, size_t W, size_t k, size_t stride, size_t pad, size_t Ho,
                           size_t Wo, float *dx);

/// The widest vector path the exact kernels (convolutions, Winograd, dense rows, halves) take:
/// the CPU's best (AVX-512F, else AVX2 + FMA, else plain C), lowered by the environment variable
/// LATENT_SIMD=avx2 or LATENT_SIMD=plain (read once; for benchmarks side by side) and by
/// lk_simd_cap on the calling thread (tests). Every path gives the same bits.
enum { LK_SIMD_PLAIN = 0, LK_SIMD_AVX2 = 1, LK_SIMD_AVX512 = 2 };
int lk_simd_level(void);
/// Caps lk_simd_level on the calling thread at `level`; −1 lifts the cap.
void lk_simd_cap(int level);
/// Whether the CPU has a level's instructions, whatever LATENT_SIMD says (for AVX-512: F, CD, BW,
/// DQ and VL, what Skylake-SP and later have and OpenBLAS's "SkylakeX" kernels use).
int lk_cpu_has(int level);

/// Direct k x k convolution (stride 1) for inference, bit-exact whatever the image size or
/// where a tile starts: out[co, y, x] = act(b[co] + Σ_ci Σ_ky Σ_kx w[co, ci, ky, kx] ·
/// xp[ci, y + ky, x + kx]), accumulated with fused multiply-adds in that order for every pixel.
/// xp is the input already zero-padded by k/2 on each side: (C, H + k − 1, W + k − 1).
/// act: LK_IDENTITY or LK_RELU.
void lk_conv_exact(const float *xp, size_t C, size_t H, size_t W, size_t k, const float *w, const float *b,
                   size_t Cout, int act, float *out);

/// lk_conv_exact on strided planes: xp points at input pixel (−k/2, −k/2) of channel 0, rows
/// xrow and channels xplane floats apart; out rows orow and channels oplane apart (so a layer can
/// write straight into the interior of the next layer's zero-padded buffer).
void lk_conv_exact_strided(const float *xp, size_t xrow, size_t xplane, size_t C, size_t H, size_t W, size_t k,
                           const float *w, const float *b, size_t Cout, int act, float *out, size_t orow, size_t oplane);

/// The same sums one pixel and one output channel at a time, plain C: what the vector kernel
/// must equal bit for bit (tests).
void lk_conv_reference(const float *xp, size_t C, size_t H, size_t W, size_t k, const float *w, const float *b,
                       size_t Cout, int act, float *out);

/// U-Net join: out[c, y, x] = max(0, skip[c, y, x] + t[4c + 2(y mod 2) + (x mod 2), y/2, x/2]),
/// skip (C, H, W) dense, t (4C, H/2, W/2) dense, out strided (rows orow, channels oplane apart).
void lk_shuffle_add_relu(const float *t, const float *skip, size_t C, size_t H, size_t W, float *out, size_t orow,
                         size_t oplane);

/// Floats of a layer's weights packed for the vector kernel (output channels in blocks of 6).
size_t lk_conv_packed_size(size_t C, size_t k, size_t Cout);
/// Packs w (Cout, C, k, k) into wr (lk_conv_packed_size floats), once per layer and image rather
/// than once per call.
void lk_conv_pack(const float *w, size_t C, size_t k, size_t Cout, float *wr);
/// Whether lk_conv_exact_packed uses packed weights on this CPU (else it reads only w).
int lk_conv_uses_packed(void);
/// lk_conv_exact_strided with the weights packed beforehand (wr from lk_conv_pack, or NULL);
/// w (unpacked) is still read for rows narrower than the vector block. The same sums bit for bit.
void lk_conv_exact_packed(const float *xp, size_t xrow, size_t xplane, size_t C, size_t H, size_t W, size_t k,
                          const float *wr, const float *w, const float *b, size_t Cout, int act, float *out, size_t orow,
                          size_t oplane);

/// Rows of a pixel unshuffle: u[4c + 2dy + dx, y, x] = x[c, 2y + dy, 2x + dx] for y < rows; x at
/// its row 2·y0, u at its row y0; rows and channels of each strided as given.
void lk_unshuffle_rows(const float *x, size_t xrow, size_t xplane, size_t C, size_t W, size_t rows, float *u, size_t urow,
                       size_t uplane);

/// Rows y0 ..< y0 + rows of the U-Net join (see lk_shuffle_add_relu), each operand strided: skip
/// and out point at row y0, t at row y0 / 2.
void lk_shuffle_add_relu_rows(const float *t, size_t trow, size_t tplane, const float *skip, size_t srow, size_t splane,
                              size_t C, size_t W, size_t y0, size_t rows, float *out, size_t orow, size_t oplane);

/// Winograd F(2x2, 3x3) for wide 3x3 layers (see winograd.c). Whether a layer uses it (C and Cout
/// at least 16), its packed weights (lk_wino_packed_size floats, from w (Cout, C, 3, 3)), and the
/// layer: xp at input pixel (−1, −1), rows −1 ... H and columns −1 ... W readable; tiles on even
/// rows and columns from the call's first row and column. A tile's top output row reads only its
/// first three input rows and its bottom row only its last three, so rows come out the same
/// whatever call computes them (calls starting on even rows). The reference is the plain path,
/// which the vector path equals bit for bit.
int lk_wino_applies(size_t C, size_t Cout);
/// Whether a 3x3 layer is worth running on F(4x4, 3x3) (fewer input channels than F(2x2) needs).
int lk_wino4_applies(size_t C, size_t Cout);
size_t lk_wino_packed_size(size_t C, size_t Cout);
void lk_wino_pack(const float *w, size_t C, size_t Cout, float *u);
void lk_conv3_wino(const float *xp, size_t xrow, size_t xplane, size_t C, size_t H, size_t W, const float *u, const float *b,
                   size_t Cout, int act, float *out, size_t orow, size_t oplane);
void lk_conv3_wino_reference(const float *xp, size_t xrow, size_t xplane, size_t C, size_t H, size_t W, const float *u,
                             const float *b, size_t Cout, int act, float *out, size_t orow, size_t oplane);

/// Winograd F(4x4, 3x3) (see winograd.c): 36 products per 4x4 output tile instead of 16 per 2x2
/// (0.56 times the multiply-adds), for layers whose calls start on rows and columns that are
/// multiples of 4 of the map: a tile's rows are exact only in exact arithmetic, so in floats an
/// output depends on the whole tile's input (three rows and columns each side, not one), and a
/// call must end on a tile's last row or on the map's last. Packed weights
/// (lk_wino4_packed_size floats), the layer (xp at input pixel (−1, −1) as lk_conv3_wino), and
/// the plain reference, which the vector path equals bit for bit.
size_t lk_wino4_packed_size(size_t C, size_t Cout);
void lk_wino4_pack(const float *w, size_t C, size_t Cout, float *u);
void lk_conv3_wino4(const float *xp, size_t xrow, size_t xplane, size_t C, size_t H, size_t W, const float *u, const float *b,
                    size_t Cout, int act, float *out, size_t orow, size_t oplane);
void lk_conv3_wino4_reference(const float *xp, size_t xrow, size_t xplane, size_t C, size_t H, size_t W, const float *u,
                              const float *b, size_t Cout, int act, float *out, size_t orow, size_t oplane);

/// The weight gradient of a 3x3 "same" layer on F(4x4, 3x3) (training; H and W multiples of 4):
/// dW[co, ci] = Gᵀ [Σ_tiles (A dY Aᵀ) ⊙ (Bᵀ x B)] G. lk_wino4_grad_input transforms the input's
/// tiles (xp at pixel (−1, −1) as lk_conv3_wino4): tile t of channel ci's element e goes to
/// v[e · es + ci · ld + t], tiles row by row; lk_wino4_grad_output likewise dY (Cout, H, W) into
/// u[e · es + co · ld + t]; the caller sums over tiles per element, M[e] (Cout x C) = U[e] · V[e]ᵀ,
/// and lk_wino4_grad_weights adds Gᵀ M G from m[e · Cout · C + co · C + ci] to dw (Cout, C, 3, 3).
void lk_wino4_grad_input(const float *xp, size_t xrow, size_t xplane, size_t C, size_t H, size_t W, float *v, size_t ld,
                         size_t es);
void lk_wino4_grad_output(const float *dy, size_t Cout, size_t H, size_t W, float *u, size_t ld, size_t es);
void lk_wino4_grad_weights(const float *m, size_t C, size_t Cout, float *dw);

/// IEEE half precision (binary16) for stored rows: n floats to halves (rounded to nearest even)
/// and back; lk_round_half does both in place (what a value stored as a half reads back as).
/// The references are the plain code, which the F16C path equals bit for bit.
void lk_to_half(const float *x, uint16_t *y, size_t n);
void lk_from_half(const uint16_t *x, float *y, size_t n);
/// The same for `planes` rows of n values, planes xplane apart in x and yplane apart in y (one
/// call for a row of every channel of a feature map: the path is chosen once).
void lk_to_half_planes(const float *x, size_t xplane, uint16_t *y, size_t yplane, size_t n, size_t planes);
void lk_from_half_planes(const uint16_t *x, size_t xplane, float *y, size_t yplane, size_t n, size_t planes);
void lk_to_half_reference(const float *x, uint16_t *y, size_t n);
void lk_from_half_reference(const uint16_t *x, float *y, size_t n);
void lk_round_half(float *x, size_t n);
/// lk_unshuffle_rows and lk_shuffle_add_relu_rows with x or skip stored as halves (strides in
/// halves); `row` is room for 2W floats (unshuffle) or W floats (shuffle).
void lk_unshuffle_rows_half(const uint16_t *x, size_t xrow, size_t xplane, size_t C, size_t W, size_t rows, float *u,
                            size_t urow, size_t uplane, float *row);
void lk_shuffle_add_relu_rows_half(const float *t, size_t trow, size_t tplane, const uint16_t *skip, size_t srow,
                                   size_t splane, size_t C, size_t W, size_t y0, size_t rows, float *out, size_t orow,
                                   size_t oplane, float *row);

/// out = max(0, a + b), n values (a residual block's output).
void lk_add_relu(const float *a, const float *b, float *out, size_t n);
/// Collaborative Wiener filtering of noisy planes guided by a pilot (BM3D's second stage; see
/// bmwiener.c). Plane 0 is the one blocks are matched on.
typedef struct {
    int width, height, planes;  // image size; planes 1-3
    int step;                   // spacing of the reference blocks (8x8)
    int radius;                 // search window ±radius around a reference
    int stride;                 // candidates every `stride` pixels of the window (1: all)
    int group;                  // most blocks in a group (≤ 32; a power of two is used)
    float tau;                  // match threshold: mean squared difference per pixel on plane 0
    float sigma[3];             // the noise σ of each plane
} lk_bmw_params;

/// Filters the reference blocks of row `ref_y`: z, y, num, den are tables of row pointers,
/// entry plane * height + row (z, y: the noisy image and the pilot as IEEE halves; num/den:
/// accumulators of the weighted estimates and weights, to be divided). Reads rows ref_y − radius ..< ref_y + radius + 8 of z and y and adds into the same
/// rows of num and den. Call for ref rows in the order lk_bmw_next_ref_row gives, from 0.
void lk_bmw_row(const lk_bmw_params *p, int ref_y, const uint16_t *const *z, const uint16_t *const *y,
                float *const *num, float *const *den);

/// The reference row after `ref_y` (−1 after the last).
int lk_bmw_next_ref_row(const lk_bmw_params *p, int ref_y);

#ifdef __cplusplus
}
#endif

#endif /* CKERNELS_H */
