/* fit: scaling-curve fits in x = log2(budget), with their information criteria.
 *
 * Four model families, each fitted by least squares:
 *   loglinear  y = a + b x                                        (ols.c, exact)
 *   hinge      y = a + b x + c max(0, x - tau)                    (hinge.c, exact over tau)
 *   hinge2     y = a + b x + c1 max(0, x - tau1) + c2 max(0, x - tau2)   (hinge.c, exact)
 *   logistic   y = lo + (hi - lo) / (1 + exp(-s (x - x0)))        (logistic.c, bounded
 *                                                                   Levenberg-Marquardt)
 * The x values must be strictly increasing. Breakpoints are kept where each line piece is fixed by
 * at least two points: tau in [x_2, x_{K-1}], and for hinge2 at least two x values in [tau1, tau2];
 * without that the breakpoint is not identifiable (a range of tau gives the same fit).
 *
 * tte_fit_curve adds the criteria every fit reports, with k = p + 1 parameters (the p coefficients
 * and the noise variance) and the Gaussian log-likelihood at sigma^2 = SSE/n:
 *   R^2  = 1 - SSE/SST
 *   AICc = n ln(SSE/n) + 2k + 2k(k+1)/(n-k-1)      (undefined when n - k - 1 <= 0)
 *   BIC  = n ln(SSE/n) + k ln n
 *   LOO  = sqrt(mean_i (y_i - f_{-i}(x_i))^2), f_{-i} refitted without point i (needs n >= p + 2,
 *          so that each refit has p + 1 points). */
#ifndef TTE_STATS_FIT_H
#define TTE_STATS_FIT_H

#include "stats/value.h"

typedef enum {
    TTE_FIT_LOGLINEAR,
    TTE_FIT_HINGE,
    TTE_FIT_HINGE2,
    TTE_FIT_LOGISTIC,
    TTE_FIT_NKINDS
} tte_fit_kind;

enum { TTE_FIT_MAXPARAM = 6 };

typedef struct {
    const char *why;                /* NULL: fitted; else why there is no fit (then nothing else is set) */
    int nparam;                     /* p */
    double param[TTE_FIT_MAXPARAM]; /* in the order of tte_fit_param_names */
    double sse;                     /* residual sum of squares */
    tte_value r2, aicc, bic, loo_rmse;
} tte_fit;

/* "loglinear", "hinge", "hinge2", "logistic": the names of a curve record's fits (records.h). */
const char *tte_fit_name(tte_fit_kind kind);
/* The kind NAME names, or -1. */
int tte_fit_parse(const char *name);
/* Parameter names, NULL-terminated: a b | a b c tau | a b c1 tau1 c2 tau2 | lo hi x0 s. Static. */
const char *const *tte_fit_param_names(tte_fit_kind kind);
int tte_fit_nparam(tte_fit_kind kind);
/* The fitted curve at X. */
double tte_fit_predict(tte_fit_kind kind, const double *param, double x);

/* Fits KIND to the N points and computes the criteria. A fit needs at least p + 1 points (one
 * residual degree of freedom); with fewer, or when the fit is impossible, why says so. */
tte_fit tte_fit_curve(tte_fit_kind kind, const double *x, const double *y, int n);

/* The bare least-squares fits, without criteria: each returns 0 and writes the parameters and SSE,
 * or returns -1 with a static reason in *WHY. They need n >= p (hinge: n >= 4; hinge2: n >= 6). */
int tte_fit_loglinear(const double *x, const double *y, int n, double *param, double *sse, const char **why);
int tte_fit_hinge(const double *x, const double *y, int n, double *param, double *sse, const char **why);
int tte_fit_hinge2(const double *x, const double *y, int n, double *param, double *sse, const char **why);
int tte_fit_logistic(const double *x, const double *y, int n, double *param, double *sse, const char **why);

/* The logistic's bounds for given data, as tte_fit_logistic uses them (documented in tte-fit(1)):
 * lo, hi in [ymin - r, ymax + r] with r = ymax - ymin; x0 in [x_1, x_K]; s in [0, 20]. */
void tte_fit_logistic_bounds(const double *x, const double *y, int n, double *lower, double *upper);

/* The index of the best of the N fits, or -1 if none can be told best; *BY says by which criterion:
 * "aicc", the smallest AICc, when every fitted model has one; otherwise "loo_rmse", the smallest
 * leave-one-out RMSE among the fits that have one (AICc is undefined for a model with nearly as
 * many parameters as budgets, which would drop it from the comparison however well it fits:
 * a logistic on 6 budgets; leave-one-out still punishes overfitting and needs fewer budgets);
 * with no leave-one-out either, the smallest defined AICc. */
int tte_fit_best(const tte_fit *fits, int n, const char **by);

#endif
