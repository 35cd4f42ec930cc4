#include "ckernels.h"

#include <math.h>
#include <string.h>

#ifndef __has_feature
#define __has_feature(x) 0
#endif
// target_clones resolvers are ifuncs: they run before ThreadSanitizer's runtime is up and kill
// every instrumented binary at load, so sanitizer builds use the portable code only.
#if defined(__x86_64__) && defined(__clang__) && !__has_feature(thread_sanitizer) && !__has_feature(address_sanitizer)
#define LK_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define LK_CLONES
#endif

// Cephes-style exp: range reduction by ln 2, degree-6 polynomial, exponent by bit shift.
static inline float lk_expf(float x) {
    x = x > 88.3762626647949f ? 88.3762626647949f : x;
    x = x < -87.3365447504f ? -87.3365447504f : x;
    float fx = floorf(x * 1.44269504088896341f + 0.5f);
    float r = x - fx * 0.693359375f + fx * 2.12194440e-4f;
    float z = r * r;
    float y = 1.9875691500E-4f;
    y = y * r + 1.3981999507E-3f;
    y = y * r + 8.3334519073E-3f;
    y = y * r + 4.1665795894E-2f;
    y = y * r + 1.6666665459E-1f;
    y = y * r + 5.0000001201E-1f;
    y = y * z + r + 1.0f;
    int32_t e = (int32_t)fx + 127;
    uint32_t bits = (uint32_t)e << 23;
    float scale;
    memcpy(&scale, &bits, 4);
    return y * scale;
}

// Cephes-style log for x > 0 (normal numbers).
static inline float lk_logf(float x) {
    uint32_t bits;
    memcpy(&bits, &x, 4);
    int32_t e = (int32_t)((bits >> 23) & 0xff) - 126;
    bits = (bits & 0x807fffffu) | 0x3f000000u;  // mantissa in [0.5, 1)
    float m;
    memcpy(&m, &bits, 4);
    int small = m < 0.707106781186547524f;
    float fe = (float)e - (small ? 1.0f : 0.0f);
    float r = small ? (m + m - 1.0f) : (m - 1.0f);
    float z = r * r;
    float y = 7.0376836292E-2f;
    y = y * r - 1.1514610310E-1f;
    y = y * r + 1.1676998740E-1f;
    y = y * r - 1.2420140846E-1f;
    y = y * r + 1.4249322787E-1f;
    y = y * r - 1.6668057665E-1f;
    y = y * r + 2.0000714765E-1f;
    y = y * r - 2.4999993993E-1f;
    y = y * r + 3.3333331174E-1f;
    y = y * r * z;
    y += -2.12194440e-4f * fe;
    y += -0.5f * z;
    return r + y + 0.693359375f * fe;
}

LK_CLONES void lk_exp(const float *x, float *out, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = lk_expf(x[i]);
}

LK_CLONES void lk_log(const float *x, float *out, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = lk_logf(x[i]);
}

void lk_fill_rows(float *y, const float *b, size_t rows, size_t cols) {
    for (size_t r = 0; r < rows; r++) memcpy(y + r * cols, b, cols * sizeof(float));
}

LK_CLONES void lk_activation_forward(int kind, float *y, size_t n, float slope) {
    switch (kind) {
    case LK_RELU:
        for (size_t i = 0; i < n; i++) y[i] = y[i] > 0 ? y[i] : 0;
        break;
    case LK_LEAKY_RELU:
        for (size_t i = 0; i < n; i++) y[i] = y[i] > 0 ? y[i] : slope * y[i];
        break;
    case LK_SIGMOID:
        for (size_t i = 0; i < n; i++) y[i] = 1.0f / (1.0f + lk_expf(-y[i]));
        break;
    case LK_TANH:
        for (size_t i = 0; i < n; i++) {
            float e = lk_expf(-2.0f * fabsf(y[i]));
            float t = (1.0f - e) / (1.0f + e);
            y[i] = y[i] < 0 ? -t : t;
        }
        break;
    default: break;
    }
}

LK_CLONES void lk_activation_backward(int kind, float *dy, const float *y, size_t n, float slope) {
    switch (kind) {
    case LK_RELU:
        for (size_t i = 0; i < n; i++) dy[i] = y[i] > 0 ? dy[i] : 0;
        break;
    case LK_LEAKY_RELU:
        for (size_t i = 0; i < n; i++) dy[i] = y[i] > 0 ? dy[i] : slope * dy[i];
        break;
    case LK_SIGMOID:
        for (size_t i = 0; i < n; i++) dy[i] *= y[i] * (1.0f - y[i]);
        break;
    case LK_TANH:
        for (size_t i = 0; i < n; i++) dy[i] *= 1.0f - y[i] * y[i];
        break;
    default: break;
    }
}

