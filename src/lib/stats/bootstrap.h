/* bootstrap: percentile bootstrap over items, reproducible from a seed.
 *
 * The resamples come from splitmix64 (rng.h), which is ten lines and easy to re-implement, so a
 * reference in another language draws the same resamples, and an index in [0, n) is the high 64 bits of the 128-bit product (next * n) (Lemire 2019).
 * Resample b draws its n item indices one after another from one stream seeded with SEED. */
#ifndef TTE_STATS_BOOTSTRAP_H
#define TTE_STATS_BOOTSTRAP_H

#include <stdint.h>

#include "rng.h"

/* A uniform index in [0, N), N >= 1. */
int tte_random_index(uint64_t *state, int n);

/* The Q-quantile (0 <= Q <= 1) of N sorted values by linear interpolation between order statistics
 * (numpy's default: position (N-1) Q). */
double tte_quantile_sorted(const double *sorted, int n, double q);

/* Bootstrap confidence bands of a curve's mean over items. VALUES is NITEMS x NB row-major; NAN marks
 * an item without a value at that budget. Each of NRES resamples draws NITEMS items with
 * replacement and takes, per budget, the mean over the drawn items that have a value there; LO[j]
 * and HI[j] are the (1-LEVEL)/2 and (1+LEVEL)/2 quantiles of those means. A budget no resample has a
 * value at gets NAN. Out of memory exits with a message (xalloc.h). */
void tte_bootstrap_curve(const double *values, int nitems, int nb, int nres, uint64_t seed, double level,
                         double *lo, double *hi);

#endif
