/* metric: see metric.h.
 *
 * The flow: read and grade every record (so the solution sets know every answer the model gave),
 * group the records by item, build each item's candidate set once, then walk each item's records
 * in (sample, budget) order, extending one trace sequence and forking it at each forced end. */
#include "metric.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "cli.h"
#include "engine/candidates.h"
#include "engine/engine.h"
#include "grade/grade.h"
#include "grade_record.h"
#include "model/chat.h"
#include "model/tokenizer.h"

/* tte-gen's default, for records that do not say which end of thinking they were forced with. */
static const char DEFAULT_END_THINKING[] = "</think>FINAL ANSWER: \\boxed{";
/* Most tokens fed to the engine in one call: bounds the activation memory of long traces. */
enum { FEED_CHUNK = 512 };

typedef struct {
    json_t *rec;
    int item;
    long long sample, budget;
    int32_t *context; /* prompt + thinking ids */
    int n_context;
    int32_t *end; /* the end-of-thinking ids */
    int n_end;
    char *answer; /* the answer as the model wrote it (from "final"), or NULL */
} record;

typedef struct {
    const char *id; /* borrowed from the first record */
    json_t *first;  /* the first record, for gold answer, type and choices */
    int *records;   /* indices into the record array */
    int n_records;
    char **texts; /* candidate answers; texts[gold] is the gold answer */
    int n_cands, gold;
    int32_t **ids; /* each text + "}", tokenised */
    int *lens;
    char set_name[32];
    char set_key[40]; /* hash of the candidates' ids, for cache keys */
} item;

typedef struct {
    const metric_options *opt;
    tte_tokenizer *tok;
    tte_chat *chat;
    tte_model *model;
    int vocab;
    char model_hash[40];
    record *recs;
    int n_recs;
    item *items;
    int n_items;
    json_t *item_index; /* id -> item index */
    tte_cache *cache;
} scorer;

static int32_t *encode(tte_tokenizer *tok, const char *text, size_t len, int *n) {
    tte_tokens t = {0};
    if (tte_tokenizer_encode(tok, text, len, &t) != 0) tte_die("out of memory");
    *n = (int)t.n;
    return t.ids;
}

/* Reads, grades and checks one record; -1 after tte_jsonl_fail. */
static int read_record(scorer *s, tte_jsonl *in, json_t *rec, record *r) {
    memset(r, 0, sizeof *r);
    r->rec = rec;
    if (grade_record(in, rec) < 0) return -1;
    const char *id, *prompt, *end, *final;
    if (tte_jsonl_get_string(in, rec, "id", &id) || tte_jsonl_get_string(in, rec, "prompt", &prompt) ||
        optional_string(in, rec, "end_thinking", &end) || optional_string(in, rec, "final", &final))
        return -1;
    json_t *v;
    r->sample = json_is_integer(v = json_object_get(rec, "sample")) ? json_integer_value(v) : 0;
    r->budget = json_is_integer(v = json_object_get(rec, "budget")) ? json_integer_value(v) : 0;
    int32_t *thinking;
    int n_thinking, n_prompt;
    if (!json_object_get(rec, "thinking_ids"))
        return tte_jsonl_fail(in, "field \"thinking_ids\": missing (tte-gen writes it; the metric needs the "
                                  "exact token ids of the trace)");
    if (tte_jsonl_get_ids(in, rec, "thinking_ids", s->vocab, 1, &thinking, &n_thinking) != 0) return -1;
    size_t len;
    char *text = tte_chat_render(s->chat, prompt, &len);
    if (!text) tte_die("out of memory");
    int32_t *prompt_ids = encode(s->tok, text, len, &n_prompt);
    free(text);
    v = json_object_get(rec, "prompt_tokens");
    if (json_is_integer(v) && json_integer_value(v) != n_prompt) {
        free(thinking), free(prompt_ids);
        return tte_jsonl_fail(in,
                              "field \"prompt_tokens\": the record has %lld, the chat template gives %d "
                              "(give tte-score the model and --template tte-gen had)",
                              (long long)json_integer_value(v), n_prompt);
    }
    r->n_context = n_prompt + n_thinking;
    r->context = malloc((size_t)(r->n_context ? r->n_context : 1) * sizeof *r->context);
    memcpy(r->context, prompt_ids, (size_t)n_prompt * sizeof *prompt_ids);
    memcpy(r->context + n_prompt, thinking, (size_t)n_thinking * sizeof *thinking);
    free(thinking), free(prompt_ids);
    if (!end) end = DEFAULT_END_THINKING;
    r->end = encode(s->tok, end, strlen(end), &r->n_end);
    if (r->n_end == 0) return tte_jsonl_fail(in, "field \"end_thinking\": must not be empty");
    if (final) r->answer = tte_extract_final(final);

    json_t *at = json_object_get(s->item_index, id);
    if (at) {
        r->item = (int)json_integer_value(at);
    } else {
        r->item = s->n_items++;
        s->items = realloc(s->items, (size_t)s->n_items * sizeof *s->items);
        memset(&s->items[r->item], 0, sizeof *s->items);
        s->items[r->item].id = id;
        s->items[r->item].first = rec;
        json_object_set_new(s->item_index, id, json_integer(r->item));
    }
    item *it = &s->items[r->item];
    it->records = realloc(it->records, (size_t)(it->n_records + 1) * sizeof *it->records);
    it->records[it->n_records++] = (int)(r - s->recs);
    return 0;
}

