/* session: see session.h. */
#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hub.h"
#include "model/safetensors.h"
#include "xalloc.h"

/* The records' model name: the last part of the folder or Hugging Face id the user gave. */
static void set_model_name(tte_session *s, const char *model) {
    size_t len = strlen(model);
    while (len > 1 && model[len - 1] == '/') len--;
    const char *start = model + len;
    while (start > model && start[-1] != '/') start--;
    snprintf(s->model_name, sizeof s->model_name, "%.*s", (int)(model + len - start), start);
}

/* The parameter count, as model sizes are usually given: every stored element. */
static int count_params(tte_session *s, char *err, size_t errlen) {
    tte_st_set *set = tte_st_open_dir(s->model_dir, err, errlen);
    if (!set) return -1;
    for (int i = 0; i < tte_st_count(set); i++) {
        const tte_st_tensor *t = tte_st_at(set, i);
        double n = 1;
        for (int d = 0; d < t->ndim; d++) n *= (double)t->shape[d];
        s->n_params += n;
    }
    tte_st_close(set);
    return 0;
}

/* Every id the tokenizer can give must have a row in the model's embeddings (padding beyond the
 * tokenizer is fine): an added token past them would be emitted by --encode and fail much later,
 * naming no file. A tokenizer-only folder without config.json has nothing to check against. */
static int check_ids(const tte_session *s, int tokenizer_only, char *err, size_t errlen) {
    tte_config cfg;
    char cerr[512];
    if (tte_config_load(s->model_dir, &cfg, cerr, sizeof cerr) != 0) {
        if (tokenizer_only) return 0;
        snprintf(err, errlen, "%s", cerr);
        return -1;
    }
    int32_t n = tte_tokenizer_vocab_size(s->tok);
    if (n <= cfg.vocab_size) return 0;
    snprintf(err, errlen,
             "%.900s/tokenizer.json: token id %d is past the model's %d embeddings (config.json vocab_size)",
             s->model_dir, n - 1, cfg.vocab_size);
    return -1;
}

tte_session *tte_session_open(const tte_session_opts *o, char *err, size_t errlen) {
    tte_session *s = tte_xcalloc(1, sizeof *s);
    s->threads = o->threads;
    s->device = o->device;
    set_model_name(s, o->model);
    if (tte_hub_resolve(o->model, s->model_dir, sizeof s->model_dir, err, errlen) != 0) goto fail;
    if (!(s->tok = tte_tokenizer_load(s->model_dir, err, errlen))) goto fail;
    if (check_ids(s, o->tokenizer_only, err, errlen) != 0) goto fail;
    if (o->chat) {
        s->chat = o->template_path ? tte_chat_from_file(o->template_path, err, errlen)
                                   : tte_chat_from_tokenizer(s->tok, err, errlen);
        if (!s->chat) goto fail;
    }
    if (!o->tokenizer_only) {
        if (!(s->model = tte_model_load(s->model_dir, err, errlen))) goto fail;
        s->cfg = tte_model_config(s->model);
        tte_key_format(tte_model_hash(s->model), s->model_hash);
        if (count_params(s, err, errlen) != 0) goto fail;
        snprintf(s->numerics, sizeof s->numerics, "%s", tte_engine_numerics(o->device));
    }
    /* A cache that cannot be opened costs speed, not results: say so once and go on without it. */
    if (o->use_cache && !(s->cache = tte_cache_open(NULL, err, errlen)))
        tte_warn("%s; going on without the cache", err);
    return s;
fail:
    tte_session_close(s);
    return NULL;
}

int tte_session_start(tte_session *s, size_t kv_bytes, int batch, char *err, size_t errlen) {
    tte_engine_opts eo = {.threads = s->threads, .backend = s->device, .kv_bytes = kv_bytes};
    if (!(s->engine = tte_engine_create(s->model, &eo, err, errlen))) return -1;
    s->sched = tte_sched_create(s->engine, &(tte_sched_opts){.batch = batch});
    return 0;
}

void tte_session_close(tte_session *s) {
    if (!s) return;
    tte_sched_free(s->sched);
    tte_engine_free(s->engine);
    tte_cache_close(s->cache);
    tte_model_free(s->model);
    tte_chat_free(s->chat);
    tte_tokenizer_free(s->tok);
    free(s);
}

size_t tte_session_kv_default(const tte_session *s, size_t tokens, int batch) {
    size_t one = tte_xmul(tokens + 2 * TTE_PAGE_TOKENS, tte_model_kv_bytes_per_token(s->model));
    size_t cap = (size_t)2 << 30, want = tte_xmul(one, (size_t)batch);
    return want < cap ? want : one > cap ? one : cap;
}

int32_t *tte_session_encode(const tte_session *s, const char *text, size_t len, int *n) {
    tte_tokens t = {0};
    if (tte_tokenizer_encode(s->tok, text, len, &t) != 0)
        tte_die("%s: the pre-tokenizer pattern hit PCRE2's match limit on a text of %zu bytes",
                tte_tokenizer_path(s->tok), len);
    *n = (int)t.n;
    return t.ids ? t.ids : tte_xmalloc(sizeof(int32_t));
}

int tte_session_read_ids(const tte_session *s, tte_jsonl *in, json_t *rec, const char *ids_field,
                         const char *text_field, int chat, tte_tokens *out) {
    int n;
    if (json_object_get(rec, ids_field)) {
        if (tte_jsonl_get_ids(in, rec, ids_field, s->cfg->vocab_size, 0, &out->ids, &n) != 0) return -1;
    } else {
        const char *text;
        if (tte_jsonl_get_string(in, rec, text_field, &text) != 0) return -1;
        out->ids = chat ? tte_session_prompt(s, text, &n) : tte_session_encode(s, text, strlen(text), &n);
        if (n == 0) {
            free(out->ids), out->ids = NULL;
            return tte_jsonl_fail(in, "field \"%s\": encodes to no tokens", text_field);
        }
    }
    out->n = out->cap = (size_t)n;
    return 0;
}

int32_t *tte_session_prompt(const tte_session *s, const char *prompt, int *n) {
    size_t len;
    char *text = tte_chat_render(s->chat, prompt, &len);
    int32_t *ids = tte_session_encode(s, text, len, n);
    free(text);
    return ids;
}
