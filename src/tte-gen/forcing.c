/* forcing: see forcing.h.
 *
 * The flow: read every item (so bad input is found before anything is written, and the progress
 * line knows the total), template and tokenise each prompt once, make the units (item x sample, or
 * item x sample x budget with --independent), take the cached ones from the cache, run the rest in
 * one sweep, and write each item's records once all its units are done and every earlier item has
 * been written. */
#include "forcing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "cli.h"
#include "compute.h"
#include "engine/engine.h"
#include "records.h"
#include "sweep.h"
#include "xalloc.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

/* The original study's repetition guard: thinking ends when a continuation phrase would follow the
 * previous one within this many tokens. */
enum { STUDY_GUARD_TOKENS = 100 };

/* Everything the records and the cache keys need, shared by all units. */
typedef struct {
    const forcing_options *opt;
    tte_session *ses;
    const tte_config *cfg;
    FILE *out;         /* the records go here */
    json_t *items;     /* the input records */
    int32_t **prompts; /* per item: the templated prompt's ids */
    int *n_prompt;
    sweep_unit *units;
    int n_units;
    int *first_unit; /* per item: its first unit; units of an item are adjacent */
    int *units_left; /* per item: units not done */
    int next_item;   /* first item not written */
    sweep_rules rules;
    json_t *rules_key; /* the options that change results, for cache keys */
    tte_progress progress;
    long tokens_done; /* thinking tokens computed (not from the cache) */
    int n_todo;       /* units to compute */
    int units_computed;
    int failed;
    tte_cost_model cost; /* compute.h */
} run;

/* The ids of TEXT (malloc'd), *N set. */
static int32_t *encode(const tte_session *ses, const char *text, int *n) {
    return tte_session_encode(ses, text, strlen(text), n);
}

/* The text of IDS (malloc'd), valid UTF-8; ids come from the model, so they are in the vocabulary. */
static char *decode(const tte_tokenizer *tok, const int32_t *ids, int n) {
    char err[256];
    size_t len;
    char *text = tte_tokenizer_decode_text(tok, ids, (size_t)n, 0, &len, err, sizeof err);
    if (!text) tte_die("%s", err);
    return text;
}

/* Fills IDS (malloc'd) from a cached JSON array of integers; -1 when it is not one. */
static int cached_ids(json_t *a, int32_t **ids, int *n) {
    if (!json_is_array(a)) return -1;
    *n = (int)json_array_size(a);
    *ids = malloc((size_t)(*n ? *n : 1) * sizeof **ids);
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) {
        if (!json_is_integer(v)) return free(*ids), *ids = NULL, -1;
        (*ids)[i] = (int32_t)json_integer_value(v);
    }
    return 0;
}

/* The cache key of unit U: everything its result depends on. */
static tte_key unit_key(run *r, const sweep_unit *u) {
    json_t *k =
        json_pack("{s:O, s:o, s:I, s:o}", "rules", r->rules_key, "prompt",
                  tte_json_ids(u->prompt, u->n_prompt), "seed", (json_int_t)u->seed, "budgets", json_array());
    for (int j = 0; j < u->n_budgets; j++)
        json_array_append_new(json_object_get(k, "budgets"), json_integer(u->budgets[j]));
    tte_key key = tte_key_of_json(k);
    json_decref(k);
    return key;
}

static json_t *unit_to_json(const sweep_unit *u) {
    json_t *results = json_array();
    for (int j = 0; j < u->n_budgets; j++) {
        const sweep_result *s = &u->results[j];
        json_array_append_new(results,
                              json_pack("{s:i, s:i, s:i, s:i, s:o}", "budget", s->budget, "thinking_tokens",
                                        s->thinking_tokens, "continues", s->continues, "ended", (int)s->ended,
                                        "answer", tte_json_ids(s->answer, s->n_answer)));
    }
    return json_pack("{s:o, s:o}", "thinking", tte_json_ids(u->thinking, u->n_thinking), "results", results);
}

