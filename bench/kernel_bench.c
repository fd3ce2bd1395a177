/* kernel_bench: the arithmetic rate of tte_cpu_matmul on the matrix shapes of the 1.5B benchmark
 * model (bf16 weights: q/o 1536x1536, gate/up 8960x1536, down 1536x8960), one thread.
 *
 *   kernel_bench T [REPEATS]
 *
 * Prints one JSON line per shape: GFLOP per CPU second of the best of REPEATS (default 3) products
 * of T activation rows, and a hash of the output bits, so that two builds compared side by side
 * (bench/kernel.sh) show whether they also compute the same numbers. CPU seconds, not wall-clock:
 * on a shared machine they leave out the time other jobs held the core. */
#include "engine/cpu_kernels.h"
#include "engine/sampler.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A bf16 weight in [-1, 1): the top half of a random float's bits. */
static uint16_t random_bf16(tte_rng *r) {
    float f = (float)(tte_rng_uniform(r) * 2 - 1);
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return (uint16_t)(u >> 16);
}

int main(int argc, char **argv) {
    if (argc < 2 || atoi(argv[1]) < 1) {
        fprintf(stderr, "usage: kernel_bench T [REPEATS]\n");
        return 2;
    }
    int T = atoi(argv[1]), repeats = argc > 2 ? atoi(argv[2]) : 3;
    const int shapes[][2] = {{1536, 1536}, {8960, 1536}, {1536, 8960}}; /* rows x cols */
    tte_pool *pool = tte_pool_create(1);
    tte_rng r;
    tte_rng_seed(&r, 1);
    for (int s = 0; s < 3; s++) {
        int J = shapes[s][0], K = shapes[s][1];
        uint16_t *w = malloc((size_t)J * (size_t)K * sizeof *w);
        float *x = malloc((size_t)T * (size_t)K * sizeof *x), *y = malloc((size_t)T * (size_t)J * sizeof *y);
        if (!w || !x || !y) {
            fprintf(stderr, "kernel_bench: out of memory\n");
            return 1;
        }
        for (size_t i = 0; i < (size_t)J * (size_t)K; i++) w[i] = random_bf16(&r);
        for (size_t i = 0; i < (size_t)T * (size_t)K; i++) x[i] = (float)(tte_rng_uniform(&r) * 2 - 1);
        tte_mat m = {w, TTE_DT_BF16, J, K};
        tte_cpu_matmul(y, x, T, &m, pool); /* warm: pages touched, path chosen */
        double best = 1e30;
        for (int k = 0; k < repeats; k++) {
            double t0 = cpu_now();
            tte_cpu_matmul(y, x, T, &m, pool);
            double dt = cpu_now() - t0;
            if (dt < best) best = dt;
        }
        uint64_t hash = 1469598103934665603u; /* FNV-1a over the output bits */
        const unsigned char *bytes = (const unsigned char *)y;
        for (size_t i = 0; i < (size_t)T * (size_t)J * sizeof *y; i++)
            hash = (hash ^ bytes[i]) * 1099511628211u;
        printf("{\"path\":\"%s\",\"T\":%d,\"rows\":%d,\"cols\":%d,\"gflop_per_cpu_s\":%.1f,\"output_hash\":"
               "\"%016llx\"}\n",
               tte_cpu_path_name(tte_cpu_path_now()), T, J, K, 2.0 * T * J * K / best * 1e-9,
               (unsigned long long)hash);
        free(w), free(x), free(y);
    }
    tte_pool_free(pool);
    return 0;
}
