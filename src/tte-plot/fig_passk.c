/* The passk figure: pass@k and maj@k against the number of samples k, with the coverage fit
 * coverage(k) = exp(a k^b) (Brown et al., "Large Language Monkeys", 2024), which tte-fit fits to
 * pass@k, and Best-of-N and weighted voting by a PRM when the records have them. Each record the
 * script draws is numbered N: its data is $passkN (k, pass@k, maj@k, bon@k, weighted@k) and its
 * fit the function passkN_coverage(k). */
#include "plot.h"

#include "cli.h"
#include "xalloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void passk_data(FILE *f, const plot_passk *p, int n) {
    fprintf(f, "# passk%d: ", n);
    script_quote(f, p->model);
    fputc(' ', f);
    script_quote(f, p->dataset);
    fputs("; columns: k pass@k maj@k bon@k weighted@k\n", f);
    char name[32];
    snprintf(name, sizeof name, "passk%d", n);
    script_data_begin(f, name);
    for (int i = 0; i < p->n; i++) {
        script_number(f, p->k[i]);
        fputc(' ', f);
        script_number(f, p->pass[i]);
        fputc(' ', f);
        script_number(f, p->maj ? p->maj[i] : NAN);
        fputc(' ', f);
        script_number(f, p->bon ? p->bon[i] : NAN);
        fputc(' ', f);
        script_number(f, p->weighted ? p->weighted[i] : NAN);
        fputc('\n', f);
    }
    script_data_end(f);
    if (p->has_coverage_fit)
        fprintf(f, "passk%d_coverage(k) = exp(%.10g * k**%.10g)\n", n, p->cov_a, p->cov_b);
}

/* Adds the N values of Y at K as linespoints draws them: points and the lines between. */
static void add_series(plot_points *p, const double *k, const double *y, int n) {
    for (int j = 0; j < n; j++) {
        plot_points_add(p, log2(k[j]), y[j]);
        if (j > 0 && !isnan(y[j - 1]) && !isnan(y[j])) plot_points_segment(p, log2(k[j - 1]), y[j - 1], log2(k[j]), y[j]);
    }
}

/* The panel's axes (k on log2 with a tic at every k of its records, and their budget; the fraction
 * solved) and its key. TITLE is the panel's, which takes the budget when the x label cannot. */
static void passk_axes(FILE *f, plot_passk *const *v, int n, const char *title) {
    int total = 0;
    for (int i = 0; i < n; i++) total += v[i]->n;
    double *k = tte_xmalloc(tte_xmul(total + 1, sizeof *k));
    for (int i = 0, m = 0; i < n; i++)
        for (int j = 0; j < v[i]->n; j++) k[m++] = v[i]->k[j];
    char label[96] = "k (samples per problem)", budget[32];
    int same = 1;
    for (int i = 1; i < n; i++) same &= v[i]->budget == v[0]->budget;
    if (same && !isnan(v[0]->budget)) {
        plot_budget_label(budget, sizeof budget, v[0]->budget);
        snprintf(label, sizeof label, "k (samples per problem at %s tokens)", budget);
        if (!script_text_fits(label)) {
            /* Too long for a narrow panel: the budget goes to the title. */
            snprintf(label, sizeof label, "k (samples per problem)");
            char *t;
            if (asprintf(&t, "%s, %s tokens", title, budget) < 0) tte_die("out of memory");
            fputs("set title ", f);
            script_quote(f, t);
            fputc('\n', f);
            free(t);
        }
    }
    int nk = plot_distinct(k, total);
    script_budget_axis(f, k, nk, label);
    fputs("set yrange [0:1]\n", f);
    /* The key where it hides none of the values, the lines between them and the fitted curve. */
    plot_points p = {.ylo = 0, .yhi = 1, .xpad = PLOT_BUDGET_PAD};
    for (int i = 0; i < n; i++) {
        const plot_passk *r = v[i];
        add_series(&p, r->k, r->pass, r->n);
        if (r->maj) add_series(&p, r->k, r->maj, r->n);
        if (r->bon) add_series(&p, r->k, r->bon, r->n);
        if (r->weighted) add_series(&p, r->k, r->weighted, r->n);
        if (r->has_coverage_fit && nk > 0) {
            double x0 = log2(k[0]) - PLOT_BUDGET_PAD, x1 = log2(k[nk - 1]) + PLOT_BUDGET_PAD;
            for (int s = 0; s <= 48; s++) {
                double x = x0 + (x1 - x0) * s / 48, c = exp(r->cov_a * pow(2, x * r->cov_b));
                if (c >= 0 && c <= 1) plot_points_add(&p, x, c);
            }
        }
    }
    free(k);
    /* Alone: pass@k, maj@k, the PRM's two, the fit; together: a line per model under the models'
     * shared name. */
    int entries, longest;
    if (n == 1) {
        entries = 1 + (v[0]->maj != NULL) + (v[0]->bon != NULL) + (v[0]->weighted != NULL) + v[0]->has_coverage_fit;
        longest = v[0]->weighted ? (int)strlen("weighted vote (PRM)")
                  : v[0]->bon    ? (int)strlen("best-of-k (PRM)")
                                 : (int)strlen("coverage fit");
    } else {
        const char **models = tte_xmalloc(tte_xmul(n, sizeof *models));
        for (int i = 0; i < n; i++) models[i] = v[i]->model;
        size_t shared = plot_common_prefix(models, n);
        entries = n + (shared > 0), longest = (int)shared;
        for (int i = 0; i < n; i++)
            if ((int)(strlen(models[i]) - shared) > longest) longest = (int)(strlen(models[i]) - shared);
        free(models);
    }
    script_key_placed(f, &p, entries, longest);
    plot_points_free(&p);
    script_ylabel(f, "problems solved");
}

