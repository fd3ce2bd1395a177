/* prm: see prm.h. */
#include "prm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "engine/jobs.h"
#include "grade_record.h"
#include "records.h"
#include "xalloc.h"

/* The PRM's input format: search-and-learn's Math-Shepherd defaults, or its folder's tte_prm.json. */
typedef struct {
    char *tag, *good, *bad, *system, *step_delim;
    int32_t tag_id, good_id, bad_id;
} prm_format;

typedef struct {
    int32_t *tags; /* positions of the tag tokens in the feed */
    int n_tags, cap_tags;
    double *scores;
} request;

typedef struct {
    tte_session *ses;
    const prm_options *opt;
    prm_format fmt;
    request *reqs;
    size_t n_reqs, cap_reqs;
} scorer;

/* The last id of TEXT's encoding: the token a tag or label ends in. */
static int last_id(const tte_session *ses, const char *what, const char *text, int32_t *id, char *err,
                   size_t errlen) {
    int n;
    int32_t *ids = tte_session_encode(ses, text, strlen(text), &n);
    if (n > 0) *id = ids[n - 1];
    free(ids);
    if (n == 0)
        return snprintf(err, errlen, "%.900s/tte_prm.json: \"%s\" encodes to no token", ses->model_dir, what),
               -1;
    return 0;
}

static char *format_string(json_t *spec, const char *key, const char *fallback) {
    const char *v = json_string_value(json_object_get(spec, key));
    return tte_xstrdup(v ? v : fallback);
}

static int load_format(scorer *s, char *err, size_t errlen) {
    char path[4200];
    snprintf(path, sizeof path, "%s/tte_prm.json", s->ses->model_dir);
    json_error_t je;
    json_t *spec = NULL;
    FILE *f = fopen(path, "r");
    if (f) {
        spec = json_loadf(f, 0, &je);
        fclose(f);
        if (!spec) return snprintf(err, errlen, "%.800s:%d: %.150s", path, je.line, je.text), -1;
        const char *style = json_string_value(json_object_get(spec, "style"));
        if (style && strcmp(style, "shepherd") != 0) {
            snprintf(err, errlen,
                     "%.800s: field \"style\": '%.60s' is not a kind of PRM tte reads (shepherd)", path,
                     style);
            json_decref(spec);
            return -1;
        }
    }
    prm_format *p = &s->fmt;
    p->tag = format_string(spec, "tag", " \xd0\xba\xd0\xb8"); /* " ки" */
    p->good = format_string(spec, "good", "+");
    p->bad = format_string(spec, "bad", "-");
    p->system = format_string(spec, "system", "");
    p->step_delim = format_string(spec, "step_delim", "\n\n");
    json_decref(spec);
    if (s->opt->step_delim) free(p->step_delim), p->step_delim = tte_xstrdup(s->opt->step_delim);
    if (!*p->step_delim) return snprintf(err, errlen, "--step-delim: must not be empty"), -1;
    return last_id(s->ses, "tag", p->tag, &p->tag_id, err, errlen) ||
                   last_id(s->ses, "good", p->good, &p->good_id, err, errlen) ||
                   last_id(s->ses, "bad", p->bad, &p->bad_id, err, errlen)
               ? -1
               : 0;
}

/* Appends TEXT[0..n) to the growing string *BUF. */
static void append(char **buf, size_t *len, size_t *cap, const char *text, size_t n) {
    TTE_GROW(*buf, *cap, *len + n + 1);
    memcpy(*buf + *len, text, n);
    *len += n;
    (*buf)[*len] = 0;
}

/* The record's steps as one PRM input text; *N_STEPS set. NULL after tte_jsonl_fail. */
static char *prm_text(scorer *s, tte_jsonl *in, json_t *rec, int *n_steps) {
    const prm_format *p = &s->fmt;
    const char *problem = json_string_value(json_object_get(rec, "problem"));
    if (!problem) problem = json_string_value(json_object_get(rec, TTE_FIELD_PROMPT));
    if (!problem) return tte_jsonl_fail(in, "field \"problem\": missing (or \"prompt\")"), NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    append(&buf, &len, &cap, p->system, strlen(p->system));
    append(&buf, &len, &cap, "\n", 1);
    append(&buf, &len, &cap, problem, strlen(problem));
    append(&buf, &len, &cap, "\n ", 2);
    *n_steps = 0;
    json_t *steps = json_object_get(rec, "steps");
    if (steps) {
        size_t i;
        json_t *v;
        if (!json_is_array(steps) || json_array_size(steps) == 0)
            return free(buf), tte_jsonl_fail(in, "field \"steps\": must be a non-empty list of texts"), NULL;
        json_array_foreach(steps, i, v) {
            if (!json_is_string(v))
                return free(buf), tte_jsonl_fail(in, "field \"steps\": entry %zu is not a text", i), NULL;
            if (i > 0) append(&buf, &len, &cap, p->step_delim, strlen(p->step_delim));
            append(&buf, &len, &cap, json_string_value(v), json_string_length(v));
            append(&buf, &len, &cap, p->tag, strlen(p->tag));
            (*n_steps)++;
        }
        return buf;
    }
    const char *thinking, *final;
    if (tte_jsonl_get_string(in, rec, "thinking", &thinking) ||
        tte_jsonl_get_string(in, rec, TTE_FIELD_FINAL, &final))
        return free(buf), NULL;
    /* The thinking's pieces between delimiters, then the forced answer. */
    size_t dl = strlen(p->step_delim);
    for (const char *at = thinking;;) {
        const char *next = strstr(at, p->step_delim);
        size_t n = next ? (size_t)(next - at) : strlen(at);
        if (n > 0) {
            if (*n_steps > 0) append(&buf, &len, &cap, p->step_delim, dl);
            append(&buf, &len, &cap, at, n);
            append(&buf, &len, &cap, p->tag, strlen(p->tag));
            (*n_steps)++;
        }
        if (!next) break;
        at = next + dl;
    }
    if (*n_steps > 0) append(&buf, &len, &cap, p->step_delim, dl);
    append(&buf, &len, &cap, "\\boxed{", 7);
    append(&buf, &len, &cap, final, strlen(final));
    append(&buf, &len, &cap, p->tag, strlen(p->tag));
    (*n_steps)++;
    return buf;
}

