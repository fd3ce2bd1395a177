/* cpu_avx2: the AVX2 + FMA + F16C kernels behind cpu_kernels.h, bit-identical to its AVX-512 ones
 * (see cpu_avx2.c). Only cpu_kernels.c calls them, and only on a CPU that has the instructions.
 *
 * A tile computes Y[r][i] = dot(W row J0 + i, X row r) for i < NJ, r < NT (<= 4); X rows are
 * K = W->cols floats apart, Y rows LDY apart. For bf16 weights with K >= 32, X must be pair-permuted
 * (cpu_kernels.c). The tile2 functions take NJ <= 2 weight rows (J0 and J0 + 1), the others one. */
#ifndef TTE_CPU_AVX2_H
#define TTE_CPU_AVX2_H

#include "engine/model.h"

void tte_avx2_tile_bf16(const tte_mat *w, int j0, int nj, const float *x, int nt, float *y, int ldy);
void tte_avx2_tile_f16(const tte_mat *w, int j0, int nj, const float *x, int nt, float *y, int ldy);
void tte_avx2_tile_f32(const tte_mat *w, int j0, int nj, const float *x, int nt, float *y, int ldy);
void tte_avx2_tile2_bf16(const tte_mat *w, int j0, int nj, const float *x, int nt, float *y, int ldy);
void tte_avx2_tile2_f16(const tte_mat *w, int j0, int nj, const float *x, int nt, float *y, int ldy);
void tte_avx2_tile2_f32(const tte_mat *w, int j0, int nj, const float *x, int nt, float *y, int ldy);
float tte_avx2_dot(const float *a, const float *b, int n);
void tte_avx2_axpy(float *y, float alpha, const float *x, int n);

#endif
