/* hinge: continuous piecewise-linear fits with one or two breakpoints, exact over the breakpoints.
 *
 * For a fixed breakpoint tau the hinge y = a + b x + c max(0, x - tau) is linear in (a, b, c). We
 * cut the allowed range of tau into cells: each data point x_j, and each open interval between two
 * neighbouring points. Inside an interval (x_j, x_{j+1}) the set of points right of tau is fixed, so
 *     c max(0, x_i - tau) = d x_i [i > j] + e [i > j]   with d = c, e = -c tau,
 * a model linear in (a, b, d, e). Its least-squares solution is the best hinge in the interval if
 * tau = -e/d falls inside it. If not, the best hinge in the closed interval lies at one of its ends
 * (Hudson 1966: for each sign of d, the hinges with tau in the interval form a convex cone in
 * (d, e), and a convex quadratic restricted to a convex set it does not reach its minimum in
 * has it on the set's boundary), and the ends are the point cells. So the best over all cells is
 * the exact least-squares hinge. Two breakpoints: the same over every allowed pair of cells, the
 * product of two such cones again being convex.
 *
 * Cells are numbered c = 0, 1, ..., 2(K-3): even c = 2t is the point x[1+t], odd c = 2t+1 the
 * interval (x[1+t], x[2+t]). So tau ranges over [x[1], x[K-2]], leaving at least two points on
 * each outer piece. */
#include "stats/fit.h"
#include "stats/lstsq.h"
#include "xalloc.h"

#include <math.h>
#include <stdlib.h>

enum { MAX_BREAKS = 2 };

/* Fits the model with breakpoints in the given cells. Returns 0 with the hinge parameters
 * (a, b, then c, tau per breakpoint) and SSE when the least-squares solution is feasible for every
 * interval cell; -1 otherwise. DESIGN has room for n * (2 + 2 * nbreaks) values. */
static int fit_cells(const double *x, const double *y, int n, int nbreaks, const int *cells, double *design,
                     double *param, double *sse) {
    int ncols = 2;
    for (int b = 0; b < nbreaks; b++) ncols += cells[b] % 2 ? 2 : 1;
    for (int i = 0; i < n; i++) {
        double *row = design + (size_t)i * (size_t)ncols;
        int col = 0;
        row[col++] = 1;
        row[col++] = x[i];
        for (int b = 0; b < nbreaks; b++) {
            int t = cells[b] / 2;
            if (cells[b] % 2 == 0) {
                double tau = x[1 + t];
                row[col++] = x[i] > tau ? x[i] - tau : 0;
            } else {
                int right = i >= 2 + t; /* the point lies right of the interval */
                row[col++] = right ? x[i] : 0;
                row[col++] = right ? 1 : 0;
            }
        }
    }
    double beta[TTE_LSTSQ_MAXP];
    if (tte_lstsq(design, y, n, ncols, beta, sse) != 0) return -1;
    param[0] = beta[0];
    param[1] = beta[1];
    int col = 2;
    for (int b = 0; b < nbreaks; b++) {
        int t = cells[b] / 2;
        if (cells[b] % 2 == 0) {
            param[2 + 2 * b] = beta[col++];
            param[3 + 2 * b] = x[1 + t];
        } else {
            double d = beta[col++], e = beta[col++];
            if (d == 0) return -1;
            double tau = -e / d;
            if (!(tau > x[1 + t] && tau < x[2 + t])) return -1;
            param[2 + 2 * b] = d;
            param[3 + 2 * b] = tau;
        }
    }
    return 0;
}

/* The number of data points in [tau1, tau2] for breakpoints in cells c1 < c2. */
static int points_between(int c1, int c2) { return c2 / 2 - (c1 + 1) / 2 + 1; }

static int fit_breaks(const double *x, const double *y, int n, int nbreaks, double *param, double *sse,
                      const char **why) {
    int need = nbreaks == 1 ? 4 : 6;
    if (n < need) {
        *why = nbreaks == 1 ? "needs at least 4 points" : "needs at least 6 points";
        return -1;
    }
    double *design = tte_xmalloc(sizeof(double) * (size_t)n * (2 + 2 * MAX_BREAKS));
    int ncells = 2 * (n - 3) + 1;
    double best = INFINITY, p[2 + 2 * MAX_BREAKS], s;
    int cells[MAX_BREAKS];
    for (cells[0] = 0; cells[0] < ncells; cells[0]++) {
        if (nbreaks == 1) {
            if (fit_cells(x, y, n, 1, cells, design, p, &s) == 0 && s < best) {
                best = s;
                for (int i = 0; i < 4; i++) param[i] = p[i];
            }
            continue;
        }
        for (cells[1] = cells[0] + 1; cells[1] < ncells; cells[1]++) {
            if (points_between(cells[0], cells[1]) < 2) continue;
            if (fit_cells(x, y, n, 2, cells, design, p, &s) == 0 && s < best) {
                best = s;
                for (int i = 0; i < 6; i++) param[i] = p[i];
            }
        }
    }
    free(design);
    if (!isfinite(best)) {
        *why = "no breakpoint gives a well-posed fit";
        return -1;
    }
    *sse = best;
    return 0;
}

int tte_fit_hinge(const double *x, const double *y, int n, double *param, double *sse, const char **why) {
    return fit_breaks(x, y, n, 1, param, sse, why);
}

int tte_fit_hinge2(const double *x, const double *y, int n, double *param, double *sse, const char **why) {
    return fit_breaks(x, y, n, 2, param, sse, why);
}
