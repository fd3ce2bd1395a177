/* CPU kernels: every output of a matrix product is the same bits whatever the batch around it, the
 * tile shape chosen for it, or the thread count; and close to a double-precision product. */
#include "engine/cpu_kernels.h"
#include "engine/sampler.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Random weights in DT (as stored bytes) and their float values. */
static void *random_matrix(tte_dtype dt, int rows, int cols, tte_rng *r, double *values) {
    size_t n = (size_t)rows * cols, esz = dt == TTE_DT_F32 ? 4 : 2;
    unsigned char *data = malloc(n * esz);
    for (size_t i = 0; i < n; i++) {
        float f = (float)(tte_rng_uniform(r) * 2 - 1);
        if (dt == TTE_DT_F32)
            memcpy(data + i * 4, &f, 4);
        else if (dt == TTE_DT_BF16) {
            uint32_t u;
            memcpy(&u, &f, 4);
            uint16_t h = (uint16_t)(u >> 16);
            memcpy(data + i * 2, &h, 2);
        } else {
            /* f16: a value exactly representable (multiples of 2^-10 in (-1, 1)) */
            int q = (int)lround(f * 1024);
            uint16_t h = 0;
            if (q != 0) {
                int a = abs(q), e = 0;
                while (a >= 2048) a >>= 1, e++;
                while (a < 1024) a <<= 1, e--;
                h = (uint16_t)((q < 0 ? 0x8000 : 0) | (uint16_t)((e + 15) << 10) | (uint16_t)(a & 0x3ff));
            }
            memcpy(data + i * 2, &h, 2);
        }
    }
    tte_mat m = {data, dt, rows, cols};
    for (size_t i = 0; i < n; i++) values[i] = tte_mat_get(&m, i);
    return data;
}

/* X rounded to bf16, to nearest even (the avx512bf16 path's activations; no NaN or infinity here). */
static float round_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    u = (u + 0x7fffu + ((u >> 16) & 1)) & 0xffff0000u;
    memcpy(&f, &u, 4);
    return f;
}

/* Whether this process's path rounds the activations of products with DT weights to bf16. */
static int rounds_activations(tte_dtype dt) {
    tte_cpu_path p = tte_cpu_path_now();
    return dt == TTE_DT_BF16 && (p == TTE_CPU_AVX512BF16 || p == TTE_CPU_AMX);
}

/* T activation rows (T >= 7) against a ROWS x COLS matrix in DT: every row alone, a batch of 3
 * mid-way, and 1 against 3 threads give the same bits; each result is close to the double product
 * of the values the path multiplies (the activations rounded to bf16 where the path does). */
static void check_dtype_rows(tte_dtype dt, int rows, int cols, int T) {
    tte_rng r;
    tte_rng_seed(&r, (uint64_t)dt * 1000 + (uint64_t)cols);
    double *wv = malloc((size_t)rows * cols * sizeof *wv);
    void *data = random_matrix(dt, rows, cols, &r, wv);
    tte_mat w = {data, dt, rows, cols};
    float *x = malloc((size_t)T * cols * sizeof *x), *all = malloc((size_t)T * rows * sizeof *all),
          *one = malloc((size_t)rows * sizeof *one), *part = malloc((size_t)3 * rows * sizeof *part);
    for (int i = 0; i < T * cols; i++) x[i] = (float)(tte_rng_uniform(&r) * 2 - 1);
    tte_pool *p1 = tte_pool_create(1), *p3 = tte_pool_create(3);
    tte_cpu_matmul(all, x, T, &w, p1);
    for (int t = 0; t < T; t++) {
        tte_cpu_matmul(one, x + (size_t)t * cols, 1, &w, p3);
        cr_expect(memcmp(one, all + (size_t)t * rows, (size_t)rows * sizeof *one) == 0,
                  "%s %dx%d: row %d alone differs from the batch of %d", tte_dtype_name(dt), rows, cols, t,
                  T);
        for (int j = 0; j < rows; j++) {
            double ref = 0;
            for (int k = 0; k < cols; k++) {
                float xk = x[(size_t)t * cols + k];
                ref += wv[(size_t)j * cols + k] * (rounds_activations(dt) ? round_bf16(xk) : xk);
            }
            cr_expect(fabs(all[(size_t)t * rows + j] - ref) <= 1e-4 * sqrt(cols),
                      "%s: y[%d][%d] = %g, double %g", tte_dtype_name(dt), t, j, all[(size_t)t * rows + j],
                      ref);
        }
    }
    /* A batch of 3 (another tile shape) starting mid-way. */
    tte_cpu_matmul(part, x + (size_t)4 * cols, 3, &w, p3);
    cr_expect(memcmp(part, all + (size_t)4 * rows, (size_t)3 * rows * sizeof *part) == 0,
              "batch of 3 differs");
    tte_pool_free(p1);
    tte_pool_free(p3);
    free(wv);
    free(data);
    free(x);
    free(all);
    free(one);
    free(part);
}

