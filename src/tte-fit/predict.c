/* predict: see predict.h. */
#include "predict.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "records.h"
#include "stats/bootstrap.h"
#include "strmap.h"
#include "xalloc.h"

enum { TOKEN0, RANDOM, AVERAGE, LARGEST_SMALL, LOGLINEAR, DAMPED_TREND, N_STRATEGIES };
static const char *const strategy_names[N_STRATEGIES] = {"token0",        "random",    "average",
                                                         "largest_small", "loglinear", "damped_trend"};

/* One model's listed tokens for one prompt. */
typedef struct {
    int32_t *ids;
    double *lp;
    int k;
    int set;
} listing;

typedef struct {
    char *name;
    double params;
} model;

typedef struct {
    tte_strmap model_index, prompt_index;
    model *models;
    int n_models, cap_models;
    char **prompts;
    int n_prompts, cap_prompts;
    listing *lists; /* [prompt][model], grown as prompts and models come */
    size_t cap_lists;
    int vocab;
    json_t *token_text; /* id -> text, from the first model that lists it: tokenizers must agree */
} family;

static listing *list_at(family *f, int prompt, int m) { return &f->lists[(size_t)prompt * 64 + (size_t)m]; }

/* Reads one next-dist record into F; -1 after tte_jsonl_fail. */
static int add_record(family *f, tte_jsonl *in, json_t *rec) {
    const char *id, *name;
    long long vocab;
    if (tte_jsonl_get_string(in, rec, TTE_FIELD_ID, &id) ||
        tte_jsonl_get_string(in, rec, TTE_FIELD_MODEL, &name) ||
        tte_jsonl_get_int(in, rec, "next_dist_vocab", &vocab))
        return -1;
    json_t *params = json_object_get(rec, TTE_FIELD_MODEL_PARAMS), *dist = json_object_get(rec, "next_dist");
    if (!json_is_number(params) || !(json_number_value(params) > 0))
        return tte_jsonl_fail(in, "field \"model_params\": %s",
                              params ? "must be a positive number" : "missing");
    if (!json_is_array(dist) || json_array_size(dist) == 0)
        return tte_jsonl_fail(in, "field \"next_dist\": %s (tte-score --next-dist K writes it)",
                              dist ? "must be a non-empty array" : "missing");
    if (f->vocab && vocab != f->vocab)
        return tte_jsonl_fail(in,
                              "field \"next_dist_vocab\": %lld ids, other models have %d: the family's "
                              "tokenizers differ",
                              vocab, f->vocab);
    f->vocab = (int)vocab;
    int m = tte_strmap_get(&f->model_index, name, strlen(name));
    if (m < 0) {
        if (f->n_models == 64) return tte_jsonl_fail(in, "field \"model\": more than 64 models");
        m = f->n_models++;
        TTE_GROW(f->models, f->cap_models, f->n_models);
        f->models[m] = (model){tte_xstrdup(name), json_number_value(params)};
        tte_strmap_put(&f->model_index, name, strlen(name), m);
    } else if (f->models[m].params != json_number_value(params)) {
        return tte_jsonl_fail(in, "field \"model_params\": model %s had %.0f parameters before", name,
                              f->models[m].params);
    }
    int p = tte_strmap_get(&f->prompt_index, id, strlen(id));
    if (p < 0) {
        p = f->n_prompts++;
        TTE_GROW(f->prompts, f->cap_prompts, f->n_prompts);
        f->prompts[p] = tte_xstrdup(id);
        tte_strmap_put(&f->prompt_index, id, strlen(id), p);
        size_t old = f->cap_lists;
        TTE_GROW(f->lists, f->cap_lists, (size_t)f->n_prompts * 64);
        memset(f->lists + old, 0, (f->cap_lists - old) * sizeof *f->lists);
    }
    listing *l = list_at(f, p, m);
    if (l->set) return tte_jsonl_fail(in, "field \"id\": %s has a record of model %s already", id, name);
    l->set = 1;
    l->k = (int)json_array_size(dist);
    l->ids = tte_xmalloc((size_t)l->k * sizeof *l->ids);
    l->lp = tte_xmalloc((size_t)l->k * sizeof *l->lp);
    for (int i = 0; i < l->k; i++) {
        json_t *e = json_array_get(dist, (size_t)i), *tid = json_object_get(e, "id"),
               *lp = json_object_get(e, "logprob");
        if (!json_is_integer(tid) || json_integer_value(tid) < 0 || json_integer_value(tid) >= vocab ||
            !json_is_number(lp) || json_number_value(lp) > 0)
            return tte_jsonl_fail(
                in, "field \"next_dist\": entry %d needs an \"id\" below %lld and a \"logprob\" <= 0", i,
                vocab);
        l->ids[i] = (int32_t)json_integer_value(tid), l->lp[i] = json_number_value(lp);
        json_t *text = json_object_get(e, "token");
        char key[16];
        snprintf(key, sizeof key, "%d", l->ids[i]);
        json_t *seen = json_object_get(f->token_text, key);
        if (json_is_string(text) && seen && !json_equal(seen, text))
            return tte_jsonl_fail(in,
                                  "field \"next_dist\": token %d is %s here and %s in another model: the "
                                  "family's tokenizers differ",
                                  l->ids[i], json_string_value(text), json_string_value(seen));
        if (json_is_string(text) && !seen) json_object_set(f->token_text, key, text);
    }
    return 0;
}

