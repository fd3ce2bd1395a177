/* Figures drawn from curve records: curves, discrete-vs-continuous and sizes.
 *
 * Each curve the script draws is numbered N in drawing order: its data is the datablock $curveN
 * (budget, mean, lo, hi) and each of its fits the function curveN_KIND(budget), so a reader can
 * reuse them (and the tests evaluate them). */
#include "plot.h"

#include "cli.h"
#include "records.h"
#include "xalloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The curves a figure draws, as pointers into plot_data. */
typedef struct {
    plot_curve **v;
    int n, cap;
} curve_list;

static void curve_list_add(curve_list *l, plot_curve *c) {
    TTE_GROW(l->v, l->cap, l->n + 1);
    l->v[l->n++] = c;
}

/* The selected curves of METRIC (NULL: every metric). */
static curve_list select_curves(const plot_data *d, const plot_options *o, const char *metric) {
    curve_list l = {0};
    for (int i = 0; i < d->ncurves; i++) {
        plot_curve *c = &d->curves[i];
        if (plot_selected(o, c->model, c->dataset) && (!metric || strcmp(c->metric, metric) == 0) &&
            c->npoints)
            curve_list_add(&l, c);
    }
    return l;
}

/* The x axis of curves on tte-fit's AXIS: budgets (or n) as tics, or a cost's decades. */
static void x_axis(FILE *f, const double *at, int n, const char *axis) {
    if (plot_x_is_cost(axis))
        script_cost_axis(f, at, n, plot_x_label(axis));
    else
        script_budget_axis(f, at, n, plot_x_label(axis));
}

/* The budgets any of the N curves has, ascending; the caller frees. */
static double *curve_budgets(plot_curve *const *v, int n, int *nout) {
    int total = 0;
    for (int i = 0; i < n; i++) total += v[i]->npoints;
    double *budgets = tte_xmalloc(tte_xmul((size_t)total + 1, sizeof *budgets));
    for (int i = 0, k = 0; i < n; i++)
        for (int j = 0; j < v[i]->npoints; j++) budgets[k++] = v[i]->points[j].budget;
    *nout = plot_distinct(budgets, total);
    return budgets;
}

/* --metric, or DEFAULT when a selected curve has it, or the first selected curve's metric. */
static const char *curve_metric(const plot_data *d, const plot_options *o, const char *fallback) {
    if (o->metric) return o->metric;
    curve_list all = select_curves(d, o, NULL);
    const char *metric = all.n ? all.v[0]->metric : fallback;
    for (int i = 0; i < all.n; i++)
        if (strcmp(all.v[i]->metric, fallback) == 0) metric = fallback;
    free(all.v);
    return metric;
}

/* Writes $curveN and its fit functions; returns N, unique in the one script a run writes. */
static int curve_data(FILE *f, const plot_curve *c) {
    static int counter;
    int n = ++counter;
    char name[48];
    snprintf(name, sizeof name, "curve%d", n);
    fprintf(f, "# %s: ", name);
    script_quote(f, c->model);
    fputc(' ', f);
    script_quote(f, c->dataset);
    fputc(' ', f);
    script_quote(f, c->metric);
    fputs("; columns: budget mean lo hi\n", f);
    script_data_begin(f, name);
    for (int i = 0; i < c->npoints; i++) {
        const plot_point *p = &c->points[i];
        /* Without an interval the bar has no length, so the point is still drawn. */
        double lo = isnan(p->lo) ? p->mean : p->lo, hi = isnan(p->hi) ? p->mean : p->hi;
        fprintf(f, "%.10g %.10g %.10g %.10g\n", p->budget, p->mean, lo, hi);
    }
    script_data_end(f);
    for (int k = 0; k < TTE_FIT_NKINDS; k++) {
        if (!c->fits[k].present) continue;
        char fn[64];
        snprintf(fn, sizeof fn, "curve%d_%s", n, tte_fit_name(k));
        script_fit_function(f, fn, k, &c->fits[k]);
    }
    return n;
}

/* The fit a panel draws for C besides its points: the best, else the log-linear one; -1: none. */
static int drawn_fit(const plot_curve *c) {
    return c->best >= 0 ? c->best : c->fits[TTE_FIT_LOGLINEAR].present ? TTE_FIT_LOGLINEAR : -1;
}

/* What the N curves draw, as plot_points: the means, their interval bars, and the fitted curves
 * across the axis (ALL_FITS: the log-linear one too, as plot_single draws it). */
