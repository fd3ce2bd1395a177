/* cpu_amx: bf16 weights times bf16-rounded activations on AMX tiles, for the amx kernel path.
 *
 * Why: prefill and batches are bound by arithmetic, and one TDPBF16PS multiplies a 16 x 32 bf16
 * tile by a 32 x 16 one into 16 x 16 f32 sums, 8192 multiply-adds, against 32 for a vdpbf16ps
 * (cpu_avx512bf16.c) or 16 for an f32 FMA. The activations are rounded to bf16 first, as on the
 * avx512bf16 path and in llama.cpp, so this path is an option (TTE_CPU=amx), never the default.
 *
 * Layout: an A tile is 16 weight rows x 32 columns, read where the weights lie (rows K * 2 bytes
 * apart). A B tile is 16 column pairs x 16 activation rows, B[p][2t + e] = X[t][2p + e], the shape
 * TDPBF16PS multiplies the pairs of an A row with; so each call rounds the activations to bf16 and
 * regroups them into blocks of 16 rows once (zeros past T). A C tile, 16 weight rows x 16
 * activation rows, is Y's block transposed, and is written back so.
 *
 * Invariance: each Y[t][j] is what TDPBF16PS sums for one element of a C tile, from zero, over
 * the column steps in ascending order; the rows that share its tiles, the blocking and the thread
 * count do not enter it. Every call with bf16 weights takes this kernel, decode included (a B tile
 * of one activation row and 15 rows of zeros), so a prompt fed whole or token by token, or a
 * sequence decoded alone or in a batch, gives the same bits.
 *
 * Each step multiplies two weight blocks by two activation blocks (4 C tiles, 2 A, 2 B: all 8 tile
 * registers), so each tile loaded is used twice. */
#include "engine/cpu_amx.h"

#include "engine/cpu_avx512bf16.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__linux__)
#include <cpuid.h>
#include <immintrin.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#define AMX __attribute__((target("amx-tile,amx-bf16")))

enum { R = 16 /* rows of every tile */, KSTEP = 32 /* columns of an A tile */ };
enum { ARCH_REQ_XCOMP_PERM = 0x1023, XFEATURE_XTILEDATA = 18 };

static int usable;
static pthread_once_t probed = PTHREAD_ONCE_INIT;

static void probe(void) {
    unsigned a, b, c, d;
    /* CPUID leaf 7: EDX bit 22 is AMX-BF16, bit 24 AMX-TILE. */
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(d & (1u << 22)) || !(d & (1u << 24))) return;
    /* Linux leaves the 8 KB of tile state off until a process asks for it (kernel 5.16 and later). */
    usable = syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0;
}

int tte_amx_usable(void) {
    pthread_once(&probed, probe);
    return usable;
}

/* The 64-byte operand of LDTILECFG, palette 1. */
typedef struct {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} tile_config;

/* Tiles 0-3: C, 4-5: A, 6-7: B; every one 16 rows of 64 bytes. The configuration is per thread. */
static AMX void configure_tiles(void) {
    tile_config c;
    memset(&c, 0, sizeof c);
    c.palette = 1;
    for (int i = 0; i < 8; i++) c.rows[i] = R, c.colsb[i] = 64;
    _tile_loadconfig(&c);
}

typedef struct {
    float *y;
    const uint32_t *xp; /* [block][K / 2 column pairs][16 rows] of bf16 pairs */
    int T, blocks;
    const tte_mat *w;
    const uint16_t *last; /* a last weight block of fewer than 16 rows, padded with zero rows */
} amx_job;

/* Where the A tiles of weight rows J0..J0+15 are read from: the matrix, or for a last block with
 * fewer rows its padded copy, so that no tile load reads past the end of the weights. */
static const uint16_t *weight_block(const amx_job *j, int j0) {
    return j0 + R <= j->w->rows ? (const uint16_t *)j->w->data + (size_t)j0 * (size_t)j->w->cols : j->last;
}

/* C (weight rows x activation rows of one block) into Y, where both exist. */
static void store_block(const amx_job *j, const float c[R][R], int j0, int t0) {
    int J = j->w->rows;
    for (int t = 0; t < R && t0 + t < j->T; t++)
        for (int m = 0; m < R && j0 + m < J; m++)
            j->y[(size_t)(t0 + t) * (size_t)J + (size_t)(j0 + m)] = c[m][t];
}