/* Model M's log-probability of token T at prompt P: listed, or the rest of the mass spread evenly. */
static double logprob(const family *f, const listing *l, int32_t t) {
    double listed = 0;
    for (int i = 0; i < l->k; i++) {
        if (l->ids[i] == t) return l->lp[i];
        listed += exp(l->lp[i]);
    }
    double rest = 1 - listed > 1e-12 ? 1 - listed : 1e-12;
    return log(rest / (f->vocab - l->k > 0 ? f->vocab - l->k : 1));
}

/* The models ordered by size: ORDER[0..n-1), the largest last. */
static int by_params(const void *a, const void *b, void *arg) {
    const model *m = arg;
    double x = m[*(const int *)a].params, y = m[*(const int *)b].params;
    return (x > y) - (x < y);
}

/* FNV-1a, 64 bits: a hash of a prompt's id that a few lines of Python reproduce. */
static uint64_t fnv1a64(const char *s) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

static int by_id(const void *a, const void *b, void *arg) {
    char *const *ids = arg;
    return strcmp(ids[*(const int *)a], ids[*(const int *)b]);
}

/* Strategy S's token for prompt P, given the smaller models SMALL[0..n) by size and the target's
 * log(parameters). */
static int32_t predict_one(const family *f, int s, int p, const int *small, int n, double log_target,
                           uint64_t seed) {
    if (s == TOKEN0) return 0;
    if (s == RANDOM) { /* seeded by the prompt's id, so the order of the records does not matter */
        uint64_t state = seed ^ fnv1a64(f->prompts[p]);
        return (int32_t)tte_random_index(&state, f->vocab);
    }
    const listing *last = list_at((family *)f, p, small[n - 1]);
    if (s == LARGEST_SMALL) return last->ids[0];
    int32_t best = -1;
    double best_v = -INFINITY;
    for (int m = 0; m < n; m++) {
        const listing *lm = list_at((family *)f, p, small[m]);
        for (int i = 0; i < lm->k; i++) {
            int32_t t = lm->ids[i];
            double v;
            if (s == AVERAGE) {
                v = 0;
                for (int j = 0; j < n; j++) v += exp(logprob(f, list_at((family *)f, p, small[j]), t));
            } else if (s == LOGLINEAR) {
                double mx = 0, my = 0, sxx = 0, sxy = 0;
                for (int j = 0; j < n; j++) mx += log(f->models[small[j]].params) / n;
                for (int j = 0; j < n; j++) my += logprob(f, list_at((family *)f, p, small[j]), t) / n;
                for (int j = 0; j < n; j++) {
                    double dx = log(f->models[small[j]].params) - mx;
                    sxx += dx * dx;
                    sxy += dx * (logprob(f, list_at((family *)f, p, small[j]), t) - my);
                }
                v = my + (sxx > 0 ? sxy / sxx : 0) * (log_target - mx);
            } else { /* DAMPED_TREND */
                double y1 = logprob(f, last, t);
                v = y1;
                if (n >= 2) {
                    double x0 = log(f->models[small[n - 2]].params), x1 = log(f->models[small[n - 1]].params);
                    double y0 = logprob(f, list_at((family *)f, p, small[n - 2]), t);
                    v = y1 + 0.5 * (y1 - y0) / (x1 - x0) * (log_target - x1);
                }
            }
            if (v > best_v || (v == best_v && t < best)) best_v = v, best = t;
        }
    }
    return best;
}