static plot_points drawn_points(plot_curve *const *v, int n, const char *metric, int all_fits) {
    plot_points p = {.ylo = NAN, .yhi = NAN, .xpad = PLOT_BUDGET_PAD};
    if (plot_metric_is_probability(metric)) p.ylo = 0, p.yhi = 1;
    if (n > 0 && plot_x_is_cost(v[0]->x_axis)) p.xpad = PLOT_COST_PAD;
    for (int i = 0; i < n; i++) {
        const plot_curve *c = v[i];
        for (int j = 0; j < c->npoints; j++) {
            const plot_point *pt = &c->points[j];
            double x = log2(pt->budget);
            plot_points_add(&p, x, pt->mean);
            if (!isnan(pt->lo) && !isnan(pt->hi)) plot_points_segment(&p, x, pt->lo, x, pt->hi);
        }
        if (c->npoints == 0) continue;
        /* gnuplot draws a function across the whole axis, and clips it to the y range. */
        double x0 = log2(c->points[0].budget) - p.xpad, x1 = log2(c->points[c->npoints - 1].budget) + p.xpad;
        for (int k = 0; k < TTE_FIT_NKINDS; k++) {
            if (!c->fits[k].present) continue;
            if (k != drawn_fit(c) && !(all_fits && k == TTE_FIT_LOGLINEAR)) continue;
            enum { SAMPLES = 48 };
            for (int s = 0; s <= SAMPLES; s++) {
                double x = x0 + (x1 - x0) * s / SAMPLES, y = tte_fit_predict(k, c->fits[k].p, x);
                if (p.ylo < p.yhi && (y < p.ylo || y > p.yhi)) continue;
                plot_points_add(&p, x, y);
            }
        }
    }
    return p;
}

/* The key (ENTRIES lines, the longest LONGEST characters; 0 entries: no key) and, for a curve
 * alone, its breakthroughness B, each in a corner where it hides none of what the N curves draw. */
static void curve_annotations(FILE *f, plot_curve *const *v, int n, const char *metric, int entries,
                              int longest) {
    plot_points p = drawn_points(v, n, metric, n == 1);
    int key = -1;
    if (entries > 0)
        key = script_key_placed(f, &p, entries, longest);
    else
        fputs("set key off\n", f);
    if (n == 1 && !isnan(v[0]->breakthroughness)) {
        char text[64];
        snprintf(text, sizeof text, "B = %.3g", v[0]->breakthroughness);
        script_label_placed(f, &p, text, key);
    }
    plot_points_free(&p);
}

/* The key lines of plot_single. */
static int single_entries(const plot_curve *c) {
    return 1 + c->fits[TTE_FIT_LOGLINEAR].present + (c->best > TTE_FIT_LOGLINEAR);
}

/* The longest key title of plot_single: "mean, CI", "log-linear (best)", "KIND (best)". */
static int single_longest(const plot_curve *c) {
    int longest = (int)strlen("mean, CI");
    if (c->fits[TTE_FIT_LOGLINEAR].present) {
        int n = (int)strlen(c->best == TTE_FIT_LOGLINEAR ? "log-linear (best)" : "log-linear");
        longest = n > longest ? n : longest;
    }
    if (c->best > TTE_FIT_LOGLINEAR) {
        int n = (int)strlen(tte_fit_name(c->best)) + (int)strlen(" (best)");
        longest = n > longest ? n : longest;
    }
    return longest;
}

static void metric_axis(FILE *f, const char *metric) {
    script_ylabel(f, plot_metric_label(metric));
    if (plot_metric_is_probability(metric)) fputs("set yrange [0:1]\n", f);
}

/* One curve alone in a panel: points with intervals, the log-linear fit dashed, the best fit solid. */
static void plot_single(FILE *f, const plot_curve *c, int n) {
    fprintf(f, "plot $curve%d using 1:2:3:4 with yerrorbars lt 1 title 'mean, CI'", n);
    if (c->fits[TTE_FIT_LOGLINEAR].present)
        fprintf(f, ", \\\n     curve%d_loglinear(x) with lines lt 2 title 'log-linear%s'", n,
                c->best == TTE_FIT_LOGLINEAR ? " (best)" : "");
    if (c->best > TTE_FIT_LOGLINEAR)
        fprintf(f, ", \\\n     curve%d_%s(x) with lines lt 3 dt 1 title '%s (best)'", n,
                tte_fit_name(c->best), tte_fit_name(c->best));
    fputc('\n', f);
}

static char *group_title(const plot_curve *c) { return plot_group_title(c->model, c->dataset); }

