/* cpu_kernels: tiled dot products over bf16/f16/f32 weight rows; attention's dot and axpy.
 *
 * bf16 weights are widened to f32 in registers (exactly: a bf16 is the top half of an f32), never the
 * activations narrowed, so the products are f32 products of the stored values. (The avx512bf16 path,
 * chosen only by TTE_CPU, narrows them instead, for its bf16 products: cpu_avx512bf16.c.)
 *
 * Batch-1 decode is bound by reading the weights, so each weight element is loaded once per tile and
 * used against up to 4 activation rows; batched decode and prefill then reuse every loaded weight
 * vector 4 times from registers. A tile is 4 weight rows x up to 4 activation rows (16 accumulators). */
#include "engine/cpu_kernels.h"

#include "cli.h"
#include "engine/cpu_amx.h"
#include "engine/cpu_avx2.h"
#include "engine/cpu_avx512bf16.h"
#include "engine/cpu_tile.h"

#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

enum { TILE_W = 4, TILE_X = 4 };
enum { W_GROUP_BYTES = 512 * 1024 }; /* see matmul_range */
enum { LONG_ROW_BYTES = 8192 };      /* see TILE_FN */

static inline float bf16f(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* Portable path: the same tile structure with scalar sums in ascending k. Each weight row is
 * converted to floats a chunk at a time (one loop per dtype, tte_mat_floats) and the chunk is used
 * against every activation row of the tile, so no per-element accessor sits in the inner loop. */
static void tile_scalar(const tte_mat *w, int j0, int nj, const float *x, int nt, float *y, int ldy) {
    enum { CHUNK = 1024 };
    float wf[CHUNK];
    int K = w->cols;
    for (int i = 0; i < nj; i++) {
        float sum[TILE_X] = {0};
        for (int k0 = 0; k0 < K; k0 += CHUNK) {
            int n = K - k0 < CHUNK ? K - k0 : CHUNK;
            tte_mat_floats(w, (size_t)(j0 + i) * (size_t)K + (size_t)k0, n, wf);
            for (int r = 0; r < nt; r++) {
                const float *xr = x + (size_t)r * (size_t)K + k0;
                float s = sum[r];
                for (int k = 0; k < n; k++) s += wf[k] * xr[k];
                sum[r] = s;
            }
        }
        for (int r = 0; r < nt; r++) y[(size_t)r * (size_t)ldy + i] = sum[r];
    }
}

#if defined(__x86_64__)
#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma,f16c")))
#define INLINE __attribute__((always_inline)) inline

/* 16 consecutive weights of a row as floats (bf16: widen and shift; f16: hardware convert). */
static INLINE AVX512 __m512 load16(tte_dtype dt, const void *row, int k) {
    if (dt == TTE_DT_BF16) {
        __m256i h = _mm256_loadu_si256((const __m256i *)((const uint16_t *)row + k));
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
    }
    if (dt == TTE_DT_F16)
        return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)((const uint16_t *)row + k)));
    return _mm512_loadu_ps((const float *)row + k);
}

static INLINE AVX512 float elem(tte_dtype dt, const void *row, int k) {
    if (dt == TTE_DT_BF16) return bf16f(((const uint16_t *)row)[k]);
    if (dt == TTE_DT_F16) return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(((const uint16_t *)row)[k])));
    return ((const float *)row)[k];
}

/* One tile: rows j0..j0+nj-1 of W (nj <= 4; missing rows repeat the last, results dropped) against
 * NT activation rows. DT and NT are constants after inlining, so the loops unroll into registers. */
