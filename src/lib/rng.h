/* rng: splitmix64 (Steele, Lea and Flood 2014), a tiny generator with a well-known output
 * sequence, so anything tte draws from a seed (shuffles, synthetic items, bootstrap resamples, the
 * seeds of the sampler's xoshiro streams) is the same on every machine and can be reproduced in a
 * few lines of Python:
 *   state += 0x9e3779b97f4a7c15; z = state;
 *   z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9; z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
 *   return z ^ (z >> 31) */
#ifndef TTE_RNG_H
#define TTE_RNG_H

#include <stdint.h>

static inline uint64_t tte_splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* A value in [0, n); the modulo bias is below n / 2^64, negligible for the sizes tte uses. */
static inline uint64_t tte_rng_below(uint64_t *state, uint64_t n) { return tte_splitmix64(state) % n; }

#endif
