/* records: tte-fit's records (kind curve, item, passk) read into plot_data.
 *
 * Liberal in what it reads: unknown records and fields are ignored, a missing optional field or a
 * null becomes NAN (absent), and only a field that is there with the wrong type, or a required one
 * that is missing, stops the run with "FILE:LINE: field ...". */
#include "plot.h"

#include "cli.h"
#include "jsonl.h"
#include "records.h"
#include "xalloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Another spelling of a kind, with its own parameter names in the kind's order. */
static const struct {
    const char *name;
    int kind;
    const char *params[TTE_FIT_MAXPARAM + 1];
} fit_aliases[] = {{"sigmoid", TTE_FIT_LOGISTIC, {"lo", "hi", "x0", "k", NULL}}};

/* The name and parameter names a record uses for KIND: the alias when only that is present. */
static void fit_spelling(json_t *fits, int kind, const char **name, const char *const **params) {
    *name = tte_fit_name(kind);
    *params = tte_fit_param_names(kind);
    for (size_t i = 0; i < sizeof fit_aliases / sizeof fit_aliases[0]; i++)
        if (fit_aliases[i].kind == kind && !json_object_get(fits, *name) &&
            json_object_get(fits, fit_aliases[i].name)) {
            *name = fit_aliases[i].name;
            *params = fit_aliases[i].params;
        }
}

static noreturn void fail(tte_jsonl *r, const char *fmt, const char *field) {
    tte_jsonl_fail(r, fmt, field);
    tte_die("%s", tte_jsonl_error(r));
}

static const char *get_string(tte_jsonl *r, json_t *obj, const char *field) {
    const char *s;
    if (tte_jsonl_get_string(r, obj, field, &s) < 0) tte_die("%s", tte_jsonl_error(r));
    return s;
}

/* A group field (model, dataset): tte-fit --by may leave one out, and writes null for a group whose
 * records lack it (tte-fit on records without "model"); either is "". */
static const char *group_field(tte_jsonl *r, json_t *obj, const char *field) {
    json_t *v = json_object_get(obj, field);
    return v && !json_is_null(v) ? get_string(r, obj, field) : "";
}

/* FIELD as a string, or FALLBACK when it is absent or null. */
static const char *optional_string(tte_jsonl *r, json_t *obj, const char *field, const char *fallback) {
    json_t *v = json_object_get(obj, field);
    return v && !json_is_null(v) ? get_string(r, obj, field) : fallback;
}

/* A number, or NAN when the value is null or absent. NAME is the field's path for messages. */
static double number_or_nan(tte_jsonl *r, json_t *v, const char *name) {
    if (!v || json_is_null(v)) return NAN;
    if (!json_is_number(v)) fail(r, "field \"%s\": must be a number or null", name);
    return json_number_value(v);
}

static json_t *get_array(tte_jsonl *r, json_t *obj, const char *field) {
    json_t *v = json_object_get(obj, field);
    if (!v) fail(r, "field \"%s\": missing", field);
    if (!json_is_array(v)) fail(r, "field \"%s\": must be an array", field);
    return v;
}

/* An array of numbers or nulls into a new array of doubles (the caller frees). */
static double *number_array(tte_jsonl *r, json_t *array, const char *field) {
    size_t n = json_array_size(array);
    double *out = tte_xmalloc(tte_xmul(n ? n : 1, sizeof *out));
    for (size_t i = 0; i < n; i++) out[i] = number_or_nan(r, json_array_get(array, i), field);
    return out;
}

static int by_budget(const void *a, const void *b) {
    double x = ((const plot_point *)a)->budget, y = ((const plot_point *)b)->budget;
    return (x > y) - (x < y);
}

const char *plot_x_label(const char *axis) {
    static const char *const labels[][2] = {{"budget", "thinking tokens"}, {"n", "solutions per problem"},
                                            {"tokens", "tokens generated per problem"},
                                            {"flops", "FLOPs per problem"}, {"bytes", "bytes read per problem"}};
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++)
        if (strcmp(axis, labels[i][0]) == 0) return labels[i][1];
    return axis;
}

int plot_x_is_cost(const char *axis) {
    return strcmp(axis, "tokens") == 0 || strcmp(axis, "flops") == 0 || strcmp(axis, "bytes") == 0;
}

static void read_points(tte_jsonl *r, json_t *rec, plot_curve *c) {
    json_t *points = get_array(r, rec, "points");
    c->points = tte_xmalloc(tte_xmul(json_array_size(points) + 1, sizeof *c->points));
    size_t i;
    json_t *p;
    json_array_foreach(points, i, p) {
        if (!json_is_object(p)) fail(r, "field \"%s\": must be an array of objects", "points");
        plot_point pt = {
            .budget = number_or_nan(r, json_object_get(p, "budget"), "points.budget"),
            .mean = number_or_nan(r, json_object_get(p, "mean"), "points.mean"),
            .lo = number_or_nan(r, json_object_get(p, "lo"), "points.lo"),
            .hi = number_or_nan(r, json_object_get(p, "hi"), "points.hi"),
        };
        if (!(pt.budget > 0)) fail(r, "field \"%s\": must be a positive number", "points.budget");
        /* On a cost axis a point sits at its cost, where tte-fit fitted it. */
        if (plot_x_is_cost(c->x_axis)) {
            pt.budget = number_or_nan(r, json_object_get(p, "cost"), "points.cost");
            if (!(pt.budget > 0)) fail(r, "field \"%s\": must be a positive number", "points.cost");
        }
        if (!isnan(pt.mean)) c->points[c->npoints++] = pt;
    }
    qsort(c->points, c->npoints, sizeof *c->points, by_budget);
}

