/* read: scored records into fitdata. See data.h. */
#include "data.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "xalloc.h"

/* The group key: the --by values as compact JSON, separated by a byte JSON never contains raw. */
static char *group_key(const fitdata *d, json_t *rec, json_t **key_obj) {
    json_t *obj = json_object();
    size_t cap = 0, used = 0;
    char *s = NULL;
    TTE_GROW(s, cap, 1);
    s[0] = 0;
    for (int i = 0; i < d->nby; i++) {
        json_t *v = json_object_get(rec, d->by[i]);
        json_object_set_new(obj, d->by[i], v ? json_incref(v) : json_null());
        char *text = json_dumps(v ? v : json_null(), JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
        if (!text) tte_die("out of memory");
        size_t add = strlen(text);
        TTE_GROW(s, cap, used + add + 2);
        memcpy(s + used, text, add);
        used += add;
        s[used++] = '\x1f';
        s[used] = 0;
        free(text);
    }
    *key_obj = obj;
    return s;
}

static void index_put(tte_strmap *m, const char *key, int value) {
    tte_strmap_put(m, key, strlen(key), value);
}

static group *find_group(fitdata *d, json_t *rec) {
    json_t *key_obj;
    char *key = group_key(d, rec, &key_obj);
    int at = tte_strmap_get(&d->group_index, key, strlen(key));
    if (at < 0) {
        TTE_GROW(d->groups, d->cap, d->ngroups + 1);
        index_put(&d->group_index, key, d->ngroups);
        group *g = &d->groups[d->ngroups];
        memset(g, 0, sizeof *g);
        g->key = key_obj;
        json_t *model = json_object_get(rec, TTE_FIELD_MODEL);
        if (json_is_string(model)) g->model = tte_xstrdup(json_string_value(model));
        at = d->ngroups++;
    } else {
        json_decref(key_obj);
    }
    free(key);
    return &d->groups[at];
}

static item *find_item(group *g, const char *id) {
    int at = tte_strmap_get(&g->item_index, id, strlen(id));
    if (at >= 0) return &g->items[at];
    TTE_GROW(g->items, g->cap, g->nitems + 1);
    index_put(&g->item_index, id, g->nitems);
    item *it = &g->items[g->nitems++];
    memset(it, 0, sizeof *it);
    it->id = tte_xstrdup(id);
    return it;
}

static cell *find_cell(item *it, long long budget) {
    for (int i = 0; i < it->ncells; i++)
        if (it->cells[i].budget == budget) return &it->cells[i];
    TTE_GROW(it->cells, it->cap, it->ncells + 1);
    cell *c = &it->cells[it->ncells++];
    memset(c, 0, sizeof *c);
    c->budget = budget;
    return c;
}

/* Reads metric M of REC into *V. Returns 1 if present, 0 if absent or null, -1 on a bad value. */
static int read_metric(tte_jsonl *r, json_t *rec, int m, double *v) {
    json_t *j = json_object_get(rec, tte_metric_field(m));
    if (!j || json_is_null(j)) return 0;
    if (!json_is_number(j)) return tte_jsonl_fail(r, "field \"%s\": must be a number", tte_metric_field(m));
    *v = json_number_value(j);
    if (!isfinite(*v)) return tte_jsonl_fail(r, "field \"%s\": must be finite", tte_metric_field(m));
    if (m == TTE_METRIC_CORRECT && *v != 0 && *v != 1)
        return tte_jsonl_fail(r, "field \"correct\": must be 0 or 1");
    /* The ranges tte-score's values have (a little slack for rounding). */
    if (tte_metric_is_probability(m) && !(*v >= 0 && *v <= 1 + 1e-9))
        return tte_jsonl_fail(r, "field \"%s\": must be a probability, in [0, 1]", tte_metric_field(m));
    if (m == TTE_METRIC_NEG_ENTROPY && !(*v >= -1e-9))
        return tte_jsonl_fail(r, "field \"%s\": an entropy must not be negative", tte_metric_field(m));
    if (tte_metric_negated(m)) *v = -*v;
    return 1;
}

/* The --by fields are group names: "model" and "dataset" are strings (tte-plot labels curves with
 * them), any other one a string, number, boolean or null, never an object or list. */
static int check_group_fields(const fitdata *d, tte_jsonl *r, json_t *rec) {
    static const char *const named[] = {TTE_FIELD_MODEL, "dataset"};
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
        json_t *v = json_object_get(rec, named[i]);
        if (v && !json_is_null(v) && !json_is_string(v))
            return tte_jsonl_fail(r, "field \"%s\": must be a string", named[i]);
    }
    for (int i = 0; i < d->nby; i++) {
        json_t *v = json_object_get(rec, d->by[i]);
        if (json_is_object(v) || json_is_array(v))
            return tte_jsonl_fail(r, "field \"%s\": a --by field must be a string, number, boolean or null",
                                  d->by[i]);
    }
    return 0;
}