static void check_dtype(tte_dtype dt, int rows, int cols) { check_dtype_rows(dt, rows, cols, 9); }

/* Short rows and long rows (which decode reads with different tiles), widths with a tail after the
 * last 16 columns, row counts not a multiple of the tile, and a matrix of 1.2 MB, which the kernels
 * take in several groups of weight rows (cpu_kernels.c's W_GROUP_BYTES). */
Test(kernels, matmul_batch_and_thread_invariant_bf16) {
    check_dtype(TTE_DT_BF16, 37, 40);
    check_dtype(TTE_DT_BF16, 13, 4100);
    check_dtype(TTE_DT_BF16, 301, 2000);
}
Test(kernels, matmul_batch_and_thread_invariant_f16) { check_dtype(TTE_DT_F16, 21, 2055); }
Test(kernels, matmul_batch_and_thread_invariant_f32) {
    check_dtype(TTE_DT_F32, 19, 33);
    check_dtype(TTE_DT_F32, 9, 2100);
}
Test(kernels, portable_path_agrees) {
    setenv("TTE_CPU", "scalar", 1);
    cr_assert_eq(tte_cpu_path_now(), TTE_CPU_SCALAR);
    check_dtype(TTE_DT_BF16, 13, 4100);
    check_dtype(TTE_DT_F16, 7, 99);
}

/* The SIMD paths' arithmetic written out in plain C (cpu_avx2.c's header comment): 16 partial sums
 * by fused multiply-adds (bf16 rows of 32 or more columns pair even and odd elements), reduced in
 * _mm512_reduce_add_ps's order, then the tail one element at a time. */
static float reduce16(const float acc[16]) {
    float t3[8], t6[4];
    for (int i = 0; i < 8; i++) t3[i] = acc[8 + i] + acc[i];
    for (int i = 0; i < 4; i++) t6[i] = t3[4 + i] + t3[i];
    return (t6[0] + t6[2]) + (t6[1] + t6[3]);
}

static float simd16_dot(const double *w, const float *x, int K, int paired) {
    float acc[16] = {0};
    int k = 0;
    if (paired)
        for (; k + 32 <= K; k += 32)
            for (int l = 0; l < 16; l++)
                acc[l] = fmaf((float)w[k + 2 * l + 1], x[k + 2 * l + 1],
                              fmaf((float)w[k + 2 * l], x[k + 2 * l], acc[l]));
    for (; k + 16 <= K; k += 16)
        for (int l = 0; l < 16; l++) acc[l] = fmaf((float)w[k + l], x[k + l], acc[l]);
    float s = reduce16(acc);
    for (; k < K; k++) s += (float)w[k] * x[k];
    return s;
}

/* tte_cpu_dot4 and tte_cpu_axpy4 (attention's) give the bits of four tte_cpu_dot and tte_cpu_axpy
 * calls on this process's path, for lengths with and without a partial last block. */