/* Panels of the curves drawn in one panel per dataset, one line per model. */
static void curves_overlay(FILE *f, const curve_list *l, const char *metric, const plot_options *o) {
    const char **datasets = tte_xcalloc(l->n, sizeof *datasets);
    int ndatasets = 0;
    for (int i = 0; i < l->n; i++) {
        int seen = 0;
        for (int j = 0; j < ndatasets; j++) seen |= strcmp(datasets[j], l->v[i]->dataset) == 0;
        if (!seen) datasets[ndatasets++] = l->v[i]->dataset;
    }
    int rows, cols;
    plot_layout(ndatasets, &rows, &cols);
    script_begin(f, o, metric, rows, cols);
    for (int g = 0; g < ndatasets; g++) {
        curve_list in = {0};
        for (int i = 0; i < l->n; i++)
            if (strcmp(l->v[i]->dataset, datasets[g]) == 0) curve_list_add(&in, l->v[i]);
        script_panel(f, datasets[g]);
        int nb;
        double *budgets = curve_budgets(in.v, in.n, &nb);
        x_axis(f, budgets, nb, in.v[0]->x_axis);
        free(budgets);
        metric_axis(f, metric);
        const char **models = tte_xmalloc(tte_xmul(in.n, sizeof *models));
        for (int i = 0; i < in.n; i++) models[i] = in.v[i]->model;
        /* The key: a line per model, less the models' shared prefix, which heads it. */
        size_t shared = plot_common_prefix(models, in.n);
        int longest = (int)shared;
        for (int i = 0; i < in.n; i++)
            if ((int)(strlen(models[i]) - shared) > longest) longest = (int)(strlen(models[i]) - shared);
        curve_annotations(f, in.v, in.n, metric, in.n + (shared > 0), longest);
        int *ids = tte_xmalloc(tte_xmul(in.n, sizeof *ids));
        for (int i = 0; i < in.n; i++) ids[i] = curve_data(f, in.v[i]);
        size_t prefix = script_key_prefix(f, models, in.n);
        free(models);
        fputs("plot ", f);
        for (int i = 0; i < in.n; i++) {
            const plot_curve *c = in.v[i];
            /* The best fit in the model's colour and dash; the log-linear one only when it is best
             * or the only fit, since two lines per model would bury the points. */
            int fit = drawn_fit(c);
            fprintf(f, "%s$curve%d using 1:2:3:4 with yerrorbars lt %d title ", i ? ", \\\n     " : "",
                    ids[i], i + 1);
            script_quote(f, c->model + prefix);
            if (fit >= 0)
                fprintf(f, ", \\\n     curve%d_%s(x) with lines lt %d notitle", ids[i], tte_fit_name(fit),
                        i + 1);
        }
        fputc('\n', f);
        free(ids);
        free(in.v);
    }
    script_end(f);
    free(datasets);
}

void figure_curves(FILE *f, const plot_data *d, const plot_options *o) {
    const char *metric = curve_metric(d, o, tte_metric_name(TTE_METRIC_CORRECT));
    curve_list l = select_curves(d, o, metric);
    if (l.n == 0) tte_die("curves: no curve records with points for metric '%s' in the input", metric);
    if (o->overlay_model) {
        curves_overlay(f, &l, metric, o);
        free(l.v);
        return;
    }
    int rows, cols;
    plot_layout(l.n, &rows, &cols);
    script_begin(f, o, metric, rows, cols);
    for (int i = 0; i < l.n; i++) {
        char *title = group_title(l.v[i]);
        script_panel(f, title);
        free(title);
        int nb;
        double *budgets = curve_budgets(&l.v[i], 1, &nb);
        x_axis(f, budgets, nb, l.v[i]->x_axis);
        free(budgets);
        metric_axis(f, metric);
        curve_annotations(f, &l.v[i], 1, metric, single_entries(l.v[i]), single_longest(l.v[i]));
        plot_single(f, l.v[i], curve_data(f, l.v[i]));
    }
    script_end(f);
    free(l.v);
}

/* The study's question 5: does the jump in accuracy come with a smooth rise in the continuous
 * metrics? One row per model and dataset, one column per metric. */
