/* prm: see prm.h. */
#include "prm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "compute.h"
#include "engine/jobs.h"
#include "grade_record.h"
#include "prm_format.h"
#include "records.h"
#include "xalloc.h"

typedef struct {
    size_t *reads; /* the input's positions whose output rows score the steps */
    tte_tokens input; /* the PRM's whole input: fed from read to read */
    int next;         /* the step whose row comes next */
    int n_steps;
    double *scores;
    long fed; /* tokens of the PRM's input */
    tte_key key;
    int cached; /* the scores came from the cache */
} request;

typedef struct {
    tte_session *ses;
    const prm_options *opt;
    tte_prm *prm;
    tte_cost_model cost;
    request *reqs;
    size_t n_reqs, cap_reqs;
    /* Thinkings cut at the delimiter, and those it occurred in: a delimiter that never occurs is
     * most likely the wrong one, and every trace would be one step. */
    int n_cut, n_delimited;
} scorer;

/* The record's steps: its "steps" list, or tte-gen's thinking cut at the delimiter (empty pieces
 * dropped) and then its forced answer. The texts point into REC, or into *OWNED (freed by the
 * caller). -1 after tte_jsonl_fail. */
static int record_steps(scorer *s, tte_jsonl *in, json_t *rec, const char ***texts, size_t **lens, int *n,
                        char **owned) {
    size_t cap = 0;
    *texts = NULL, *lens = NULL, *n = 0, *owned = NULL;
    json_t *steps = json_object_get(rec, "steps");
    if (steps) {
        size_t i;
        json_t *v;
        if (!json_is_array(steps) || json_array_size(steps) == 0)
            return tte_jsonl_fail(in, "field \"steps\": must be a non-empty list of texts");
        json_array_foreach(steps, i, v) {
            if (!json_is_string(v)) return tte_jsonl_fail(in, "field \"steps\": entry %zu is not a text", i);
            TTE_GROW(*texts, cap, (size_t)*n + 1);
            *lens = tte_xrealloc(*lens, cap * sizeof **lens);
            (*texts)[*n] = json_string_value(v), (*lens)[(*n)++] = json_string_length(v);
        }
        return 0;
    }
    const char *thinking, *final;
    if (tte_jsonl_get_string(in, rec, "thinking", &thinking) ||
        tte_jsonl_get_string(in, rec, TTE_FIELD_FINAL, &final))
        return -1;
    const char *delim = tte_prm_step_delim(s->prm);
    size_t dl = strlen(delim);
    s->n_cut++;
    if (strstr(thinking, delim)) s->n_delimited++;
    for (const char *at = thinking;;) {
        const char *next = strstr(at, delim);
        size_t len = next ? (size_t)(next - at) : strlen(at);
        if (len > 0) {
            TTE_GROW(*texts, cap, (size_t)*n + 1);
            *lens = tte_xrealloc(*lens, cap * sizeof **lens);
            (*texts)[*n] = at, (*lens)[(*n)++] = len;
        }
        if (!next) break;
        at = next + dl;
    }
    size_t fl = strlen(final);
    *owned = tte_xmalloc(fl + 8);
    memcpy(*owned, "\\boxed{", 7);
    memcpy(*owned + 7, final, fl + 1);
    TTE_GROW(*texts, cap, (size_t)*n + 1);
    *lens = tte_xrealloc(*lens, cap * sizeof **lens);
    (*texts)[*n] = *owned, (*lens)[(*n)++] = fl + 7;
    return 0;
}

/* The cache key of a PRM input: the PRM, its numerics, the ids and where the scores are read. */
static tte_key input_key(const scorer *s, const tte_tokens *feed, const request *r) {
    json_t *reads = json_array();
    for (int k = 0; k < r->n_steps; k++) json_array_append_new(reads, json_integer((json_int_t)r->reads[k]));
    json_t *k = json_pack("{s:i, s:s, s:s, s:s, s:o, s:o}", "version", TTE_KEY_VERSION_PRM, "prm", s->ses->model_hash,
                          "numerics", s->ses->numerics, "kind", tte_prm_kind_name(tte_prm_kind_of(s->prm)), "ids",
                          tte_json_ids(feed->ids, (int)feed->n), "reads", reads);
    tte_key key = tte_key_of_json(k);
    json_decref(k);
    return key;
}

