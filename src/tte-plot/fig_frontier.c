/* The frontier figure: accuracy against what it cost (tte-fit --x tokens|flops|bytes), one line per
 * way of spending test-time compute, on one axis: budget forcing (a curve over thinking budgets),
 * each search (a curve over its n, from tte-fit --by ...,search), and selection over parallel
 * samples (majority vote, Best-of-N and weighted voting by a PRM at k samples, which cost k times
 * one sample: tte-fit's passk records at their largest budget). One panel per model and dataset.
 * Data: $frontierN holds a line's (cost, accuracy) pairs, N counting the lines of the script. */
#include "plot.h"

#include "cli.h"
#include "xalloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *title;
    double *x, *y;
    int n;
} line;

typedef struct {
    line *v;
    int n, cap;
} line_list;

static line *line_new(line_list *l, const char *title, int cap) {
    TTE_GROW(l->v, l->cap, l->n + 1);
    line *ln = &l->v[l->n++];
    ln->title = title;
    ln->x = tte_xmalloc(tte_xmul((size_t)cap + 1, sizeof *ln->x));
    ln->y = tte_xmalloc(tte_xmul((size_t)cap + 1, sizeof *ln->y));
    ln->n = 0;
    return ln;
}

static void line_add(line *ln, double x, double y) {
    if (!(x > 0) || isnan(y)) return;
    ln->x[ln->n] = x, ln->y[ln->n++] = y;
}

/* The lines of one panel: the cost-axis curves of accuracy and the passk selections. */
static void panel_lines(const plot_data *d, const plot_options *o, const char *model, const char *dataset,
                        const char *axis, line_list *l) {
    for (int i = 0; i < d->ncurves; i++) {
        const plot_curve *c = &d->curves[i];
        if (strcmp(c->model, model) != 0 || strcmp(c->dataset, dataset) != 0 || strcmp(c->x_axis, axis) != 0 ||
            strcmp(c->metric, "correct") != 0)
            continue;
        const char *title = !c->strategy                     ? "budget forcing"
                            : strcmp(c->strategy, "beam") == 0 ? "beam search"
                            : strcmp(c->strategy, "dvts") == 0 ? "DVTS"
                                                               : c->strategy;
        line *ln = line_new(l, title, c->npoints);
        for (int j = 0; j < c->npoints; j++) line_add(ln, c->points[j].budget, c->points[j].mean);
    }
    /* Selection over samples: at the largest budget with a cost, as the passk figure draws it. */
    const plot_passk *best = NULL;
    for (int i = 0; i < d->npassk; i++) {
        const plot_passk *p = &d->passk[i];
        if (strcmp(p->model, model) != 0 || strcmp(p->dataset, dataset) != 0 || strcmp(p->x_axis, axis) != 0 ||
            p->strategy || isnan(p->cost_per_sample) || (o->budget > 0 && p->budget != o->budget))
            continue;
        if (!best || p->budget > best->budget) best = p;
    }
    if (!best) return;
    const double *series[] = {best->maj, best->bon, best->weighted};
    static const char *const titles[] = {"majority vote", "best-of-N (PRM)", "weighted vote (PRM)"};
    for (int s = 0; s < 3; s++) {
        if (!series[s]) continue;
        line *ln = line_new(l, titles[s], best->n);
        for (int j = 0; j < best->n; j++) line_add(ln, best->k[j] * best->cost_per_sample, series[s][j]);
    }
}

void figure_frontier(FILE *f, const plot_data *d, const plot_options *o) {
    /* The axis: the first cost axis in the input. */
    const char *axis = NULL;
    for (int i = 0; i < d->ncurves && !axis; i++)
        if (plot_x_is_cost(d->curves[i].x_axis)) axis = d->curves[i].x_axis;
    if (!axis)
        tte_die("frontier: no curve on a cost axis in the input (run tte-fit --x flops, bytes or tokens on "
                "records with tte-gen's cost fields)");
    /* Panels: the model and dataset pairs of those curves. */
    const plot_curve **panel = tte_xmalloc(tte_xmul((size_t)d->ncurves + 1, sizeof *panel));
    int npanels = 0;
    for (int i = 0; i < d->ncurves; i++) {
        const plot_curve *c = &d->curves[i];
        if (strcmp(c->x_axis, axis) != 0 || strcmp(c->metric, "correct") != 0 ||
            !plot_selected(o, c->model, c->dataset))
            continue;
        int j = 0;
        while (j < npanels && (strcmp(panel[j]->model, c->model) != 0 || strcmp(panel[j]->dataset, c->dataset) != 0))
            j++;
        if (j == npanels) panel[npanels++] = c;
    }
    if (npanels == 0) tte_die("frontier: no accuracy curve on the %s axis for the selected models", axis);
    int rows, cols, serial = 0;
    plot_layout(npanels, &rows, &cols);
    /* The key goes under each panel: room for it below the panel's usual height. */
    plot_options sized = *o;
    if (sized.height <= 0) sized.height = rows * (o->terminal == TERM_DUMB ? 32 : 3.6);
    script_begin(f, &sized, "accuracy against compute", rows, cols);
    for (int g = 0; g < npanels; g++) {
        line_list l = {0};
        panel_lines(d, o, panel[g]->model, panel[g]->dataset, axis, &l);
        char *title = plot_group_title(panel[g]->model, panel[g]->dataset);
        script_panel(f, title);
        free(title);
        int total = 0;
        for (int i = 0; i < l.n; i++) total += l.v[i].n;
        double *xs = tte_xmalloc(tte_xmul((size_t)total + 1, sizeof *xs));
        for (int i = 0, k = 0; i < l.n; i++)
            for (int j = 0; j < l.v[i].n; j++) xs[k++] = l.v[i].x[j];
        script_cost_axis(f, xs, plot_distinct(xs, total), plot_x_label(axis));
        free(xs);
        fputs("set yrange [0:1]\n", f);
        /* Many lines over the whole range: the key goes under the plot, where it hides none. */
        fputs("set key below height 1\n", f); /* height: a line clear of the x label */
        script_ylabel(f, "accuracy");
        for (int i = 0; i < l.n; i++) {
            char name[32];
            snprintf(name, sizeof name, "frontier%d", serial + i + 1);
            fprintf(f, "# %s: ", name);
            script_quote(f, l.v[i].title);
            fputs("; columns: cost accuracy\n", f);
            script_data_begin(f, name);
            for (int j = 0; j < l.v[i].n; j++) {
                script_number(f, l.v[i].x[j]);
                fputc(' ', f);
                script_number(f, l.v[i].y[j]);
                fputc('\n', f);
            }
            script_data_end(f);
        }
        fputs("plot ", f);
        for (int i = 0; i < l.n; i++) {
            fprintf(f, "%s$frontier%d using 1:2 with linespoints lt %d title ", i ? ", \\\n     " : "", serial + i + 1,
                    i + 1);
            script_quote(f, l.v[i].title);
        }
        if (l.n == 0) fputs("NaN notitle", f);
        fputc('\n', f);
        serial += l.n;
        for (int i = 0; i < l.n; i++) free(l.v[i].x), free(l.v[i].y);
        free(l.v);
    }
    script_end(f);
    free(panel);
}