LK_CLONES void lk_add_column_sums(const float *dz, float *db, size_t rows, size_t cols) {
    for (size_t r = 0; r < rows; r++) {
        const float *row = dz + r * cols;
        for (size_t c = 0; c < cols; c++) db[c] += row[c];
    }
}

LK_CLONES double lk_bce_logits(const float *logits, const float *target, float *grad,
                               float *row_loss, size_t rows, size_t cols) {
#pragma clang fp reassociate(on)
    double total = 0;
    for (size_t r = 0; r < rows; r++) {
        const float *l = logits + r * cols, *t = target + r * cols;
        float acc = 0;
        if (grad != NULL) {
            float *g = grad + r * cols;
            for (size_t c = 0; c < cols; c++) {
                float e = lk_expf(-fabsf(l[c]));
                float inv = 1.0f / (1.0f + e);
                float s = l[c] >= 0 ? inv : e * inv;  // σ(l)
                g[c] = s - t[c];
                acc += (l[c] > 0 ? l[c] : 0) - l[c] * t[c] + lk_logf(1.0f + e);
            }
        } else {
            for (size_t c = 0; c < cols; c++) {
                float e = lk_expf(-fabsf(l[c]));
                acc += (l[c] > 0 ? l[c] : 0) - l[c] * t[c] + lk_logf(1.0f + e);
            }
        }
        if (row_loss) row_loss[r] = acc;
        total += acc;
    }
    return total;
}

LK_CLONES double lk_squared_error(const float *y, const float *target, float *grad,
                                  float *row_loss, size_t rows, size_t cols) {
#pragma clang fp reassociate(on)
    double total = 0;
    for (size_t r = 0; r < rows; r++) {
        const float *a = y + r * cols, *t = target + r * cols;
        float acc = 0;
        for (size_t c = 0; c < cols; c++) {
            float d = a[c] - t[c];
            acc += d * d;
            if (grad) grad[r * cols + c] = 2.0f * d;
        }
        if (row_loss) row_loss[r] = acc;
        total += acc;
    }
    return total;
}

LK_CLONES void lk_sigmoid(const float *x, float *out, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = 1.0f / (1.0f + lk_expf(-x[i]));
}

LK_CLONES double lk_vae_sample(const float *stats, const float *eps, float *out_z, float *row_kl,
                               size_t rows, size_t z) {
#pragma clang fp reassociate(on)
    double total = 0;
    for (size_t r = 0; r < rows; r++) {
        const float *mu = stats + r * 2 * z, *lv = mu + z;
        const float *e = eps ? eps + r * z : NULL;
        float *o = out_z + r * z;
        float kl = 0;
        for (size_t i = 0; i < z; i++) {
            float sd = lk_expf(0.5f * lv[i]);
            o[i] = e ? mu[i] + e[i] * sd : mu[i];
            kl += -0.5f * (1.0f + lv[i] - mu[i] * mu[i] - sd * sd);
        }
        if (row_kl) row_kl[r] = kl;
        total += kl;
    }
    return total;
}

LK_CLONES void lk_vae_sample_backward(const float *stats, const float *eps, const float *dz,
                                      float *d_stats, size_t rows, size_t z, float beta) {
    for (size_t r = 0; r < rows; r++) {
        const float *mu = stats + r * 2 * z, *lv = mu + z;
        const float *e = eps + r * z, *g = dz + r * z;
        float *dmu = d_stats + r * 2 * z, *dlv = dmu + z;
        for (size_t i = 0; i < z; i++) {
            float sd = lk_expf(0.5f * lv[i]);
            dmu[i] = g[i] + beta * mu[i];
            dlv[i] = g[i] * e[i] * 0.5f * sd + beta * 0.5f * (sd * sd - 1.0f);
        }
    }
}

LK_CLONES void lk_adam(float *p, float *g, float *m, float *v, size_t n, float step, float beta1,
                       float beta2, float bc2_sqrt, float eps, float wd, int zero_grad) {
    const float inv_bc2 = 1.0f / bc2_sqrt;
    for (size_t i = 0; i < n; i++) {
        float gi = g[i] + wd * p[i];
        float mi = beta1 * m[i] + (1.0f - beta1) * gi;
        float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] -= step * mi / (sqrtf(vi) * inv_bc2 + eps);
        if (zero_grad) g[i] = 0;
    }
}

LK_CLONES void lk_axpy(float *y, const float *x, float a, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] += a * x[i];
}