static void add_candidate(item *it, const char *text) {
    it->texts = realloc(it->texts, (size_t)(it->n_cands + 1) * sizeof *it->texts);
    it->texts[it->n_cands++] = strdup(text);
}

/* The item's solution set (see metric.h), tokenised. */
static void make_candidates(scorer *s, item *it) {
    char *gold = gold_answer(NULL, it->first);
    const char *type_name = json_string_value(json_object_get(it->first, "answer_type"));
    json_t *choices = json_object_get(it->first, "choices");
    int n_choices = json_is_array(choices) ? (int)json_array_size(choices) : 0;
    int type = type_name ? tte_answer_type_parse(type_name) : (int)tte_answer_type_infer(gold, n_choices > 0);
    char *end;
    long g = strtol(gold, &end, 10);
    char buf[16];
    if (type == TTE_ANSWER_INTEGER && *gold && !*end && g >= 0 && g <= 999) {
        for (int k = 0; k < 1000; k++) snprintf(buf, sizeof buf, "%d", k), add_candidate(it, buf);
        it->gold = (int)g;
        snprintf(it->set_name, sizeof it->set_name, "int:0-999");
    } else if (type == TTE_ANSWER_CHOICE && strlen(gold) == 1 && gold[0] >= 'A' && gold[0] <= 'Z') {
        int n = n_choices > gold[0] - 'A' ? n_choices : gold[0] - 'A' + 1;
        for (int k = 0; k < n; k++) snprintf(buf, sizeof buf, "%c", 'A' + k), add_candidate(it, buf);
        it->gold = gold[0] - 'A';
        snprintf(it->set_name, sizeof it->set_name, "choice:A-%c", 'A' + n - 1);
    } else {
        /* The gold answer, then each answer the model gave that no earlier candidate equals. */
        add_candidate(it, gold);
        it->gold = 0;
        for (int k = 0; k < it->n_records; k++) {
            const char *a = s->recs[it->records[k]].answer;
            int seen = !a || !*a;
            for (int c = 0; c < it->n_cands && !seen; c++)
                seen =
                    strcmp(a, it->texts[c]) == 0 || tte_answer_equal(it->texts[c], a, (tte_answer_type)type);
            if (!seen) add_candidate(it, a);
        }
        snprintf(it->set_name, sizeof it->set_name, "answers");
    }
    free(gold);
    it->ids = malloc((size_t)it->n_cands * sizeof *it->ids);
    it->lens = malloc((size_t)it->n_cands * sizeof *it->lens);
    json_t *key = json_array();
    for (int c = 0; c < it->n_cands; c++) {
        size_t len = strlen(it->texts[c]);
        char *closed = malloc(len + 2);
        memcpy(closed, it->texts[c], len);
        memcpy(closed + len, "}", 2);
        it->ids[c] = encode(s->tok, closed, len + 1, &it->lens[c]);
        free(closed);
        json_array_append_new(key, tte_json_ids(it->ids[c], it->lens[c]));
    }
    tte_key_format(tte_key_of_json(key), it->set_key);
    json_decref(key);
}

/* Appends TOKENS[0..n) to SEQ in chunks; LOGITS gets the last token's row. */
static int feed(tte_engine *e, int seq, const int32_t *tokens, int n, float *logits, char *err,
                size_t errlen) {
    for (int at = 0; at < n; at += FEED_CHUNK) {
        tte_span span = {
            .seq = seq, .tokens = tokens + at, .n_tokens = n - at < FEED_CHUNK ? n - at : FEED_CHUNK};
        if (tte_engine_forward(e, &span, 1, TTE_LOGITS_LAST, logits, err, errlen) != 0) return -1;
    }
    return 0;
}

