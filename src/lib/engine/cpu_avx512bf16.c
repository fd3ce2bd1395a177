/* cpu_avx512bf16: bf16 weights times bf16-rounded activations by vdpbf16ps, for the avx512bf16
 * kernel path.
 *
 * Why: with many activation rows (prefill, batches) the f32 kernels of cpu_kernels.c are bound by
 * f32 multiply-adds (16 per instruction), not by reading the weights. vdpbf16ps does 32
 * multiply-adds per instruction on pairs of bf16 and reads the stored weights as they are (no
 * widening), so the same tile does twice the arithmetic per instruction. The price is the
 * activations' precision: each is rounded to bf16 (8 significant bits) before its product, as
 * llama.cpp does for bf16 weights; products of two bf16 are exact in f32, sums are f32.
 *
 * Why every call, not only the ones with many rows: a result must not depend on how rows are
 * grouped into calls (a prompt prefilled whole or token by token, a sequence decoded alone or in a
 * batch of 32), so on this path every product with bf16 weights, decode included, rounds its
 * activations the same way and sums in the same order. Each Y[t][j] is one dot product by one
 * thread: 16 lanes, lane l accumulating the pairs (2l, 2l+1) of every block of 32 columns in
 * ascending order (columns past K read as zeros), then _mm512_reduce_add_ps. The tile it falls in,
 * the activation block and the thread count change no bits. f32 and f16 weights, attention and the
 * rest of the path are the AVX-512 kernels' (cpu_kernels.c).
 *
 * Tiles: 4 weight rows x up to 4 activation rows (16 accumulators), each loaded weight vector used
 * against 4 activation vectors; one weight row at a time for decode on short rows (as in
 * cpu_kernels.c: consecutive rows are one sequential stream). */
#include "engine/cpu_avx512bf16.h"

#include "engine/cpu_tile.h"

#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#include <stdlib.h>

#define BF16   __attribute__((target("avx512bf16,avx512f,avx512bw,avx512vl")))
#define INLINE __attribute__((always_inline)) inline

enum { TILE_W = 4, TILE_X = 4, LONG_ROW_BYTES = 8192 };
/* Activation rows per pass over the weights: as many as fit in about half of a 1 MB L2 (64 rows
 * of 1536 columns, 28 of 8960), so a block of weight rows meets them all from cache. */
enum { X_BLOCK_BYTES = 512 * 1024, X_BLOCK_MAX = 64 };

/* The same instruction for the tail, masked, so every element rounds alike. */
BF16 void tte_avx512bf16_round(uint16_t *out, const float *x, size_t n) {
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512bh b = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(x + i + 16), _mm512_loadu_ps(x + i));
        _mm512_storeu_si512((void *)(out + i), (__m512i)b);
    }
    for (; i < n; i += 16) {
        size_t left = n - i < 16 ? n - i : 16;
        __mmask16 m = (__mmask16)((1u << left) - 1);
        __m256bh b = _mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, x + i));
        _mm256_mask_storeu_epi16((void *)(out + i), m, (__m256i)b);
    }
}

/* Rows j0..j0+nj-1 of W (nj <= TW; missing rows repeat the last, results dropped) against NT
 * bf16 activation rows K apart. TW and NT are constants after inlining, so acc lives in registers. */
static INLINE BF16 void tile(int tw, const tte_mat *w, int j0, int nj, const uint16_t *x, int nt, float *y,
                             int ldy) {
    int K = w->cols;
    const uint16_t *rows[TILE_W];
    for (int i = 0; i < tw; i++)
        rows[i] = (const uint16_t *)w->data + (size_t)(j0 + (i < nj ? i : nj - 1)) * K;
    __m512 acc[TILE_W][TILE_X];
#pragma GCC unroll 4
    for (int i = 0; i < tw; i++)
#pragma GCC unroll 4
        for (int r = 0; r < TILE_X; r++) acc[i][r] = _mm512_setzero_ps();
    int k = 0;
    for (; k + 32 <= K; k += 32) {
        __m512bh wv[TILE_W];
#pragma GCC unroll 4
        for (int i = 0; i < tw; i++) wv[i] = (__m512bh)_mm512_loadu_si512((const void *)(rows[i] + k));
#pragma GCC unroll 4
        for (int r = 0; r < nt; r++) {
            __m512bh xv = (__m512bh)_mm512_loadu_si512((const void *)(x + (size_t)r * K + k));
#pragma GCC unroll 4
            for (int i = 0; i < tw; i++) acc[i][r] = _mm512_dpbf16_ps(acc[i][r], wv[i], xv);
        }
    }
    if (k < K) { /* the last partial block: zeros past K in both operands, so their products are 0 */
        __mmask32 m = (__mmask32)((1u << (K - k)) - 1);
        __m512bh wv[TILE_W];
#pragma GCC unroll 4
        for (int i = 0; i < tw; i++) wv[i] = (__m512bh)_mm512_maskz_loadu_epi16(m, rows[i] + k);
#pragma GCC unroll 4
        for (int r = 0; r < nt; r++) {
            __m512bh xv = (__m512bh)_mm512_maskz_loadu_epi16(m, x + (size_t)r * K + k);
#pragma GCC unroll 4
            for (int i = 0; i < tw; i++) acc[i][r] = _mm512_dpbf16_ps(acc[i][r], wv[i], xv);
        }
    }
#pragma GCC unroll 4
    for (int i = 0; i < tw; i++)
#pragma GCC unroll 4
        for (int r = 0; r < nt; r++)
            if (i < nj) y[(size_t)r * ldy + i] = _mm512_reduce_add_ps(acc[i][r]);
}

