/* ols: the log-linear fit y = a + b x by ordinary least squares. See fit.h. */
#include "stats/fit.h"
#include "stats/lstsq.h"
#include "xalloc.h"

#include <stdlib.h>

int tte_fit_loglinear(const double *x, const double *y, int n, double *param, double *sse, const char **why) {
    if (n < 2) {
        *why = "needs at least 2 points";
        return -1;
    }
    double *design = tte_xmalloc(sizeof(double) * 2 * (size_t)n);
    for (int i = 0; i < n; i++) design[2 * i] = 1, design[2 * i + 1] = x[i];
    int rc = tte_lstsq(design, y, n, 2, param, sse);
    free(design);
    if (rc != 0) *why = "x values are all equal";
    return rc;
}
