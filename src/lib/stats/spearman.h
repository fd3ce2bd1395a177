/* spearman: rank correlation, to ask whether the same items emerge for two models.
 *
 * Ranks are 1..n with ties given their average rank; rho is the Pearson correlation of the ranks
 * (scipy.stats.spearmanr). Undefined for n < 2 or when either side is constant. */
#ifndef TTE_STATS_SPEARMAN_H
#define TTE_STATS_SPEARMAN_H

#include "stats/value.h"

/* Writes the average ranks of the N values of V to RANK. Out of memory exits with a message
 * (xalloc.h), like every allocation in libtte. */
void tte_average_ranks(const double *v, int n, double *rank);
tte_value tte_spearman(const double *x, const double *y, int n);

#endif
