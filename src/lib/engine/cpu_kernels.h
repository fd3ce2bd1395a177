/* cpu_kernels: the CPU backend's SIMD kernels: matrix products over stored-dtype weights, and the
 * dot / axpy of attention.
 *
 * tte_cpu_matmul: Y = X W^T for f32 activations and a weight matrix in its stored dtype.
 * Y[t][j] = sum_k X[t][k] * W[j][k] for t < T, j < W->rows; X is (T, W->cols), Y is (T, W->rows),
 * both row-major f32 and owned by the caller. Rows of W are split across the POOL's threads.
 *
 * Every Y[t][j] is one dot product computed by one thread in a fixed order (16-lane partial sums
 * over k, then a fixed lane reduction, then the tail), whatever T, the tile it falls in, or the
 * thread count: so a sequence's results do not depend on what else is in the batch. The kernel path
 * is chosen once, at the first call: AVX-512 when the CPU has it, else AVX2 + FMA + F16C (the same
 * arithmetic, bit for bit: cpu_avx2.c), else portable C (scalar sums, which round differently).
 * The environment variable TTE_CPU=amx|avx512bf16|avx512|avx2|scalar forces one; forcing a path the
 * CPU lacks is a one-line error and exit 1. avx512bf16 and amx are never chosen by themselves: they
 * are the AVX-512 path with bf16 weights multiplied against activations rounded to bf16, by
 * vdpbf16ps (cpu_avx512bf16.c) or by AMX tiles (cpu_amx.c; matrices whose width is not a multiple
 * of 32 take vdpbf16ps), faster with many rows, less precise, and as invariant to batching and
 * threads as the others. */
#ifndef TTE_CPU_KERNELS_H
#define TTE_CPU_KERNELS_H

#include "engine/model.h"
#include "engine/threadpool.h"

void tte_cpu_matmul(float *y, const float *x, int T, const tte_mat *w, tte_pool *pool);

typedef enum { TTE_CPU_SCALAR, TTE_CPU_AVX2, TTE_CPU_AVX512, TTE_CPU_AVX512BF16, TTE_CPU_AMX } tte_cpu_path;

/* The path the kernels take in this process, and its name ("scalar", "avx2", "avx512",
 * "avx512bf16", "amx"). */
tte_cpu_path tte_cpu_path_now(void);
const char *tte_cpu_path_name(tte_cpu_path p);
/* Whether this CPU (and OS) has the instructions path P needs. */
int tte_cpu_has(tte_cpu_path p);

/* sum_i a[i] * b[i] over N floats, in a fixed order for a given N. */
float tte_cpu_dot(const float *a, const float *b, int n);
/* y[i] += alpha * x[i] for i < N. */
void tte_cpu_axpy(float *y, float alpha, const float *x, int n);
/* OUT[j] = tte_cpu_dot(A, B[j], N) for j < 4, the same bits, computed together (attention's
 * scores: four keys per pass over the query). */
void tte_cpu_dot4(const float *a, const float *const b[4], int n, float out[4]);
/* tte_cpu_axpy(Y, ALPHA[j], X[j], N) for j = 0, 1, 2, 3 in turn, the same bits, in one pass over Y. */
void tte_cpu_axpy4(float *y, const float alpha[4], const float *const x[4], int n);

#endif
