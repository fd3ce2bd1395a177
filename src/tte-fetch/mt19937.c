/* mt19937: see mt19937.h. Matsumoto and Nishimura's MT19937 (init_genrand, genrand_int32), and
 * numpy's random_interval and legacy shuffle (numpy/random/mtrand.pyx, src/distributions). */
#include "mt19937.h"

#define N 624
#define M 397

void mt19937_seed(mt19937 *mt, uint32_t seed) {
    mt->key[0] = seed;
    for (int i = 1; i < N; i++)
        mt->key[i] = 1812433253u * (mt->key[i - 1] ^ (mt->key[i - 1] >> 30)) + (uint32_t)i;
    mt->pos = N;
}

static void regenerate(mt19937 *mt) {
    static const uint32_t mag01[2] = {0u, 0x9908b0dfu};
    uint32_t *k = mt->key;
    int i;
    for (i = 0; i < N - M; i++) {
        uint32_t y = (k[i] & 0x80000000u) | (k[i + 1] & 0x7fffffffu);
        k[i] = k[i + M] ^ (y >> 1) ^ mag01[y & 1u];
    }
    for (; i < N - 1; i++) {
        uint32_t y = (k[i] & 0x80000000u) | (k[i + 1] & 0x7fffffffu);
        k[i] = k[i + (M - N)] ^ (y >> 1) ^ mag01[y & 1u];
    }
    uint32_t y = (k[N - 1] & 0x80000000u) | (k[0] & 0x7fffffffu);
    k[N - 1] = k[M - 1] ^ (y >> 1) ^ mag01[y & 1u];
    mt->pos = 0;
}

uint32_t mt19937_next(mt19937 *mt) {
    if (mt->pos >= N) regenerate(mt);
    uint32_t y = mt->key[mt->pos++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
}

uint32_t mt19937_interval(mt19937 *mt, uint32_t max) {
    if (max == 0) return 0;
    uint32_t mask = max, value;
    mask |= mask >> 1;
    mask |= mask >> 2;
    mask |= mask >> 4;
    mask |= mask >> 8;
    mask |= mask >> 16;
    while ((value = mt19937_next(mt) & mask) > max) {
    }
    return value;
}

void mt19937_shuffle(mt19937 *mt, const void **x, size_t n) {
    for (size_t i = n; i-- > 1;) {
        size_t j = mt19937_interval(mt, (uint32_t)i);
        const void *t = x[i];
        x[i] = x[j];
        x[j] = t;
    }
}