/* The file index of R's current input. */
static int file_index(fitdata *d, tte_jsonl *r) {
    const char *name = tte_jsonl_name(r);
    /* A new input begins where the name changes or the line number starts again (a file given
     * twice). */
    long line = tte_jsonl_line(r);
    int again = line <= d->last_line;
    d->last_line = line;
    if (d->nfiles == 0 || again || strcmp(d->files[d->nfiles - 1], name) != 0) {
        d->files = tte_xrealloc(d->files, tte_xmul((size_t)d->nfiles + 1, sizeof *d->files));
        d->files[d->nfiles++] = tte_xstrdup(name);
    }
    return d->nfiles - 1;
}

/* -1 after a located message when the record (group G, ID, BUDGET, SAMPLE) was read before. */
static int check_repeat(fitdata *d, tte_jsonl *r, int g, const char *id, long long budget, long long index) {
    size_t n = strlen(id) + 64;
    char *key = tte_xmalloc(n);
    int len = snprintf(key, n, "%d\x1f%lld\x1f%lld\x1f%s", g, budget, index, id);
    int at = tte_strmap_get(&d->seen, key, (size_t)len), here = file_index(d, r);
    if (at >= 0) {
        free(key);
        const char *file = d->files[d->where[at].file];
        long line = d->where[at].line;
        if (d->where[at].file == here)
            return tte_jsonl_fail(
                r,
                "repeats the record of line %ld (id \"%s\", budget %lld, sample %lld), which "
                "would count twice; remove one (a sweep resumed with >>?)",
                line, id, budget, index);
        return tte_jsonl_fail(
            r,
            "repeats the record of %s:%ld%s (id \"%s\", budget %lld, sample %lld), which would "
            "count twice; remove one",
            file, line, strcmp(file, tte_jsonl_name(r)) == 0 ? ", the same file given twice" : "", id, budget,
            index);
    }
    TTE_GROW(d->where, d->cap_where, d->nwhere + 1);
    d->where[d->nwhere].file = here;
    d->where[d->nwhere].line = tte_jsonl_line(r);
    tte_strmap_put(&d->seen, key, (size_t)len, d->nwhere++);
    free(key);
    return 0;
}

const char *x_axis_name(x_axis a) {
    static const char *const names[] = {"budget", "n", "tokens", "flops", "bytes"};
    return names[a];
}

/* The record's cost on a cost axis into *COST: its policy's field and its PRM's, when present.
 * 0, or -1 after tte_jsonl_fail. */