static INLINE AVX512 void tile_avx512(tte_dtype dt, int tw, const tte_mat *w, int j0, int nj, const float *x,
                                      int nt, float *y, int ldy) {
    int K = w->cols;
    size_t esz = dt == TTE_DT_F32 ? 4 : 2;
    const char *rows[TILE_W];
    for (int i = 0; i < tw; i++)
        rows[i] = (const char *)w->data + (size_t)(j0 + (i < nj ? i : nj - 1)) * (size_t)K * esz;
    /* The pragmas make GCC unroll these tiny loops at -O2, so the accumulators live in registers. */
    __m512 acc[TILE_W][TILE_X];
#pragma GCC unroll 4
    for (int i = 0; i < tw; i++)
#pragma GCC unroll 4
        for (int r = 0; r < TILE_X; r++) acc[i][r] = _mm512_setzero_ps();
    int k = 0;
    if (dt == TTE_DT_BF16) {
        /* 32 bf16 in one load: as 32-bit lanes, each holds an even element in its low half and the
         * next odd one in its high half, so a shift and a mask give both as exact floats, with no
         * cross-lane widening. X was permuted to match (pair_permute). */
        const __m512i high = _mm512_set1_epi32((int)0xffff0000u);
        for (; k + 32 <= K; k += 32) {
            __m512 we[TILE_W], wo[TILE_W];
#pragma GCC unroll 4
            for (int i = 0; i < tw; i++) {
                __m512i raw = _mm512_loadu_si512((const void *)(rows[i] + (size_t)k * 2));
                we[i] = _mm512_castsi512_ps(_mm512_slli_epi32(raw, 16));
                wo[i] = _mm512_castsi512_ps(_mm512_and_si512(raw, high));
            }
#pragma GCC unroll 4
            for (int r = 0; r < nt; r++) {
                __m512 xe = _mm512_loadu_ps(x + (size_t)r * (size_t)K + k),
                       xo = _mm512_loadu_ps(x + (size_t)r * (size_t)K + k + 16);
#pragma GCC unroll 4
                for (int i = 0; i < tw; i++)
                    acc[i][r] = _mm512_fmadd_ps(wo[i], xo, _mm512_fmadd_ps(we[i], xe, acc[i][r]));
            }
        }
    }
    for (; k + 16 <= K; k += 16) {
        __m512 wv[TILE_W];
#pragma GCC unroll 4
        for (int i = 0; i < tw; i++) wv[i] = load16(dt, rows[i], k);
#pragma GCC unroll 4
        for (int r = 0; r < nt; r++) {
            __m512 xv = _mm512_loadu_ps(x + (size_t)r * (size_t)K + k);
#pragma GCC unroll 4
            for (int i = 0; i < tw; i++) acc[i][r] = _mm512_fmadd_ps(wv[i], xv, acc[i][r]);
        }
    }
#pragma GCC unroll 4
    for (int i = 0; i < tw; i++)
#pragma GCC unroll 4
        for (int r = 0; r < nt; r++) {
            if (i >= nj) continue; /* constant indices keep acc in registers; skip padding rows */
            float s = _mm512_reduce_add_ps(acc[i][r]);
            for (int kk = k; kk < K; kk++) s += elem(dt, rows[i], kk) * x[(size_t)r * (size_t)K + kk];
            y[(size_t)r * (size_t)ldy + i] = s;
        }
}

/* Instantiates the tile for each (dtype, weight rows, activation rows) so every call has constants.
 * With 4 or more activation rows, 4 weight rows reuse each activation load. With fewer (decode),
 * memory streaming decides, measured on this engine's 1.5B benchmark model, one thread:
 *   rows of 1536 bf16 (3 KB; q/k/v/o, gate, up): one row at a time 11-13 GB/s, 4 interleaved 5-6
 *     (consecutive rows are one sequential stream; 4 short interleaved streams defeat the prefetcher)
 *   rows of 8960 bf16 (18 KB; down): 4 interleaved 10-12 GB/s, one at a time 5-6 (each row rereads
 *     the 35 KB activation vector, which no longer fits in L1)
 * Each output's arithmetic is the same whichever tile computes it. */
#define TILE_FN(name, dt, tw)                                                                                \
    static AVX512 void name(const tte_mat *w, int j0, int nj, const float *x, int nt, float *y, int ldy) {   \
        enum { TW = tw };                                                                                    \
        const tte_dtype DT = dt;                                                                             \
        TTE_TILE_BY_ROWS(nt, TILE_CALL)                                                                      \
    }
