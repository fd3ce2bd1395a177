/* emergence: see emergence.h. */
#include "stats/emergence.h"
#include "xalloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_POINTS = 256 };

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double tte_median(const double *v, int n) {
    double *s = tte_xmalloc(sizeof(double) * (size_t)n);
    memcpy(s, v, sizeof(double) * (size_t)n);
    qsort(s, (size_t)n, sizeof(double), cmp_double);
    double m = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    free(s);
    return m;
}

/* The signed range I of the curve. */
static double signed_range(const double *y, int k) {
    int argmin = 0, argmax = 0;
    for (int i = 1; i < k; i++) {
        if (y[i] < y[argmin]) argmin = i;
        if (y[i] > y[argmax]) argmax = i;
    }
    return (argmax > argmin ? 1 : -1) * (y[argmax] - y[argmin]);
}

/* The study's clipping: NaN (0/0, a flat curve) is 0, infinities go to the bounds. */
static tte_value clip_study(double b) {
    if (isnan(b)) b = 0;
    return tte_value_of(fmin(fmax(b, 0), 100), NULL);
}

tte_value tte_breakthroughness(const double *y, int k) {
    if (k < 2) return tte_value_undefined("needs at least 2 budgets");
    int n = k - 1;
    double mean_sqrt = 0;
    for (int j = 0; j < n; j++) mean_sqrt += sqrt(fabs(y[j + 1] - y[j]));
    mean_sqrt /= n;
    return clip_study(signed_range(y, k) / (mean_sqrt * mean_sqrt) / ((double)n * n));
}

/* The root median square of the differences. */
static double root_median_square(const double *y, int k) {
    double d2[MAX_POINTS];
    for (int j = 0; j < k - 1; j++) d2[j] = (y[j + 1] - y[j]) * (y[j + 1] - y[j]);
    return sqrt(tte_median(d2, k - 1));
}

tte_value tte_breakthroughness_legacy(const double *y, int k) {
    if (k < 2) return tte_value_undefined("needs at least 2 budgets");
    if (k > MAX_POINTS) return tte_value_undefined("too many budgets");
    return clip_study(signed_range(y, k) / root_median_square(y, k));
}

tte_value tte_skewness(const double *v, int n) {
    if (n < 3) return tte_value_undefined("skewness needs at least 3 values");
    double mean = 0, m2 = 0, m3 = 0;
    for (int i = 0; i < n; i++) mean += v[i];
    mean /= n;
    for (int i = 0; i < n; i++) {
        double d = v[i] - mean;
        m2 += d * d;
        m3 += d * d * d;
    }
    m2 /= n;
    m3 /= n;
    /* scipy's test for "no spread": m2 within rounding of zero relative to the mean. */
    if (m2 <= (1e-15 * mean) * (1e-15 * mean)) return tte_value_undefined("the differences are all equal");
    double g1 = m3 / pow(m2, 1.5);
    return tte_value_of(g1 * sqrt((double)n * (n - 1)) / (n - 2), "skewness is not finite");
}

/* G1 of the differences; *MAXABS gets max |D_j|. */
static tte_value difference_g1(const double *y, int k, double *maxabs) {
    if (k < 4) return tte_value_undefined("needs at least 4 budgets");
    if (k > MAX_POINTS) return tte_value_undefined("too many budgets");
    double d[MAX_POINTS];
    *maxabs = 0;
    for (int j = 0; j < k - 1; j++) {
        d[j] = y[j + 1] - y[j];
        *maxabs = fmax(*maxabs, fabs(d[j]));
    }
    return tte_skewness(d, k - 1);
}

tte_value tte_difference_skew(const double *y, int k) {
    double maxabs;
    tte_value g = difference_g1(y, k, &maxabs);
    if (g.why) return g;
    return tte_value_of(g.v * maxabs, "skew is not finite");
}

tte_value tte_difference_skew_unweighted(const double *y, int k) {
    double maxabs;
    return difference_g1(y, k, &maxabs);
}

/* BIG-bench's scores (Srivastava et al. 2022, appendix B): the forms, root mean square for L and
 * root median square for B over the signed range, as Zhao et al. (2025) restate them; the paper's
 * own equations were not available to check the normalisation (man/tte-fit.1 says so). */
tte_value tte_bigbench_linearity(const double *y, int k) {
    if (k < 2) return tte_value_undefined("needs at least 2 budgets");
    double ms = 0;
    for (int j = 0; j < k - 1; j++) ms += (y[j + 1] - y[j]) * (y[j + 1] - y[j]);
    ms /= k - 1;
    if (ms == 0) return tte_value_undefined("the curve is flat");
    return tte_value_of(signed_range(y, k) / sqrt(ms), "linearity is not finite");
}

tte_value tte_bigbench_breakthroughness(const double *y, int k) {
    if (k < 2) return tte_value_undefined("needs at least 2 budgets");
    if (k > MAX_POINTS) return tte_value_undefined("too many budgets");
    double rms = root_median_square(y, k);
    if (rms == 0) return tte_value_undefined("the median squared difference is 0");
    return tte_value_of(signed_range(y, k) / rms, "breakthroughness is not finite");
}
