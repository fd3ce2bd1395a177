/* cpu_amx: the matrix product for bf16 weights on the amx kernel path, by Intel AMX tiles
 * (TDPBF16PS, _tile_dpbf16ps): activations rounded to bf16 (round to nearest even), as on the
 * avx512bf16 path, products of two bf16 exact, f32 sums. Only cpu_kernels.c calls it, and only on a
 * CPU (and kernel) that has AMX-BF16 and lets this process use it (tte_amx_usable()).
 *
 * tte_amx_matmul has tte_cpu_matmul's contract (cpu_kernels.h) for W->dtype == TTE_DT_BF16:
 * Y = X W^T, X (T, W->cols) and Y (T, W->rows) row-major f32, rows of W split across POOL's
 * threads. It returns -1, computing nothing, when W->cols is not a multiple of 32 (a tile step) or
 * a buffer cannot be had; the caller then takes another kernel, the same one for every call with
 * that W, so results still do not depend on the batch. */
#ifndef TTE_CPU_AMX_H
#define TTE_CPU_AMX_H

#include "engine/model.h"
#include "engine/threadpool.h"

/* Whether this CPU has AMX-TILE and AMX-BF16 and the kernel grants this process the tile state
 * (asked for once, on the first call). Thread-safe. */
int tte_amx_usable(void);

int tte_amx_matmul(float *y, const float *x, int T, const tte_mat *w, tte_pool *pool);

#endif
