// Which vector path the exact kernels take (see lk_simd_level in ckernels.h).
#include "ckernels.h"

#include <stdlib.h>
#include <string.h>

static _Thread_local int thread_cap = -1;

// The CPU's widest path, lowered by LATENT_SIMD; computed once (a benign race: every thread
// computes the same value).
static int process_level(void) {
    static int level = -1;
    int l = __atomic_load_n(&level, __ATOMIC_RELAXED);
    if (l >= 0) return l;
    l = LK_SIMD_PLAIN;
#if defined(__x86_64__)
    if (lk_cpu_has(LK_SIMD_AVX2)) {
        l = LK_SIMD_AVX2;
        if (__builtin_cpu_supports("avx512f")) l = LK_SIMD_AVX512;
    }
#endif
    const char *env = getenv("LATENT_SIMD");
    if (env != NULL) {
        int cap = l;
        if (strcmp(env, "plain") == 0) cap = LK_SIMD_PLAIN;
        else if (strcmp(env, "avx2") == 0) cap = LK_SIMD_AVX2;
        if (cap < l) l = cap;
    }
    __atomic_store_n(&level, l, __ATOMIC_RELAXED);
    return l;
}

int lk_simd_level(void) {
    const int l = process_level();
    return thread_cap >= 0 && thread_cap < l ? thread_cap : l;
}

void lk_simd_cap(int level) { thread_cap = level; }

int lk_cpu_has(int level) {
#if defined(__x86_64__)
    if (level == LK_SIMD_AVX512)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
    if (level == LK_SIMD_AVX2) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
    return level == LK_SIMD_PLAIN;
}
