/* bootstrap: see bootstrap.h. */
#include "stats/bootstrap.h"
#include "xalloc.h"

#include <math.h>
#include <stdlib.h>

int tte_random_index(uint64_t *state, int n) {
    return (int)(((unsigned __int128)tte_splitmix64(state) * (unsigned)n) >> 64);
}

double tte_quantile_sorted(const double *s, int n, double q) {
    double pos = (n - 1) * q;
    int i = (int)floor(pos);
    if (i >= n - 1) return s[n - 1];
    double frac = pos - i;
    return s[i] + frac * (s[i + 1] - s[i]);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void tte_bootstrap_curve(const double *values, int nitems, int nb, int nres, uint64_t seed, double level,
                         double *lo, double *hi) {
    double *means = tte_xmalloc(tte_xmul(sizeof(double) * (size_t)nres, (size_t)nb)); /* [budget][resample] */
    int *count = tte_xmalloc(sizeof(int) * (size_t)nb);
    double *sum = tte_xmalloc(sizeof(double) * (size_t)nb);
    int *kept = tte_xcalloc((size_t)nb, sizeof(int));
    uint64_t state = seed;
    for (int r = 0; r < nres; r++) {
        for (int j = 0; j < nb; j++) sum[j] = 0, count[j] = 0;
        for (int i = 0; i < nitems; i++) {
            const double *row = values + (size_t)tte_random_index(&state, nitems) * (size_t)nb;
            for (int j = 0; j < nb; j++)
                if (!isnan(row[j])) sum[j] += row[j], count[j]++;
        }
        for (int j = 0; j < nb; j++)
            if (count[j] > 0) means[(size_t)j * (size_t)nres + (size_t)kept[j]++] = sum[j] / count[j];
    }
    for (int j = 0; j < nb; j++) {
        double *m = means + (size_t)j * (size_t)nres;
        if (kept[j] == 0) {
            lo[j] = hi[j] = NAN;
            continue;
        }
        qsort(m, (size_t)kept[j], sizeof(double), cmp_double);
        lo[j] = tte_quantile_sorted(m, kept[j], (1 - level) / 2);
        hi[j] = tte_quantile_sorted(m, kept[j], (1 + level) / 2);
    }
    free(means), free(count), free(sum), free(kept);
}
