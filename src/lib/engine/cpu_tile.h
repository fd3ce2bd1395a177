/* cpu_tile: what the SIMD kernel files (cpu_kernels.c, cpu_avx2.c, cpu_avx512bf16.c) share about
 * their tiles. Private to them.
 *
 * TTE_TILE_BY_ROWS(nt, CALL) runs CALL(1), CALL(2), CALL(3) or CALL(4) for NT activation rows (4 and
 * more: CALL(4)), so that each tile is compiled with its row count a constant and its accumulators
 * unrolled into registers. */
#ifndef TTE_CPU_TILE_H
#define TTE_CPU_TILE_H

#define TTE_TILE_BY_ROWS(nt, CALL)                                                                           \
    switch (nt) {                                                                                            \
    case 1:                                                                                                  \
        CALL(1);                                                                                             \
        break;                                                                                               \
    case 2:                                                                                                  \
        CALL(2);                                                                                             \
        break;                                                                                               \
    case 3:                                                                                                  \
        CALL(3);                                                                                             \
        break;                                                                                               \
    default:                                                                                                 \
        CALL(4);                                                                                             \
        break;                                                                                               \
    }

#endif