static void read_fits(tte_jsonl *r, json_t *rec, plot_curve *c) {
    json_t *fits = json_object_get(rec, "fits");
    if (fits && !json_is_object(fits) && !json_is_null(fits))
        fail(r, "field \"%s\": must be an object", "fits");
    c->best = -1;
    const char *best = json_string_value(json_object_get(rec, "best"));
    for (int k = 0; k < TTE_FIT_NKINDS; k++) {
        const char *kind, *const *params;
        fit_spelling(fits, k, &kind, &params);
        json_t *fit = json_object_get(fits, kind); /* NULL when fits is absent */
        /* No fit: null, or an object that only says why. */
        if (!fit || json_is_null(fit) ||
            (json_is_object(fit) && json_object_get(fit, "why") && !json_object_get(fit, params[0])))
            continue;
        if (!json_is_object(fit)) fail(r, "field \"fits.%s\": must be an object or null", kind);
        /* A parameter that is null (tte-fit: not finite, with a why) leaves the fit undrawn. */
        c->fits[k].present = 1;
        for (int j = 0; params[j]; j++) {
            char name[64];
            snprintf(name, sizeof name, "fits.%s.%s", kind, params[j]);
            json_t *v = json_object_get(fit, params[j]);
            if (!v) fail(r, "field \"%s\": missing", name);
            c->fits[k].p[j] = number_or_nan(r, v, name);
            if (isnan(c->fits[k].p[j])) c->fits[k].present = 0;
        }
        if (best && strcmp(best, kind) == 0 && c->fits[k].present) c->best = k;
    }
}

static void read_curve(plot_data *d, tte_jsonl *r, json_t *rec) {
    TTE_GROW(d->curves, d->cap_curves, d->ncurves + 1);
    plot_curve *c = &d->curves[d->ncurves++];
    memset(c, 0, sizeof *c);
    c->model = group_field(r, rec, "model");
    c->dataset = group_field(r, rec, "dataset");
    c->metric = get_string(r, rec, "metric");
    c->x_axis = optional_string(r, rec, "x_axis", "budget");
    c->strategy = optional_string(r, rec, "search", NULL);
    read_points(r, rec, c);
    read_fits(r, rec, c);
    c->breakthroughness = number_or_nan(r, json_object_get(rec, "breakthroughness"), "breakthroughness");
    c->model_params = number_or_nan(r, json_object_get(rec, "model_params"), "model_params");
    c->record = rec;
}

/* Correlation records are kept whole, for the report's tables. */
static void read_correlation(plot_data *d, tte_jsonl *r, json_t *rec) {
    (void)r;
    TTE_GROW(d->correlations, d->cap_correlations, d->ncorrelations + 1);
    d->correlations[d->ncorrelations++] = rec;
}

static void read_item(plot_data *d, tte_jsonl *r, json_t *rec) {
    TTE_GROW(d->items, d->cap_items, d->nitems + 1);
    plot_item *it = &d->items[d->nitems++];
    memset(it, 0, sizeof *it);
    it->model = group_field(r, rec, "model");
    it->dataset = group_field(r, rec, "dataset");
    it->metric = get_string(r, rec, "metric");
    it->id = get_string(r, rec, "id");
    it->breakthroughness = number_or_nan(r, json_object_get(rec, "breakthroughness"), "breakthroughness");
    it->skew = number_or_nan(r, json_object_get(rec, "skew"), "skew");
    double rank = number_or_nan(r, json_object_get(rec, "rank"), "rank");
    it->rank = isnan(rank) ? 0 : (long)rank;
    if (!json_object_get(rec, "budgets")) {
        /* Without budgets the values cannot be placed (n stays 0): the figures that draw values
         * say so, the scores figure still has the scores. */
        if (!d->unplaced_items)
            snprintf(d->unplaced_at, sizeof d->unplaced_at, "%s:%ld", tte_jsonl_name(r), tte_jsonl_line(r));
        d->unplaced_items++;
        return;
    }
    json_t *values = get_array(r, rec, "values"), *budgets = get_array(r, rec, "budgets");
    if (json_array_size(values) != json_array_size(budgets))
        fail(r, "field \"%s\": must have as many entries as \"budgets\"", "values");
    it->budgets = number_array(r, budgets, "budgets");
    it->values = number_array(r, values, "values");
    /* Keep the budgets that have a value, in ascending order (tte-fit writes them ascending). */
    for (size_t i = 0; i < json_array_size(values); i++) {
        if (!(it->budgets[i] > 0)) fail(r, "field \"%s\": must hold positive numbers", "budgets");
        if (i > 0 && it->budgets[i] <= it->budgets[i - 1]) fail(r, "field \"%s\": must ascend", "budgets");
        if (isnan(it->values[i])) continue;
        it->budgets[it->n] = it->budgets[i];
        it->values[it->n++] = it->values[i];
    }
}

