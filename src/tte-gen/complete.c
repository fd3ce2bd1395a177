/* complete: see complete.h. Records are run one at a time: this mode is for checking the engine
 * and for quick use, the sweep is where batching pays. */
#include "complete.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "engine/engine.h"

/* The prompt's ids from "prompt_ids" or by encoding "prompt"; -1 after a located error. */
static int prompt_ids(tte_jsonl *in, json_t *rec, tte_tokenizer *tok, int vocab, tte_tokens *out) {
    if (json_object_get(rec, "prompt_ids")) {
        int n;
        if (tte_jsonl_get_ids(in, rec, "prompt_ids", vocab, 0, &out->ids, &n) != 0) return -1;
        out->n = out->cap = (size_t)n;
        return 0;
    }
    const char *text;
    if (tte_jsonl_get_string(in, rec, "prompt", &text) != 0) return -1;
    if (tte_tokenizer_encode(tok, text, strlen(text), out) != 0) tte_die("out of memory");
    if (out->n == 0) return tte_jsonl_fail(in, "field \"prompt\": encodes to no tokens");
    return 0;
}

int complete_run(const char *model_dir, tte_tokenizer *tok, const complete_options *opt, tte_jsonl *in) {
    char err[1024];
    tte_model *m = tte_model_load(model_dir, err, sizeof err);
    if (!m) return tte_warn("%s", err), -1;
    const tte_config *cfg = tte_model_config(m);
    tte_engine_opts eo = {.threads = opt->threads, .backend = opt->device};
    tte_engine *e = tte_engine_create(m, &eo, err, sizeof err);
    if (!e) return tte_warn("%s", err), tte_model_free(m), -1;
    tte_sampling sampling = sampling_resolve(&opt->sampling, cfg);
    float *logits = malloc((size_t)cfg->vocab_size * sizeof *logits);
    void *scratch = malloc(tte_sample_scratch_bytes(cfg->vocab_size));
    int rc = 0, got;
    json_t *rec;
    while (rc == 0 && (got = tte_jsonl_next(in, &rec)) != 0) {
        if (got < 0) {
            rc = -1;
            tte_warn("%s", tte_jsonl_error(in));
            break;
        }
        tte_tokens prompt = {0}, out = {0};
        if (prompt_ids(in, rec, tok, cfg->vocab_size, &prompt) != 0) {
            tte_warn("%s", tte_jsonl_error(in));
            rc = -1;
        } else if ((int)prompt.n + opt->max_tokens > cfg->max_position_embeddings) {
            tte_jsonl_fail(in,
                           "field \"prompt\": %zu tokens + --max-tokens %d exceed the model's %d positions",
                           prompt.n, opt->max_tokens, cfg->max_position_embeddings);
            tte_warn("%s", tte_jsonl_error(in));
            rc = -1;
        }
        tte_rng rng;
        tte_rng_seed(&rng, opt->seed ^ (uint64_t)tte_jsonl_line(in) * 0x9e3779b97f4a7c15ull);
        int seq = rc == 0 ? tte_seq_new(e) : -1;
        tte_span span = {.seq = seq, .tokens = prompt.ids, .n_tokens = (int)prompt.n};
        for (int t = 0; rc == 0 && t < opt->max_tokens; t++) {
            if (tte_engine_forward(e, &span, 1, TTE_LOGITS_LAST, logits, err, sizeof err) != 0) {
                tte_warn("%s:%ld: %s", tte_jsonl_name(in), tte_jsonl_line(in), err);
                rc = -1;
                break;
            }
            int32_t tok_id = tte_sample(logits, sampling_vocab(cfg, tok), &sampling, &rng, scratch);
            int is_eos = 0;
            for (int k = 0; k < cfg->n_eos; k++) is_eos |= cfg->eos[k] == tok_id;
            if (is_eos) break;
            out.ids = realloc(out.ids, (out.n + 1) * sizeof *out.ids);
            out.ids[out.n++] = tok_id;
            span.tokens = &out.ids[out.n - 1], span.n_tokens = 1;
        }
        tte_seq_free(e, seq);
        if (rc == 0) {
            size_t len;
            char *text = tte_tokenizer_decode_text(tok, out.ids, out.n, 0, &len, err, sizeof err);
            json_object_set_new(rec, "ids", tte_json_ids(out.ids, (int)out.n));
            json_object_set_new(rec, "text", json_stringn(text ? text : "", text ? len : 0));
            free(text);
            if (tte_jsonl_write(stdout, rec) != 0 || fflush(stdout) != 0)
                rc = -1, tte_warn("<stdout>: write error");
        }
        tte_tokens_free(&prompt);
        tte_tokens_free(&out);
        json_decref(rec);
    }
    free(logits);
    free(scratch);
    tte_engine_free(e);
    tte_model_free(m);
    return rc;
}
