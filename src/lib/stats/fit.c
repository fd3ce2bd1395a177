/* fit: the common part of every fit: dispatch, criteria and leave-one-out. See fit.h. */
#include "stats/fit.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "records.h"
#include "xalloc.h"

typedef int (*raw_fit)(const double *, const double *, int, double *, double *, const char **);

static const struct {
    const char *name;
    const char *params[TTE_FIT_MAXPARAM + 1];
    int nparam;
    raw_fit fit;
} kinds[TTE_FIT_NKINDS] = {
    [TTE_FIT_LOGLINEAR] = {TTE_FIT_NAME_LOGLINEAR, {"a", "b", NULL}, 2, tte_fit_loglinear},
    [TTE_FIT_HINGE] = {TTE_FIT_NAME_HINGE, {"a", "b", "c", "tau", NULL}, 4, tte_fit_hinge},
    [TTE_FIT_HINGE2] = {TTE_FIT_NAME_HINGE2, {"a", "b", "c1", "tau1", "c2", "tau2", NULL}, 6, tte_fit_hinge2},
    [TTE_FIT_LOGISTIC] = {TTE_FIT_NAME_LOGISTIC, {"lo", "hi", "x0", "s", NULL}, 4, tte_fit_logistic},
};

const char *tte_fit_name(tte_fit_kind kind) { return kinds[kind].name; }
const char *const *tte_fit_param_names(tte_fit_kind kind) { return kinds[kind].params; }
int tte_fit_nparam(tte_fit_kind kind) { return kinds[kind].nparam; }

int tte_fit_parse(const char *name) {
    for (int k = 0; k < TTE_FIT_NKINDS; k++)
        if (strcmp(name, kinds[k].name) == 0) return k;
    return -1;
}

static double hinge_term(double x, double tau) { return x > tau ? x - tau : 0; }

double tte_fit_predict(tte_fit_kind kind, const double *p, double x) {
    switch (kind) {
    case TTE_FIT_LOGLINEAR:
        return p[0] + p[1] * x;
    case TTE_FIT_HINGE:
        return p[0] + p[1] * x + p[2] * hinge_term(x, p[3]);
    case TTE_FIT_HINGE2:
        return p[0] + p[1] * x + p[2] * hinge_term(x, p[3]) + p[4] * hinge_term(x, p[5]);
    case TTE_FIT_LOGISTIC:
        return p[0] + (p[1] - p[0]) / (1 + exp(-p[3] * (x - p[2])));
    default:
        return NAN;
    }
}

static const char *too_few[TTE_FIT_NKINDS] = {
    [TTE_FIT_LOGLINEAR] = "needs at least 3 budgets (2 parameters + 1)",
    [TTE_FIT_HINGE] = "needs at least 5 budgets (4 parameters + 1)",
    [TTE_FIT_HINGE2] = "needs at least 7 budgets (6 parameters + 1)",
    [TTE_FIT_LOGISTIC] = "needs at least 5 budgets (4 parameters + 1)",
};

/* Leave-one-out RMSE: refit without each point in turn and predict it. */
static tte_value loo_rmse(tte_fit_kind kind, const double *x, const double *y, int n) {
    double *xs = tte_xmalloc(sizeof(double) * (size_t)n), *ys = tte_xmalloc(sizeof(double) * (size_t)n);
    double sum = 0;
    const char *why = NULL;
    for (int leave = 0; leave < n && !why; leave++) {
        int m = 0;
        for (int i = 0; i < n; i++)
            if (i != leave) xs[m] = x[i], ys[m] = y[i], m++;
        double p[TTE_FIT_MAXPARAM], sse;
        const char *fail;
        if (kinds[kind].fit(xs, ys, m, p, &sse, &fail) != 0) {
            why = "a leave-one-out refit failed";
            break;
        }
        double e = y[leave] - tte_fit_predict(kind, p, x[leave]);
        sum += e * e;
    }
    free(xs);
    free(ys);
    if (why) return tte_value_undefined(why);
    return tte_value_of(sqrt(sum / n), "leave-one-out error is not finite");
}

tte_fit tte_fit_curve(tte_fit_kind kind, const double *x, const double *y, int n) {
    tte_fit f = {0};
    int p = kinds[kind].nparam;
    f.nparam = p;
    for (int i = 1; i < n; i++)
        if (!(x[i] > x[i - 1])) {
            f.why = "x values (budgets or model sizes) must be distinct and increasing";
            return f;
        }
    if (n < p + 1) {
        f.why = too_few[kind];
        return f;
    }
    if (kinds[kind].fit(x, y, n, f.param, &f.sse, &f.why) != 0) return f;

    double mean = 0, sst = 0;
    for (int i = 0; i < n; i++) mean += y[i];
    mean /= n;
    for (int i = 0; i < n; i++) sst += (y[i] - mean) * (y[i] - mean);
    f.r2 = sst > 0 ? tte_value_of(1 - f.sse / sst, "R^2 is not finite")
                   : tte_value_undefined("the curve is flat (SST = 0)");

    int k = p + 1;
    /* An exact fit (to rounding) has log(SSE/n) = -infinity: no likelihood-based criterion. */
    if (f.sse <= 1e-20 * sst || f.sse == 0) {
        f.aicc = f.bic = tte_value_undefined("exact fit: log(SSE/n) is -infinity");
    } else {
        double ll = n * log(f.sse / n);
        f.bic = tte_value_of(ll + k * log((double)n), "BIC is not finite");
        if (n - k - 1 <= 0)
            f.aicc = tte_value_undefined("AICc needs n - k - 1 > 0 (more budgets than parameters + 2)");
        else
            f.aicc = tte_value_of(ll + 2.0 * k + 2.0 * k * (k + 1) / (n - k - 1), "AICc is not finite");
    }
    /* Each refit must itself be a fit by the rule above, or an interpolating refit (several
     * parameter sets through the same points) would make the prediction arbitrary. */
    f.loo_rmse = n >= p + 2 ? loo_rmse(kind, x, y, n)
                            : tte_value_undefined("leave-one-out needs p + 2 budgets (each refit p + 1)");
    return f;
}

/* The smallest defined value of the criterion at OFFSET of tte_fit among the fits. */
static int smallest(const tte_fit *fits, int n, size_t offset) {
    int best = -1;
    for (int i = 0; i < n; i++) {
        const tte_value *v = (const tte_value *)((const char *)&fits[i] + offset), *b;
        if (fits[i].why || v->why) continue;
        b = best < 0 ? NULL : (const tte_value *)((const char *)&fits[best] + offset);
        if (!b || v->v < b->v) best = i;
    }
    return best;
}

int tte_fit_best(const tte_fit *fits, int n, const char **by) {
    int every_aicc = 1;
    for (int i = 0; i < n; i++)
        if (!fits[i].why && fits[i].aicc.why) every_aicc = 0;
    int best = every_aicc ? -1 : smallest(fits, n, offsetof(tte_fit, loo_rmse));
    if (best >= 0) {
        *by = "loo_rmse";
        return best;
    }
    *by = "aicc";
    return smallest(fits, n, offsetof(tte_fit, aicc));
}