#define TILE_CALL(rows) tile_avx512(DT, TW, w, j0, nj, x, rows, y, ldy)
TILE_FN(tile1_bf16_avx512, TTE_DT_BF16, 1)
TILE_FN(tile1_f16_avx512, TTE_DT_F16, 1)
TILE_FN(tile1_f32_avx512, TTE_DT_F32, 1)
TILE_FN(tile4_bf16_avx512, TTE_DT_BF16, 4)
TILE_FN(tile4_f16_avx512, TTE_DT_F16, 4)
TILE_FN(tile4_f32_avx512, TTE_DT_F32, 4)

/* F16C (half-float conversion) from CPUID leaf 1; clang's __builtin_cpu_supports lacks the name. */
static int has_f16c(void) {
    unsigned a, b, c, d;
    return __get_cpuid(1, &a, &b, &c, &d) && (c & bit_F16C);
}

/* AVX512_BF16 from CPUID leaf 7, sub-leaf 1 (EAX bit 5), named in __builtin_cpu_supports only by
 * newer compilers. */
static int has_avx512bf16(void) {
    unsigned a, b, c, d;
    return __get_cpuid_count(7, 1, &a, &b, &c, &d) && (a & bit_AVX512BF16);
}

int tte_cpu_has(tte_cpu_path p) {
    __builtin_cpu_init();
    if (p == TTE_CPU_AMX) return tte_cpu_has(TTE_CPU_AVX512BF16) && tte_amx_usable();
    if (p == TTE_CPU_AVX512BF16) return tte_cpu_has(TTE_CPU_AVX512) && has_avx512bf16();
    if (p == TTE_CPU_AVX512)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") && has_f16c();
    if (p == TTE_CPU_AVX2)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && has_f16c();
    return 1;
}
#else
int tte_cpu_has(tte_cpu_path p) { return p == TTE_CPU_SCALAR; }
#endif

static const char *const path_names[] = {"scalar", "avx2", "avx512", "avx512bf16", "amx"};

const char *tte_cpu_path_name(tte_cpu_path p) { return path_names[p]; }

tte_cpu_path tte_cpu_path_now(void) {
    static int chosen = -1;
    if (chosen >= 0) return (tte_cpu_path)chosen;
    const char *forced = getenv("TTE_CPU");
    if (forced && *forced) {
        int p = -1;
        for (int k = 0; k < (int)(sizeof path_names / sizeof path_names[0]); k++)
            if (strcmp(forced, path_names[k]) == 0) p = k;
        if (p < 0) tte_die("TTE_CPU=%s: not one of amx, avx512bf16, avx512, avx2, scalar", forced);
        if (!tte_cpu_has((tte_cpu_path)p)) tte_die("TTE_CPU=%s: this CPU lacks the instructions", forced);
        chosen = p;
    } else {
        /* avx512bf16 and amx only when asked for: their activations rounded to bf16 move logits by
         * up to 0.7% of their range (0.16 on the test fixtures, beyond the 2e-2 that bf16 weights
         * meet on the f32 paths), so they are options, not the default (cpu_avx512bf16.c). */
        chosen = tte_cpu_has(TTE_CPU_AVX512) ? TTE_CPU_AVX512
                 : tte_cpu_has(TTE_CPU_AVX2) ? TTE_CPU_AVX2
                                             : TTE_CPU_SCALAR;
    }
    return (tte_cpu_path)chosen;
}

/* The AVX-512 f32 kernels serve the avx512bf16 and amx paths too, for all but their bf16 products. */
static int avx512_now(void) {
    tte_cpu_path p = tte_cpu_path_now();
    return p == TTE_CPU_AVX512 || p == TTE_CPU_AVX512BF16 || p == TTE_CPU_AMX;
}

typedef void (*tile_fn)(const tte_mat *w, int j0, int nj, const float *x, int nt, float *y, int ldy);

