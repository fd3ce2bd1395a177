/* cpu_avx512bf16: the matrix product for bf16 weights on the avx512bf16 kernel path, by the
 * AVX512_BF16 dot-product instruction (vdpbf16ps, _mm512_dpbf16_ps): activations rounded to bf16
 * (round to nearest even), the products of two bf16 exact in f32, f32 accumulation. Only
 * cpu_kernels.c calls it, and only on a CPU that has the instructions (tte_cpu_path_now()).
 *
 * tte_avx512bf16_matmul has tte_cpu_matmul's contract (cpu_kernels.h) for W->dtype == TTE_DT_BF16:
 * Y = X W^T, X (T, W->cols) and Y (T, W->rows) row-major f32, rows of W split across POOL's threads.
 * It returns -1, computing nothing, when it cannot get the buffer for the rounded activations. */
#ifndef TTE_CPU_AVX512BF16_H
#define TTE_CPU_AVX512BF16_H

#include "engine/model.h"
#include "engine/threadpool.h"

int tte_avx512bf16_matmul(float *y, const float *x, int T, const tte_mat *w, tte_pool *pool);

/* OUT[i] = X[i] rounded to bf16, to nearest even, by the hardware's conversion, for i < N (the
 * amx path's activations too). */
void tte_avx512bf16_round(uint16_t *out, const float *x, size_t n);

#endif
