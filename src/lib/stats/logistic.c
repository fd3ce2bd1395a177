/* logistic: y = lo + (hi - lo) / (1 + exp(-s (x - x0))) by bounded Levenberg-Marquardt.
 *
 * The logistic is not linear in its parameters, and a step curve sends s to infinity, so the fit is
 * bounded (tte_fit_logistic_bounds) and started from several points; the best local fit wins.
 * Each LM step solves the damped normal equations as the stacked least-squares problem
 * [J; sqrt(lambda D)] delta = [r; 0] (Marquardt's scaling D = diag(J^T J)), then clips to the box. */
#include "stats/fit.h"
#include "stats/lstsq.h"
#include "xalloc.h"

#include <math.h>
#include <stdlib.h>

enum { NP = 4, MAX_ITER = 2000 };
static const double S_MAX = 20; /* steepness per unit of log2(budget): 20 is a step */

void tte_fit_logistic_bounds(const double *x, const double *y, int n, double *lower, double *upper) {
    double ymin = y[0], ymax = y[0];
    for (int i = 1; i < n; i++) ymin = fmin(ymin, y[i]), ymax = fmax(ymax, y[i]);
    double r = ymax - ymin;
    lower[0] = lower[1] = ymin - r;
    upper[0] = upper[1] = ymax + r;
    lower[2] = x[0], upper[2] = x[n - 1];
    lower[3] = 0, upper[3] = S_MAX;
}

static double sigmoid(double z) { return z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z)); }

static double sum_squares(const double *x, const double *y, int n, const double *p) {
    double s = 0;
    for (int i = 0; i < n; i++) {
        double r = y[i] - tte_fit_predict(TTE_FIT_LOGISTIC, p, x[i]);
        s += r * r;
    }
    return s;
}

/* Solves the damped step (rows A, right side B, as lm builds them) for DELTA. A parameter on a bound
 * that the step would push outside is held there and the step solved again for the others: merely
 * clipping such a step stalls the free parameters along the bound. */
static int bounded_step(double *a, const double *b, int n, const double *p, const double *lo,
                        const double *hi, double *delta) {
    int held[NP] = {0};
    for (int round = 0; round <= NP; round++) {
        double ignored;
        if (tte_lstsq(a, b, n + NP, NP, delta, &ignored) != 0) return -1;
        int more = 0;
        for (int j = 0; j < NP; j++) {
            if (held[j]) continue;
            int out = (p[j] <= lo[j] && delta[j] < 0) || (p[j] >= hi[j] && delta[j] > 0);
            if (!out) continue;
            /* Zeroing the column of J leaves only the damping row for this parameter: delta_j = 0. */
            for (int i = 0; i < n; i++) a[(size_t)i * NP + j] = 0;
            held[j] = more = 1;
        }
        if (!more) return 0;
    }
    return 0;
}

/* One bounded LM run from P (modified in place). Returns the final SSE. WORK holds
 * (2n + NP) * (NP + 1) doubles. */
static double lm(const double *x, const double *y, int n, double *p, const double *lo, const double *hi,
                 double *work) {
    double *a = work, *b = work + (size_t)(n + NP) * NP, *jac = b + n + NP; /* jac: n x NP */
    double sse = sum_squares(x, y, n, p), lambda = 1e-3;
    for (int iter = 0; iter < MAX_ITER; iter++) {
        double diag[NP] = {0};
        for (int i = 0; i < n; i++) {
            double sg = sigmoid(p[3] * (x[i] - p[2]));
            double ds = (p[1] - p[0]) * sg * (1 - sg); /* d f / d z, z = s (x - x0) */
            double *row = jac + (size_t)i * NP;
            row[0] = 1 - sg;
            row[1] = sg;
            row[2] = -ds * p[3];
            row[3] = ds * (x[i] - p[2]);
            b[i] = y[i] - tte_fit_predict(TTE_FIT_LOGISTIC, p, x[i]);
            for (int j = 0; j < NP; j++) diag[j] += row[j] * row[j];
        }
        double dmax = 0;
        for (int j = 0; j < NP; j++) dmax = fmax(dmax, diag[j]);
        if (dmax == 0) return sse;
        int improved = 0;
        while (lambda < 1e20) {
            for (size_t i = 0; i < (size_t)n * NP; i++) a[i] = jac[i]; /* bounded_step edits its copy */
            for (int j = 0; j < NP; j++) {
                double *row = a + (size_t)(n + j) * NP;
                for (int k = 0; k < NP; k++) row[k] = 0;
                /* A floor on D keeps a parameter with a vanishing gradient (x0 when s = 0) damped. */
                row[j] = sqrt(lambda * fmax(diag[j], 1e-12 * dmax));
                b[n + j] = 0;
            }
            double delta[NP], trial[NP];
            if (bounded_step(a, b, n, p, lo, hi, delta) != 0) {
                lambda *= 10;
                continue;
            }
            for (int j = 0; j < NP; j++) trial[j] = fmin(hi[j], fmax(lo[j], p[j] + delta[j]));
            double s = sum_squares(x, y, n, trial);
            if (s < sse) {
                for (int j = 0; j < NP; j++) p[j] = trial[j];
                sse = s;
                lambda = fmax(lambda / 10, 1e-15);
                improved = 1;
                break;
            }
            lambda *= 10;
        }
        if (!improved) return sse; /* no step along any damping lowers the SSE: a minimum */
    }
    return sse;
}

int tte_fit_logistic(const double *x, const double *y, int n, double *param, double *sse, const char **why) {
    if (n < NP) {
        *why = "needs at least 4 points";
        return -1;
    }
    double lo[NP], hi[NP];
    tte_fit_logistic_bounds(x, y, n, lo, hi);
    if (!(hi[0] > lo[0])) {
        *why = "the curve is flat: a logistic is not identifiable";
        return -1;
    }
    double *work = tte_xmalloc(sizeof(double) * (size_t)(2 * n + NP) * (NP + 1));
    /* Starts: the curve's extremes as its ends (in the direction from first to last value), the
     * midpoint halfway between each pair of neighbouring budgets, and three steepnesses (a
     * transition over the whole range, over a quarter of it, and over a sixteenth). A noisy curve
     * has several local minima; one start per gap finds the step wherever it is. */
    double span = x[n - 1] - x[0];
    double ymin = lo[0] + (hi[0] - lo[0]) / 3, ymax = hi[0] - (hi[0] - lo[0]) / 3;
    int rising = y[n - 1] >= y[0];
    double best = INFINITY;
    static const double steepness[] = {4, 16, 64};
    for (int q = 0; q + 1 < n; q++)
        for (int k = 0; k < 3; k++) {
            double p[NP] = {rising ? ymin : ymax, rising ? ymax : ymin, (x[q] + x[q + 1]) / 2,
                            fmin(steepness[k] / span, S_MAX)};
            double s = lm(x, y, n, p, lo, hi, work);
            if (s < best) {
                best = s;
                for (int j = 0; j < NP; j++) param[j] = p[j];
            }
        }
    free(work);
    *sse = best;
    return 0;
}
