/* passk: see passk.h. */
#include "stats/passk.h"
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