static void family_free(family *f) {
    for (int m = 0; m < f->n_models; m++) free(f->models[m].name);
    for (int p = 0; p < f->n_prompts; p++) {
        free(f->prompts[p]);
        for (int m = 0; m < f->n_models; m++) free(list_at(f, p, m)->ids), free(list_at(f, p, m)->lp);
    }
    free(f->models), free(f->prompts), free(f->lists);
    tte_strmap_free(&f->model_index), tte_strmap_free(&f->prompt_index);
    json_decref(f->token_text);
}

int predict_run(tte_jsonl *in, FILE *out, const predict_options *o) {
    family f = {.token_text = json_object()};
    json_t *rec;
    int got, rc = -1;
    while ((got = tte_jsonl_next(in, &rec)) == 1) {
        int bad = add_record(&f, in, rec);
        json_decref(rec);
        if (bad) {
            got = -1;
            break;
        }
    }
    if (got < 0) {
        tte_warn("%s", tte_jsonl_error(in));
        goto out;
    }
    if (f.n_models < 2) {
        tte_warn("%s: --predict-largest needs next-dist records of two or more models of one family, not %d",
                 tte_jsonl_name(in), f.n_models);
        goto out;
    }
    int order[64];
    for (int m = 0; m < f.n_models; m++) order[m] = m;
    qsort_r(order, (size_t)f.n_models, sizeof *order, by_params, f.models);
    for (int m = 1; m < f.n_models; m++)
        if (f.models[order[m]].params == f.models[order[m - 1]].params) {
            tte_warn("%s: models %s and %s have the same size: which is the largest?", tte_jsonl_name(in),
                     f.models[order[m - 1]].name, f.models[order[m]].name);
            goto out;
        }
    for (int p = 0; p < f.n_prompts; p++)
        for (int m = 0; m < f.n_models; m++)
            if (!list_at(&f, p, m)->set) {
                tte_warn("%s: prompt %s has no record of model %s", tte_jsonl_name(in), f.prompts[p],
                         f.models[m].name);
                goto out;
            }
    int target = order[f.n_models - 1], n_small = f.n_models - 1;
    double log_target = log(f.models[target].params);
    /* Prompts in id order, so the bootstrap draws the same prompts whatever the records' order. */
    int *prompt = tte_xmalloc((size_t)f.n_prompts * sizeof *prompt);
    for (int p = 0; p < f.n_prompts; p++) prompt[p] = p;
    qsort_r(prompt, (size_t)f.n_prompts, sizeof *prompt, by_id, f.prompts);
    double *hit = tte_xmalloc((size_t)f.n_prompts * sizeof *hit);
    json_t *names = json_array();
    for (int m = 0; m < n_small; m++) json_array_append_new(names, json_string(f.models[order[m]].name));
    for (int s = 0; s < N_STRATEGIES; s++) {
        double hits = 0, lo = NAN, hi = NAN;
        for (int p = 0; p < f.n_prompts; p++) {
            int q = prompt[p];
            hit[p] =
                predict_one(&f, s, q, order, n_small, log_target, o->seed) == list_at(&f, q, target)->ids[0];
            hits += hit[p];
        }
        double top1 = hits / f.n_prompts;
        if (o->bootstrap > 0)
            tte_bootstrap_curve(hit, f.n_prompts, 1, o->bootstrap, o->seed, o->level, &lo, &hi);
        json_t *r = json_pack("{s:s, s:s, s:s, s:f, s:O, s:i, s:f}", TTE_FIELD_KIND,
                              tte_kind_name(TTE_KIND_PREDICTION), "strategy", strategy_names[s], "target",
                              f.models[target].name, "target_params", f.models[target].params, "models",
                              names, "prompts", f.n_prompts, "top1", top1);
        json_object_set_new(r, "top1_lo", isnan(lo) ? json_null() : json_real(lo));
        json_object_set_new(r, "top1_hi", isnan(hi) ? json_null() : json_real(hi));
        int w = tte_jsonl_write(out, r);
        json_decref(r);
        if (w != 0) {
            tte_warn("write error");
            free(hit), free(prompt), json_decref(names);
            goto out;
        }
    }
    free(hit), free(prompt);
    json_decref(names);
    rc = 0;
out:
    family_free(&f);
    return rc;
}
