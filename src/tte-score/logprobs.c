/* logprobs: see logprobs.h. A job feeds the prompt and every continuation token but the last (its
 * logits are not needed); row i of the feed scores continuation token i + 1 - n_prompt. */
#include "logprobs.h"

#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "engine/jobs.h"
#include "engine/sampler.h"
#include "xalloc.h"

typedef struct {
    tte_tokens cont;
    int n_prompt;
    double *lp;
    int given_ids; /* the record gave "ids": do not write them back */
} request;

typedef struct {
    tte_session *ses;
    request *reqs; /* by job: [0, n_reqs) prepared */
    size_t n_reqs, cap_reqs;
} scorer;

static int prepare(void *ctx, tte_jsonl *in, json_t *rec, int job, tte_tokens *feed, int *flags, int *pages) {
    scorer *s = ctx;
    TTE_GROW(s->reqs, s->cap_reqs, (size_t)job + 1);
    request *r = &s->reqs[job];
    memset(r, 0, sizeof *r);
    s->n_reqs = (size_t)job + 1;
    r->given_ids = json_object_get(rec, "ids") != NULL;
    if (tte_session_read_ids(s->ses, in, rec, "prompt_ids", "prompt", 0, feed) != 0 ||
        tte_session_read_ids(s->ses, in, rec, "ids", "text", 0, &r->cont) != 0)
        return -1;
    int max = s->ses->cfg->max_position_embeddings;
    if ((int)(feed->n + r->cont.n) > max)
        return tte_jsonl_fail(in,
                              "field \"%s\": %zu tokens after %zu of prompt exceed the model's %d positions",
                              r->given_ids ? "ids" : "text", r->cont.n, feed->n, max);
    r->n_prompt = (int)feed->n;
    r->lp = tte_xmalloc(r->cont.n * sizeof *r->lp);
    for (size_t i = 0; i + 1 < r->cont.n; i++) {
        TTE_GROW(feed->ids, feed->cap, feed->n + 1);
        feed->ids[feed->n++] = r->cont.ids[i];
    }
    *flags = TTE_LOGITS_ALL;
    *pages = tte_sched_pages_for((int)feed->n) + 1;
    return 0;
}

static int on_logits(void *ctx, tte_sched *sched, int lane, int job, const float *logits, int first, int rows,
                     int fed_all, char *err, size_t errlen) {
    scorer *s = ctx;
    request *r = &s->reqs[job];
    int vocab = tte_sched_width(sched);
    for (int i = 0; i < rows; i++) {
        int j = first + i + 1 - r->n_prompt;
        if (j >= 0) r->lp[j] = tte_logprob(logits + (size_t)i * (size_t)vocab, vocab, r->cont.ids[j]);
    }
    return fed_all;
}

static void finish(void *ctx, int job, json_t *rec) {
    scorer *s = ctx;
    request *r = &s->reqs[job];
    json_t *a = json_array();
    for (size_t i = 0; i < r->cont.n; i++) json_array_append_new(a, json_real(r->lp[i]));
    if (!r->given_ids) json_object_set_new(rec, "ids", tte_json_ids(r->cont.ids, (int)r->cont.n));
    json_object_set_new(rec, "logprobs", a);
    tte_tokens_free(&r->cont);
    free(r->lp);
    r->lp = NULL;
}

int logprobs_run(tte_session *ses, int batch, size_t kv_mem, tte_jsonl *in, FILE *out) {
    scorer s = {.ses = ses};
    size_t kv = kv_mem ? kv_mem : tte_session_kv_default(ses, TTE_SESSION_RECORD_TOKENS, batch);
    char err[1024];
    int rc;
    if (tte_session_start(ses, kv, batch, err, sizeof err) != 0)
        rc = -1, tte_warn("%s", err);
    else
        rc = tte_jobs_run(ses->sched, in, out, batch, &(tte_jobs_client){prepare, on_logits, finish}, &s);
    for (size_t i = 0; i < s.n_reqs; i++) tte_tokens_free(&s.reqs[i].cont), free(s.reqs[i].lp);
    free(s.reqs);
    return rc;
}
