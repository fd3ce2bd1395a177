/* Figures drawn from item records: items (small multiples of the most emergent items), heatmap
 * (items x budgets) and scores (the distribution of emergence scores per model and dataset). */
#include "plot.h"

#include "cli.h"
#include "records.h"
#include "xalloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    plot_item **v;
    int n, cap;
} item_list;

static void item_list_add(item_list *l, plot_item *it) {
    TTE_GROW(l->v, l->cap, l->n + 1);
    l->v[l->n++] = it;
}

/* --metric, or p_gold_norm when a selected item has it (the study's continuous metric), or the
 * first selected item's metric. */
static const char *item_metric(const plot_data *d, const plot_options *o) {
    if (o->metric) return o->metric;
    const char *metric = NULL;
    for (int i = 0; i < d->nitems; i++) {
        const plot_item *it = &d->items[i];
        if (!plot_selected(o, it->model, it->dataset)) continue;
        if (!metric || strcmp(it->metric, tte_metric_name(TTE_METRIC_P_GOLD_NORM)) == 0) metric = it->metric;
    }
    return metric ? metric : tte_metric_name(TTE_METRIC_P_GOLD_NORM);
}

/* The selected items of METRIC; with VALUES, only those that have values to draw. */
static item_list select_items(const plot_data *d, const plot_options *o, const char *metric, int values) {
    item_list l = {0};
    for (int i = 0; i < d->nitems; i++) {
        plot_item *it = &d->items[i];
        if ((it->n || !values) && plot_selected(o, it->model, it->dataset) && strcmp(it->metric, metric) == 0)
            item_list_add(&l, it);
    }
    return l;
}

/* The one-line reason FIGURE has no item values to draw. */
static noreturn void no_items(const plot_data *d, const char *figure, const char *metric) {
    if (d->unplaced_items)
        tte_die("%s: %d item records have no \"budgets\" field to place their values (the first at %s)",
                figure, d->unplaced_items, d->unplaced_at);
    tte_die("%s: no item records with values for metric '%s' in the input", figure, metric);
}

/* Most emergent first: tte-fit's rank when both have one, else breakthroughness descending (absent
 * last), then id, so the order never depends on qsort. */
static int by_emergence(const void *a, const void *b) {
    const plot_item *x = *(plot_item *const *)a, *y = *(plot_item *const *)b;
    if (x->rank > 0 && y->rank > 0 && x->rank != y->rank) return x->rank < y->rank ? -1 : 1;
    double bx = isnan(x->breakthroughness) ? -INFINITY : x->breakthroughness;
    double by = isnan(y->breakthroughness) ? -INFINITY : y->breakthroughness;
    if (bx != by) return bx > by ? -1 : 1;
    int c = strcmp(x->model, y->model);
    if (c == 0) c = strcmp(x->dataset, y->dataset);
    return c ? c : strcmp(x->id, y->id);
}

/* The distinct model x dataset groups of L in order of appearance: GROUP[i] is item i's group. */
static int group_items(const item_list *l, int *group) {
    int ngroups = 0;
    for (int i = 0; i < l->n; i++) {
        group[i] = ngroups;
        for (int j = 0; j < i; j++)
            if (strcmp(l->v[j]->model, l->v[i]->model) == 0 &&
                strcmp(l->v[j]->dataset, l->v[i]->dataset) == 0) {
                group[i] = group[j];
                break;
            }
        if (group[i] == ngroups) ngroups++;
    }
    return ngroups;
}

/* The axis (y, or cb for the colour box) of METRIC. */
static void metric_axis(FILE *f, const char *axis, const char *metric) {
    if (strcmp(axis, "y") == 0) {
        script_ylabel(f, plot_metric_label(metric));
    } else {
        fprintf(f, "set %slabel ", axis);
        script_quote(f, plot_metric_label(metric));
        fputc('\n', f);
    }
    if (plot_metric_is_probability(metric)) fprintf(f, "set %srange [0:1]\n", axis);
}

