/* cpu_avx2: the AVX2 + FMA + F16C kernels, for the many x86 CPUs without AVX-512.
 *
 * They compute exactly what the AVX-512 kernels of cpu_kernels.c compute, bit for bit: every dot
 * product keeps 16 partial sums (lane l sums the products of elements k with k % 16 == l, in
 * ascending k, each by a fused multiply-add), held here as two 8-lane halves; the 16 sums are then
 * reduced in the order GCC's _mm512_reduce_add_ps uses (high half + low half, then 4 + 4, then
 * 2 + 2, then 1 + 1), and the elements after the last whole block of 16 are added one by one. bf16
 * rows are read 32 elements at a time as even/odd pairs against the pair-permuted activations
 * (cpu_kernels.c's pair_permute), which puts the same elements in the same lanes as the AVX-512
 * path. So the two paths agree exactly, and a result does not depend on which one computed it.
 *
 * A tile is one weight row against up to 4 activation rows: 4 x 2 accumulators, the two halves of
 * the weight vector and one activation vector fit in AVX2's 16 registers. For decode on long rows
 * (the down projection's 8960 columns), two weight rows at a time: one row's sums are two chains of
 * dependent multiply-adds, too few to keep up with memory, two rows' are four. */
#include "engine/cpu_avx2.h"

#include "engine/cpu_tile.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <math.h>
#include <string.h>

#define AVX2   __attribute__((target("avx2,fma,f16c")))
#define INLINE __attribute__((always_inline)) inline

/* The sum of the 16 lanes LO (0..7) and HI (8..15), in _mm512_reduce_add_ps's order. */
static INLINE AVX2 float reduce16(__m256 lo, __m256 hi) {
    __m256 t3 = _mm256_add_ps(hi, lo);
    __m128 t6 = _mm_add_ps(_mm256_extractf128_ps(t3, 1), _mm256_castps256_ps128(t3));
    __m128 t8 = _mm_add_ps(t6, _mm_shuffle_ps(t6, t6, _MM_SHUFFLE(1, 0, 3, 2)));
    return _mm_cvtss_f32(t8) + _mm_cvtss_f32(_mm_shuffle_ps(t8, t8, _MM_SHUFFLE(0, 1, 0, 1)));
}

/* 8 consecutive weights of a row as floats. */
static INLINE AVX2 __m256 load8(tte_dtype dt, const void *row, int k) {
    if (dt == TTE_DT_BF16) {
        __m128i h = _mm_loadu_si128((const __m128i *)((const uint16_t *)row + k));
        return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
    }
    if (dt == TTE_DT_F16)
        return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)row + k)));
    return _mm256_loadu_ps((const float *)row + k);
}

static INLINE AVX2 float elem(tte_dtype dt, const void *row, int k) {
    uint16_t h;
    if (dt == TTE_DT_F32) return ((const float *)row)[k];
    h = ((const uint16_t *)row)[k];
    if (dt == TTE_DT_F16) return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(h)));
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* Rows J0..J0+NJ-1 of W (NJ <= TW; a missing row repeats the last, its results dropped) against NT
 * activation rows. TW and NT are constants after inlining. */