static tte_key record_key(const scorer *s, const item *it, const record *r) {
    json_t *k =
        json_pack("{s:i, s:s, s:s, s:o, s:o, s:s}", "version", 1, "model", s->model_hash, "device",
                  tte_device_resolve(s->opt->device), "context", tte_json_ids(r->context, r->n_context),
                  "end", tte_json_ids(r->end, r->n_end), "set", it->set_key);
    tte_key key = tte_key_of_json(k);
    json_decref(k);
    return key;
}

/* The metric fields of R from the candidates' log-probabilities LP. */
static void set_fields(const item *it, record *r, const double *lp) {
    double most = -INFINITY, z = 0, entropy = 0;
    for (int c = 0; c < it->n_cands; c++) most = fmax(most, lp[c]);
    for (int c = 0; c < it->n_cands; c++) z += exp(lp[c] - most);
    double log_z = most + log(z);
    int rank = 1;
    for (int c = 0; c < it->n_cands; c++) {
        double q = exp(lp[c] - log_z);
        if (q > 0) entropy -= q * (lp[c] - log_z);
        rank += lp[c] > lp[it->gold];
    }
    json_t *rec = r->rec;
    json_object_set_new(rec, "p_gold", json_real(exp(lp[it->gold])));
    json_object_set_new(rec, "logp_gold", json_real(lp[it->gold]));
    json_object_set_new(rec, "p_gold_norm", json_real(exp(lp[it->gold] - log_z)));
    json_object_set_new(rec, "solution_set", json_string(it->set_name));
    json_object_set_new(rec, "set_size", json_integer(it->n_cands));
    json_object_set_new(rec, "entropy_nats", json_real(entropy));
    json_object_set_new(rec, "gold_rank", json_integer(rank));
}

static int by_sample_budget(const void *a, const void *b, void *arg) {
    const record *recs = arg, *x = &recs[*(const int *)a], *y = &recs[*(const int *)b];
    if (x->sample != y->sample) return x->sample < y->sample ? -1 : 1;
    if (x->budget != y->budget) return x->budget < y->budget ? -1 : 1;
    return *(const int *)a - *(const int *)b;
}

/* Scores every record of IT. TRACE is the sequence holding the last context fed (or -1). */
static int score_item(scorer *s, tte_engine *e, item *it, float *logits, double *lp, char *err,
                      size_t errlen) {
    qsort_r(it->records, (size_t)it->n_records, sizeof *it->records, by_sample_budget, s->recs);
    int trace = -1, n_trace = 0;
    const int32_t *trace_ids = NULL;
    for (int k = 0; k < it->n_records; k++) {
        record *r = &s->recs[it->records[k]];
        tte_key key = record_key(s, it, r);
        json_t *hit = s->cache && !s->opt->refresh ? tte_cache_get_json(s->cache, key) : NULL;
        if (json_array_size(hit) == (size_t)it->n_cands) {
            for (int c = 0; c < it->n_cands; c++) lp[c] = json_number_value(json_array_get(hit, (size_t)c));
            set_fields(it, r, lp);
            json_decref(hit);
            continue;
        }
        json_decref(hit);
        /* Extend the trace when this context continues it, else start it again. */
        if (trace < 0 || n_trace > r->n_context ||
            memcmp(trace_ids, r->context, (size_t)n_trace * sizeof(int32_t))) {
            tte_seq_free(e, trace);
            trace = tte_seq_new(e), n_trace = 0;
        }
        if (r->n_context > n_trace &&
            feed(e, trace, r->context + n_trace, r->n_context - n_trace, logits, err, errlen) != 0)
            return tte_seq_free(e, trace), -1;
        n_trace = r->n_context, trace_ids = r->context;
        int forced = tte_seq_fork(e, trace);
        int rc = feed(e, forced, r->end, r->n_end, logits, err, errlen);
        if (rc == 0)
            rc = tte_candidates_logprob(e, forced, logits, (const int32_t *const *)it->ids, it->lens,
                                        it->n_cands, lp, err, errlen);
        tte_seq_free(e, forced);
        if (rc != 0) return tte_seq_free(e, trace), -1;
        set_fields(it, r, lp);
        if (s->cache) {
            json_t *v = json_array();
            for (int c = 0; c < it->n_cands; c++) json_array_append_new(v, json_real(lp[c]));
            char cerr[512];
            if (tte_cache_put_json(s->cache, key, v, cerr, sizeof cerr) != 0) tte_warn("%s", cerr);
            json_decref(v);
        }
    }
    tte_seq_free(e, trace);
    return 0;
}

/* KV memory for the longest context twice (trace and forced end) and one partly shared page per
 * node of the largest candidate tree. */