static void check_four_at_once(void) {
    const int lens[] = {16, 37, 128, 5, 80};
    for (int k = 0; k < 5; k++) {
        int n = lens[k];
        float a[128], b[4][128], y1[128], y4[128], got[4];
        for (int i = 0; i < n; i++) {
            a[i] = (float)sin(i * 0.7 + k) * 3;
            for (int j = 0; j < 4; j++) b[j][i] = (float)cos(i * 1.3 + j * 0.4);
            y1[i] = y4[i] = (float)sin(i * 0.3);
        }
        const float *const rows[4] = {b[0], b[1], b[2], b[3]};
        const float alpha[4] = {0.3f, -1.7f, 0.01f, 2.5f};
        tte_cpu_dot4(a, rows, n, got);
        for (int j = 0; j < 4; j++) {
            float want = tte_cpu_dot(a, b[j], n);
            cr_expect(memcmp(&got[j], &want, sizeof want) == 0, "%s dot4 of %d, key %d: %.9g, dot %.9g",
                      tte_cpu_path_name(tte_cpu_path_now()), n, j, got[j], want);
            tte_cpu_axpy(y1, alpha[j], b[j], n);
        }
        tte_cpu_axpy4(y4, alpha, rows, n);
        cr_expect(memcmp(y1, y4, (size_t)n * sizeof *y1) == 0, "%s axpy4 of %d differs from four axpy",
                  tte_cpu_path_name(tte_cpu_path_now()), n);
    }
}

Test(kernels, four_dots_and_axpys_at_once) { check_four_at_once(); } /* the default path; others below */

/* PATH's products (and dot) are the written-out arithmetic, bit for bit: so the AVX2 and AVX-512
 * paths agree with each other exactly wherever each runs. */
static void check_simd_path(const char *path) {
    setenv("TTE_CPU", path, 1);
    const tte_dtype dts[] = {TTE_DT_BF16, TTE_DT_F16, TTE_DT_F32};
    const int shapes[][2] = {{5, 16}, {6, 40}, {7, 100}, {3, 4100}, {301, 2000}};
    tte_pool *pool = tte_pool_create(2);
    for (int d = 0; d < 3; d++)
        for (int sh = 0; sh < 5; sh++) {
            int rows = shapes[sh][0], cols = shapes[sh][1], T = 5;
            tte_rng r;
            tte_rng_seed(&r, (uint64_t)d * 77 + (uint64_t)cols);
            double *wv = malloc((size_t)rows * cols * sizeof *wv);
            void *data = random_matrix(dts[d], rows, cols, &r, wv);
            tte_mat w = {data, dts[d], rows, cols};
            float *x = malloc((size_t)T * cols * sizeof *x), *y = malloc((size_t)T * rows * sizeof *y);
            for (int i = 0; i < T * cols; i++) x[i] = (float)(tte_rng_uniform(&r) * 2 - 1);
            /* All rows at once (tiles for many rows), then each alone (decode's tiles) */
            float *one = malloc((size_t)rows * sizeof *one);
            tte_cpu_matmul(y, x, T, &w, pool);
            for (int t = 0; t < T; t++) {
                tte_cpu_matmul(one, x + (size_t)t * cols, 1, &w, pool);
                for (int j = 0; j < rows; j++) {
                    float want =
                        simd16_dot(wv + (size_t)j * cols, x + (size_t)t * cols, cols, dts[d] == TTE_DT_BF16);
                    float got = y[(size_t)t * rows + j];
                    cr_expect(memcmp(&got, &want, sizeof got) == 0,
                              "%s %s %dx%d: y[%d][%d] = %.9g, written out %.9g", path, tte_dtype_name(dts[d]),
                              rows, cols, t, j, got, want);
                    cr_expect(memcmp(&one[j], &want, sizeof want) == 0,
                              "%s %s %dx%d: row %d alone, y[%d] = %.9g, written out %.9g", path,
                              tte_dtype_name(dts[d]), rows, cols, t, j, one[j], want);
                }
            }
            free(wv), free(data), free(x), free(y), free(one);
        }
    tte_pool_free(pool);
    const int lens[] = {16, 37, 128, 5};
    for (int k = 0; k < 4; k++) {
        float a[128], b[128];
        for (int i = 0; i < lens[k]; i++) a[i] = (float)sin(i * 0.7) * 3, b[i] = (float)cos(i * 1.3);
        /* dot has no scalar tail: its last partial block goes through the 16 lanes, zeros after N */
        float acc[16] = {0};
        for (int i = 0; i < (lens[k] + 15) / 16 * 16; i++)
            acc[i % 16] = fmaf(i < lens[k] ? a[i] : 0, i < lens[k] ? b[i] : 0, acc[i % 16]);
        float got = tte_cpu_dot(a, b, lens[k]), want = reduce16(acc);
        cr_expect(memcmp(&got, &want, sizeof got) == 0, "%s dot of %d: %.9g, written out %.9g", path, lens[k],
                  got, want);
    }
    check_four_at_once();
}