/* Restores U's results from a cache entry; -1 when the entry does not fit U (then it is recomputed). */
static int unit_from_json(sweep_unit *u, json_t *v) {
    json_t *results = json_object_get(v, "results");
    if (cached_ids(json_object_get(v, "thinking"), &u->thinking, &u->n_thinking) != 0) return -1;
    if ((int)json_array_size(results) != u->n_budgets) return -1;
    u->results = calloc((size_t)u->n_budgets, sizeof *u->results);
    for (int j = 0; j < u->n_budgets; j++) {
        json_t *s = json_array_get(results, (size_t)j);
        sweep_result *res = &u->results[j];
        res->budget = (int)json_integer_value(json_object_get(s, "budget"));
        res->thinking_tokens = (int)json_integer_value(json_object_get(s, "thinking_tokens"));
        res->continues = (int)json_integer_value(json_object_get(s, "continues"));
        res->ended = (sweep_ended)json_integer_value(json_object_get(s, "ended"));
        if (res->budget != u->budgets[j] || res->thinking_tokens > u->n_thinking ||
            res->ended > ENDED_GUARD ||
            cached_ids(json_object_get(s, "answer"), &res->answer, &res->n_answer) != 0)
            return -1;
    }
    u->done = 1;
    return 0;
}

/* The records of one unit: one per budget. */
static void write_unit_records(run *r, int item, const sweep_unit *u, int sample) {
    const forcing_options *o = r->opt;
    for (int j = 0; j < u->n_budgets; j++) {
        const sweep_result *s = &u->results[j];
        /* With --independent each budget is its own unit, with its own trace. */
        json_t *rec = json_deep_copy(json_array_get(r->items, (size_t)item));
        char *thinking = decode(r->ses->tok, u->thinking, s->thinking_tokens);
        char *final = decode(r->ses->tok, s->answer, s->n_answer);
        json_object_set_new(rec, "model", json_string(r->ses->model_name));
        json_object_set_new(rec, "model_hash", json_string(r->ses->model_hash));
        json_object_set_new(rec, TTE_FIELD_MODEL_PARAMS, json_real(r->ses->n_params));
        json_object_set_new(rec, "budget", json_integer(s->budget));
        json_object_set_new(rec, "sample", json_integer(sample));
        json_object_set_new(rec, "seed", json_integer((json_int_t)o->seed));
        json_object_set_new(rec, "temperature", json_real(r->rules.sampling.temperature));
        json_object_set_new(rec, "top_p", json_real(r->rules.sampling.top_p));
        json_object_set_new(rec, "top_k", json_integer(r->rules.sampling.top_k));
        json_object_set_new(rec, "thinking", json_string(thinking));
        json_object_set_new(rec, "thinking_tokens", json_integer(s->thinking_tokens));
        json_object_set_new(rec, "continues", json_integer(s->continues));
        json_object_set_new(rec, "ended", json_string(sweep_ended_name(s->ended)));
        json_object_set_new(rec, "final", json_string(final));
        json_object_set_new(rec, "final_tokens", json_integer(s->n_answer));
        json_object_set_new(rec, "prompt_tokens", json_integer(r->n_prompt[item]));
        /* The cost of this answer as one run would spend it: the prompt, the thinking, the end of
         * thinking and the answer, the item's samples decoding together (compute.h). */
        tte_cost cost = {0};
        long p = r->n_prompt[item], t = s->thinking_tokens, e = r->rules.n_end;
        tte_cost_step(&cost, &r->cost, 0, p, 0, o->samples);
        tte_cost_decode(&cost, &r->cost, p, t, o->samples);
        tte_cost_step(&cost, &r->cost, p + t, e, 0, o->samples);
        tte_cost_decode(&cost, &r->cost, p + t + e, s->n_answer, o->samples);
        tte_cost_set(rec, "", &cost);
        json_object_set_new(rec, "end_thinking", json_string(o->end_thinking));
        json_object_set_new(rec, "thinking_ids", tte_json_ids(u->thinking, s->thinking_tokens));
        json_object_set_new(rec, "final_ids", tte_json_ids(s->answer, s->n_answer));
        if (tte_jsonl_write(r->out, rec) != 0) r->failed = 1;
        json_decref(rec);
        free(thinking);
        free(final);
    }
}

