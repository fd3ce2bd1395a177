/* spearman: see spearman.h. */
#include "stats/spearman.h"
#include "xalloc.h"

#include <math.h>
#include <stdlib.h>

typedef struct {
    double value;
    int index;
} keyed;

/* By value, then by position, so that the order of ties is fixed. */
static int cmp_keyed(const void *a, const void *b) {
    const keyed *x = a, *y = b;
    if (x->value != y->value) return (x->value > y->value) - (x->value < y->value);
    return x->index - y->index;
}

void tte_average_ranks(const double *v, int n, double *rank) {
    keyed *order = tte_xmalloc(sizeof(keyed) * (size_t)(n > 0 ? n : 0));
    for (int i = 0; i < n; i++) order[i].value = v[i], order[i].index = i;
    qsort(order, (size_t)n, sizeof(keyed), cmp_keyed);
    for (int i = 0; i < n;) {
        int j = i;
        while (j + 1 < n && order[j + 1].value == order[i].value) j++;
        double r = (i + j) / 2.0 + 1; /* the average of ranks i+1 .. j+1 */
        for (int t = i; t <= j; t++) rank[order[t].index] = r;
        i = j + 1;
    }
    free(order);
}

tte_value tte_spearman(const double *x, const double *y, int n) {
    if (n < 2) return tte_value_undefined("needs at least 2 items in common");
    double *rx = tte_xmalloc(sizeof(double) * (size_t)n), *ry = tte_xmalloc(sizeof(double) * (size_t)n);
    tte_average_ranks(x, n, rx);
    tte_average_ranks(y, n, ry);
    double mx = (n + 1) / 2.0, sxy = 0, sxx = 0, syy = 0; /* average ranks always have mean (n+1)/2 */
    for (int i = 0; i < n; i++) {
        sxy += (rx[i] - mx) * (ry[i] - mx);
        sxx += (rx[i] - mx) * (rx[i] - mx);
        syy += (ry[i] - mx) * (ry[i] - mx);
    }
    free(rx), free(ry);
    if (sxx == 0 || syy == 0) return tte_value_undefined("the scores of one side are all equal");
    return tte_value_of(sxy / sqrt(sxx * syy), "rho is not finite");
}