/* The tile for TW weight rows with the activation-row count made a constant. */
#define TILE_FN(name, tw)                                                                                    \
    static BF16 void name(const tte_mat *w, int j0, int nj, const uint16_t *x, int nt, float *y, int ldy) {  \
        enum { TW = tw };                                                                                    \
        TTE_TILE_BY_ROWS(nt, TILE_CALL)                                                                      \
    }
#define TILE_CALL(rows) tile(TW, w, j0, nj, x, rows, y, ldy)
TILE_FN(tile1, 1)
TILE_FN(tile4, 4)

typedef struct {
    float *y;
    const uint16_t *x; /* (T, K) bf16 */
    int T, tw, x_block;
    const tte_mat *w;
} matmul_job;

/* Weight-row blocks [b0, b1) against all activation rows, x_block rows at a time. */
static void matmul_range(void *arg, int b0, int b1, int worker) {
    const matmul_job *j = arg;
    int J = j->w->rows, K = j->w->cols, tw = j->tw;
    (void)worker;
    for (int t0 = 0; t0 < j->T; t0 += j->x_block) {
        int tn = j->T - t0 < j->x_block ? j->T - t0 : j->x_block;
        for (int b = b0; b < b1; b++) {
            int r0 = b * tw, nj = J - r0 < tw ? J - r0 : tw;
            for (int t = t0; t < t0 + tn; t += TILE_X) {
                int nt = t0 + tn - t < TILE_X ? t0 + tn - t : TILE_X;
                const uint16_t *xt = j->x + (size_t)t * K;
                float *yt = j->y + (size_t)t * J + r0;
                if (tw == 4)
                    tile4(j->w, r0, nj, xt, nt, yt, J);
                else
                    tile1(j->w, r0, nj, xt, nt, yt, J);
            }
        }
    }
}

int tte_avx512bf16_matmul(float *y, const float *x, int T, const tte_mat *w, tte_pool *pool) {
    size_t n = (size_t)T * (size_t)w->cols;
    uint16_t *xb = malloc(n * sizeof *xb);
    if (!xb) return -1;
    tte_avx512bf16_round(xb, x, n);
    int x_block = X_BLOCK_BYTES / (2 * w->cols) / TILE_X * TILE_X;
    matmul_job j = {y,
                    xb,
                    T,
                    T >= TILE_X || (size_t)w->cols * 2 >= LONG_ROW_BYTES ? TILE_W : 1,
                    x_block < TILE_X        ? TILE_X
                    : x_block > X_BLOCK_MAX ? X_BLOCK_MAX
                                            : x_block,
                    w};
    tte_pool_for(pool, (w->rows + j.tw - 1) / j.tw, matmul_range, &j);
    free(xb);
    return 0;
}
#else
void tte_avx512bf16_round(uint16_t *out, const float *x, size_t n) {
    for (size_t i = 0; i < n; i++) { /* to nearest even, as the hardware does; NaN stays NaN */
        uint32_t u;
        memcpy(&u, &x[i], sizeof u);
        out[i] = (u & 0x7fffffffu) > 0x7f800000u ? (uint16_t)(u >> 16 | 0x40)
                                                 : (uint16_t)((u + 0x7fffu + (u >> 16 & 1)) >> 16);
    }
}

int tte_avx512bf16_matmul(float *y, const float *x, int T, const tte_mat *w, tte_pool *pool) {
    (void)y, (void)x, (void)T, (void)w, (void)pool;
    return -1;
}
#endif