void figure_items(FILE *f, const plot_data *d, const plot_options *o) {
    const char *metric = item_metric(d, o);
    item_list l = select_items(d, o, metric, 1);
    if (l.n == 0) no_items(d, "items", metric);
    int *group = tte_xmalloc(tte_xmul(l.n, sizeof *group));
    int several_groups = group_items(&l, group) > 1;
    free(group);
    qsort(l.v, l.n, sizeof *l.v, by_emergence);
    int k = l.n < o->top ? l.n : o->top;
    /* Titles name the model after the item when several are shown, without their shared prefix. */
    const char **models = tte_xmalloc(tte_xmul(k, sizeof *models));
    for (int i = 0; i < k; i++) models[i] = l.v[i]->model;
    size_t prefix = plot_common_prefix(models, k);
    free(models);
    int rows, cols;
    plot_layout(k, &rows, &cols);
    char what[160];
    snprintf(what, sizeof what, "%s, top %d items", metric, k);
    script_begin(f, o, what, rows, cols);
    for (int i = 0; i < k; i++) {
        const plot_item *it = l.v[i];
        char *title;
        int ok = several_groups ? asprintf(&title, "%s (%s)", it->id, it->model + prefix)
                                : asprintf(&title, "%s", it->id);
        if (ok < 0) tte_die("out of memory");
        script_panel(f, title);
        free(title);
        script_budget_axis(f, it->budgets, it->n, "thinking tokens");
        metric_axis(f, "y", metric);
        if (!isnan(it->breakthroughness)) {
            plot_points p = {.ylo = NAN, .yhi = NAN, .xpad = PLOT_BUDGET_PAD};
            if (plot_metric_is_probability(metric)) p.ylo = 0, p.yhi = 1;
            /* The points and the lines between them, as linespoints draws them. */
            for (int j = 0; j < it->n; j++) {
                plot_points_add(&p, log2(it->budgets[j]), it->values[j]);
                if (j > 0)
                    plot_points_segment(&p, log2(it->budgets[j - 1]), it->values[j - 1], log2(it->budgets[j]),
                                        it->values[j]);
            }
            char text[64];
            snprintf(text, sizeof text, "B = %.3g", it->breakthroughness);
            script_label_placed(f, &p, text, -1);
            plot_points_free(&p);
        }
        fprintf(f, "# item %d; columns: budget value\n", i + 1);
        char name[32];
        snprintf(name, sizeof name, "item%d", i + 1);
        script_data_begin(f, name);
        for (int j = 0; j < it->n; j++) fprintf(f, "%.10g %.10g\n", it->budgets[j], it->values[j]);
        script_data_end(f);
        fprintf(f, "plot $item%d using 1:2 with linespoints lt 1 notitle\n", i + 1);
    }
    script_end(f);
    free(l.v);
}

/* Viridis: perceptually even, readable by colour-blind readers, and its lightness rises
 * monotonically, so a grey print still orders the cells. */
static const char viridis[] =
    "set palette defined (0 '#440154', 0.125 '#472D7B', 0.25 '#3B528B', 0.375 '#2C728E', 0.5 '#21918C', "
    "0.625 '#28AE80', 0.75 '#5EC962', 0.875 '#ADDC30', 1 '#FDE725')\n";
/* ASCII has no colour: the dumb terminal writes one character per cell, light to dark. */
static const char shades[] = ".:-=+*#%@";

/* The budgets any of the N items has, ascending; the caller frees. */
static double *item_budgets(plot_item *const *v, int n, int *nout) {
    int total = 0;
    for (int i = 0; i < n; i++) total += v[i]->n;
    double *budgets = tte_xmalloc(tte_xmul(total + 1, sizeof *budgets));
    for (int i = 0, k = 0; i < n; i++)
        for (int j = 0; j < v[i]->n; j++) budgets[k++] = v[i]->budgets[j];
    *nout = plot_distinct(budgets, total);
    return budgets;
}