void figure_discrete_vs_continuous(FILE *f, const plot_data *d, const plot_options *o) {
    /* The columns (plot_metric_parse knows the other names of -entropy). */
    static const tte_metric metrics[] = {TTE_METRIC_CORRECT, TTE_METRIC_P_GOLD_NORM, TTE_METRIC_NEG_ENTROPY};
    enum { NMETRICS = sizeof metrics / sizeof metrics[0] };
    curve_list acc = select_curves(d, o, tte_metric_name(metrics[0]));
    /* A group is drawn when it has both accuracy and p_gold_norm; -entropy joins when present. */
    curve_list rows_of[NMETRICS] = {{0}};
    int has_entropy = 0;
    for (int i = 0; i < acc.n; i++) {
        plot_curve *found[NMETRICS] = {acc.v[i]};
        for (int m = 1; m < NMETRICS; m++)
            for (int j = 0; j < d->ncurves; j++) {
                plot_curve *c = &d->curves[j];
                if (c->npoints && plot_metric_parse(c->metric) == (int)metrics[m] &&
                    strcmp(c->model, acc.v[i]->model) == 0 && strcmp(c->dataset, acc.v[i]->dataset) == 0)
                    found[m] = c;
            }
        if (!found[1]) continue;
        has_entropy |= found[2] != NULL;
        for (int m = 0; m < NMETRICS; m++) curve_list_add(&rows_of[m], found[m]);
    }
    free(acc.v);
    int nrows = rows_of[0].n, ncols = has_entropy ? 3 : 2;
    if (nrows == 0)
        tte_die("discrete-vs-continuous: no model and dataset has curve records for both 'correct' and "
                "'p_gold_norm'");
    script_begin(f, o, "correct, p_gold_norm, neg_entropy", nrows, ncols);
    /* The key once, in the first panel of the first row with a free corner for it (the panels
     * share their styles); below the first panel when none has. */
    int key_panel = 0;
    for (int m = ncols - 1; m >= 0; m--) {
        const plot_curve *c = rows_of[m].v[0];
        if (!c) continue;
        plot_points p = drawn_points(&rows_of[m].v[0], 1, c->metric, 1);
        if (plot_key_corner(&p, single_entries(c), single_longest(c)) >= 0) key_panel = m;
        plot_points_free(&p);
    }
    for (int r = 0; r < nrows; r++) {
        for (int m = 0; m < ncols; m++) {
            const plot_curve *c = rows_of[m].v[r];
            if (!c) {
                fputs("\n# --- panel: no curve\nset multiplot next\n", f);
                continue;
            }
            /* The metric is the y label; the row's model and dataset title its middle panel. */
            char *title = NULL;
            if (m == (ncols - 1) / 2) title = group_title(c);
            script_panel(f, title);
            free(title);
            int nb;
            double *budgets = curve_budgets((plot_curve *const *)&rows_of[m].v[r], 1, &nb);
            x_axis(f, budgets, nb, c->x_axis);
            free(budgets);
            metric_axis(f, c->metric);
            curve_annotations(f, &rows_of[m].v[r], 1, c->metric,
                              r == 0 && m == key_panel ? single_entries(c) : 0, single_longest(c));
            plot_single(f, c, curve_data(f, c));
        }
    }
    script_end(f);
    for (int m = 0; m < NMETRICS; m++) free(rows_of[m].v);
}

static int by_params(const void *a, const void *b) {
    double x = (*(plot_curve *const *)a)->model_params, y = (*(plot_curve *const *)b)->model_params;
    return (x > y) - (x < y);
}

static void params_label(char *buf, size_t n, double params) {
    if (params >= 1e9)
        snprintf(buf, n, "%.3gB", params / 1e9);
    else if (params >= 1e6)
        snprintf(buf, n, "%.3gM", params / 1e6);
    else if (params >= 1e3) /* "830k", not "8.3e+05": short enough for neighbouring tics */
        snprintf(buf, n, "%.3gk", params / 1e3);
    else
        snprintf(buf, n, "%.3g", params);
}