static int prepare(void *ctx, tte_jsonl *in, json_t *rec, int job, tte_tokens *feed, int *flags, int *pages) {
    scorer *s = ctx;
    TTE_GROW(s->reqs, s->cap_reqs, (size_t)job + 1);
    request *r = &s->reqs[job];
    memset(r, 0, sizeof *r);
    s->n_reqs = (size_t)job + 1;
    if (grade_record(in, rec) < 0) return -1;
    int n_steps, n;
    char *text = prm_text(s, in, rec, &n_steps);
    if (!text) return -1;
    feed->ids = tte_session_encode(s->ses, text, strlen(text), &n);
    feed->n = feed->cap = (size_t)n;
    free(text);
    for (int i = 0; i < n; i++)
        if (feed->ids[i] == s->fmt.tag_id) {
            TTE_GROW(r->tags, r->cap_tags, r->n_tags + 1);
            r->tags[r->n_tags++] = i;
        }
    if (r->n_tags != n_steps)
        return tte_jsonl_fail(in,
                              "field \"%s\": %d steps but %d tag tokens after tokenising (the PRM's tag must "
                              "end in one token wherever it follows a step; a step must not contain it)",
                              json_object_get(rec, "steps") ? "steps" : "thinking", n_steps, r->n_tags);
    if (n > s->ses->cfg->max_position_embeddings)
        return tte_jsonl_fail(in, "field \"thinking\": %d PRM tokens, the PRM has %d positions", n,
                              s->ses->cfg->max_position_embeddings);
    r->scores = tte_xmalloc((size_t)n_steps * sizeof *r->scores);
    *flags = TTE_LOGITS_ALL;
    *pages = tte_sched_pages_for(n) + 1;
    return 0;
}

/* The rows at tag positions give the steps' scores: GOOD's share of the softmax over GOOD and BAD. */
static int on_logits(void *ctx, tte_sched *sched, int lane, int job, const float *logits, int first, int rows,
                     int fed_all, char *err, size_t errlen) {
    scorer *s = ctx;
    request *r = &s->reqs[job];
    int vocab = tte_sched_vocab(sched);
    for (int k = 0; k < r->n_tags; k++) {
        int row = r->tags[k] - first;
        if (row < 0 || row >= rows) continue;
        const float *l = logits + (size_t)row * (size_t)vocab;
        double g = l[s->fmt.good_id], b = l[s->fmt.bad_id], m = g > b ? g : b;
        r->scores[k] = exp(g - m) / (exp(g - m) + exp(b - m));
    }
    return fed_all;
}

static void finish(void *ctx, int job, json_t *rec) {
    scorer *s = ctx;
    request *r = &s->reqs[job];
    json_t *a = json_array();
    double agg = s->opt->agg == PRM_AGG_PROD ? 1 : s->opt->agg == PRM_AGG_MIN ? INFINITY : 0;
    for (int k = 0; k < r->n_tags; k++) {
        json_array_append_new(a, json_real(r->scores[k]));
        if (s->opt->agg == PRM_AGG_PROD) agg *= r->scores[k];
        if (s->opt->agg == PRM_AGG_MIN) agg = fmin(agg, r->scores[k]);
    }
    if (s->opt->agg == PRM_AGG_LAST) agg = r->scores[r->n_tags - 1];
    json_object_set_new(rec, "step_scores", a);
    json_object_set_new(rec, "prm_score", json_real(agg));
    json_object_set_new(rec, "prm", json_string(s->ses->model_name));
    free(r->tags), free(r->scores);
    r->tags = NULL, r->scores = NULL;
}

int prm_run(tte_session *ses, const prm_options *o, tte_jsonl *in, FILE *out) {
    scorer s = {.ses = ses, .opt = o};
    char err[1024];
    int rc = load_format(&s, err, sizeof err);
    if (rc != 0) {
        tte_warn("%s", err);
    } else {
        size_t kv = o->kv_mem ? o->kv_mem : tte_session_kv_default(ses, TTE_SESSION_RECORD_TOKENS, o->batch);
        if (tte_session_start(ses, kv, o->batch, err, sizeof err) != 0)
            rc = -1, tte_warn("%s", err);
        else
            rc = tte_jobs_run(ses->sched, in, out, o->batch, &(tte_jobs_client){prepare, on_logits, finish},
                              &s);
    }
    for (size_t i = 0; i < s.n_reqs; i++) free(s.reqs[i].tags), free(s.reqs[i].scores);
    free(s.reqs);
    free(s.fmt.tag), free(s.fmt.good), free(s.fmt.bad), free(s.fmt.system), free(s.fmt.step_delim);
    return rc;
}