/* The tile function for W and the weight rows it takes at once (*tw). */
static tile_fn pick_tile(const tte_mat *w, int T, int *tw) {
    tte_dtype dt = w->dtype;
#if defined(__x86_64__)
    if (avx512_now()) {
        size_t row_bytes = (size_t)w->cols * (dt == TTE_DT_F32 ? 4 : 2);
        *tw = T >= TILE_X || row_bytes >= LONG_ROW_BYTES ? 4 : 1;
        if (dt == TTE_DT_BF16) return *tw == 4 ? tile4_bf16_avx512 : tile1_bf16_avx512;
        if (dt == TTE_DT_F16) return *tw == 4 ? tile4_f16_avx512 : tile1_f16_avx512;
        return *tw == 4 ? tile4_f32_avx512 : tile1_f32_avx512;
    }
    if (tte_cpu_path_now() == TTE_CPU_AVX2) {
        size_t row_bytes = (size_t)w->cols * (dt == TTE_DT_F32 ? 4 : 2);
        *tw = T < TILE_X && row_bytes >= LONG_ROW_BYTES ? 2 : 1;
        if (*tw == 2)
            return dt == TTE_DT_BF16  ? tte_avx2_tile2_bf16
                   : dt == TTE_DT_F16 ? tte_avx2_tile2_f16
                                      : tte_avx2_tile2_f32;
        return dt == TTE_DT_BF16  ? tte_avx2_tile_bf16
               : dt == TTE_DT_F16 ? tte_avx2_tile_f16
                                  : tte_avx2_tile_f32;
    }
#endif
    (void)dt;
    (void)T;
    *tw = TILE_W;
    return tile_scalar;
}

typedef struct {
    float *y;
    const float *x;
    int T, tw;
    const tte_mat *w;
    tile_fn tile;
} matmul_job;

/* Weight-row blocks [b0, b1) against all activation rows. The blocks are taken W_GROUP_BYTES of
 * weights at a time, a group that stays in L2 while every tile of TILE_X activation rows (in L1)
 * passes over it: the weights are read from memory once per call, and each activation vector a tile
 * loads comes from L1. */
static void matmul_range(void *arg, int b0, int b1, int worker) {
    const matmul_job *j = arg;
    int J = j->w->rows, K = j->w->cols, tw = j->tw;
    size_t block_bytes = (size_t)tw * (size_t)K * (j->w->dtype == TTE_DT_F32 ? 4 : 2);
    int group = (int)(W_GROUP_BYTES / block_bytes) > 1 ? (int)(W_GROUP_BYTES / block_bytes) : 1;
    (void)worker;
    for (int g0 = b0; g0 < b1; g0 += group) {
        int g1 = g0 + group < b1 ? g0 + group : b1;
        for (int t = 0; t < j->T; t += TILE_X) {
            int nt = j->T - t < TILE_X ? j->T - t : TILE_X;
            for (int b = g0; b < g1; b++) {
                int r0 = b * tw, nj = J - r0 < tw ? J - r0 : tw;
                j->tile(j->w, r0, nj, j->x + (size_t)t * (size_t)K, nt, j->y + (size_t)t * (size_t)J + r0, J);
            }
        }
    }
}

/* For the SIMD bf16 tiles: each row's columns in blocks of 32, even ones first, then odd ones;
 * columns after the last whole block stay in place. */
static void pair_permute(float *out, const float *x, int T, int K) {
    for (int t = 0; t < T; t++) {
        const float *in = x + (size_t)t * (size_t)K;
        float *o = out + (size_t)t * (size_t)K;
        int k = 0;
        for (; k + 32 <= K; k += 32)
            for (int l = 0; l < 16; l++) o[k + l] = in[k + 2 * l], o[k + 16 + l] = in[k + 2 * l + 1];
        for (; k < K; k++) o[k] = in[k];
    }
}

void tte_cpu_matmul(float *y, const float *x, int T, const tte_mat *w, tte_pool *pool) {
    tte_cpu_path path = tte_cpu_path_now();
    if (w->dtype == TTE_DT_BF16 && path == TTE_CPU_AMX && tte_amx_matmul(y, x, T, w, pool) == 0) return;
    if (w->dtype == TTE_DT_BF16 && (path == TTE_CPU_AVX512BF16 || path == TTE_CPU_AMX) &&
        tte_avx512bf16_matmul(y, x, T, w, pool) == 0)
        return; /* else out of memory: the f32 kernels below (which round differently) */
    matmul_job j = {y, x, T, 0, w, NULL};
    j.tile = pick_tile(w, T, &j.tw);
    float *permuted = NULL;
    if (w->dtype == TTE_DT_BF16 && tte_cpu_path_now() != TTE_CPU_SCALAR && w->cols >= 32) {
        permuted = malloc((size_t)T * (size_t)w->cols * sizeof *permuted);
        if (permuted) {
            pair_permute(permuted, x, T, w->cols);
            j.x = permuted;
        } else {
            j.tile = tile_scalar; /* out of memory: the slow path needs no buffer */
            j.tw = TILE_W;
        }
    }
    tte_pool_for(pool, (w->rows + j.tw - 1) / j.tw, matmul_range, &j);
    free(permuted);
}

