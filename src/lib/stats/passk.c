/* passk: see passk.h. */
#include "stats/passk.h"
#include "stats/bootstrap.h"
#include "stats/lstsq.h"
#include "xalloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

double tte_pass_at_k(int n, int c, int k) {
    if (n - c < k) return 1; /* every k-subset holds a correct sample */
    double fail = 1;
    for (int i = n - c + 1; i <= n; i++) fail *= 1 - (double)k / i;
    return 1 - fail;
}

int tte_maj_at_k(const char *const *preds, const int *correct, int k) {
    int best = -1, best_votes = 0;
    for (int i = 0; i < k; i++) {
        if (!preds[i]) continue;
        int seen_before = 0;
        for (int j = 0; j < i && !seen_before; j++) seen_before = preds[j] && strcmp(preds[j], preds[i]) == 0;
        if (seen_before) continue; /* counted at its first occurrence */
        int votes = 0;
        for (int j = i; j < k; j++) votes += preds[j] && strcmp(preds[j], preds[i]) == 0;
        if (votes > best_votes) best = i, best_votes = votes; /* strict: the first occurrence wins ties */
    }
    return best >= 0 && correct[best];
}

/* C(n, k) as a double (exact for the sizes of a sweep's samples). */
static double choose(int n, int k) {
    if (k < 0 || k > n) return 0;
    double c = 1;
    for (int i = 1; i <= k; i++) c = c * (n - k + i) / i;
    return c;
}

static int by_score_desc(const void *a, const void *b, void *arg) {
    const double *s = arg;
    double x = s[*(const int *)a], y = s[*(const int *)b];
    return (x < y) - (x > y);
}

double tte_bon_at_k(const double *score, const int *correct, int n, int k) {
    int *order = tte_xmalloc((size_t)n * sizeof *order);
    for (int i = 0; i < n; i++) order[i] = i;
    qsort_r(order, (size_t)n, sizeof *order, by_score_desc, (void *)score);
    /* A run of equal scores at ranks [a, b) is the subset's best with the sum of its ranks'
     * chances; a uniform tie-break spreads that evenly over its members. */
    double total = 0, all = choose(n, k);
    for (int a = 0; a < n;) {
        int b = a, hits = 0;
        double p = 0;
        while (b < n && score[order[b]] == score[order[a]])
            p += choose(n - 1 - b, k - 1), hits += correct[order[b]], b++;
        total += p / all * hits / (b - a);
        a = b;
    }
    free(order);
    return total;
}

/* Weighted voting among the samples SUBSET[0..k): 1 when the winning answer is correct. */
static int weighted_vote(const char *const *preds, const double *score, const int *correct, const int *subset,
                         int k) {
    int best = -1;
    double best_w = 0;
    for (int a = 0; a < k; a++) {
        int i = subset[a];
        if (!preds[i]) continue;
        int seen = 0;
        for (int b = 0; b < a && !seen; b++)
            seen = preds[subset[b]] && strcmp(preds[subset[b]], preds[i]) == 0;
        if (seen) continue; /* counted with its first sample */
        double w = 0;
        for (int b = a; b < k; b++)
            w += preds[subset[b]] && strcmp(preds[subset[b]], preds[i]) == 0 ? score[subset[b]] : 0;
        if (best < 0 || w > best_w) best = i, best_w = w;
    }
    return best >= 0 && correct[best];
}

double tte_weighted_at_k(const char *const *preds, const double *score, const int *correct, int n, int k,
                         uint64_t seed) {
    int *subset = tte_xmalloc((size_t)k * sizeof *subset);
    double total = 0, count = 0;
    if (choose(n, k) <= TTE_SUBSETS_EXACT) {
        /* Every k-subset in lexicographic order, its indices ascending. */
        for (int i = 0; i < k; i++) subset[i] = i;
        for (;;) {
            total += weighted_vote(preds, score, correct, subset, k), count++;
            int i = k - 1;
            while (i >= 0 && subset[i] == n - k + i) i--;
            if (i < 0) break;
            subset[i]++;
            for (int j = i + 1; j < k; j++) subset[j] = subset[j - 1] + 1;
        }
    } else {
        /* Floyd's sampling of k of n, then the indices ascending, as the enumeration has them. */
        char *taken = tte_xmalloc((size_t)n);
        uint64_t state = seed;
        for (int r = 0; r < TTE_SUBSETS_SAMPLED; r++) {
            memset(taken, 0, (size_t)n);
            for (int j = n - k; j < n; j++) {
                int t = tte_random_index(&state, j + 1);
                taken[taken[t] ? j : t] = 1;
            }
            for (int i = 0, m = 0; i < n; i++)
                if (taken[i]) subset[m++] = i;
            total += weighted_vote(preds, score, correct, subset, k), count++;
        }
        free(taken);
    }
    free(subset);
    return total / count;
}

tte_coverage_fit tte_fit_coverage(const int *k, const double *coverage, int n) {
    tte_coverage_fit f = {{0, NULL}, {0, NULL}, 0};
    double *design = tte_xmalloc(sizeof(double) * 2 * (size_t)(n > 0 ? n : 0));
    double *t = tte_xmalloc(sizeof(double) * (size_t)(n > 0 ? n : 0));
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (!(coverage[i] > 0 && coverage[i] < 1)) continue;
        design[2 * m] = 1;
        design[2 * m + 1] = log((double)k[i]);
        t[m] = log(-log(coverage[i]));
        m++;
    }
    f.npoints = m;
    double beta[2];
    if (m < 2) {
        f.a = f.b = tte_value_undefined("needs coverage strictly between 0 and 1 at 2 or more k");
    } else if (tte_lstsq(design, t, m, 2, beta, NULL) != 0) {
        f.a = f.b = tte_value_undefined("the k values are all equal");
    } else {
        f.a = tte_value_of(-exp(beta[0]), "a is not finite");
        f.b = tte_value_of(beta[1], "b is not finite");
    }
    free(design), free(t);
    return f;
}
