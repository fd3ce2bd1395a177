/* engine_dpbf16: how many vdpbf16ps (bf16 pairs, 32 multiply-adds) against vfmadd231ps (f32, 16
 * multiply-adds) one core issues per second, 512-bit each. Whether the avx512bf16 kernel path
 * (src/lib/engine/cpu_avx512bf16.c) can beat the f32 one with many rows depends on this ratio,
 * which differs between CPUs: it doubles the arithmetic per instruction, so it pays only where the
 * CPU issues it at more than half the rate of FMAs.
 *
 *   engine_dpbf16
 *
 * Prints one JSON object: per CPU second (so other jobs on the core do not count), with 12
 * independent accumulators (throughput) and with one (latency), for each instruction. Built and
 * run by bench/engine.sh when it compares the avx512bf16 path. */
#include <immintrin.h>
#include <stdio.h>
#include <time.h>

#define BF16 __attribute__((target("avx512bf16,avx512f,avx512bw")))
#define FMA  __attribute__((target("avx512f,fma")))

enum { N = 120000000, CHAINS = 12 };

static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* N instructions over CH accumulators (CH a constant after inlining); the empty asm keeps the
 * compiler from folding the loop. The operands are normal numbers: no denormal assists. */
static inline __attribute__((always_inline)) BF16 float run_dpbf16(int ch) {
    __m512 a[CHAINS];
    for (int i = 0; i < CHAINS; i++) a[i] = _mm512_set1_ps((float)i);
    __m512bh x = (__m512bh)_mm512_set1_epi16(0x3f80), y = (__m512bh)_mm512_set1_epi16(0x3380);
    for (long n = 0; n < N / ch; n++) {
#pragma GCC unroll 12
        for (int i = 0; i < ch; i++) a[i] = _mm512_dpbf16_ps(a[i], x, y);
        __asm__ volatile("" : "+v"(x));
    }
    __m512 s = a[0];
    for (int i = 1; i < ch; i++) s = _mm512_add_ps(s, a[i]);
    return _mm512_reduce_add_ps(s);
}

static inline __attribute__((always_inline)) FMA float run_fma(int ch) {
    __m512 a[CHAINS];
    for (int i = 0; i < CHAINS; i++) a[i] = _mm512_set1_ps((float)i);
    __m512 x = _mm512_set1_ps(1.0f), y = _mm512_set1_ps(1e-30f);
    for (long n = 0; n < N / ch; n++) {
#pragma GCC unroll 12
        for (int i = 0; i < ch; i++) a[i] = _mm512_fmadd_ps(x, y, a[i]);
        __asm__ volatile("" : "+v"(x));
    }
    __m512 s = a[0];
    for (int i = 1; i < ch; i++) s = _mm512_add_ps(s, a[i]);
    return _mm512_reduce_add_ps(s);
}

static BF16 float dpbf16_many(void) { return run_dpbf16(CHAINS); }
static BF16 float dpbf16_one(void) { return run_dpbf16(1); }
static FMA float fma_many(void) { return run_fma(CHAINS); }
static FMA float fma_one(void) { return run_fma(1); }

/* Giga-instructions per CPU second of F. */
static double rate(float (*f)(void), float *sink) {
    double t0 = cpu_now();
    *sink += f();
    return N / (cpu_now() - t0) / 1e9;
}

int main(void) {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512f")) {
        fprintf(stderr, "engine_dpbf16: this CPU has no AVX-512\n");
        return 1;
    }
    unsigned a, b, c, d;
    __asm__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(7), "c"(1));
    if (!(a & (1u << 5))) {
        fprintf(stderr, "engine_dpbf16: this CPU has no AVX512_BF16\n");
        return 1;
    }
    float sink = 0;
    double dp = rate(dpbf16_many, &sink), fm = rate(fma_many, &sink);
    double dp1 = rate(dpbf16_one, &sink), fm1 = rate(fma_one, &sink);
    printf(
        "{\"vdpbf16ps_g_per_cpu_s\":%.3f,\"vfmadd231ps_g_per_cpu_s\":%.3f,\"dpbf16_gflop_per_cpu_s\":%.1f,"
        "\"fma_gflop_per_cpu_s\":%.1f,\"dpbf16_over_fma_flops\":%.2f,\"one_chain_dpbf16_g_per_cpu_s\":%.3f,"
        "\"one_chain_fma_g_per_cpu_s\":%.3f,\"sink\":%g}\n",
        dp, fm, dp * 64, fm * 32, dp * 64 / (fm * 32), dp1, fm1, (double)sink);
    return 0;
}