/* One group's heatmap, the G-th; COLORBOX: whether this panel shows the colour scale. */
static void heatmap_panel(FILE *f, const plot_options *o, plot_item **v, int n, const char *metric, int g,
                          int colorbox) {
    int nb;
    double *budgets = item_budgets(v, n, &nb);
    /* Budgets are columns (evenly spaced, as on a log2 axis), items are rows, the top one first. */
    fprintf(f, "set xrange [-0.5:%d.5]\nset yrange [-0.5:%d.5]\nset xlabel 'thinking tokens'\n", nb - 1,
            n - 1);
    script_budget_tics(f, budgets, nb, 1);
    fputs("set tics scale 0\nset key off\nunset grid\n", f);
    /* Item names stay readable up to about 40 rows; past that the rows are only counted. */
    if (n <= 40) {
        fputs("set ytics (", f);
        for (int i = 0; i < n; i++) {
            fputs(i ? ", " : "", f);
            script_quote(f, v[i]->id);
            fprintf(f, " %d", n - 1 - i);
        }
        fputs(") font ',7'\n", f);
    } else {
        fputs("set ytics format ''\n", f);
    }
    /* On paper the ids say what the rows are; in ASCII the title has room. */
    if (o->terminal == TERM_DUMB) script_ylabel(f, "items, by breakthroughness");
    metric_axis(f, "cb", metric);
    fprintf(f, "# columns: budget index, item row (0 = least emergent), value\n");
    char name[32];
    snprintf(name, sizeof name, "heat%d", g + 1);
    script_data_begin(f, name);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < v[i]->n; j++) {
            int b = 0;
            while (budgets[b] != v[i]->budgets[j]) b++;
            fprintf(f, "%d %d %.10g\n", b, n - 1 - i, v[i]->values[j]);
        }
    script_data_end(f);
    if (o->terminal == TERM_DUMB) {
        fprintf(f, "set xlabel 'thinking tokens  (cells %s: low to high)'\n", shades);
        /* The value's place in [lo, hi], clamped, picks one of the shades. */
        fputs("level(v, lo, hi) = hi > lo ? (v < lo ? 0 : v > hi ? 1 : (v - lo) / (hi - lo)) : 0\n", f);
        fprintf(f,
                "shade(v, lo, hi) = cell(1 + int(%.4f * level(v, lo, hi)))\ncell(i) = substr('%s', i, i)\n",
                strlen(shades) - 0.0001, shades);
        const char *range = "0, 1";
        if (!plot_metric_is_probability(metric)) {
            fprintf(f, "stats $%s using 3 nooutput\n", name);
            range = "STATS_min, STATS_max";
        }
        fprintf(f, "plot $%s using 1:2:(shade($3, %s)) with labels notitle\n", name, range);
    } else {
        if (colorbox) fputs("set colorbox\n", f);
        fprintf(f,
                "plot $%s using 1:2:(0.5):(0.5):3 with boxxyerror fs solid 1.0 noborder fc palette notitle\n",
                name);
    }
    free(budgets);
}

void figure_heatmap(FILE *f, const plot_data *d, const plot_options *o) {
    const char *metric = item_metric(d, o);
    item_list l = select_items(d, o, metric, 1);
    if (l.n == 0) no_items(d, "heatmap", metric);
    int *group = tte_xmalloc(tte_xmul(l.n, sizeof *group));
    int ngroups = group_items(&l, group), largest = 0;
    item_list *in = tte_xcalloc(ngroups, sizeof *in);
    for (int i = 0; i < l.n; i++) item_list_add(&in[group[i]], l.v[i]);
    for (int g = 0; g < ngroups; g++) largest = in[g].n > largest ? in[g].n : largest;
    int rows, cols;
    plot_layout(ngroups, &rows, &cols);
    plot_options sized = *o;
    /* A row per item: in ASCII that is a line each, on paper about a tenth of an inch. */
    if (!o->height)
        sized.height = o->terminal == TERM_DUMB ? rows * (largest + 10)
                                                : rows * (1.2 + 0.11 * (largest < 60 ? largest : 60));
    script_begin(f, &sized, metric, rows, cols);
    fputs(viridis, f);
    for (int g = 0; g < ngroups; g++) {
        qsort(in[g].v, in[g].n, sizeof *in[g].v, by_emergence);
        char *title = plot_group_title(in[g].v[0]->model, in[g].v[0]->dataset);
        script_panel(f, title);
        free(title);
        /* A probability has the same scale in every panel: the last one shows it for all. */
        int colorbox = !plot_metric_is_probability(metric) || g == ngroups - 1;
        heatmap_panel(f, o, in[g].v, in[g].n, metric, g, colorbox);
        free(in[g].v);
    }
    script_end(f);
    free(in);
    free(group);
    free(l.v);
}

/* The Q-quantile of N sorted values, linear between order statistics (numpy's default). */
static double quantile(const double *sorted, int n, double q) {
    double pos = q * (n - 1);
    int i = (int)floor(pos);
    return i + 1 < n ? sorted[i] + (pos - i) * (sorted[i + 1] - sorted[i]) : sorted[n - 1];
}

/* One panel per model and dataset: a density histogram of the score and a Gaussian kernel density
 * with Silverman's bandwidth, on a shared x range so the panels compare. */