Test(kernels, avx2_path_is_the_written_out_arithmetic) {
    if (system("grep -qw avx2 /proc/cpuinfo") != 0) cr_skip_test("this CPU has no AVX2");
    check_simd_path("avx2");
    cr_assert_eq(tte_cpu_path_now(), TTE_CPU_AVX2);
}

Test(kernels, avx512_path_is_the_written_out_arithmetic) {
    if (system("grep -qw avx512bw /proc/cpuinfo") != 0) cr_skip_test("this CPU has no AVX-512");
    check_simd_path("avx512");
    cr_assert_eq(tte_cpu_path_now(), TTE_CPU_AVX512);
}

/* vdpbf16ps's arithmetic written out (Intel's pseudo-code for VDPBF16PS): lane l of a block of 32
 * columns adds the product of the odd element 2l+1, then that of the even element 2l, each sum
 * rounded to f32 (the products of two bf16 are exact); columns past K are zeros; the 16 lanes are
 * reduced as _mm512_reduce_add_ps does. */
static float bf16dp_dot(const double *w, const float *x, int K) {
    float acc[16] = {0};
    for (int k = 0; k < K; k += 32)
        for (int l = 0; l < 16; l++) {
            int e = k + 2 * l, o = e + 1;
            float po = o < K ? (float)w[o] * round_bf16(x[o]) : 0,
                  pe = e < K ? (float)w[e] * round_bf16(x[e]) : 0;
            acc[l] = (acc[l] + po) + pe;
        }
    return reduce16(acc);
}

/* The avx512bf16 path: bf16 products are vdpbf16ps's arithmetic written out, bit for bit, and as
 * invariant to batching, tiles, activation blocks and threads as the other paths; f16 and f32
 * weights are the AVX-512 path's products. */
