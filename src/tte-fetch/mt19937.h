/* mt19937: the Mersenne Twister as numpy's legacy RandomState uses it, for choice orders that match
 * the original study's np.random.RandomState(42).shuffle. */
#ifndef TTE_FETCH_MT19937_H
#define TTE_FETCH_MT19937_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t key[624];
    int pos;
} mt19937;

/* init_genrand(SEED): what RandomState(SEED) does for an integer seed below 2^32. */
void mt19937_seed(mt19937 *mt, uint32_t seed);
/* The next 32-bit output (genrand_int32). */
uint32_t mt19937_next(mt19937 *mt);
/* numpy's random_interval(MAX): uniform in [0, MAX] by masked rejection (MAX < 2^32). */
uint32_t mt19937_interval(mt19937 *mt, uint32_t max);
/* RandomState.shuffle on a list of N pointers: for i from N-1 down to 1, swap i with
 * random_interval(i). */
void mt19937_shuffle(mt19937 *mt, const void **x, size_t n);

#endif