/* One panel per dataset: the metric against model size, one line per budget. */
void figure_sizes(FILE *f, const plot_data *d, const plot_options *o) {
    enum { MAX_LINES = 4 };          /* more budgets crowd a column-wide panel */
    const double MIN_TIC_GAP = 0.15; /* of the log axis: a label's width in a column-wide panel */
    const char *metric = curve_metric(d, o, tte_metric_name(TTE_METRIC_CORRECT));
    curve_list l = select_curves(d, o, metric);
    if (o->budget > 0) { /* only the curves measured at --budget */
        int kept = 0;
        for (int i = 0; i < l.n; i++)
            for (int j = 0; j < l.v[i]->npoints; j++)
                if (l.v[i]->points[j].budget == o->budget) {
                    l.v[kept++] = l.v[i];
                    break;
                }
        l.n = kept;
    }
    const char **datasets = tte_xcalloc(l.n + 1, sizeof *datasets);
    int ndatasets = 0;
    for (int i = 0; i < l.n; i++) {
        if (isnan(l.v[i]->model_params)) continue;
        int seen = 0;
        for (int j = 0; j < ndatasets; j++) seen |= strcmp(datasets[j], l.v[i]->dataset) == 0;
        if (seen) continue;
        /* A dataset counts when it has at least two sizes. */
        for (int j = 0; j < l.n; j++)
            if (strcmp(l.v[j]->dataset, l.v[i]->dataset) == 0 && !isnan(l.v[j]->model_params) &&
                l.v[j]->model_params != l.v[i]->model_params) {
                datasets[ndatasets++] = l.v[i]->dataset;
                break;
            }
    }
    if (ndatasets == 0) {
        free(datasets);
        tte_die(
            "sizes: no dataset has curve records of metric '%s' for two or more model sizes (model_params)%s",
            metric, o->budget > 0 ? " at --budget" : "");
    }
    int rows, cols;
    plot_layout(ndatasets, &rows, &cols);
    script_begin(f, o, metric, rows, cols);
    for (int g = 0; g < ndatasets; g++) {
        curve_list in = {0};
        for (int i = 0; i < l.n; i++)
            if (strcmp(l.v[i]->dataset, datasets[g]) == 0 && !isnan(l.v[i]->model_params))
                curve_list_add(&in, l.v[i]);
        qsort(in.v, in.n, sizeof *in.v, by_params);
        script_panel(f, datasets[g]);
        fputs("set logscale x 10\nset xlabel 'model parameters'\nset key outside right top title 'tokens'\n",
              f);
        fprintf(f, "set xrange [%.10g:%.10g]\nset xtics (", in.v[0]->model_params / 1.5,
                in.v[in.n - 1]->model_params * 1.5);
        /* Every size gets a tic, but a label only at least MIN_TIC_GAP of the axis from the last
         * label and from the largest size (always labelled), so that neighbouring sizes (11.5k,
         * 21.9k, 35.3k) do not print over each other. */
        double axis_lo = log10(in.v[0]->model_params / 1.5),
               axis_hi = log10(in.v[in.n - 1]->model_params * 1.5), gap = MIN_TIC_GAP * (axis_hi - axis_lo),
               largest = log10(in.v[in.n - 1]->model_params), last = -INFINITY;
        for (int i = 0; i < in.n; i++) {
            char text[32] = "";
            double at = log10(in.v[i]->model_params);
            if (i == in.n - 1 || (at - last >= gap && largest - at >= gap)) {
                params_label(text, sizeof text, in.v[i]->model_params);
                last = at;
            }
            fprintf(f, "%s'%s' %.10g", i ? ", " : "", text, in.v[i]->model_params);
        }
        fputs(")\n", f);
        metric_axis(f, metric);
        /* --budget, or at most MAX_LINES budgets spread evenly from the smallest to the largest. */
        int nb, nlines = 0;
        double *budgets = curve_budgets(in.v, in.n, &nb), lines[MAX_LINES];
        if (o->budget > 0)
            lines[nlines++] = o->budget;
        else
            for (; nlines < nb && nlines < MAX_LINES; nlines++)
                lines[nlines] =
                    budgets[nb <= MAX_LINES ? nlines : (int)lround(nlines * (nb - 1.0) / (MAX_LINES - 1))];
        for (int b = 0; b < nlines; b++) {
            fputs("# ", f);
            script_quote(f, metric);
            fprintf(f, " at budget %g; columns: params mean lo hi\n", lines[b]);
            char name[48];
            snprintf(name, sizeof name, "size%d_%d", g + 1, b + 1);
            script_data_begin(f, name);
            for (int i = 0; i < in.n; i++)
                for (int j = 0; j < in.v[i]->npoints; j++) {
                    const plot_point *p = &in.v[i]->points[j];
                    if (p->budget != lines[b]) continue;
                    double lo = isnan(p->lo) ? p->mean : p->lo, hi = isnan(p->hi) ? p->mean : p->hi;
                    fprintf(f, "%.10g %.10g %.10g %.10g\n", in.v[i]->model_params, p->mean, lo, hi);
                }
            script_data_end(f);
        }
        fputs("plot ", f);
        for (int b = 0; b < nlines; b++) {
            char text[32];
            plot_budget_label(text, sizeof text, lines[b]);
            fprintf(f, "%s$size%d_%d using 1:2:3:4 with yerrorlines lt %d title '%s'", b ? ", \\\n     " : "",
                    g + 1, b + 1, b + 1, text);
        }
        fputc('\n', f);
        free(budgets);
        free(in.v);
    }
    script_end(f);
    free(datasets);
    free(l.v);
}