static int read_cost(const fitdata *d, tte_jsonl *r, json_t *rec, double *cost) {
    static const char *const fields[][2] = {
        [X_TOKENS] = {"tokens_generated", NULL}, [X_FLOPS] = {"flops", "prm_flops"}, [X_BYTES] = {"bytes", "prm_bytes"}};
    *cost = 0;
    for (int k = 0; k < 2 && fields[d->x][k]; k++) {
        json_t *v = json_object_get(rec, fields[d->x][k]);
        if (!v && k == 1) continue;
        if (!v)
            return tte_jsonl_fail(r, "field \"%s\": missing (--x %s needs tte-gen's cost fields)", fields[d->x][k],
                                  x_axis_name(d->x));
        if (!json_is_number(v) || !isfinite(json_number_value(v)) || json_number_value(v) < 0)
            return tte_jsonl_fail(r, "field \"%s\": must be a number, 0 or more", fields[d->x][k]);
        *cost += json_number_value(v);
    }
    return 0;
}

int fitdata_add(fitdata *d, tte_jsonl *r, json_t *rec) {
    const char *id;
    long long budget;
    if (tte_jsonl_get_string(r, rec, TTE_FIELD_ID, &id) != 0) return -1;
    /* The cell's key: the setting the records were made at. */
    const char *key = d->x == X_N || (d->x != X_BUDGET && !json_object_get(rec, TTE_FIELD_BUDGET)) ? "n"
                                                                                                 : TTE_FIELD_BUDGET;
    if (tte_jsonl_get_int(r, rec, key, &budget) != 0) return -1;
    if (budget < 1) return tte_jsonl_fail(r, "field \"%s\": must be at least 1", key);
    double cost = 0;
    if (d->x >= X_TOKENS && read_cost(d, r, rec, &cost) != 0) return -1;

    double values[TTE_METRIC_N];
    int present[TTE_METRIC_N];
    for (int m = 0; m < TTE_METRIC_N; m++)
        if ((present[m] = read_metric(r, rec, m, &values[m])) < 0) return -1;
    json_t *pred = json_object_get(rec, TTE_FIELD_PRED);
    if (pred && !json_is_null(pred) && !json_is_string(pred))
        return tte_jsonl_fail(r, "field \"pred\": must be a string or null");
    json_t *prm = json_object_get(rec, "prm_score");
    if (prm && !json_is_null(prm) && !(json_is_number(prm) && isfinite(json_number_value(prm))))
        return tte_jsonl_fail(r, "field \"prm_score\": must be a number");
    json_t *sample_field = json_object_get(rec, TTE_FIELD_SAMPLE);
    if (sample_field && !(json_is_integer(sample_field) && json_integer_value(sample_field) >= 0))
        return tte_jsonl_fail(r, "field \"sample\": must be an integer, 0 or more");
    json_t *params = json_object_get(rec, TTE_FIELD_MODEL_PARAMS);
    if (params && !json_is_null(params) && !(json_is_number(params) && json_number_value(params) > 0))
        return tte_jsonl_fail(r, "field \"model_params\": must be a positive number");

    if (check_group_fields(d, r, rec) != 0) return -1;

    group *g = find_group(d, rec);
    if (sample_field &&
        check_repeat(d, r, (int)(g - d->groups), id, budget, json_integer_value(sample_field)) != 0)
        return -1;
    cell *c = find_cell(find_item(g, id), budget);
    TTE_GROW(c->samples, c->cap, c->nsamples + 1);
    if (params && json_is_number(params) && !g->has_params) {
        g->model_params = json_number_value(params);
        g->has_params = 1;
    }
    for (int m = 0; m < TTE_METRIC_N; m++)
        if (present[m]) c->sum[m] += values[m], c->count[m]++, d->present[m]++;
    c->cost_sum += cost, c->cost_n++;
    sample *s = &c->samples[c->nsamples++];
    s->index = sample_field ? json_integer_value(sample_field) : d->arrivals;
    s->correct = present[TTE_METRIC_CORRECT] ? (int)values[TTE_METRIC_CORRECT] : -1;
    s->pred = json_is_string(pred) ? tte_xstrdup(json_string_value(pred)) : NULL;
    s->prm = json_is_number(prm) ? json_number_value(prm) : NAN;
    d->arrivals++;
    return 0;
}