/* Pairs of weight blocks [p0, p1) (rows 32 p .. 32 p + 31) against every activation block. */
static AMX void amx_range(void *arg, int p0, int p1, int worker) {
    const amx_job *j = arg;
    int K = j->w->cols, J = j->w->rows;
    size_t block = (size_t)K / 2 * R; /* uint32 pairs in one activation block */
    float c[4][R][R];
    (void)worker;
    configure_tiles();
    for (int p = p0; p < p1; p++) {
        int j0 = 2 * R * p, two_w = j0 + R < J;
        const uint16_t *a0 = weight_block(j, j0), *a1 = two_w ? weight_block(j, j0 + R) : NULL;
        for (int b = 0; b < j->blocks; b += 2) {
            int two_x = b + 1 < j->blocks;
            const uint32_t *b0 = j->xp + (size_t)b * block, *b1 = b0 + block;
            _tile_zero(0);
            _tile_zero(1);
            _tile_zero(2);
            _tile_zero(3);
            for (int k = 0; k < K; k += KSTEP) {
                _tile_loadd(4, a0 + k, K * 2);
                _tile_loadd(6, b0 + (size_t)k / 2 * R, 64);
                _tile_dpbf16ps(0, 4, 6);
                if (two_x) {
                    _tile_loadd(7, b1 + (size_t)k / 2 * R, 64);
                    _tile_dpbf16ps(1, 4, 7);
                }
                if (two_w) {
                    _tile_loadd(5, a1 + k, K * 2);
                    _tile_dpbf16ps(2, 5, 6);
                    if (two_x) _tile_dpbf16ps(3, 5, 7);
                }
            }
            _tile_stored(0, c[0], 64);
            _tile_stored(1, c[1], 64);
            _tile_stored(2, c[2], 64);
            _tile_stored(3, c[3], 64);
            store_block(j, c[0], j0, b * R);
            if (two_x) store_block(j, c[1], j0, (b + 1) * R);
            if (two_w) store_block(j, c[2], j0 + R, b * R);
            if (two_w && two_x) store_block(j, c[3], j0 + R, (b + 1) * R);
        }
    }
    _tile_release(); /* so a context switch saves no tile data */
}

/* XB (T rows of K bf16) regrouped into B tiles' order: XP[block][pair][row], zeros past T. */
static void pack_pairs(uint32_t *xp, const uint16_t *xb, int T, int K, int blocks) {
    size_t pairs = (size_t)K / 2;
    for (int b = 0; b < blocks; b++)
        for (int t = 0; t < R; t++) {
            int row = b * R + t;
            uint32_t *out = xp + (size_t)b * pairs * R + t;
            if (row >= T) {
                for (size_t p = 0; p < pairs; p++) out[p * R] = 0;
                continue;
            }
            const uint16_t *in = xb + (size_t)row * (size_t)K;
            for (size_t p = 0; p < pairs; p++) memcpy(&out[p * R], in + 2 * p, sizeof *out);
        }
}

int tte_amx_matmul(float *y, const float *x, int T, const tte_mat *w, tte_pool *pool) {
    int K = w->cols, blocks = (T + R - 1) / R, full = w->rows / R * R;
    if (K % KSTEP != 0 || !tte_amx_usable()) return -1;
    uint16_t *xb = malloc((size_t)T * (size_t)K * sizeof *xb);
    uint32_t *xp = malloc((size_t)blocks * (size_t)K / 2 * R * sizeof *xp);
    uint16_t *last = full < w->rows ? calloc((size_t)R * (size_t)K, sizeof *last) : NULL;
    if (!xb || !xp || (full < w->rows && !last)) {
        free(xb), free(xp), free(last);
        return -1;
    }
    if (last)
        memcpy(last, (const uint16_t *)w->data + (size_t)full * (size_t)K,
               (size_t)(w->rows - full) * (size_t)K * sizeof *last);
    tte_avx512bf16_round(xb, x, (size_t)T * (size_t)K);
    pack_pairs(xp, xb, T, K, blocks);
    free(xb);
    amx_job j = {y, xp, T, blocks, w, last};
    tte_pool_for(pool, (w->rows + 2 * R - 1) / (2 * R), amx_range, &j);
    free(xp);
    free(last);
    return 0;
}
#else
int tte_amx_usable(void) { return 0; }

int tte_amx_matmul(float *y, const float *x, int T, const tte_mat *w, tte_pool *pool) {
    (void)y, (void)x, (void)T, (void)w, (void)pool;
    return -1;
}
#endif