void figure_scores(FILE *f, const plot_data *d, const plot_options *o) {
    const char *metric = item_metric(d, o), *score = o->score_skew ? "skew" : "breakthroughness";
    item_list all = select_items(d, o, metric, 0), l = {0};
    for (int i = 0; i < all.n; i++)
        if (!isnan(o->score_skew ? all.v[i]->skew : all.v[i]->breakthroughness)) item_list_add(&l, all.v[i]);
    free(all.v);
    if (l.n == 0) tte_die("scores: no item records of metric '%s' carry a %s score", metric, score);
    int *group = tte_xmalloc(tte_xmul(l.n, sizeof *group));
    double *values = tte_xmalloc(tte_xmul(l.n, sizeof *values));
    int ngroups = group_items(&l, group);
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < l.n; i++) {
        double v = o->score_skew ? l.v[i]->skew : l.v[i]->breakthroughness;
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
    }
    if (hi - lo < 1e-9) lo -= 0.5, hi += 0.5;
    int rows, cols;
    plot_layout(ngroups, &rows, &cols);
    char what[160];
    snprintf(what, sizeof what, "%s of %s", score, metric);
    script_begin(f, o, what, rows, cols);
    for (int g = 0; g < ngroups; g++) {
        int n = 0, first = -1;
        for (int i = 0; i < l.n; i++)
            if (group[i] == g) {
                values[n++] = o->score_skew ? l.v[i]->skew : l.v[i]->breakthroughness;
                if (first < 0) first = i;
            }
        plot_sort(values, n);
        double mean = 0, var = 0;
        for (int i = 0; i < n; i++) mean += values[i] / n;
        for (int i = 0; i < n; i++) var += (values[i] - mean) * (values[i] - mean) / (n > 1 ? n - 1 : 1);
        double sd = sqrt(var), q1 = quantile(values, n, 0.25), q3 = quantile(values, n, 0.75);
        double spread = fmin(sd, (q3 - q1) / 1.34);
        if (!(spread > 0)) spread = sd > 0 ? sd : (hi - lo) / 10;
        double bandwidth = 0.9 * spread * pow(n, -0.2);
        int nbins = (int)ceil(sqrt(n));
        nbins = nbins < 5 ? 5 : nbins > 30 ? 30 : nbins;
        double width = (hi - lo) / nbins;
        char *title = plot_group_title(l.v[first]->model, l.v[first]->dataset);
        script_panel(f, title);
        free(title);
        fprintf(f, "set xrange [%.10g:%.10g]\nset xlabel ", lo, hi);
        script_quote(f, what);
        fputc('\n', f);
        script_x_tics_fitting(f, lo, hi);
        script_ylabel(f, "density");
        /* The study summarises breakthroughness by median and IQR, skew by mean and SD; the summary
         * and the key go in room made above the bars, the summary on two lines when one does not
         * fit across. */
        char count[32], summary[128];
        snprintf(count, sizeof count, "n = %d", n);
        if (o->score_skew)
            snprintf(summary, sizeof summary, "mean %.3g, sd %.3g", mean, sd);
        else
            snprintf(summary, sizeof summary, "median %.3g, IQR %.3g-%.3g", quantile(values, n, 0.5), q1, q3);
        char line[sizeof count + sizeof summary + 2];
        snprintf(line, sizeof line, "%s, %s", count, summary);
        double key_top = 0.85;
        if (script_text_fits(line)) {
            fprintf(f, "set label '%s' at graph 0.98, graph 0.95 right font ',7'\n", line);
        } else {
            fprintf(f, "set label '%s' at graph 0.98, graph 0.95 right font ',7'\n", count);
            fprintf(f, "set label '%s' at graph 0.98, graph 0.87 right font ',7'\n", summary);
            key_top = 0.78;
        }
        fprintf(f, "set key at graph 0.98, graph %.2f right top\n", key_top);
        fputs("set offsets 0, 0, graph 0.5, 0\n", f);
        fprintf(f, "# %d scores; histogram of %d bins, Silverman bandwidth %.6g\n", n, nbins, bandwidth);
        char name[32];
        snprintf(name, sizeof name, "scores%d", g + 1);
        script_data_begin(f, name);
        for (int i = 0; i < n; i++) fprintf(f, "%.10g\n", values[i]);
        script_data_end(f);
        fprintf(f, "set boxwidth %.10g absolute\n", width);
        fprintf(
            f,
            "plot $%s using 1:(1.0/(%d*%.10g)) bins=%d binrange [%.10g:%.10g] with boxes fs solid 0.35 lt 1 "
            "title 'histogram', \\\n     $%s using 1:(1.0/%d) smooth kdensity bandwidth %.10g with lines lt "
            "2 "
            "dt 1 title 'kernel density'\n",
            name, n, width, nbins, lo, hi, name, n, bandwidth);
    }
    script_end(f);
    free(values);
    free(group);
    free(l.v);
}
