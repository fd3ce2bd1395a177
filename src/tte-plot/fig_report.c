/* The report: one PDF of many pages from one tte-fit output. First the tables (each a page or
 * more of text): for each model and dataset the best fit and the AICc weights of all fits (the
 * study's RQ1); the consistency of items across models, from tte-fit's correlation records (RQ2);
 * breakthroughness by model and size (RQ3, RQ4); discrete against continuous metrics (RQ5). Then
 * every figure for every model and dataset (curves, discrete-vs-continuous, items, heatmap, scores,
 * passk), and the figures across models and strategies (curves and passk overlaid by model, sizes,
 * frontier), each that the records can draw. With pdfcairo every plot after "set output" is a new
 * page, so the figures are the ones of the other files, one after another on one terminal. */
#include "plot.h"

#include "cli.h"
#include "records.h"
#include "xalloc.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* The report's page: the text width, a little more than half as tall. */
static const double PAGE_W_IN = 7.2, PAGE_H_IN = 4.8;
/* The tables' monospace font, points. */
static const double TABLE_PT = 7;

typedef struct {
    char **v;
    int n, cap;
} lines;

static void line_addf(lines *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void line_addf(lines *l, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *s;
    if (vasprintf(&s, fmt, ap) < 0) tte_die("out of memory");
    va_end(ap);
    TTE_GROW(l->v, l->cap, l->n + 1);
    l->v[l->n++] = s;
}

/* NAME cut to WIDTH characters, with "~" where it was cut; in BUF. */
static const char *cut(char *buf, size_t size, const char *name, int width) {
    if ((int)strlen(name) <= width) return name;
    snprintf(buf, size, "%.*s~", width - 1, name);
    return buf;
}

static double number(json_t *obj, const char *field) {
    json_t *v = json_object_get(obj, field);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static void fmt_number(char *buf, size_t size, double v) {
    if (isnan(v))
        snprintf(buf, size, "-");
    else
        snprintf(buf, size, "%.3g", v);
}

/* RQ1: the best fit of each curve and the Akaike weights w_k = exp(-D_k/2) / sum_j exp(-D_j/2),
 * D_k = AICc_k - min AICc, over the fits that have an AICc (Burnham and Anderson 2002). */
static void table_fits(lines *l, const plot_data *d) {
    line_addf(l, "Best fit per model, dataset and metric, and the AICc weights of the fits (- : no AICc, too few budgets)");
    line_addf(l, "%-28s %-12s %-12s %-10s %-9s %9s %9s %9s %9s", "model", "dataset", "metric", "best", "by",
              "loglinear", "hinge", "hinge2", "logistic");
    for (int i = 0; i < d->ncurves; i++) {
        const plot_curve *c = &d->curves[i];
        if (plot_x_is_cost(c->x_axis) || !c->record) continue;
        json_t *fits = json_object_get(c->record, "fits");
        double aicc[TTE_FIT_NKINDS], least = INFINITY, sum = 0;
        for (int k = 0; k < TTE_FIT_NKINDS; k++) {
            aicc[k] = number(json_object_get(fits, tte_fit_name(k)), "aicc");
            if (!isnan(aicc[k])) least = fmin(least, aicc[k]);
        }
        for (int k = 0; k < TTE_FIT_NKINDS; k++)
            if (!isnan(aicc[k])) sum += exp(-(aicc[k] - least) / 2);
        char w[TTE_FIT_NKINDS][16], m[40], ds[20];
        for (int k = 0; k < TTE_FIT_NKINDS; k++) fmt_number(w[k], sizeof w[k], isnan(aicc[k]) ? NAN : exp(-(aicc[k] - least) / 2) / sum);
        const char *best = json_string_value(json_object_get(c->record, "best"));
        const char *by = json_string_value(json_object_get(c->record, "best_by"));
        line_addf(l, "%-28s %-12s %-12s %-10s %-9s %9s %9s %9s %9s", cut(m, sizeof m, *c->model ? c->model : "-", 28),
                  cut(ds, sizeof ds, *c->dataset ? c->dataset : "-", 12), c->metric, best ? best : "-", by ? by : "-",
                  w[TTE_FIT_LOGLINEAR], w[TTE_FIT_HINGE], w[TTE_FIT_HINGE2], w[TTE_FIT_LOGISTIC]);
    }
}

/* RQ2: Spearman's rho of the items' breakthroughness between two models (tte-fit's correlation
 * records). */
static void table_consistency(lines *l, const plot_data *d) {
    line_addf(l, "Item consistency across models: Spearman's rho of the items' breakthroughness");
    if (d->ncorrelations == 0) {
        line_addf(l, "  (no correlation records: tte-fit writes them for two or more models on the same items)");
        return;
    }
    line_addf(l, "%-28s %-28s %-12s %-12s %6s %8s", "model", "against", "dataset", "metric", "items", "rho");
    for (int i = 0; i < d->ncorrelations; i++) {
        json_t *r = d->correlations[i], *models = json_object_get(r, "models");
        const char *a = json_string_value(json_array_get(models, 0)), *b = json_string_value(json_array_get(models, 1));
        const char *ds = json_string_value(json_object_get(r, "dataset")), *metric = json_string_value(json_object_get(r, "metric"));
        char ca[40], cb[40], cd[20], rho[16];
        fmt_number(rho, sizeof rho, number(r, "spearman"));
        line_addf(l, "%-28s %-28s %-12s %-12s %6.0f %8s", cut(ca, sizeof ca, a ? a : "-", 28), cut(cb, sizeof cb, b ? b : "-", 28),
                  cut(cd, sizeof cd, ds ? ds : "-", 12), metric ? metric : "-", number(r, "items"), rho);
    }
}

static int by_size(const void *x, const void *y) {
    const plot_curve *a = *(plot_curve *const *)x, *b = *(plot_curve *const *)y;
    double pa = isnan(a->model_params) ? INFINITY : a->model_params, pb = isnan(b->model_params) ? INFINITY : b->model_params;
    if (pa != pb) return pa < pb ? -1 : 1;
    int c = strcmp(a->model, b->model);
    if (c == 0) c = strcmp(a->dataset, b->dataset);
    return c ? c : strcmp(a->metric, b->metric);
}

/* RQ3, RQ4: the curves' breakthroughness and their items' median, by model size. */
static void table_breakthroughness(lines *l, const plot_data *d) {
    line_addf(l, "Breakthroughness by model (smallest first): the curve's B, and its items' median B [q25, q75]");
    line_addf(l, "%-28s %8s %-12s %-12s %8s %22s", "model", "params", "dataset", "metric", "curve B", "items: median [IQR]");
    plot_curve **v = tte_xmalloc(tte_xmul((size_t)d->ncurves + 1, sizeof *v));
    int n = 0;
    for (int i = 0; i < d->ncurves; i++)
        if (!plot_x_is_cost(d->curves[i].x_axis)) v[n++] = &d->curves[i];
    qsort(v, n, sizeof *v, by_size);
    for (int i = 0; i < n; i++) {
        const plot_curve *c = v[i];
        json_t *items = json_object_get(c->record, "items");
        char m[40], ds[20], b[16], p[16], med[16], q1[16], q3[16];
        fmt_number(b, sizeof b, c->breakthroughness);
        fmt_number(med, sizeof med, number(items, "breakthroughness_median"));
        fmt_number(q1, sizeof q1, number(items, "breakthroughness_q25"));
        fmt_number(q3, sizeof q3, number(items, "breakthroughness_q75"));
        if (isnan(c->model_params))
            snprintf(p, sizeof p, "-");
        else
            snprintf(p, sizeof p, "%.3gB", c->model_params / 1e9);
        char iq[64];
        snprintf(iq, sizeof iq, "%s [%s, %s]", med, q1, q3);
        line_addf(l, "%-28s %8s %-12s %-12s %8s %22s", cut(m, sizeof m, *c->model ? c->model : "-", 28), p,
                  cut(ds, sizeof ds, *c->dataset ? c->dataset : "-", 12), c->metric, b, iq);
    }
    free(v);
}

static const plot_curve *find_curve(const plot_data *d, const char *model, const char *dataset, int metric) {
    for (int i = 0; i < d->ncurves; i++) {
        const plot_curve *c = &d->curves[i];
        if (!plot_x_is_cost(c->x_axis) && plot_metric_parse(c->metric) == metric && strcmp(c->model, model) == 0 &&
            strcmp(c->dataset, dataset) == 0)
            return c;
    }
    return NULL;
}

/* RQ5: per model and dataset, the discrete metric's scores beside the continuous ones'. */
static void table_discrete(lines *l, const plot_data *d) {
    static const tte_metric metrics[] = {TTE_METRIC_CORRECT, TTE_METRIC_P_GOLD_NORM, TTE_METRIC_NEG_ENTROPY};
    line_addf(l, "Discrete against continuous metrics: breakthroughness B, skew S and best fit of each");
    line_addf(l, "%-28s %-12s  %-26s %-26s %-26s", "model", "dataset", "accuracy: B, S, best", "p_gold_norm: B, S, best",
              "-entropy: B, S, best");
    for (int i = 0; i < d->ncurves; i++) {
        const plot_curve *c = &d->curves[i];
        if (plot_x_is_cost(c->x_axis) || plot_metric_parse(c->metric) != TTE_METRIC_CORRECT) continue;
        char cols[3][64];
        for (int k = 0; k < 3; k++) {
            const plot_curve *m = find_curve(d, c->model, c->dataset, metrics[k]);
            if (!m) {
                snprintf(cols[k], sizeof cols[k], "-");
                continue;
            }
            char b[16], s[16];
            fmt_number(b, sizeof b, m->breakthroughness);
            fmt_number(s, sizeof s, number(m->record, "skew"));
            const char *best = json_string_value(json_object_get(m->record, "best"));
            snprintf(cols[k], sizeof cols[k], "%s, %s, %s", b, s, best ? best : "-");
        }
        char mn[40], ds[20];
        line_addf(l, "%-28s %-12s  %-26s %-26s %-26s", cut(mn, sizeof mn, *c->model ? c->model : "-", 28),
                  cut(ds, sizeof ds, *c->dataset ? c->dataset : "-", 12), cols[0], cols[1], cols[2]);
    }
}

/* The tables as pages of labels, as many lines as fit on each. */
static void table_pages(FILE *f, const lines *l, const char *title) {
    int per_page = (int)((PAGE_H_IN * 72 - 54) / (TABLE_PT * 1.3));
    for (int first = 0; first < l->n; first += per_page) {
        fputs("\n# --- a page of tables\nreset\nunset border\nunset tics\nunset key\nset xrange [0:1]\nset yrange [0:1]\n", f);
        fputs("set lmargin 0\nset rmargin 0\nset tmargin 0\nset bmargin 0\n", f);
        fputs("set label 1 ", f);
        script_quote(f, title);
        fputs(" at screen 0.5, screen 0.96 center font ',10'\n", f);
        for (int i = first; i < l->n && i < first + per_page; i++) {
            double y = 1 - (30 + (i - first + 1) * TABLE_PT * 1.3) / (PAGE_H_IN * 72);
            fprintf(f, "set label %d ", i - first + 2);
            script_quote(f, l->v[i]);
            fprintf(f, " at screen 0.03, screen %.5f left font 'Mono,%g'\n", y, TABLE_PT);
        }
        fputs("plot -1 notitle\n", f);
    }
}

/* --- which figures the records can draw (each figure function dies without its data) --- */

static int has_curve(const plot_data *d, const plot_options *o, const char *metric) {
    for (int i = 0; i < d->ncurves; i++) {
        const plot_curve *c = &d->curves[i];
        if (c->npoints && !plot_x_is_cost(c->x_axis) && plot_selected(o, c->model, c->dataset) &&
            (!metric || plot_metric_parse(c->metric) == plot_metric_parse(metric)))
            return 1;
    }
    return 0;
}

/* The metric the item figures pick (fig_items.c): p_gold_norm when present, else the first. */
static const char *item_metric(const plot_data *d, const plot_options *o) {
    const char *metric = NULL;
    for (int i = 0; i < d->nitems; i++) {
        const plot_item *it = &d->items[i];
        if (!plot_selected(o, it->model, it->dataset)) continue;
        if (!metric || strcmp(it->metric, tte_metric_name(TTE_METRIC_P_GOLD_NORM)) == 0) metric = it->metric;
    }
    return metric;
}

static int has_items(const plot_data *d, const plot_options *o, int scores) {
    const char *metric = item_metric(d, o);
    for (int i = 0; metric && i < d->nitems; i++) {
        const plot_item *it = &d->items[i];
        if (plot_selected(o, it->model, it->dataset) && strcmp(it->metric, metric) == 0 &&
            (scores ? !isnan(it->breakthroughness) : it->n > 0))
            return 1;
    }
    return 0;
}

static int has_passk(const plot_data *d, const plot_options *o) {
    for (int i = 0; i < d->npassk; i++)
        if (d->passk[i].n && plot_selected(o, d->passk[i].model, d->passk[i].dataset)) return 1;
    return 0;
}

/* Whether a dataset has curves of two models (OVERLAY) or of two model sizes. */
static int has_two(const plot_data *d, int sizes) {
    for (int i = 0; i < d->ncurves; i++)
        for (int j = 0; j < d->ncurves; j++) {
            const plot_curve *a = &d->curves[i], *b = &d->curves[j];
            if (!a->npoints || !b->npoints || plot_x_is_cost(a->x_axis) || plot_x_is_cost(b->x_axis) ||
                strcmp(a->dataset, b->dataset) != 0 || strcmp(a->metric, "correct") != 0 || strcmp(b->metric, "correct") != 0)
                continue;
            if (sizes ? !isnan(a->model_params) && !isnan(b->model_params) && a->model_params != b->model_params
                      : strcmp(a->model, b->model) != 0)
                return 1;
        }
    return 0;
}

static int has_cost_axis(const plot_data *d) {
    for (int i = 0; i < d->ncurves; i++)
        if (plot_x_is_cost(d->curves[i].x_axis) && strcmp(d->curves[i].metric, "correct") == 0) return 1;
    return 0;
}

/* One figure as the next page(s), titled with what it shows. */
static void page(FILE *f, const plot_data *d, const plot_options *base, const char *figure,
                 void (*draw)(FILE *, const plot_data *, const plot_options *), const char *model, const char *dataset,
                 int overlay) {
    plot_options o = *base;
    o.figure = figure;
    o.model = model, o.dataset = dataset, o.overlay_model = overlay;
    o.width = PAGE_W_IN, o.height = PAGE_H_IN;
    char *title;
    int ok = model ? asprintf(&title, "%s: %s%s%s", figure, model, *model && *dataset ? ", " : "", dataset)
                   : asprintf(&title, "%s%s", figure, overlay ? ", one line per model" : "");
    if (ok < 0) tte_die("out of memory");
    o.title = title;
    fputs("\nreset\n", f);
    draw(f, d, &o);
    free(title);
}

void figure_report(FILE *f, const plot_data *d, const plot_options *o) {
    if (o->terminal != TERM_PDF)
        tte_die("report: one PDF of many pages: use --terminal pdf (and --image FILE)");
    if (d->ncurves == 0 && d->nitems == 0 && d->npassk == 0)
        tte_die("report: no curve, item or passk records in the input");
    /* The first page sets the terminal (a page of text, at the report's size) and the output. */
    plot_options first = *o;
    first.width = PAGE_W_IN, first.height = PAGE_H_IN;
    first.font = o->font ? o->font : "Sans,8";
    script_open(f, &first, "tables, then every figure");
    script_continue(1);
    lines l = {0};
    table_fits(&l, d);
    line_addf(&l, "%s", "");
    table_consistency(&l, d);
    line_addf(&l, "%s", "");
    table_breakthroughness(&l, d);
    line_addf(&l, "%s", "");
    table_discrete(&l, d);
    table_pages(f, &l, o->title ? o->title : "tte report: tables");
    for (int i = 0; i < l.n; i++) free(l.v[i]);
    free(l.v);

    /* The model and dataset groups, in order of appearance. */
    const char **models = tte_xmalloc(tte_xmul((size_t)(d->ncurves + d->nitems + d->npassk) + 1, sizeof *models));
    const char **datasets = tte_xmalloc(tte_xmul((size_t)(d->ncurves + d->nitems + d->npassk) + 1, sizeof *datasets));
    int ngroups = 0;
    for (int i = 0; i < d->ncurves + d->nitems + d->npassk; i++) {
        const char *m, *ds;
        if (i < d->ncurves)
            m = d->curves[i].model, ds = d->curves[i].dataset;
        else if (i < d->ncurves + d->nitems)
            m = d->items[i - d->ncurves].model, ds = d->items[i - d->ncurves].dataset;
        else
            m = d->passk[i - d->ncurves - d->nitems].model, ds = d->passk[i - d->ncurves - d->nitems].dataset;
        int seen = 0;
        for (int g = 0; g < ngroups && !seen; g++) seen = strcmp(models[g], m) == 0 && strcmp(datasets[g], ds) == 0;
        if (!seen) models[ngroups] = m, datasets[ngroups++] = ds;
    }
    plot_options figure_options = *o;
    figure_options.font = first.font;
    figure_options.metric = NULL;
    for (int g = 0; g < ngroups; g++) {
        plot_options sel = figure_options;
        sel.model = models[g], sel.dataset = datasets[g];
        if (has_curve(d, &sel, NULL)) page(f, d, &figure_options, "curves", figure_curves, models[g], datasets[g], 0);
        if (has_curve(d, &sel, "correct") && has_curve(d, &sel, "p_gold_norm"))
            page(f, d, &figure_options, "discrete-vs-continuous", figure_discrete_vs_continuous, models[g], datasets[g], 0);
        if (has_items(d, &sel, 0)) {
            page(f, d, &figure_options, "items", figure_items, models[g], datasets[g], 0);
            page(f, d, &figure_options, "heatmap", figure_heatmap, models[g], datasets[g], 0);
        }
        if (has_items(d, &sel, 1)) page(f, d, &figure_options, "scores", figure_scores, models[g], datasets[g], 0);
        if (has_passk(d, &sel)) page(f, d, &figure_options, "passk", figure_passk, models[g], datasets[g], 0);
    }
    if (has_two(d, 0)) {
        page(f, d, &figure_options, "curves", figure_curves, NULL, NULL, 1);
        if (d->npassk) page(f, d, &figure_options, "passk", figure_passk, NULL, NULL, 1);
    }
    if (has_two(d, 1)) page(f, d, &figure_options, "sizes", figure_sizes, NULL, NULL, 0);
    if (has_cost_axis(d)) page(f, d, &figure_options, "frontier", figure_frontier, NULL, NULL, 0);
    script_continue(0);
    free(models);
    free(datasets);
}