static int prepare(void *ctx, tte_jsonl *in, json_t *rec, int job, tte_tokens *feed, int *flags, int *pages) {
    scorer *s = ctx;
    TTE_GROW(s->reqs, s->cap_reqs, (size_t)job + 1);
    request *r = &s->reqs[job];
    memset(r, 0, sizeof *r);
    s->n_reqs = (size_t)job + 1;
    if (grade_record(in, rec) < 0) return -1;
    const char *problem = json_string_value(json_object_get(rec, "problem"));
    if (!problem) problem = json_string_value(json_object_get(rec, TTE_FIELD_PROMPT));
    if (!problem) return tte_jsonl_fail(in, "field \"problem\": missing (or \"prompt\")");
    const char **texts;
    size_t *lens;
    char *owned, err[512];
    if (record_steps(s, in, rec, &texts, &lens, &r->n_steps, &owned)) return -1;
    r->reads = tte_xmalloc((size_t)r->n_steps * sizeof *r->reads);
    int rc = tte_prm_encode(s->prm, problem, texts, lens, r->n_steps, feed, r->reads, err, sizeof err);
    free(texts), free(lens), free(owned);
    if (rc) return tte_jsonl_fail(in, "field \"%s\": %s", json_object_get(rec, "steps") ? "steps" : "thinking", err);
    int n = (int)feed->n;
    if (n > s->ses->cfg->max_position_embeddings)
        return tte_jsonl_fail(in, "field \"thinking\": %d PRM tokens, the PRM has %d positions", n,
                              s->ses->cfg->max_position_embeddings);
    r->scores = tte_xmalloc((size_t)r->n_steps * sizeof *r->scores);
    r->fed = n;
    r->key = input_key(s, feed, r);
    json_t *hit = s->ses->cache && !s->opt->refresh ? tte_cache_get_json(s->ses->cache, r->key) : NULL;
    if (json_array_size(hit) == (size_t)r->n_steps) {
        for (int k = 0; k < r->n_steps; k++) r->scores[k] = json_number_value(json_array_get(hit, (size_t)k));
        r->cached = 1;
        feed->n = 0; /* nothing to feed: the job is done */
    }
    json_decref(hit);
    /* Fed up to each read token in turn, so that only the rows that score steps are made (a
     * language-model PRM's rows are vocabulary-sized); still one pass over the input. */
    *flags = TTE_LOGITS_LAST;
    if (feed->n) {
        r->input = *feed;
        feed->ids = tte_xmalloc((r->reads[0] + 1) * sizeof *feed->ids);
        memcpy(feed->ids, r->input.ids, (r->reads[0] + 1) * sizeof *feed->ids);
        feed->n = feed->cap = r->reads[0] + 1;
    }
    *pages = tte_sched_pages_for(n) + 1;
    return 0;
}

/* The rows at the read positions give the steps' scores (prm.h). */
static int on_logits(void *ctx, tte_sched *sched, int lane, int job, const float *logits, int first, int rows,
                     int fed_all, char *err, size_t errlen) {
    scorer *s = ctx;
    request *r = &s->reqs[job];
    r->scores[r->next++] = tte_prm_score(s->prm, logits);
    if (r->next == r->n_steps) return 1;
    size_t from = r->reads[r->next - 1] + 1;
    tte_sched_feed(sched, lane, r->input.ids + from, (int)(r->reads[r->next] + 1 - from), TTE_LOGITS_LAST);
    return 0;
}

static void finish(void *ctx, int job, json_t *rec) {
    scorer *s = ctx;
    request *r = &s->reqs[job];
    json_t *a = json_array();
    for (int k = 0; k < r->n_steps; k++) json_array_append_new(a, json_real(r->scores[k]));
    if (s->ses->cache && !r->cached) {
        char err[512];
        if (tte_cache_put_json(s->ses->cache, r->key, a, err, sizeof err) != 0) tte_warn("%s", err);
    }
    json_object_set_new(rec, "step_scores", a);
    json_object_set_new(rec, "prm_score",
                        json_real(tte_prm_aggregate(s->opt->agg, r->scores, r->n_steps)));
    json_object_set_new(rec, "prm", json_string(s->ses->model_name));
    /* Scoring a trace is one pass over it (compute.h). */
    tte_cost spent = {0};
    tte_cost_step(&spent, &s->cost, 0, r->fed, 0, 1);
    tte_cost_set(rec, "prm_", &spent);
    free(r->reads), free(r->scores);
    tte_tokens_free(&r->input);
    r->reads = NULL, r->scores = NULL;
}

int prm_run(tte_session *ses, const prm_options *o, tte_jsonl *in, FILE *out) {
    scorer s = {.ses = ses, .opt = o};
    char err[1024];
    int rc = 0;
    if (!(s.prm = tte_prm_open(ses, o->step_delim, err, sizeof err))) {
        rc = -1, tte_warn("%s", err);
    } else {
        tte_cost_model_of(&s.cost, ses->model);
        size_t kv = o->kv_mem ? o->kv_mem : tte_session_kv_default(ses, TTE_SESSION_RECORD_TOKENS, o->batch);
        if (tte_session_start(ses, kv, o->batch, err, sizeof err) != 0)
            rc = -1, tte_warn("%s", err);
        else
            rc = tte_jobs_run(ses->sched, in, out, o->batch, &(tte_jobs_client){prepare, on_logits, finish},
                              &s);
        if (rc == 0 && s.n_cut > 0 && s.n_delimited == 0) {
            json_t *d = json_string(tte_prm_step_delim(s.prm));
            char *shown = json_dumps(d, JSON_ENCODE_ANY);
            tte_warn("%s: field \"thinking\": the step delimiter %s occurs in none of the %d records' thinking, so "
                     "each was scored as one step (give --step-delim, or step_delim in the PRM's tte_prm.json)",
                     tte_jsonl_name(in), shown, s.n_cut);
            free(shown), json_decref(d);
            rc = -1;
        }
    }
    for (size_t i = 0; i < s.n_reqs; i++)
        free(s.reqs[i].reads), free(s.reqs[i].scores), tte_tokens_free(&s.reqs[i].input);
    free(s.reqs);
    tte_prm_free(s.prm);
    return rc;
}