/* Writes every finished item that has no unfinished item before it. */
static void flush_items(run *r) {
    int n_items = (int)json_array_size(r->items);
    while (r->next_item < n_items && r->units_left[r->next_item] == 0) {
        int item = r->next_item++, first = r->first_unit[item];
        int end = item + 1 < n_items ? r->first_unit[item + 1] : r->n_units;
        for (int k = first; k < end; k++) {
            int per_sample = r->opt->independent ? r->opt->n_budgets : 1;
            write_unit_records(r, item, &r->units[k], (k - first) / per_sample);
            sweep_unit_clear(&r->units[k]);
        }
        fflush(r->out);
    }
    double elapsed = tte_now() - r->progress.start + 1e-9;
    double eta = r->units_computed ? elapsed * (r->n_todo - r->units_computed) / r->units_computed : 0;
    tte_progress_update(&r->progress, "%d/%d items, %.0f tokens/s, ETA %.0f s", r->next_item, n_items,
                        (double)r->tokens_done / elapsed, eta);
}

static void unit_done(void *ctx, int k) {
    run *r = ctx;
    sweep_unit *u = &r->units[k];
    r->tokens_done += u->n_thinking;
    r->units_computed++;
    if (r->ses->cache) {
        char err[512];
        json_t *v = unit_to_json(u);
        if (tte_cache_put_json(r->ses->cache, unit_key(r, u), v, err, sizeof err) != 0) tte_warn("%s", err);
        json_decref(v);
    }
    r->units_left[u->item]--;
    flush_items(r);
}

/* The stream seed of one unit: the user's seed, the item id, the sample (and the budget with
 * --independent), hashed, so each item's samples are the same whatever else is in the run. */
static uint64_t unit_seed(uint64_t seed, const char *id, int sample, int budget) {
    char buf[1024];
    int n = snprintf(buf, sizeof buf, "%llu\x1f%s\x1f%d\x1f%d", (unsigned long long)seed, id, sample, budget);
    return XXH3_64bits(buf, (size_t)(n < (int)sizeof buf ? n : (int)sizeof buf - 1));
}

/* Reads the items, checking each one's prompt. */
static int read_items(run *r, tte_jsonl *in) {
    json_t *rec;
    int rc;
    size_t cap = 0;
    while ((rc = tte_jsonl_next(in, &rec)) != 0) {
        if (rc < 0) return tte_warn("%s", tte_jsonl_error(in)), -1;
        const char *prompt, *id;
        if (tte_jsonl_get_string(in, rec, "prompt", &prompt) != 0 ||
            tte_jsonl_get_string(in, rec, "id", &id) != 0) {
            json_decref(rec);
            return tte_warn("%s", tte_jsonl_error(in)), -1;
        }
        size_t i = json_array_size(r->items);
        if (i == cap) {
            cap = cap ? 2 * cap : 64;
            r->prompts = realloc(r->prompts, cap * sizeof *r->prompts);
            r->n_prompt = realloc(r->n_prompt, cap * sizeof *r->n_prompt);
        }
        r->prompts[i] = tte_session_prompt(r->ses, prompt, &r->n_prompt[i]);
        int need =
            r->n_prompt[i] + r->opt->budgets[r->opt->n_budgets - 1] + r->rules.n_end + r->opt->answer_tokens;
        if (need > r->cfg->max_position_embeddings) {
            json_decref(rec);
            free(r->prompts[i]); /* run_free frees the prompts of the items read */
            tte_jsonl_fail(
                in,
                "field \"prompt\": %d prompt tokens + budget %d + answer need %d positions, the model "
                "has %d",
                r->n_prompt[i], r->opt->budgets[r->opt->n_budgets - 1], need,
                r->cfg->max_position_embeddings);
            return tte_warn("%s", tte_jsonl_error(in)), -1;
        }
        json_array_append_new(r->items, rec);
    }
    return 0;
}

