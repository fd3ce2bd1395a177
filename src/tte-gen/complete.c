/* complete: see complete.h. Each record is one job of engine/jobs.h. */
#include "complete.h"

#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "engine/jobs.h"
#include "xalloc.h"

/* Prompt tokens the default KV memory allows for beside --max-tokens. */
enum { DEFAULT_PROMPT_ROOM = 1024 };

typedef struct {
    tte_tokens out;
    tte_rng rng;
} request;

typedef struct {
    tte_session *ses;
    const complete_options *opt;
    tte_sampling sampling;
    int sample_vocab;
    void *scratch;
    request *reqs; /* by job: [0, n_reqs) prepared */
    size_t n_reqs, cap_reqs;
} completer;

/* The prompt's ids from "prompt_ids" or by encoding "prompt"; the job's rng from its line. */
static int prepare(void *ctx, tte_jsonl *in, json_t *rec, int job, tte_tokens *feed, int *flags, int *pages) {
    completer *c = ctx;
    const tte_config *cfg = c->ses->cfg;
    if (tte_session_read_ids(c->ses, in, rec, "prompt_ids", "prompt", 0, feed) != 0) return -1;
    if ((int)feed->n + c->opt->max_tokens > cfg->max_position_embeddings)
        return tte_jsonl_fail(
            in, "field \"prompt\": %zu tokens + --max-tokens %d exceed the model's %d positions", feed->n,
            c->opt->max_tokens, cfg->max_position_embeddings);
    TTE_GROW(c->reqs, c->cap_reqs, (size_t)job + 1);
    request *r = &c->reqs[job];
    memset(r, 0, sizeof *r);
    c->n_reqs = (size_t)job + 1;
    tte_rng_seed(&r->rng, c->opt->seed ^ (uint64_t)tte_jsonl_line(in) * 0x9e3779b97f4a7c15ull);
    *flags = TTE_LOGITS_LAST;
    *pages = tte_sched_pages_for((int)feed->n + c->opt->max_tokens) + 1;
    return 0;
}

/* One sampled token: kept, or the end of the continuation. */
static int on_logits(void *ctx, tte_sched *s, int lane, int job, const float *logits, int first, int rows,
                     int fed_all, char *err, size_t errlen) {
    completer *c = ctx;
    const tte_config *cfg = c->ses->cfg;
    request *r = &c->reqs[job];
    int32_t tok = tte_sample(logits, c->sample_vocab, &c->sampling, &r->rng, c->scratch);
    for (int k = 0; k < cfg->n_eos; k++)
        if (cfg->eos[k] == tok) return 1;
    TTE_GROW(r->out.ids, r->out.cap, r->out.n + 1);
    r->out.ids[r->out.n++] = tok;
    if ((int)r->out.n == c->opt->max_tokens) return 1;
    tte_sched_feed(s, lane, &tok, 1, TTE_LOGITS_LAST);
    return 0;
}

static void finish(void *ctx, int job, json_t *rec) {
    completer *c = ctx;
    request *r = &c->reqs[job];
    char err[512];
    size_t len;
    char *text = tte_tokenizer_decode_text(c->ses->tok, r->out.ids, r->out.n, 0, &len, err, sizeof err);
    if (!text) tte_die("%s", err);
    json_object_set_new(rec, "ids", tte_json_ids(r->out.ids, (int)r->out.n));
    json_object_set_new(rec, "text", json_stringn(text, len));
    free(text);
    tte_tokens_free(&r->out);
}

/* A batch of requests of max_tokens after DEFAULT_PROMPT_ROOM prompt tokens. */
static size_t default_kv_bytes(const completer *c) {
    return tte_session_kv_default(c->ses, (size_t)(c->opt->max_tokens + DEFAULT_PROMPT_ROOM), c->opt->batch);
}

int complete_run(tte_session *ses, const complete_options *opt, tte_jsonl *in, FILE *out) {
    completer c = {.ses = ses, .opt = opt};
    c.sampling = sampling_resolve(&opt->sampling, ses->cfg);
    c.sample_vocab = sampling_vocab(ses->cfg, ses->tok);
    c.scratch = tte_xmalloc(tte_sample_scratch_bytes(ses->cfg->vocab_size));
    char err[1024];
    int rc;
    if (tte_session_start(ses, opt->kv_mem ? opt->kv_mem : default_kv_bytes(&c), opt->batch, err,
                          sizeof err) != 0)
        rc = -1, tte_warn("%s", err);
    else
        rc =
            tte_jobs_run(ses->sched, in, out, opt->batch, &(tte_jobs_client){prepare, on_logits, finish}, &c);
    for (size_t i = 0; i < c.n_reqs; i++) tte_tokens_free(&c.reqs[i].out);
    free(c.reqs), free(c.scratch);
    return rc;
}
