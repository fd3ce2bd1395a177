/* report: see report.h. The math is in src/lib/stats; this file arranges it into records. */
#include "report.h"

#include "stats/bootstrap.h"
#include "stats/emergence.h"
#include "stats/fit.h"
#include "stats/passk.h"
#include "stats/spearman.h"
#include "xalloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- JSON helpers: a number, or null with its reason in the record's "why" object ---- */

static void set_value(json_t *obj, json_t *why, const char *key, tte_value v) {
    if (v.why) {
        json_object_set_new(obj, key, json_null());
        json_object_set_new(why, key, json_string(v.why));
    } else {
        json_object_set_new(obj, key, json_real(v.v));
    }
}

static void set_real(json_t *obj, json_t *why, const char *key, double x, const char *why_not) {
    set_value(obj, why, key, tte_value_of(x, why_not));
}

/* A finite number as JSON, without the sign of a negative zero. */
static json_t *real(double x) { return json_real(x == 0 ? 0.0 : x); }

/* Attaches WHY to OBJ when it holds a reason, else drops it. */
static void attach_why(json_t *obj, json_t *why) {
    if (json_object_size(why) > 0)
        json_object_set_new(obj, "why", why);
    else
        json_decref(why);
}

/* A new record of KIND with the group's --by fields. */
static json_t *new_record(tte_record_kind kind, json_t *key) {
    json_t *r = json_object();
    json_object_set_new(r, TTE_FIELD_KIND, json_string(tte_kind_name(kind)));
    json_object_update(r, key);
    return r;
}

static int emit(FILE *out, json_t *rec) {
    int rc = tte_jsonl_write(out, rec);
    json_decref(rec);
    return rc;
}

/* ---- scores of one curve ---- */

static tte_value breakthroughness(const double *y, int k, const fit_options *o) {
    return o->legacy ? tte_breakthroughness_legacy(y, k) : tte_breakthroughness(y, k);
}

static tte_value skew(const double *y, int k, const fit_options *o) {
    return o->legacy ? tte_difference_skew_unweighted(y, k) : tte_difference_skew(y, k);
}

static void set_emergence(json_t *obj, json_t *why, const double *y, int k, const fit_options *o) {
    set_value(obj, why, "breakthroughness", breakthroughness(y, k, o));
    set_value(obj, why, "skew", skew(y, k, o));
    set_value(obj, why, "bigbench_linearity", tte_bigbench_linearity(y, k));
    set_value(obj, why, "bigbench_breakthroughness", tte_bigbench_breakthroughness(y, k));
}

/* The "fits" object and "best" for the points (x, y), written into REC. */
static void set_fits(json_t *rec, json_t *rec_why, const double *x, const double *y, int n) {
    json_t *fits = json_object();
    tte_fit all[TTE_FIT_NKINDS];
    for (int kind = 0; kind < TTE_FIT_NKINDS; kind++) {
        tte_fit f = all[kind] = tte_fit_curve(kind, x, y, n);
        if (f.why) {
            /* The reason goes to the record's "why" as "fits.NAME", so that every member of "fits"
             * is a fit or null. */
            char key[64];
            snprintf(key, sizeof key, "fits.%s", tte_fit_name(kind));
            json_object_set_new(fits, tte_fit_name(kind), json_null());
            json_object_set_new(rec_why, key, json_string(f.why));
            continue;
        }
        json_t *obj = json_object(), *why = json_object();
        const char *const *names = tte_fit_param_names(kind);
        for (int p = 0; p < f.nparam; p++) set_real(obj, why, names[p], f.param[p], "not finite");
        set_real(obj, why, "sse", f.sse, "not finite");
        set_value(obj, why, "r2", f.r2);
        set_value(obj, why, "aicc", f.aicc);
        set_value(obj, why, "bic", f.bic);
        set_value(obj, why, "loo_rmse", f.loo_rmse);
        attach_why(obj, why);
        json_object_set_new(fits, tte_fit_name(kind), obj);
    }
    json_object_set_new(rec, "fits", fits);
    const char *by;
    int best = tte_fit_best(all, TTE_FIT_NKINDS, &by);
    if (best >= 0) {
        json_object_set_new(rec, "best", json_string(tte_fit_name(best)));
        json_object_set_new(rec, "best_by", json_string(by));
    } else
        set_value(rec, rec_why, "best", tte_value_undefined("no fit has a defined AICc"));
}

