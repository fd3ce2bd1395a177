/* nextdist: see nextdist.h. */
#include "nextdist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "engine/jobs.h"
#include "engine/sampler.h"
#include "outfile.h"
#include "utf8.h"
#include "xalloc.h"

/* The .npy header is written first with room for any shape, then again with the real one. */
enum { NPY_HEADER_BYTES = 128 };

typedef struct {
    int32_t *ids; /* top K */
    double *lp;
    double entropy;
    float *row; /* K = all: the whole distribution */
} request;

typedef struct {
    tte_session *ses;
    const nextdist_options *opt;
    int n; /* the tokenizer's ids: [0, n) */
    int k; /* entries of next_dist */
    request *reqs;
    size_t n_reqs, cap_reqs;
    tte_outfile npy;
    long rows;
    int write_failed;
} scorer;

static int prepare(void *ctx, tte_jsonl *in, json_t *rec, int job, tte_tokens *feed, int *flags, int *pages) {
    scorer *s = ctx;
    TTE_GROW(s->reqs, s->cap_reqs, (size_t)job + 1);
    memset(&s->reqs[job], 0, sizeof s->reqs[job]);
    s->n_reqs = (size_t)job + 1;
    if (tte_session_read_ids(s->ses, in, rec, "prompt_ids", "prompt", s->opt->use_template, feed) != 0)
        return -1;
    int n = (int)feed->n;
    if (n >= s->ses->cfg->max_position_embeddings)
        return tte_jsonl_fail(in, "field \"%s\": %d tokens, the model has %d positions",
                              json_object_get(rec, "prompt_ids") ? "prompt_ids" : "prompt", n,
                              s->ses->cfg->max_position_embeddings);
    *flags = TTE_LOGITS_LAST;
    *pages = tte_sched_pages_for(n) + 1;
    return 0;
}

static int on_logits(void *ctx, tte_sched *sched, int lane, int job, const float *logits, int first, int rows,
                     int fed_all, char *err, size_t errlen) {
    scorer *s = ctx;
    request *r = &s->reqs[job];
    double lse = tte_logsumexp(logits, s->n), h = 0;
    for (int i = 0; i < s->n; i++) {
        double lp = (double)logits[i] - lse;
        if (lp > -INFINITY) h -= exp(lp) * lp;
    }
    r->entropy = h;
    if (s->k > 0) {
        r->ids = tte_xmalloc((size_t)s->k * sizeof *r->ids);
        r->lp = tte_xmalloc((size_t)s->k * sizeof *r->lp);
        int *top = tte_xmalloc((size_t)s->k * sizeof *top);
        tte_top_logprobs(logits, s->n, s->k, top, r->lp);
        for (int i = 0; i < s->k; i++) r->ids[i] = top[i];
        free(top);
    } else {
        r->row = tte_xmalloc((size_t)s->n * sizeof *r->row);
        for (int i = 0; i < s->n; i++) r->row[i] = (float)((double)logits[i] - lse);
    }
    return 1;
}

/* IEEE half of F, rounded to nearest even (the .npy f16 rows). */
static uint16_t to_f16(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    uint32_t sign = (u >> 16) & 0x8000, exp = (u >> 23) & 0xff, man = u & 0x7fffff;
    if (exp == 0xff) return (uint16_t)(sign | 0x7c00 | (man ? 0x200 : 0));
    int e = (int)exp - 127 + 15;
    if (e >= 31) return (uint16_t)(sign | 0x7c00);
    if (e <= 0) { /* subnormal or zero */
        if (e < -10) return (uint16_t)sign;
        man |= 0x800000;
        int shift = 14 - e;
        uint32_t half = man >> shift, rest = man & ((1u << shift) - 1), mid = 1u << (shift - 1);
        if (rest > mid || (rest == mid && (half & 1))) half++;
        return (uint16_t)(sign | half);
    }
    uint32_t half = ((uint32_t)e << 10) | (man >> 13), rest = man & 0x1fff;
    if (rest > 0x1000 || (rest == 0x1000 && (half & 1))) half++; /* may carry into the exponent: right */
    return (uint16_t)(sign | half);
}

