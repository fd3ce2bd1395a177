/* passk: metrics of repeated sampling.
 *
 *   pass@k  the unbiased estimator of Chen et al. (2021) of the chance that at least one of k samples
 *           drawn without replacement from n, c of them correct, is correct:
 *           1 - C(n-c, k) / C(n, k) = 1 - prod_{i=n-c+1}^{n} (1 - k/i)   (the stable product form)
 *   maj@k   whether the majority answer of the first k samples is correct; equal answers are one
 *           answer, a tie goes to the answer that occurred first, samples without an answer do not
 *           vote (none: not correct)
 *   bon@k   Best-of-N by a verifier: the expected correctness of the highest-scoring sample of a
 *           uniformly random k-subset of the n samples, ties broken uniformly at random; exact
 *           (the i-th best of n is the subset's best with probability C(n-1-i, k-1) / C(n, k))
 *   weighted@k  weighted voting: in a k-subset, the answer whose samples' scores sum highest
 *           (equal answers are one answer; a tie goes to the answer of the lowest sample index;
 *           samples without an answer do not vote); the expectation over k-subsets, exact by
 *           enumeration when there are at most TTE_SUBSETS_EXACT of them, else the mean over
 *           TTE_SUBSETS_SAMPLED random subsets drawn from the seed
 *   coverage fit  log c(k) ~ a k^b (Brown et al. 2024, "Large Language Monkeys"), fitted by least
 *           squares on log(-log c) = log(-a) + b log k over the k with 0 < c(k) < 1. */
#ifndef TTE_STATS_PASSK_H
#define TTE_STATS_PASSK_H

#include <stdint.h>

#include "stats/value.h"

/* 0 <= C <= N, 1 <= K <= N. */
double tte_pass_at_k(int n, int c, int k);

/* PREDS[i] is sample i's answer (NULL: none), CORRECT[i] its grade; K <= the number of samples.
 * Returns 1 if the majority answer is correct, else 0. */
int tte_maj_at_k(const char *const *preds, const int *correct, int k);

enum { TTE_SUBSETS_EXACT = 20000, TTE_SUBSETS_SAMPLED = 4000 };

/* SCORE[i] and CORRECT[i] of sample i < N; 1 <= K <= N. */
double tte_bon_at_k(const double *score, const int *correct, int n, int k);
/* PREDS[i] (NULL: no answer), SCORE[i], CORRECT[i] of sample i < N; 1 <= K <= N. SEED draws the
 * subsets when they are too many to enumerate. */
double tte_weighted_at_k(const char *const *preds, const double *score, const int *correct, int n, int k,
                         uint64_t seed);

typedef struct {
    tte_value a, b; /* log c(k) = a k^b */
    int npoints;    /* the k that entered the fit */
} tte_coverage_fit;

tte_coverage_fit tte_fit_coverage(const int *k, const double *coverage, int n);

#endif
