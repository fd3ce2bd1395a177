/* logprobs: see logprobs.h. One record at a time, its prompt and continuation in one sequence fed
 * in chunks with the logits of every position. */
#include "logprobs.h"

#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "engine/engine.h"
#include "engine/sampler.h"
#include "model/tokenizer.h"

enum { CHUNK = 256 };

/* FIELD's ids, from IDS_FIELD as a list or by encoding the text of TEXT_FIELD; -1 after a located
 * error. */
static int read_tokens(tte_jsonl *in, json_t *rec, tte_tokenizer *tok, int vocab, const char *ids_field,
                       const char *text_field, tte_tokens *out) {
    int n;
    if (json_object_get(rec, ids_field)) {
        if (tte_jsonl_get_ids(in, rec, ids_field, vocab, 0, &out->ids, &n) != 0) return -1;
        out->n = out->cap = (size_t)n;
        return 0;
    }
    const char *text;
    if (tte_jsonl_get_string(in, rec, text_field, &text) != 0) return -1;
    if (tte_tokenizer_encode(tok, text, strlen(text), out) != 0) tte_die("out of memory");
    if (out->n == 0) return tte_jsonl_fail(in, "field \"%s\": encodes to no tokens", text_field);
    return 0;
}

/* The log-probabilities of CONT[0..n_cont) after PROMPT, into OUT. */
static int score(tte_engine *e, const tte_tokens *prompt, const tte_tokens *cont, float *logits, double *out,
                 char *err, size_t errlen) {
    int vocab = tte_model_config(tte_engine_model(e))->vocab_size;
    int n_prompt = (int)prompt->n, total = n_prompt + (int)cont->n - 1; /* the last token need not be fed */
    int seq = tte_seq_new(e), rc = 0;
    for (int at = 0; at < total && rc == 0; at += CHUNK) {
        int n = total - at < CHUNK ? total - at : CHUNK;
        int32_t chunk[CHUNK];
        for (int i = 0; i < n; i++)
            chunk[i] = at + i < n_prompt ? prompt->ids[at + i] : cont->ids[at + i - n_prompt];
        tte_span span = {.seq = seq, .tokens = chunk, .n_tokens = n};
        rc = tte_engine_forward(e, &span, 1, TTE_LOGITS_ALL, logits, err, errlen);
        /* Row i follows token at + i and scores continuation token at + i + 1 - n_prompt. */
        for (int i = 0; i < n && rc == 0; i++) {
            int j = at + i + 1 - n_prompt;
            if (j >= 0) out[j] = tte_logprob(logits + (size_t)i * (size_t)vocab, vocab, cont->ids[j]);
        }
    }
    tte_seq_free(e, seq);
    return rc;
}

int logprobs_run(const char *model_dir, int threads, const char *device, tte_jsonl *in) {
    char err[1024];
    tte_tokenizer *tok = tte_tokenizer_load(model_dir, err, sizeof err);
    tte_model *m = tok ? tte_model_load(model_dir, err, sizeof err) : NULL;
    if (!m) {
        tte_warn("%s", err);
        tte_tokenizer_free(tok);
        return -1;
    }
    const tte_config *cfg = tte_model_config(m);
    tte_engine_opts eo = {.threads = threads,
                          .backend = device,
                          .kv_bytes = tte_model_kv_bytes_per_token(m) *
                                      (size_t)(cfg->max_position_embeddings + TTE_PAGE_TOKENS)};
    tte_engine *e = tte_engine_create(m, &eo, err, sizeof err);
    float *logits = malloc((size_t)CHUNK * (size_t)cfg->vocab_size * sizeof *logits);
    int rc = e ? 0 : -1, got;
    if (!e) tte_warn("%s", err);
    json_t *rec;
    while (rc == 0 && (got = tte_jsonl_next(in, &rec)) != 0) {
        if (got < 0) {
            tte_warn("%s", tte_jsonl_error(in));
            rc = -1;
            break;
        }
        tte_tokens prompt = {0}, cont = {0};
        int given_ids = json_object_get(rec, "ids") != NULL;
        if (read_tokens(in, rec, tok, cfg->vocab_size, "prompt_ids", "prompt", &prompt) != 0 ||
            read_tokens(in, rec, tok, cfg->vocab_size, "ids", "text", &cont) != 0) {
            tte_warn("%s", tte_jsonl_error(in));
            rc = -1;
        } else if ((int)(prompt.n + cont.n) > cfg->max_position_embeddings) {
            tte_jsonl_fail(in, "field \"%s\": %zu tokens after %zu of prompt exceed the model's %d positions",
                           given_ids ? "ids" : "text", cont.n, prompt.n, cfg->max_position_embeddings);
            tte_warn("%s", tte_jsonl_error(in));
            rc = -1;
        }
        double *lp = rc == 0 ? malloc(cont.n * sizeof *lp) : NULL;
        if (rc == 0 && score(e, &prompt, &cont, logits, lp, err, sizeof err) != 0) {
            tte_warn("%s:%ld: %s", tte_jsonl_name(in), tte_jsonl_line(in), err);
            rc = -1;
        }
        if (rc == 0) {
            json_t *a = json_array();
            for (size_t i = 0; i < cont.n; i++) json_array_append_new(a, json_real(lp[i]));
            if (!given_ids) json_object_set_new(rec, "ids", tte_json_ids(cont.ids, (int)cont.n));
            json_object_set_new(rec, "logprobs", a);
            if (tte_jsonl_write(stdout, rec) != 0 || fflush(stdout) != 0)
                rc = -1, tte_warn("<stdout>: write error");
        }
        free(lp);
        tte_tokens_free(&prompt);
        tte_tokens_free(&cont);
        json_decref(rec);
    }
    free(logits);
    tte_engine_free(e);
    tte_model_free(m);
    tte_tokenizer_free(tok);
    return rc;
}