static int cmp_budget(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

static int cmp_sample(const void *a, const void *b) {
    long long x = ((const sample *)a)->index, y = ((const sample *)b)->index;
    return (x > y) - (x < y);
}

double group_x(const fitdata *d, const group *g, int j) {
    if (d->x < X_TOKENS) return (double)g->budgets[j];
    double sum = 0;
    int n = 0;
    for (int i = 0; i < g->nitems; i++)
        for (int c = 0; c < g->items[i].ncells; c++)
            if (g->items[i].cells[c].budget == g->budgets[j])
                sum += g->items[i].cells[c].cost_sum, n += g->items[i].cells[c].cost_n;
    return n ? sum / n : NAN;
}

int group_budget_index(const group *g, long long budget) {
    const long long *at = bsearch(&budget, g->budgets, (size_t)g->nbudgets, sizeof(long long), cmp_budget);
    return at ? (int)(at - g->budgets) : -1;
}

void fitdata_finish(fitdata *d) {
    for (int gi = 0; gi < d->ngroups; gi++) {
        group *g = &d->groups[gi];
        int total = 0;
        for (int i = 0; i < g->nitems; i++) total += g->items[i].ncells;
        g->budgets = tte_xmalloc(sizeof(long long) * (size_t)total);
        g->nbudgets = 0;
        for (int i = 0; i < g->nitems; i++)
            for (int c = 0; c < g->items[i].ncells; c++) {
                cell *ce = &g->items[i].cells[c];
                qsort(ce->samples, (size_t)ce->nsamples, sizeof(sample), cmp_sample);
                g->budgets[g->nbudgets++] = ce->budget;
            }
        qsort(g->budgets, (size_t)g->nbudgets, sizeof(long long), cmp_budget);
        int unique = 0;
        for (int i = 0; i < g->nbudgets; i++)
            if (unique == 0 || g->budgets[i] != g->budgets[unique - 1]) g->budgets[unique++] = g->budgets[i];
        g->nbudgets = unique;
    }
}

void fitdata_free(fitdata *d) {
    for (int gi = 0; gi < d->ngroups; gi++) {
        group *g = &d->groups[gi];
        for (int i = 0; i < g->nitems; i++) {
            item *it = &g->items[i];
            for (int c = 0; c < it->ncells; c++) {
                for (int s = 0; s < it->cells[c].nsamples; s++) free(it->cells[c].samples[s].pred);
                free(it->cells[c].samples);
            }
            free(it->cells);
            free(it->id);
        }
        free(g->items);
        free(g->budgets);
        free(g->model);
        json_decref(g->key);
        tte_strmap_free(&g->item_index);
    }
    free(d->groups);
    tte_strmap_free(&d->group_index);
    tte_strmap_free(&d->seen);
    free(d->where);
    for (int i = 0; i < d->nfiles; i++) free(d->files[i]);
    free(d->files);
}

int fitdata_usable(const fitdata *d, const int *metric, char *err, size_t errlen) {
    char names[256] = "";
    int n = 0, chosen = 0;
    for (int m = 0; m < TTE_METRIC_N; m++) chosen += metric[m] != 0;
    for (int m = 0; m < TTE_METRIC_N; m++) {
        if (!metric[m]) continue;
        if (d->present[m] > 0) return 0;
        size_t used = strlen(names);
        snprintf(names + used, sizeof names - used, "%s\"%s\"",
                 n == 0            ? ""
                 : n == chosen - 1 ? " or "
                                   : ", ",
                 tte_metric_field(m));
        n++;
    }
    if (d->arrivals == 0)
        snprintf(err, errlen, "no scored record in the input: nothing to fit");
    else
        snprintf(err, errlen,
                 "no usable record: none of the %lld records has a value of %s (were they scored? tte-score "
                 "adds them)",
                 d->arrivals, names);
    return -1;
}
