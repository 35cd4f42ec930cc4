// The clock this core runs at now, measured: a chain of dependent integer additions (one cycle
// each on every x86-64 core) timed five times for about 0.07 s, the fastest kept. Prints GHz, or
// "n/a" on other CPUs. The machines here are virtual and their clock can move with the host's
// load (2.81-3.07 GHz read on the AMD EPYC in session 44); bench/two_binaries.sh prints it beside
// each run, so that a change of clock is not taken for a change of speed.
// Build: cc -O2 -o core_clock bench/core_clock.c
#include <stdio.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(void) {
#if defined(__x86_64__)
    const unsigned long n = 4000000;
    unsigned long x = 0;
    double best = 1e9;
    for (int r = 0; r < 5; r++) {
        const double t0 = now();
        for (unsigned long i = 0; i < n; i++) __asm__ volatile(".rept 50\n\tadd $1, %0\n\t.endr" : "+r"(x));
        const double t = now() - t0;
        if (t < best) best = t;
    }
    printf("%.2f\n", 50.0 * n / best / 1e9);
#else
    printf("n/a\n");
#endif
    return 0;
}