/* One plot clause per series; LT is the line type of the record (1 when it is alone). */
static void passk_clauses(FILE *f, const plot_passk *p, int n, int lt, int alone, int first, size_t prefix) {
    const char *sep = first ? "" : ", \\\n     ";
    if (alone) {
        fprintf(f, "%s$passk%d using 1:2 with linespoints lt 1 title 'pass@k'", sep, n);
        if (p->maj) fprintf(f, ", \\\n     $passk%d using 1:3 with linespoints lt 2 title 'maj@k'", n);
        if (p->bon)
            fprintf(f, ", \\\n     $passk%d using 1:4 with linespoints lt 3 title 'best-of-k (PRM)'", n);
        if (p->weighted)
            fprintf(f, ", \\\n     $passk%d using 1:5 with linespoints lt 4 title 'weighted vote (PRM)'", n);
        if (p->has_coverage_fit)
            fprintf(f, ", \\\n     passk%d_coverage(x) with lines lt 7 dt (2,2) lw 1 title 'coverage fit'",
                    n);
        return;
    }
    /* Several models: the model's colour throughout; pass@k solid, maj@k dashed, the fit dotted. */
    fprintf(f, "%s$passk%d using 1:2 with linespoints lt %d dt 1 title ", sep, n, lt);
    script_quote(f, p->model + prefix);
    if (p->maj) fprintf(f, ", \\\n     $passk%d using 1:3 with linespoints lt %d dt 2 notitle", n, lt);
    if (p->bon) fprintf(f, ", \\\n     $passk%d using 1:4 with points lt %d pt 6 notitle", n, lt);
    if (p->weighted) fprintf(f, ", \\\n     $passk%d using 1:5 with points lt %d pt 8 notitle", n, lt);
    if (p->has_coverage_fit)
        fprintf(f, ", \\\n     passk%d_coverage(x) with lines lt %d dt 3 lw 1 notitle", n, lt);
}

/* Whether A rather than B, of the same model and dataset, is drawn: the larger budget, where a
 * reasoning model is meant to run. */
static int preferred(const plot_passk *a, const plot_passk *b) {
    return a->budget > b->budget || (isnan(b->budget) && !isnan(a->budget));
}

void figure_passk(FILE *f, const plot_data *d, const plot_options *o) {
    plot_passk **v = tte_xmalloc(tte_xmul(d->npassk + 1, sizeof *v));
    /* tte-fit writes one record per budget: one per model and dataset is drawn. */
    int n = 0;
    for (int i = 0; i < d->npassk; i++) {
        plot_passk *p = &d->passk[i];
        if (!p->n || !plot_selected(o, p->model, p->dataset) || (o->budget > 0 && p->budget != o->budget))
            continue;
        int j = 0;
        while (j < n && (strcmp(v[j]->model, p->model) != 0 || strcmp(v[j]->dataset, p->dataset) != 0)) j++;
        if (j == n)
            v[n++] = p;
        else if (preferred(p, v[j]))
            v[j] = p;
    }
    if (n == 0 && o->budget > 0) tte_die("passk: no passk records at budget %g in the input", o->budget);
    if (n == 0)
        tte_die("passk: no passk records in the input (tte-fit writes them from several samples per budget)");
    /* Panels: one per record, or with --overlay model one per dataset. */
    const char **panel = tte_xmalloc(tte_xmul(n, sizeof *panel));
    int *panel_of = tte_xmalloc(tte_xmul(n, sizeof *panel_of)), npanels = 0;
    for (int i = 0; i < n; i++) {
        panel_of[i] = npanels;
        if (o->overlay_model)
            for (int j = 0; j < npanels; j++)
                if (strcmp(panel[j], v[i]->dataset) == 0) panel_of[i] = j;
        if (panel_of[i] == npanels) panel[npanels++] = v[i]->dataset;
    }
    int rows, cols;
    plot_layout(npanels, &rows, &cols);
    script_begin(f, o, o->overlay_model ? "one line per model" : NULL, rows, cols);
    for (int g = 0; g < npanels; g++) {
        plot_passk **in = tte_xmalloc(tte_xmul(n, sizeof *in));
        int m = 0;
        for (int i = 0; i < n; i++)
            if (panel_of[i] == g) in[m++] = v[i];
        char *title;
        /* With several models the colour is the model and the dash says which curve it is. */
        if (m == 1)
            title = plot_group_title(in[0]->model, in[0]->dataset);
        else if (asprintf(&title, "%s: pass@k solid, maj@k dashed, fit dotted", in[0]->dataset) < 0)
            tte_die("out of memory");
        script_panel(f, title);
        passk_axes(f, in, m, title);
        free(title);
        const char **models = tte_xmalloc(tte_xmul(m, sizeof *models));
        for (int i = 0; i < m; i++)
            passk_data(f, in[i], (int)(in[i] - d->passk) + 1), models[i] = in[i]->model;
        size_t prefix = script_key_prefix(f, models, m);
        free(models);
        fputs("plot ", f);
        for (int i = 0; i < m; i++)
            passk_clauses(f, in[i], (int)(in[i] - d->passk) + 1, i + 1, m == 1, i == 0, prefix);
        fputc('\n', f);
        free(in);
    }
    script_end(f);
    free(panel_of);
    free(panel);
    free(v);
}