#if defined(__x86_64__)
static AVX512 float dot_avx512(const float *a, const float *b, int n) {
    __m512 acc = _mm512_setzero_ps();
    int i = 0;
    for (; i + 16 <= n; i += 16) acc = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc);
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), acc);
    }
    return _mm512_reduce_add_ps(acc);
}

/* dot_avx512 four times over, with four chains of multiply-adds in flight instead of one. */
static AVX512 void dot4_avx512(const float *a, const float *const b[4], int n, float out[4]) {
    __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 av = _mm512_loadu_ps(a + i);
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++) acc[j] = _mm512_fmadd_ps(av, _mm512_loadu_ps(b[j] + i), acc[j]);
    }
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        __m512 av = _mm512_maskz_loadu_ps(m, a + i);
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++) acc[j] = _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(m, b[j] + i), acc[j]);
    }
#pragma GCC unroll 4
    for (int j = 0; j < 4; j++) out[j] = _mm512_reduce_add_ps(acc[j]);
}

/* axpy_avx512 for four (alpha, x) in turn: each element takes the same four multiply-adds in the
 * same order, but Y is loaded and stored once instead of four times. */
static AVX512 void axpy4_avx512(float *y, const float alpha[4], const float *const x[4], int n) {
    __m512 a[4];
#pragma GCC unroll 4
    for (int j = 0; j < 4; j++) a[j] = _mm512_set1_ps(alpha[j]);
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 v = _mm512_loadu_ps(y + i);
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++) v = _mm512_fmadd_ps(a[j], _mm512_loadu_ps(x[j] + i), v);
        _mm512_storeu_ps(y + i, v);
    }
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        __m512 v = _mm512_maskz_loadu_ps(m, y + i);
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++) v = _mm512_fmadd_ps(a[j], _mm512_maskz_loadu_ps(m, x[j] + i), v);
        _mm512_mask_storeu_ps(y + i, m, v);
    }
}

static AVX512 void axpy_avx512(float *y, float alpha, const float *x, int n) {
    __m512 a = _mm512_set1_ps(alpha);
    int i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, _mm512_fmadd_ps(a, _mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        _mm512_mask_storeu_ps(
            y + i, m, _mm512_fmadd_ps(a, _mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i)));
    }
}
#endif

float tte_cpu_dot(const float *a, const float *b, int n) {
#if defined(__x86_64__)
    if (avx512_now()) return dot_avx512(a, b, n);
    if (tte_cpu_path_now() == TTE_CPU_AVX2) return tte_avx2_dot(a, b, n);
#endif
    float s = 0;
    for (int i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

void tte_cpu_axpy(float *y, float alpha, const float *x, int n) {
#if defined(__x86_64__)
    if (avx512_now()) {
        axpy_avx512(y, alpha, x, n);
        return;
    }
    if (tte_cpu_path_now() == TTE_CPU_AVX2) {
        tte_avx2_axpy(y, alpha, x, n);
        return;
    }
#endif
    for (int i = 0; i < n; i++) y[i] += alpha * x[i];
}

void tte_cpu_dot4(const float *a, const float *const b[4], int n, float out[4]) {
#if defined(__x86_64__)
    if (avx512_now()) {
        dot4_avx512(a, b, n, out);
        return;
    }
#endif
    for (int j = 0; j < 4; j++) out[j] = tte_cpu_dot(a, b[j], n);
}

void tte_cpu_axpy4(float *y, const float alpha[4], const float *const x[4], int n) {
#if defined(__x86_64__)
    if (avx512_now()) {
        axpy4_avx512(y, alpha, x, n);
        return;
    }
#endif
    for (int j = 0; j < 4; j++) tte_cpu_axpy(y, alpha[j], x[j], n);
}