Test(kernels, avx512bf16_path) {
    if (!tte_cpu_has(TTE_CPU_AVX512BF16)) cr_skip_test("this CPU has no AVX512_BF16");
    setenv("TTE_CPU", "avx512bf16", 1);
    cr_assert_eq(tte_cpu_path_now(), TTE_CPU_AVX512BF16);
    check_dtype(TTE_DT_BF16, 37, 40);
    check_dtype(TTE_DT_BF16, 13, 4100);
    check_dtype(TTE_DT_BF16, 6, 17);
    check_dtype_rows(TTE_DT_BF16, 9, 8960, 61); /* 61 rows: more than one activation block (28) */
    check_dtype(TTE_DT_F16, 21, 2055);
    check_dtype(TTE_DT_F32, 9, 2100);
    const int shapes[][2] = {{5, 16}, {6, 40}, {7, 100}, {3, 4100}, {9, 1536}};
    tte_pool *pool = tte_pool_create(2);
    for (int sh = 0; sh < 5; sh++) {
        int rows = shapes[sh][0], cols = shapes[sh][1], T = 6;
        tte_rng r;
        tte_rng_seed(&r, 555 + (uint64_t)cols);
        double *wv = malloc((size_t)rows * cols * sizeof *wv);
        void *data = random_matrix(TTE_DT_BF16, rows, cols, &r, wv);
        tte_mat w = {data, TTE_DT_BF16, rows, cols};
        float *x = malloc((size_t)T * cols * sizeof *x), *y = malloc((size_t)T * rows * sizeof *y);
        for (int i = 0; i < T * cols; i++) x[i] = (float)(tte_rng_uniform(&r) * 4 - 2);
        tte_cpu_matmul(y, x, T, &w, pool);
        for (int t = 0; t < T; t++)
            for (int j = 0; j < rows; j++) {
                float want = bf16dp_dot(wv + (size_t)j * cols, x + (size_t)t * cols, cols),
                      got = y[(size_t)t * rows + j];
                cr_expect(memcmp(&got, &want, sizeof got) == 0,
                          "bf16 %dx%d: y[%d][%d] = %.9g, written out %.9g", rows, cols, t, j, got, want);
            }
        free(wv), free(data), free(x), free(y);
    }
    tte_pool_free(pool);
}

/* The amx path: bf16 products on AMX tiles are as invariant to batching (one row alone against
 * batches of 3, 9 and 61: partial and several activation blocks), weight blocks (row counts that
 * are not multiples of 16 or 32) and threads as the other paths, and close to the double products
 * of the bf16-rounded activations; widths that are not a multiple of 32 take vdpbf16ps. */
Test(kernels, amx_path) {
    if (!tte_cpu_has(TTE_CPU_AMX)) cr_skip_test("this CPU (or kernel) gives no AMX-BF16");
    setenv("TTE_CPU", "amx", 1);
    cr_assert_eq(tte_cpu_path_now(), TTE_CPU_AMX);
    check_dtype(TTE_DT_BF16, 37, 64);
    check_dtype(TTE_DT_BF16, 16, 32);
    check_dtype(TTE_DT_BF16, 50, 1536);
    check_dtype(TTE_DT_BF16, 13, 40); /* 40 columns: the vdpbf16ps kernel */
    check_dtype_rows(TTE_DT_BF16, 70, 8960, 61);
    check_dtype_rows(TTE_DT_BF16, 301, 2048, 33);
    check_dtype(TTE_DT_F16, 21, 2055);
    check_dtype(TTE_DT_F32, 9, 2100);
}

Test(kernels, forcing_a_path_the_cpu_lacks_is_an_error, .exit_code = 1) {
    setenv("TTE_CPU", "avx9000", 1);
    tte_cpu_path_now();
}

Test(kernels, dot_and_axpy) {
    float a[37], b[37], y[37];
    double ref = 0;
    for (int i = 0; i < 37; i++)
        a[i] = (float)i / 7, b[i] = (float)(37 - i) / 5, y[i] = 1, ref += (double)a[i] * b[i];
    cr_expect_float_eq(tte_cpu_dot(a, b, 37), ref, 1e-3);
    tte_cpu_axpy(y, 2, a, 37);
    for (int i = 0; i < 37; i++) cr_expect_float_eq(y[i], 1 + 2 * a[i], 1e-6);
}

static void count(void *arg, int b, int e, int w) {
    int *hits = arg;
    (void)w;
    for (int i = b; i < e; i++) hits[i]++;
}

Test(kernels, pool_covers_every_index_once) {
    tte_pool *p = tte_pool_create(3);
    cr_assert_eq(tte_pool_size(p), 3);
    for (int n = 0; n < 50; n += 7) {
        int hits[64] = {0};
        tte_pool_for(p, n, count, hits);
        for (int i = 0; i < n; i++) cr_expect_eq(hits[i], 1, "index %d of %d ran %d times", i, n, hits[i]);
    }
    tte_pool_free(p);
}