/* Sets the rules from the options and the model: token ids of the phrases, what stops thinking,
 * which tokens close the answer, and the sampling parameters. */
static int make_rules(run *r) {
    const forcing_options *o = r->opt;
    sweep_rules *s = &r->rules;
    s->budgets = o->budgets, s->n_budgets = o->n_budgets;
    int n;
    s->continue_ids = encode(r->ses, o->continue_phrase, &n), s->n_continue = n;
    s->end_ids = encode(r->ses, o->end_thinking, &n), s->n_end = n;
    if (s->n_continue == 0) return tte_warn("--continue-phrase: must not be empty"), -1;
    int32_t *stop = malloc((size_t)(r->cfg->n_eos + 1) * sizeof *stop);
    int n_stop = 0, end_think = tte_tokenizer_token_id(r->ses->tok, "</think>");
    if (end_think >= 0) stop[n_stop++] = end_think;
    for (int i = 0; i < r->cfg->n_eos; i++) stop[n_stop++] = r->cfg->eos[i];
    s->stop_ids = stop, s->n_stop = n_stop;
    s->eos_ids = r->cfg->eos, s->n_eos = r->cfg->n_eos;
    unsigned char *closes = calloc((size_t)r->cfg->vocab_size, 1);
    for (int32_t t = 0; t < r->cfg->vocab_size; t++) {
        size_t len;
        const char *bytes = tte_tokenizer_token_bytes(r->ses->tok, t, &len);
        closes[t] = bytes && memchr(bytes, '}', len) != NULL;
    }
    s->closes_answer = closes;
    s->answer_tokens = o->answer_tokens;
    s->allow_early_stop = o->allow_early_stop;
    s->max_continues = o->max_continues;
    s->sampling = sampling_resolve(&o->sampling, r->cfg);
    s->sample_vocab = sampling_vocab(r->cfg, r->ses->tok);
    s->chunk_frac = o->compat_study ? o->chunk_frac : 0;
    s->guard_tokens = STUDY_GUARD_TOKENS;
    s->batch = o->batch;
    r->rules_key =
        json_pack("{s:i, s:s, s:s, s:i, s:o, s:o, s:i, s:b, s:i, s:f, s:f, s:i, s:b, s:f, s:i}", "version",
                  TTE_KEY_VERSION_GENERATION, "model", r->ses->model_hash, "numerics", r->ses->numerics,
                  "sample_vocab", s->sample_vocab, "continue", tte_json_ids(s->continue_ids, s->n_continue),
                  "end", tte_json_ids(s->end_ids, s->n_end), "answer_tokens", s->answer_tokens, "early_stop",
                  s->allow_early_stop, "max_continues", s->max_continues, "temperature",
                  s->sampling.temperature, "top_p", s->sampling.top_p, "top_k", s->sampling.top_k,
                  "independent", o->independent, "chunk_frac", s->chunk_frac, "guard", s->guard_tokens);
    return 0;
}

static void make_units(run *r) {
    const forcing_options *o = r->opt;
    int n_items = (int)json_array_size(r->items);
    int per_item = o->samples * (o->independent ? o->n_budgets : 1);
    r->n_units = n_items * per_item;
    r->units = calloc((size_t)(r->n_units ? r->n_units : 1), sizeof *r->units);
    r->first_unit = calloc((size_t)(n_items ? n_items : 1), sizeof *r->first_unit);
    r->units_left = calloc((size_t)(n_items ? n_items : 1), sizeof *r->units_left);
    int k = 0;
    for (int i = 0; i < n_items; i++) {
        const char *id = json_string_value(json_object_get(json_array_get(r->items, (size_t)i), "id"));
        r->first_unit[i] = k;
        r->units_left[i] = per_item;
        for (int sample = 0; sample < o->samples; sample++) {
            for (int b = 0; b < (o->independent ? o->n_budgets : 1); b++, k++) {
                sweep_unit *u = &r->units[k];
                u->item = i;
                u->prompt = r->prompts[i], u->n_prompt = r->n_prompt[i];
                u->budgets = o->independent ? &o->budgets[b] : o->budgets;
                u->n_budgets = o->independent ? 1 : o->n_budgets;
                u->seed = unit_seed(o->seed, id, sample, o->independent ? o->budgets[b] : -1);
            }
        }
    }
}