static INLINE AVX2 void tile(tte_dtype dt, int tw, const tte_mat *w, int j0, int nj, const float *x, int nt,
                             float *y, int ldy) {
    int K = w->cols;
    size_t row_bytes = (size_t)K * (dt == TTE_DT_F32 ? 4 : 2);
    const char *rows[2];
    for (int i = 0; i < tw; i++)
        rows[i] = (const char *)w->data + (size_t)(j0 + (i < nj ? i : nj - 1)) * row_bytes;
    __m256 lo[2][4], hi[2][4];
#pragma GCC unroll 2
    for (int i = 0; i < tw; i++)
#pragma GCC unroll 4
        for (int r = 0; r < 4; r++) lo[i][r] = hi[i][r] = _mm256_setzero_ps();
    int k = 0;
    if (dt == TTE_DT_BF16) {
        /* As in the AVX-512 kernel: a 32-bit lane of raw bf16 holds an even element in its low half
         * and the next odd one in its high half; lanes 0..7 come from elements k..k+15 and lanes
         * 8..15 from k+16..k+31, as one 512-bit load would place them. */
        const __m256i high = _mm256_set1_epi32((int)0xffff0000u);
        for (; k + 32 <= K; k += 32) {
#pragma GCC unroll 2
            for (int i = 0; i < tw; i++) {
                __m256i raw_lo = _mm256_loadu_si256((const __m256i *)(rows[i] + (size_t)k * 2));
                __m256i raw_hi = _mm256_loadu_si256((const __m256i *)(rows[i] + (size_t)k * 2 + 32));
                __m256 we_lo = _mm256_castsi256_ps(_mm256_slli_epi32(raw_lo, 16));
                __m256 wo_lo = _mm256_castsi256_ps(_mm256_and_si256(raw_lo, high));
                __m256 we_hi = _mm256_castsi256_ps(_mm256_slli_epi32(raw_hi, 16));
                __m256 wo_hi = _mm256_castsi256_ps(_mm256_and_si256(raw_hi, high));
#pragma GCC unroll 4
                for (int r = 0; r < nt; r++) {
                    const float *xr = x + (size_t)r * (size_t)K + k;
                    lo[i][r] = _mm256_fmadd_ps(wo_lo, _mm256_loadu_ps(xr + 16),
                                               _mm256_fmadd_ps(we_lo, _mm256_loadu_ps(xr), lo[i][r]));
                    hi[i][r] = _mm256_fmadd_ps(wo_hi, _mm256_loadu_ps(xr + 24),
                                               _mm256_fmadd_ps(we_hi, _mm256_loadu_ps(xr + 8), hi[i][r]));
                }
            }
        }
    }
    for (; k + 16 <= K; k += 16) {
#pragma GCC unroll 2
        for (int i = 0; i < tw; i++) {
            __m256 w_lo = load8(dt, rows[i], k), w_hi = load8(dt, rows[i], k + 8);
#pragma GCC unroll 4
            for (int r = 0; r < nt; r++) {
                const float *xr = x + (size_t)r * (size_t)K + k;
                lo[i][r] = _mm256_fmadd_ps(w_lo, _mm256_loadu_ps(xr), lo[i][r]);
                hi[i][r] = _mm256_fmadd_ps(w_hi, _mm256_loadu_ps(xr + 8), hi[i][r]);
            }
        }
    }
#pragma GCC unroll 2
    for (int i = 0; i < tw; i++)
#pragma GCC unroll 4
        for (int r = 0; r < nt; r++) {
            if (i >= nj) continue;
            float s = reduce16(lo[i][r], hi[i][r]);
            for (int kk = k; kk < K; kk++) s += elem(dt, rows[i], kk) * x[(size_t)r * (size_t)K + kk];
            y[(size_t)r * (size_t)ldy + i] = s;
        }
}

/* One entry point per dtype and weight-row count, with the activation-row count made a constant. */
#define TILE_FN(name, dt, tw)                                                                                \
    AVX2 void name(const tte_mat *w, int j0, int nj, const float *x, int nt, float *y, int ldy) {            \
        enum { TW = tw };                                                                                    \
        const tte_dtype DT = dt;                                                                             \
        TTE_TILE_BY_ROWS(nt, TILE_CALL)                                                                      \
    }
#define TILE_CALL(rows) tile(DT, TW, w, j0, nj, x, rows, y, ldy)
TILE_FN(tte_avx2_tile_bf16, TTE_DT_BF16, 1)
TILE_FN(tte_avx2_tile_f16, TTE_DT_F16, 1)
TILE_FN(tte_avx2_tile_f32, TTE_DT_F32, 1)
TILE_FN(tte_avx2_tile2_bf16, TTE_DT_BF16, 2)
TILE_FN(tte_avx2_tile2_f16, TTE_DT_F16, 2)
TILE_FN(tte_avx2_tile2_f32, TTE_DT_F32, 2)

AVX2 float tte_avx2_dot(const float *a, const float *b, int n) {
    __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        lo = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), lo);
        hi = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), hi);
    }
    if (i < n) { /* the AVX-512 kernel's masked last block: zeros in the lanes past N */
        float ta[16] = {0}, tb[16] = {0};
        memcpy(ta, a + i, (size_t)(n - i) * sizeof *a);
        memcpy(tb, b + i, (size_t)(n - i) * sizeof *b);
        lo = _mm256_fmadd_ps(_mm256_loadu_ps(ta), _mm256_loadu_ps(tb), lo);
        hi = _mm256_fmadd_ps(_mm256_loadu_ps(ta + 8), _mm256_loadu_ps(tb + 8), hi);
    }
    return reduce16(lo, hi);
}

AVX2 void tte_avx2_axpy(float *y, float alpha, const float *x, int n) {
    __m256 a = _mm256_set1_ps(alpha);
    int i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(a, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; i++) y[i] = fmaf(alpha, x[i], y[i]); /* fused, like every lane of the AVX-512 kernel */
}
#endif