/* ---- per group ---- */

typedef struct {
    int index;    /* into the group's items */
    double score; /* breakthroughness, NAN if undefined */
    double skew;  /* tie-break, NAN if undefined */
} ranked;

/* Most emergent first: higher breakthroughness, then higher skew, then order of appearance. */
static int cmp_ranked(const void *a, const void *b) {
    const ranked *x = a, *y = b;
    int xd = !isnan(x->score), yd = !isnan(y->score);
    if (xd != yd) return yd - xd;
    if (xd && x->score != y->score) return x->score < y->score ? 1 : -1;
    int xs = !isnan(x->skew), ys = !isnan(y->skew);
    if (xs != ys) return ys - xs;
    if (xs && x->skew != y->skew) return x->skew < y->skew ? 1 : -1;
    return x->index - y->index;
}

static double ln2(double v) { return log(v) / log(2); }

/* The items' per-budget means of metric M: NITEMS x NB, NAN where an item has no value. Returns the
 * number of values present. */
static int item_matrix(const group *g, int m, double *v) {
    int nb = g->nbudgets, present = 0;
    for (int i = 0; i < g->nitems * nb; i++) v[i] = NAN;
    for (int i = 0; i < g->nitems; i++)
        for (int c = 0; c < g->items[i].ncells; c++) {
            const cell *ce = &g->items[i].cells[c];
            if (ce->count[m] == 0) continue;
            v[i * nb + group_budget_index(g, ce->budget)] = ce->sum[m] / ce->count[m];
            present++;
        }
    return present;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The study's group summary of item scores: median and interquartile range of breakthroughness
 * (SCORES, sorted here), mean and sample standard deviation of the skew. */
static json_t *item_summary(double *scores, int n, double skew_sum, double skew_sq, int nskew) {
    json_t *obj = json_object(), *why = json_object();
    json_object_set_new(obj, "n", json_integer(n));
    if (n > 0) {
        qsort(scores, (size_t)n, sizeof(double), cmp_double);
        set_real(obj, why, "breakthroughness_median", tte_quantile_sorted(scores, n, 0.5), "not finite");
        set_real(obj, why, "breakthroughness_q25", tte_quantile_sorted(scores, n, 0.25), "not finite");
        set_real(obj, why, "breakthroughness_q75", tte_quantile_sorted(scores, n, 0.75), "not finite");
    } else {
        tte_value none = tte_value_undefined("no item has a breakthroughness");
        set_value(obj, why, "breakthroughness_median", none);
        set_value(obj, why, "breakthroughness_q25", none);
        set_value(obj, why, "breakthroughness_q75", none);
    }
    json_object_set_new(obj, "n_skew", json_integer(nskew));
    if (nskew > 0)
        set_real(obj, why, "skew_mean", skew_sum / nskew, "not finite");
    else
        set_value(obj, why, "skew_mean", tte_value_undefined("no item has a skew"));
    if (nskew > 1) {
        double var = (skew_sq - skew_sum * skew_sum / nskew) / (nskew - 1);
        set_real(obj, why, "skew_sd", sqrt(fmax(var, 0)), "not finite");
    } else {
        set_value(obj, why, "skew_sd", tte_value_undefined("needs 2 items with a skew"));
    }
    attach_why(obj, why);
    return obj;
}

/* Curve and item records of metric M. Fills S's mean and item_score for M. */
static int report_metric(FILE *out, const fitdata *d, const group *g, int m, const fit_options *o,
                         group_summary *s) {
    int nb = g->nbudgets, ni = g->nitems;
    double *v = tte_xmalloc(tte_xmul(tte_xmul((size_t)ni, (size_t)nb), sizeof(double)));
    double *lo = tte_xmalloc(tte_xmul((size_t)nb, sizeof(double)));
    double *hi = tte_xmalloc(tte_xmul((size_t)nb, sizeof(double)));
    double *x = tte_xmalloc(tte_xmul((size_t)nb, sizeof(double)));
    double *y = tte_xmalloc(tte_xmul((size_t)nb, sizeof(double)));
    double *iv = tte_xmalloc(tte_xmul((size_t)nb, sizeof(double)));
    double *scores = tte_xmalloc(tte_xmul((size_t)ni, sizeof(double)));
    ranked *rank = tte_xmalloc(tte_xmul((size_t)ni, sizeof(ranked)));
    s->mean[m] = tte_xmalloc(tte_xmul((size_t)nb, sizeof(double)));
    s->item_score[m] = tte_xmalloc(tte_xmul((size_t)ni, sizeof(double)));
    int rc = -1;
    for (int j = 0; j < nb; j++) s->mean[m][j] = NAN;
    for (int i = 0; i < ni; i++) s->item_score[m][i] = NAN;
    if (item_matrix(g, m, v) == 0) {
        rc = 0; /* no record has this metric: no curve */
        goto done;
    }
    if (o->bootstrap > 0) tte_bootstrap_curve(v, ni, nb, o->bootstrap, o->seed, o->level, lo, hi);

    json_t *rec = new_record(TTE_KIND_CURVE, g->key), *why = json_object();
    json_object_set_new(rec, TTE_FIELD_METRIC, json_string(tte_metric_name(m)));
    json_object_set_new(rec, "x_axis", json_string(x_axis_name(d->x)));
    /* The size tte-plot's sizes figure puts the curve at. */
    if (g->has_params) json_object_set_new(rec, TTE_FIELD_MODEL_PARAMS, json_real(g->model_params));
    json_t *points = json_array();
    int k = 0;
    for (int j = 0; j < nb; j++) {
        double sum = 0;
        int n = 0;
        for (int i = 0; i < ni; i++)
            if (!isnan(v[i * nb + j])) sum += v[i * nb + j], n++;
        if (n == 0) continue;
        x[k] = ln2(group_x(d, g, j));
        y[k] = s->mean[m][j] = sum / n;
        json_t *p = json_object(), *pwhy = json_object();
        json_object_set_new(p, "budget", json_integer(g->budgets[j]));
        if (d->x >= X_TOKENS) json_object_set_new(p, "cost", json_real(group_x(d, g, j)));
        set_real(p, pwhy, "x", x[k], "not finite");
        set_real(p, pwhy, "mean", y[k], "not finite");
        if (o->bootstrap > 0) {
            set_real(p, pwhy, "lo", lo[j], "no resample has a value here");
            set_real(p, pwhy, "hi", hi[j], "no resample has a value here");
        }
        json_object_set_new(p, "n", json_integer(n));
        attach_why(p, pwhy);
        json_array_append_new(points, p);
        k++;
    }
    json_object_set_new(rec, "points", points);
    set_fits(rec, why, x, y, k);
    json_object_set_new(rec, "variant", json_string(o->legacy ? "legacy" : "mean_sqrt"));
    set_emergence(rec, why, y, k, o);

    /* Item scores, their ranking, and the group's summary of them. */
    int nscored = 0, nskew = 0;
    double skew_sum = 0, skew_sq = 0;
    for (int i = 0; i < ni; i++) {
        int kk = 0;
        for (int j = 0; j < nb; j++)
            if (!isnan(v[i * nb + j])) iv[kk++] = v[i * nb + j];
        tte_value b = breakthroughness(iv, kk, o), sk = skew(iv, kk, o);
        rank[i].index = i;
        rank[i].score = b.why ? NAN : b.v;
        rank[i].skew = sk.why ? NAN : sk.v;
        s->item_score[m][i] = rank[i].score;
        if (!b.why) scores[nscored++] = b.v;
        if (!sk.why) skew_sum += sk.v, skew_sq += sk.v * sk.v, nskew++;
    }
    json_object_set_new(rec, "items", item_summary(scores, nscored, skew_sum, skew_sq, nskew));
    attach_why(rec, why);
    if (emit(out, rec) != 0) goto done;

    qsort(rank, (size_t)ni, sizeof(ranked), cmp_ranked);
    int limit = o->top > 0 && o->top < ni ? o->top : ni;
    for (int r = 0; r < limit; r++) {
        const item *it = &g->items[rank[r].index];
        json_t *irec = new_record(TTE_KIND_ITEM, g->key), *iwhy = json_object();
        json_object_set_new(irec, "id", json_string(it->id));
        json_object_set_new(irec, TTE_FIELD_METRIC, json_string(tte_metric_name(m)));
        json_t *values = json_array();
        int kk = 0;
        for (int j = 0; j < nb; j++) {
            double val = v[rank[r].index * nb + j];
            json_array_append_new(values, isnan(val) ? json_null() : real(val));
            if (!isnan(val)) iv[kk++] = val;
        }
        json_object_set_new(irec, "values", values);
        /* The budget of each value: what tte-plot's items and heatmap figures place them at. */
        json_t *budgets = json_array();
        for (int j = 0; j < nb; j++) json_array_append_new(budgets, json_integer(g->budgets[j]));
        json_object_set_new(irec, "budgets", budgets);
        set_emergence(irec, iwhy, iv, kk, o);
        if (isnan(rank[r].score))
            set_value(irec, iwhy, "rank", tte_value_undefined("no breakthroughness"));
        else
            json_object_set_new(irec, "rank", json_integer(r + 1));
        attach_why(irec, iwhy);
        if (emit(out, irec) != 0) goto done;
    }
    rc = 0;
done:
    free(v), free(lo), free(hi), free(x), free(y), free(iv), free(scores), free(rank);
    return rc;
}

/* ---- repeated sampling ---- */

/* The graded samples of a cell (those with "correct"), in sample order, into PREDS, CORRECT and
 * PRM (their prm_score, NAN without). */
static int graded(const cell *c, const char **preds, int *correct, double *prm) {
    int n = 0;
    for (int s = 0; s < c->nsamples; s++)
        if (c->samples[s].correct >= 0)
            preds[n] = c->samples[s].pred, prm[n] = c->samples[s].prm, correct[n++] = c->samples[s].correct;
    return n;
}

/* Whether every sample has a prm_score: Best-of-N and weighted voting need one each. */
static int all_scored(const double *prm, int n) {
    for (int s = 0; s < n; s++)
        if (isnan(prm[s])) return 0;
    return 1;
}

/* One passk record per budget of G at which some item has graded samples. */
static int report_passk(FILE *out, const fitdata *d, const group *g) {
    int maxs = 1;
    for (int i = 0; i < g->nitems; i++)
        for (int c = 0; c < g->items[i].ncells; c++)
            if (g->items[i].cells[c].nsamples > maxs) maxs = g->items[i].cells[c].nsamples;
    const char **preds = tte_xmalloc(tte_xmul((size_t)maxs, sizeof(char *)));
    int *correct = tte_xmalloc(tte_xmul((size_t)maxs, sizeof(int))), ks[64];
    double *prm = tte_xmalloc(tte_xmul((size_t)maxs, sizeof(double)));
    double pass[64], maj[64], bon[64], weighted[64];
    int rc = 0;
    for (int j = 0; j < g->nbudgets && rc == 0; j++) {
        /* The k: powers of two up to the fewest samples any item has at this budget. */
        int nmin = 0, nitems = 0, scored = 1;
        for (int i = 0; i < g->nitems; i++)
            for (int c = 0; c < g->items[i].ncells; c++) {
                if (g->items[i].cells[c].budget != g->budgets[j]) continue;
                int n = graded(&g->items[i].cells[c], preds, correct, prm);
                if (n == 0) continue;
                nmin = nitems == 0 || n < nmin ? n : nmin;
                nitems++;
                scored = scored && all_scored(prm, n);
            }
        if (nitems == 0) continue;
        int nk = 0;
        for (long long k = 1; k <= nmin && nk < 64; k *= 2)
            ks[nk] = (int)k, pass[nk] = maj[nk] = bon[nk] = weighted[nk] = 0, nk++;
        for (int i = 0; i < g->nitems; i++)
            for (int c = 0; c < g->items[i].ncells; c++) {
                if (g->items[i].cells[c].budget != g->budgets[j]) continue;
                int n = graded(&g->items[i].cells[c], preds, correct, prm), nc = 0;
                if (n == 0) continue;
                for (int s = 0; s < n; s++) nc += correct[s];
                for (int t = 0; t < nk; t++) {
                    pass[t] += tte_pass_at_k(n, nc, ks[t]);
                    maj[t] += tte_maj_at_k(preds, correct, ks[t]);
                    if (!scored) continue;
                    bon[t] += tte_bon_at_k(prm, correct, n, ks[t]);
                    /* each item and k its own stream of subsets, the same in every run */
                    weighted[t] +=
                        tte_weighted_at_k(preds, prm, correct, n, ks[t], (uint64_t)i * 64 + (uint64_t)t);
                }
            }
        json_t *rec = new_record(TTE_KIND_PASSK, g->key), *why = json_object();
        json_object_set_new(rec, "budget", json_integer(g->budgets[j]));
        json_object_set_new(rec, "items", json_integer(nitems));
        json_object_set_new(rec, "n", json_integer(nmin));
        /* On a cost axis, what one sample costs: k samples cost k times it. */
        if (d->x >= X_TOKENS) {
            json_object_set_new(rec, "x_axis", json_string(x_axis_name(d->x)));
            json_object_set_new(rec, "cost_per_sample", json_real(group_x(d, g, j)));
        }
        json_t *jk = json_array(), *jp = json_array(), *jm = json_array(), *jb = json_array(),
               *jw = json_array();
        for (int t = 0; t < nk; t++) {
            pass[t] /= nitems;
            maj[t] /= nitems;
            json_array_append_new(jk, json_integer(ks[t]));
            json_array_append_new(jp, json_real(pass[t]));
            json_array_append_new(jm, json_real(maj[t]));
            json_array_append_new(jb, json_real(bon[t] / nitems));
            json_array_append_new(jw, json_real(weighted[t] / nitems));
        }
        json_object_set_new(rec, "k", jk);
        json_object_set_new(rec, "pass_at_k", jp);
        json_object_set_new(rec, "maj_at_k", jm);
        /* With a prm_score on every sample (tte-score --prm): verifier-based selection. */
        if (scored) {
            json_object_set_new(rec, "bon_at_k", jb);
            json_object_set_new(rec, "weighted_at_k", jw);
        } else {
            json_decref(jb), json_decref(jw);
        }
        tte_coverage_fit cf = tte_fit_coverage(ks, pass, nk);
        json_t *fit = json_object(), *fwhy = json_object();
        set_value(fit, fwhy, "a", cf.a);
        set_value(fit, fwhy, "b", cf.b);
        json_object_set_new(fit, "points", json_integer(cf.npoints));
        attach_why(fit, fwhy);
        json_object_set_new(rec, "coverage_fit", fit);
        attach_why(rec, why);
        rc = emit(out, rec);
    }
    free(preds), free(correct), free(prm);
    return rc;
}

int report_group(FILE *out, const fitdata *d, int gi, const fit_options *o, group_summary *s) {
    const group *g = &d->groups[gi];
    memset(s, 0, sizeof *s);
    for (int m = 0; m < TTE_METRIC_N; m++)
        if (o->metric[m] && report_metric(out, d, g, m, o, s) != 0) return -1;
    return o->metric[TTE_METRIC_CORRECT] ? report_passk(out, d, g) : 0;
}

void summary_free(group_summary *s) {
    for (int m = 0; m < TTE_METRIC_N; m++) free(s->mean[m]), free(s->item_score[m]);
}

/* ---- across models ---- */

/* The group's --by fields other than "model", to pair groups that differ only in their model. */
static json_t *key_without_model(const group *g) {
    json_t *k = json_deep_copy(g->key);
    json_object_del(k, "model");
    return k;
}

int report_correlations(FILE *out, const fitdata *d, const group_summary *s, const fit_options *o) {
    for (int m = 0; m < TTE_METRIC_N; m++) {
        if (!o->metric[m]) continue;
        for (int a = 0; a < d->ngroups; a++)
            for (int b = a + 1; b < d->ngroups; b++) {
                const group *ga = &d->groups[a], *gb = &d->groups[b];
                if (!ga->model || !gb->model || !s[a].item_score[m] || !s[b].item_score[m]) continue;
                json_t *ka = key_without_model(ga), *kb = key_without_model(gb);
                int same = json_equal(ka, kb) && strcmp(ga->model, gb->model) != 0;
                json_decref(kb);
                if (!same) {
                    json_decref(ka);
                    continue;
                }
                double *xa = tte_xmalloc(tte_xmul((size_t)ga->nitems + 1, sizeof(double)));
                double *xb = tte_xmalloc(tte_xmul((size_t)ga->nitems + 1, sizeof(double)));
                int n = 0;
                for (int i = 0; i < ga->nitems; i++) {
                    int j = tte_strmap_get(&gb->item_index, ga->items[i].id, strlen(ga->items[i].id));
                    if (j < 0 || isnan(s[a].item_score[m][i]) || isnan(s[b].item_score[m][j])) continue;
                    xa[n] = s[a].item_score[m][i], xb[n] = s[b].item_score[m][j], n++;
                }
                json_t *rec = new_record(TTE_KIND_CORRELATION, ka), *why = json_object();
                json_decref(ka);
                json_object_set_new(rec, TTE_FIELD_METRIC, json_string(tte_metric_name(m)));
                json_object_set_new(rec, "models", json_pack("[ss]", ga->model, gb->model));
                json_object_set_new(rec, "score", json_string("breakthroughness"));
                json_object_set_new(rec, "items", json_integer(n));
                set_value(rec, why, "spearman", tte_spearman(xa, xb, n));
                free(xa), free(xb);
                attach_why(rec, why);
                if (emit(out, rec) != 0) return -1;
            }
    }
    return 0;
}

typedef struct {
    int group;
    double params;
} sized;

static int cmp_sized(const void *a, const void *b) {
    const sized *x = a, *y = b;
    if (x->params != y->params) return x->params < y->params ? -1 : 1;
    return x->group - y->group;
}

/* For each set of groups that differ only in their model and carry model_params: per metric and
 * budget, the curve of the mean against log10(parameters). */
int report_sizes(FILE *out, const fitdata *d, const group_summary *s, const fit_options *o) {
    sized *members = tte_xmalloc(tte_xmul((size_t)d->ngroups + 1, sizeof(sized)));
    int *done = tte_xcalloc((size_t)d->ngroups + 1, sizeof(int));
    double *x = tte_xmalloc(tte_xmul((size_t)d->ngroups + 1, sizeof(double)));
    double *y = tte_xmalloc(tte_xmul((size_t)d->ngroups + 1, sizeof(double)));
    int rc = 0;
    for (int a = 0; a < d->ngroups && rc == 0; a++) {
        if (done[a] || !d->groups[a].has_params || !d->groups[a].model) continue;
        json_t *key = key_without_model(&d->groups[a]);
        int n = 0;
        for (int b = a; b < d->ngroups; b++) {
            if (done[b] || !d->groups[b].has_params || !d->groups[b].model) continue;
            json_t *kb = key_without_model(&d->groups[b]);
            if (json_equal(key, kb)) members[n].group = b, members[n].params = d->groups[b].model_params, n++;
            json_decref(kb);
        }
        for (int i = 0; i < n; i++) done[members[i].group] = 1;
        qsort(members, (size_t)n, sizeof(sized), cmp_sized);
        /* Every budget any member has, in order. */
        for (long long last = 0;;) {
            long long next = 0;
            for (int i = 0; i < n; i++) {
                const group *g = &d->groups[members[i].group];
                for (int j = 0; j < g->nbudgets; j++)
                    if (g->budgets[j] > last && (next == 0 || g->budgets[j] < next)) next = g->budgets[j];
            }
            if (next == 0 || n < 2) break;
            last = next;
            for (int m = 0; m < TTE_METRIC_N && rc == 0; m++) {
                if (!o->metric[m]) continue;
                json_t *rec = new_record(TTE_KIND_SIZES, key), *why = json_object(), *points = json_array();
                json_object_set_new(rec, TTE_FIELD_METRIC, json_string(tte_metric_name(m)));
                json_object_set_new(rec, "budget", json_integer(next));
                int k = 0;
                for (int i = 0; i < n; i++) {
                    const group *g = &d->groups[members[i].group];
                    int j = group_budget_index(g, next);
                    const double *mean = s[members[i].group].mean[m];
                    if (j < 0 || !mean || isnan(mean[j])) continue;
                    x[k] = log10(members[i].params), y[k] = mean[j];
                    json_t *p = json_object();
                    json_object_set_new(p, "model", json_string(g->model));
                    json_object_set_new(p, "params", json_real(members[i].params));
                    json_object_set_new(p, "x", real(x[k]));
                    json_object_set_new(p, "mean", real(y[k]));
                    json_array_append_new(points, p);
                    k++;
                }
                if (k < 2) {
                    json_decref(rec), json_decref(why), json_decref(points);
                    continue;
                }
                json_object_set_new(rec, "points", points);
                set_fits(rec, why, x, y, k);
                json_object_set_new(rec, "variant", json_string(o->legacy ? "legacy" : "mean_sqrt"));
                set_emergence(rec, why, y, k, o);
                attach_why(rec, why);
                rc = emit(out, rec);
            }
        }
        json_decref(key);
    }
    free(members), free(done), free(x), free(y);
    return rc;
}