static void write_npy_header(scorer *s) {
    char h[NPY_HEADER_BYTES];
    memset(h, ' ', sizeof h);
    memcpy(h, "\x93NUMPY\x01\x00", 8);
    h[8] = (char)(NPY_HEADER_BYTES - 10), h[9] = 0;
    int n = snprintf(h + 10, sizeof h - 10, "{'descr': '<%s', 'fortran_order': False, 'shape': (%ld, %d), }",
                     s->opt->f16 ? "f2" : "f4", s->rows, s->n);
    h[10 + n] = ' '; /* snprintf's NUL: padding continues */
    h[NPY_HEADER_BYTES - 1] = '\n';
    if (fseek(s->npy.f, 0, SEEK_SET) != 0 || fwrite(h, 1, sizeof h, s->npy.f) != sizeof h)
        s->write_failed = 1;
}

static void finish(void *ctx, int job, json_t *rec) {
    scorer *s = ctx;
    request *r = &s->reqs[job];
    json_object_set_new(rec, "model", json_string(s->ses->model_name));
    json_object_set_new(rec, "model_params", json_real(s->ses->n_params));
    json_object_set_new(rec, "entropy_nats", json_real(r->entropy));
    json_object_set_new(rec, "next_dist_vocab", json_integer(s->n));
    if (r->row) {
        json_object_set_new(rec, "next_dist_row", json_integer(s->rows++));
        if (s->opt->f16) {
            uint16_t *h = tte_xmalloc((size_t)s->n * sizeof *h);
            for (int i = 0; i < s->n; i++) h[i] = to_f16(r->row[i]);
            if (fwrite(h, sizeof *h, (size_t)s->n, s->npy.f) != (size_t)s->n) s->write_failed = 1;
            free(h);
        } else if (fwrite(r->row, sizeof *r->row, (size_t)s->n, s->npy.f) != (size_t)s->n) {
            s->write_failed = 1;
        }
        free(r->row);
        r->row = NULL;
        return;
    }
    json_t *a = json_array();
    for (int i = 0; i < s->k; i++) {
        size_t len, fixed;
        const char *bytes = tte_tokenizer_token_bytes(s->ses->tok, r->ids[i], &len);
        char *text = tte_utf8_lossy(bytes ? bytes : "", bytes ? len : 0, &fixed);
        /* A NUL byte would make the line unreadable for JSON readers that hold C strings (ours). */
        json_t *token = memchr(text, 0, fixed) ? json_string("\xef\xbf\xbd") : json_stringn(text, fixed);
        json_array_append_new(
            a, json_pack("{s:i, s:o, s:f}", "id", r->ids[i], "token", token, "logprob", r->lp[i]));
        free(text);
    }
    json_object_set_new(rec, "next_dist", a);
    free(r->ids), free(r->lp);
    r->ids = NULL, r->lp = NULL;
}

int nextdist_run(tte_session *ses, const nextdist_options *o, tte_jsonl *in, FILE *out) {
    scorer s = {.ses = ses, .opt = o};
    s.n = (int)tte_tokenizer_vocab_size(ses->tok) < ses->cfg->vocab_size
              ? (int)tte_tokenizer_vocab_size(ses->tok)
              : ses->cfg->vocab_size;
    s.k = o->top_k;
    if (s.k > s.n) return tte_warn("--next-dist %d: the model has %d tokens", s.k, s.n), -1;
    char err[1024];
    if (s.k == 0) {
        if (tte_outfile_open(&s.npy, o->file, err, sizeof err) != 0) return tte_warn("%s", err), -1;
        write_npy_header(&s);
    }
    size_t kv = o->kv_mem ? o->kv_mem : tte_session_kv_default(ses, TTE_SESSION_RECORD_TOKENS, o->batch);
    int rc;
    if (tte_session_start(ses, kv, o->batch, err, sizeof err) != 0)
        rc = -1, tte_warn("%s", err);
    else
        rc = tte_jobs_run(ses->sched, in, out, o->batch, &(tte_jobs_client){prepare, on_logits, finish}, &s);
    if (s.k == 0) {
        if (rc == 0) write_npy_header(&s);
        if (rc == 0 && s.write_failed) rc = -1, tte_warn("%s: write error", o->file);
        if (rc == 0 && tte_outfile_commit(&s.npy, err, sizeof err) != 0) rc = -1, tte_warn("%s", err);
        if (rc != 0) tte_outfile_abort(&s.npy);
    }
    for (size_t i = 0; i < s.n_reqs; i++) free(s.reqs[i].ids), free(s.reqs[i].lp), free(s.reqs[i].row);
    free(s.reqs);
    return rc;
}