/* FIELD as N numbers, or NULL when the record has none. */
static double *optional_series(tte_jsonl *r, json_t *rec, const char *field, size_t n) {
    json_t *a = json_object_get(rec, field);
    if (!a || json_is_null(a)) return NULL;
    if (!json_is_array(a) || json_array_size(a) != n)
        fail(r, "field \"%s\": must be null or an array as long as \"k\"", field);
    return number_array(r, a, field);
}

static void read_passk(plot_data *d, tte_jsonl *r, json_t *rec) {
    TTE_GROW(d->passk, d->cap_passk, d->npassk + 1);
    plot_passk *p = &d->passk[d->npassk++];
    memset(p, 0, sizeof *p);
    p->model = group_field(r, rec, "model");
    p->dataset = group_field(r, rec, "dataset");
    p->budget = number_or_nan(r, json_object_get(rec, "budget"), "budget");
    p->x_axis = optional_string(r, rec, "x_axis", "budget");
    p->strategy = optional_string(r, rec, "search", NULL);
    p->cost_per_sample = number_or_nan(r, json_object_get(rec, "cost_per_sample"), "cost_per_sample");
    json_t *k = get_array(r, rec, "k"), *pass = get_array(r, rec, "pass_at_k");
    json_t *maj = json_object_get(rec, "maj_at_k");
    size_t n = json_array_size(k);
    if (json_array_size(pass) != n) fail(r, "field \"%s\": must have as many entries as \"k\"", "pass_at_k");
    if (maj && !json_is_null(maj) && (!json_is_array(maj) || json_array_size(maj) != n))
        fail(r, "field \"%s\": must be null or an array as long as \"k\"", "maj_at_k");
    p->n = (int)n;
    p->k = number_array(r, k, "k");
    p->pass = number_array(r, pass, "pass_at_k");
    p->maj = json_is_array(maj) ? number_array(r, maj, "maj_at_k") : NULL;
    p->bon = optional_series(r, rec, "bon_at_k", n);
    p->weighted = optional_series(r, rec, "weighted_at_k", n);
    for (int i = 0; i < p->n; i++)
        if (!(p->k[i] >= 1) || (i > 0 && p->k[i] <= p->k[i - 1]))
            fail(r, "field \"%s\": must ascend from 1", "k");
    json_t *cov = json_object_get(rec, "coverage_fit");
    if (json_is_object(cov)) {
        p->cov_a = number_or_nan(r, json_object_get(cov, "a"), "coverage_fit.a");
        p->cov_b = number_or_nan(r, json_object_get(cov, "b"), "coverage_fit.b");
        p->has_coverage_fit = !isnan(p->cov_a) && !isnan(p->cov_b);
    } else if (cov && !json_is_null(cov)) {
        fail(r, "field \"%s\": must be an object or null", "coverage_fit");
    }
}

void plot_read(plot_data *d, char *const *paths, int n) {
    memset(d, 0, sizeof *d);
    tte_jsonl *r = tte_jsonl_open_list(paths, n);
    json_t *rec;
    int status;
    while ((status = tte_jsonl_next(r, &rec)) != 0) {
        if (status < 0) tte_die("%s", tte_jsonl_error(r));
        const char *name = json_string_value(json_object_get(rec, TTE_FIELD_KIND));
        int kind = name ? tte_kind_parse(name) : -1;
        void (*reader)(plot_data *, tte_jsonl *, json_t *) = kind == TTE_KIND_CURVE   ? read_curve
                                                             : kind == TTE_KIND_ITEM  ? read_item
                                                             : kind == TTE_KIND_PASSK ? read_passk
                                                             : kind == TTE_KIND_CORRELATION ? read_correlation
                                                                                      : NULL;
        if (!reader) {
            json_decref(rec);
            continue;
        }
        TTE_GROW(d->records, d->cap_records, d->nrecords + 1);
        d->records[d->nrecords++] = rec; /* before reading: the structs borrow its strings */
        reader(d, r, rec);
    }
    tte_jsonl_close(r);
}

void plot_data_free(plot_data *d) {
    for (int i = 0; i < d->ncurves; i++) free(d->curves[i].points);
    for (int i = 0; i < d->nitems; i++) free(d->items[i].budgets), free(d->items[i].values);
    for (int i = 0; i < d->npassk; i++)
        free(d->passk[i].k), free(d->passk[i].pass), free(d->passk[i].maj), free(d->passk[i].bon),
            free(d->passk[i].weighted);
    for (int i = 0; i < d->nrecords; i++) json_decref(d->records[i]);
    free(d->curves);
    free(d->items);
    free(d->passk);
    free(d->correlations);
    free(d->records);
    memset(d, 0, sizeof *d);
}