static size_t default_kv_bytes(const scorer *s) {
    int longest = 0, nodes = 0;
    for (int i = 0; i < s->n_recs; i++)
        if (s->recs[i].n_context + s->recs[i].n_end > longest)
            longest = s->recs[i].n_context + s->recs[i].n_end;
    for (int i = 0; i < s->n_items; i++) {
        int n = 0;
        for (int c = 0; c < s->items[i].n_cands; c++) n += s->items[i].lens[c];
        if (n > nodes) nodes = n;
    }
    size_t pages = 2 * ((size_t)longest / TTE_PAGE_TOKENS + 2) + (size_t)nodes + 8;
    return pages * TTE_PAGE_TOKENS * tte_model_kv_bytes_per_token(s->model);
}

static void scorer_free(scorer *s) {
    for (int i = 0; i < s->n_recs; i++) {
        json_decref(s->recs[i].rec);
        free(s->recs[i].context), free(s->recs[i].end), free(s->recs[i].answer);
    }
    for (int i = 0; i < s->n_items; i++) {
        item *it = &s->items[i];
        for (int c = 0; c < it->n_cands; c++) free(it->texts[c]), free(it->ids ? it->ids[c] : NULL);
        free(it->texts), free(it->ids), free(it->lens), free(it->records);
    }
    free(s->recs), free(s->items);
    json_decref(s->item_index);
    tte_cache_close(s->cache);
    tte_chat_free(s->chat);
    tte_tokenizer_free(s->tok);
    tte_model_free(s->model);
}

int metric_run(const metric_options *o, tte_jsonl *in) {
    scorer s = {.opt = o, .item_index = json_object()};
    char err[1024];
    int rc = -1, got;
    tte_engine *e = NULL;
    float *logits = NULL;
    double *lp = NULL;
    if (!(s.tok = tte_tokenizer_load(o->model_dir, err, sizeof err)) ||
        !(s.chat = o->template_path ? tte_chat_from_file(o->template_path, err, sizeof err)
                                    : tte_chat_from_tokenizer(s.tok, err, sizeof err)) ||
        !(s.model = tte_model_load(o->model_dir, err, sizeof err)) ||
        (o->use_cache && !(s.cache = tte_cache_open(NULL, err, sizeof err)))) {
        tte_warn("%s", err);
        goto out;
    }
    s.vocab = tte_model_config(s.model)->vocab_size;
    tte_key_format(tte_model_hash(s.model), s.model_hash);

    json_t *rec;
    int cap = 0;
    while ((got = tte_jsonl_next(in, &rec)) == 1) {
        if (s.n_recs == cap) {
            cap = cap ? 2 * cap : 256;
            s.recs = realloc(s.recs, (size_t)cap * sizeof *s.recs);
        }
        if (read_record(&s, in, rec, &s.recs[s.n_recs++]) != 0) got = -1;
        if (got < 0) break;
    }
    if (got < 0) {
        tte_warn("%s", tte_jsonl_error(in));
        goto out;
    }
    int most_cands = 1;
    for (int i = 0; i < s.n_items; i++) {
        make_candidates(&s, &s.items[i]);
        if (s.items[i].n_cands > most_cands) most_cands = s.items[i].n_cands;
    }
    tte_engine_opts eo = {.threads = o->threads,
                          .backend = o->device,
                          .kv_bytes = o->kv_mem ? o->kv_mem : default_kv_bytes(&s)};
    if (!(e = tte_engine_create(s.model, &eo, err, sizeof err))) goto fail;
    logits = malloc((size_t)s.vocab * sizeof *logits);
    lp = malloc((size_t)most_cands * sizeof *lp);

    tte_progress progress;
    tte_progress_init(&progress, o->progress);
    int done = 0;
    for (int i = 0; i < s.n_items; i++) {
        if (score_item(&s, e, &s.items[i], logits, lp, err, sizeof err) != 0) {
            tte_progress_done(&progress);
            goto fail;
        }
        done += s.items[i].n_records;
        tte_progress_update(&progress, "%d/%d records scored", done, s.n_recs);
    }
    tte_progress_done(&progress);
    for (int i = 0; i < s.n_recs; i++)
        if (tte_jsonl_write(stdout, s.recs[i].rec) != 0) break;
    if (fflush(stdout) != 0 || ferror(stdout)) {
        tte_warn("<stdout>: write error");
        goto out;
    }
    rc = 0;
    goto out;
fail:
    tte_warn("%s", err);
out:
    free(logits), free(lp);
    tte_engine_free(e);
    scorer_free(&s);
    return rc;
}
