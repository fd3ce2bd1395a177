/* lstsq: see lstsq.h. */
#include "stats/lstsq.h"
#include "xalloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int tte_lstsq(const double *x, const double *y, int n, int p, double *beta, double *sse) {
    if (p < 1 || p > TTE_LSTSQ_MAXP || n < p) return -1;
    double *a = tte_xmalloc(sizeof(double) * (size_t)n * (size_t)p);
    double *b = tte_xmalloc(sizeof(double) * (size_t)n);
    memcpy(a, x, sizeof(double) * (size_t)n * (size_t)p);
    memcpy(b, y, sizeof(double) * (size_t)n);

    /* Column scale, to judge rank deficiency relative to the size of each column. */
    double colnorm[TTE_LSTSQ_MAXP];
    for (int j = 0; j < p; j++) {
        double s = 0;
        for (int i = 0; i < n; i++) s += a[i * p + j] * a[i * p + j];
        colnorm[j] = sqrt(s);
    }

    int rc = 0;
    /* Householder: for column j, reflect rows j..n-1 so that a[j][j] holds R's diagonal and the
     * entries below it vanish; apply the same reflection to b. */
    for (int j = 0; j < p && rc == 0; j++) {
        double norm = 0;
        for (int i = j; i < n; i++) norm += a[i * p + j] * a[i * p + j];
        norm = sqrt(norm);
        if (colnorm[j] == 0 || norm <= 1e-12 * colnorm[j]) {
            rc = -1;
            break;
        }
        double alpha = a[j * p + j] > 0 ? -norm : norm;
        double v0 = a[j * p + j] - alpha; /* v = (a_jj - alpha, a_j+1,j, ...) */
        double vnorm2 = v0 * v0;
        for (int i = j + 1; i < n; i++) vnorm2 += a[i * p + j] * a[i * p + j];
        if (vnorm2 > 0) {
            for (int k = j + 1; k < p; k++) {
                double dot = v0 * a[j * p + k];
                for (int i = j + 1; i < n; i++) dot += a[i * p + j] * a[i * p + k];
                double f = 2 * dot / vnorm2;
                a[j * p + k] -= f * v0;
                for (int i = j + 1; i < n; i++) a[i * p + k] -= f * a[i * p + j];
            }
            double dot = v0 * b[j];
            for (int i = j + 1; i < n; i++) dot += a[i * p + j] * b[i];
            double f = 2 * dot / vnorm2;
            b[j] -= f * v0;
            for (int i = j + 1; i < n; i++) b[i] -= f * a[i * p + j];
        }
        a[j * p + j] = alpha;
    }
    if (rc == 0) {
        /* Back substitution R beta = (Q^T y)[0..p-1]; the rest of Q^T y is the residual. */
        for (int j = p - 1; j >= 0; j--) {
            double s = b[j];
            for (int k = j + 1; k < p; k++) s -= a[j * p + k] * beta[k];
            beta[j] = s / a[j * p + j];
        }
        if (sse) {
            /* Recomputed from the residuals rather than from Q^T y: same value, and exact 0 for an
             * exact fit instead of rounding noise of either sign. */
            double s = 0;
            for (int i = 0; i < n; i++) {
                double r = y[i];
                for (int k = 0; k < p; k++) r -= x[i * p + k] * beta[k];
                s += r * r;
            }
            *sse = s;
        }
    }
    free(a);
    free(b);
    return rc;
}