static void run_free(run *r) {
    int n_items = (int)json_array_size(r->items);
    for (int k = 0; k < r->n_units; k++) sweep_unit_clear(&r->units[k]);
    for (int i = 0; i < n_items; i++) free(r->prompts[i]);
    free(r->units), free(r->first_unit), free(r->units_left), free(r->prompts), free(r->n_prompt);
    free((void *)r->rules.continue_ids), free((void *)r->rules.end_ids), free((void *)r->rules.stop_ids);
    free((void *)r->rules.closes_answer);
    json_decref(r->rules_key);
    json_decref(r->items);
}

/* KV memory for a full batch of streams at the largest budget, with their branches, when the user
 * did not say (--kv-mem). */
static size_t default_kv_bytes(const run *r) {
    const forcing_options *o = r->opt;
    size_t longest = 0;
    for (int i = 0; i < (int)json_array_size(r->items); i++)
        if ((size_t)r->n_prompt[i] > longest) longest = (size_t)r->n_prompt[i];
    size_t branch = (size_t)(r->rules.n_end + o->answer_tokens) + 2 * TTE_PAGE_TOKENS;
    size_t per_stream = longest + (size_t)o->budgets[o->n_budgets - 1] + (size_t)o->n_budgets * branch;
    return tte_model_kv_bytes_per_token(r->ses->model) * per_stream * (size_t)(o->batch + 1);
}

int forcing_run(tte_session *ses, const forcing_options *opt, tte_jsonl *in, FILE *out) {
    run r = {.opt = opt, .ses = ses, .out = out, .cfg = ses->cfg, .items = json_array()};
    char err[1024];
    int rc = -1;
    tte_cost_model_of(&r.cost, ses->model);
    if (make_rules(&r) != 0 || read_items(&r, in) != 0) goto out;
    make_units(&r);

    /* Units already in the cache are marked done; the sweep skips them. */
    for (int k = 0; k < r.n_units; k++) {
        sweep_unit *u = &r.units[k];
        json_t *hit =
            r.ses->cache && !opt->refresh ? tte_cache_get_json(r.ses->cache, unit_key(&r, u)) : NULL;
        if (hit && unit_from_json(u, hit) == 0) {
            r.units_left[u->item]--;
        } else {
            sweep_unit_clear(u);
            u->done = 0;
            r.n_todo++;
        }
        json_decref(hit);
    }
    tte_progress_init(&r.progress, opt->progress);
    flush_items(&r);
    if (r.n_todo > 0) {
        if (tte_session_start(ses, opt->kv_mem ? opt->kv_mem : default_kv_bytes(&r), opt->batch, err,
                              sizeof err) != 0 ||
            sweep_run(ses->sched, &r.rules, r.units, r.n_units, unit_done, &r, err, sizeof err) != 0) {
            tte_warn("%s", err);
            goto out;
        }
    }
    tte_progress_done(&r.progress);
    if (r.progress.enabled)
        fprintf(stderr, "%s: %d units: %d from the cache, %d computed (%ld thinking tokens) in %.1f s\n",
                tte_prog, r.n_units, r.n_units - r.n_todo, r.n_todo, r.tokens_done,
                tte_now() - r.progress.start);
    rc = 0;
    if (r.failed || fflush(r.out) != 0) rc = -1, tte_warn("write error");
out:
    tte_progress_done(&r.progress);
    run_free(&r);
    return rc;
}
