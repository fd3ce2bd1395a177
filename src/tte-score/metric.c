/* metric: see metric.h.
 *
 * The flow: read and grade every record (so the solution sets know every answer the model gave),
 * group the records by item, build each item's candidate set and its prefix tree once, take what
 * the cache has, then run the rest on the scheduler: a chain of each sample's records in budget
 * order shares one trace lane, and each record's candidate tree is a set of lanes forked from it. */
#include "metric.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "cli.h"
#include "engine/candidates.h"
#include "engine/sched.h"
#include "grade/grade.h"
#include "grade_record.h"
#include "records.h"
#include "strmap.h"
#include "xalloc.h"

/* A record's progress. */
typedef enum { TODO, DUPLICATE, DONE } record_state;

typedef struct {
    json_t *rec;
    int item;
    long long sample, budget;
    int32_t *context; /* prompt + thinking ids */
    int n_context;
    int32_t *end; /* the end-of-thinking ids */
    int n_end;
    char *answer; /* the answer as the model wrote it (from "final"), or NULL */
    tte_key key;
    record_state state;
    int same_as;    /* DUPLICATE: the record computed with the same key */
    double *lp;     /* the candidates' log-probabilities, once known */
    int lanes_left; /* lanes of its candidate tree still running */
    int pages;      /* reserved for its tree */
} record;

typedef struct {
    const char *id; /* borrowed from the first record */
    json_t *first;  /* the first record, for gold answer, type and choices */
    int *records;   /* indices into the record array */
    int n_records, cap_records;
    char **texts; /* candidate answers; texts[gold] is the gold answer */
    int n_cands, cap_cands, gold;
    int32_t **ids; /* each text + "}", tokenised */
    int *lens;
    tte_cand_tree tree;
    char set_name[32];
    char set_key[40]; /* hash of the candidates' ids, for cache keys */
} item;

/* A sample's records that extend one another, in budget order: one trace lane serves them. */
typedef struct {
    int *records;
    int n_records;
    int pages; /* reserved for the trace */
} chain;

/* What a lane is for. */
typedef struct {
    enum { LANE_TRACE, LANE_NODE } role;
    int chain, at;    /* trace: its chain, and the record it is extending to */
    int record, node; /* node: the record whose tree it is part of, and the tree node */
} lane_job;

typedef struct {
    tte_session *ses;
    const metric_options *opt;
    int vocab;
    record *recs;
    int n_recs, cap_recs;
    item *items;
    int n_items, cap_items;
    tte_strmap item_index; /* id -> item */
    chain *chains;
    int n_chains, cap_chains, next_chain, active_chains;
    lane_job *lanes; /* by lane id */
    size_t cap_lanes;
    int *waiting; /* trace lanes at a record's context, waiting for room for its tree */
    int n_waiting, cap_waiting;
    int most_tree_pages; /* of any record to compute */
    int stepping;        /* the node lane whose children are being forked */
    int n_done;
    tte_progress progress;
} scorer;

/* Reads, grades and checks one record; -1 after tte_jsonl_fail. */
static int read_record(scorer *s, tte_jsonl *in, json_t *rec, record *r) {
    memset(r, 0, sizeof *r);
    r->rec = rec;
    r->same_as = -1;
    if (grade_record(in, rec) < 0) return -1;
    const char *id, *prompt, *end, *final;
    if (tte_jsonl_get_string(in, rec, TTE_FIELD_ID, &id) ||
        tte_jsonl_get_string(in, rec, TTE_FIELD_PROMPT, &prompt) ||
        optional_string(in, rec, "end_thinking", &end) || optional_string(in, rec, TTE_FIELD_FINAL, &final))
        return -1;
    json_t *v;
    r->sample = json_is_integer(v = json_object_get(rec, TTE_FIELD_SAMPLE)) ? json_integer_value(v) : 0;
    r->budget = json_is_integer(v = json_object_get(rec, TTE_FIELD_BUDGET)) ? json_integer_value(v) : 0;
    int32_t *thinking;
    int n_thinking, n_prompt;
    if (!json_object_get(rec, "thinking_ids"))
        return tte_jsonl_fail(in, "field \"thinking_ids\": missing (tte-gen writes it; the metric needs the "
                                  "exact token ids of the trace)");
    if (tte_jsonl_get_ids(in, rec, "thinking_ids", s->vocab, 1, &thinking, &n_thinking) != 0) return -1;
    int32_t *prompt_ids = tte_session_prompt(s->ses, prompt, &n_prompt);
    v = json_object_get(rec, "prompt_tokens");
    if (json_is_integer(v) && json_integer_value(v) != n_prompt) {
        free(thinking), free(prompt_ids);
        return tte_jsonl_fail(in,
                              "field \"prompt_tokens\": the record has %lld, the chat template gives %d "
                              "(give tte-score the model and --template tte-gen had)",
                              (long long)json_integer_value(v), n_prompt);
    }
    r->n_context = n_prompt + n_thinking;
    r->context = tte_xmalloc((size_t)r->n_context * sizeof *r->context);
    memcpy(r->context, prompt_ids, (size_t)n_prompt * sizeof *prompt_ids);
    if (n_thinking) memcpy(r->context + n_prompt, thinking, (size_t)n_thinking * sizeof *thinking);
    free(thinking), free(prompt_ids);
    if (!end) end = TTE_END_THINKING_DEFAULT;
    r->end = tte_session_encode(s->ses, end, strlen(end), &r->n_end);
    if (r->n_end == 0) return tte_jsonl_fail(in, "field \"end_thinking\": must not be empty");
    if (final) r->answer = tte_extract_final(final);

    r->item = tte_strmap_get(&s->item_index, id, strlen(id));
    if (r->item < 0) {
        r->item = s->n_items;
        TTE_GROW(s->items, s->cap_items, s->n_items + 1);
        memset(&s->items[s->n_items++], 0, sizeof *s->items);
        s->items[r->item].id = id;
        s->items[r->item].first = rec;
        tte_strmap_put(&s->item_index, id, strlen(id), r->item);
    }
    item *it = &s->items[r->item];
    TTE_GROW(it->records, it->cap_records, it->n_records + 1);
    it->records[it->n_records++] = (int)(r - s->recs);
    return 0;
}

static void add_candidate(item *it, const char *text) {
    TTE_GROW(it->texts, it->cap_cands, it->n_cands + 1);
    it->texts[it->n_cands++] = tte_xstrdup(text);
}

/* The item's solution set (see metric.h), tokenised, and its tree. */
static void make_candidates(scorer *s, item *it) {
    char *gold = gold_answer(NULL, it->first);
    const char *type_name = json_string_value(json_object_get(it->first, TTE_FIELD_ANSWER_TYPE));
    json_t *choices = json_object_get(it->first, TTE_FIELD_CHOICES);
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
    it->ids = tte_xmalloc((size_t)it->n_cands * sizeof *it->ids);
    it->lens = tte_xmalloc((size_t)it->n_cands * sizeof *it->lens);
    json_t *key = json_array();
    for (int c = 0; c < it->n_cands; c++) {
        size_t len = strlen(it->texts[c]);
        char *closed = tte_xmalloc(len + 2);
        memcpy(closed, it->texts[c], len);
        memcpy(closed + len, "}", 2);
        it->ids[c] = tte_session_encode(s->ses, closed, len + 1, &it->lens[c]);
        free(closed);
        json_array_append_new(key, tte_json_ids(it->ids[c], it->lens[c]));
    }
    tte_key_format(tte_key_of_json(key), it->set_key);
    json_decref(key);
    char err[512];
    if (tte_cand_tree_init(&it->tree, (const int32_t *const *)it->ids, it->lens, it->n_cands, s->vocab, err,
                           sizeof err) != 0)
        tte_die("item %s: %s", it->id, err); /* the tokenizer's own ids: cannot happen */
}

static tte_key record_key(const scorer *s, const item *it, const record *r) {
    json_t *k = json_pack("{s:i, s:s, s:s, s:o, s:o, s:s}", "version", TTE_KEY_VERSION_METRIC, "model",
                          s->ses->model_hash, "numerics", s->ses->numerics, "context",
                          tte_json_ids(r->context, r->n_context), "end", tte_json_ids(r->end, r->n_end),
                          "set", it->set_key);
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

/* Pages a record's tree can take: the forced end forked from the trace (a copied page, then its
 * tokens) and one page per node forked from its parent (a copied page or a new one). */
static int tree_pages(const scorer *s, const record *r) {
    return 2 + tte_sched_pages_for(r->n_end) + tte_cand_tree_pages(&s->items[r->item].tree);
}

/* Pages a chain's trace can take: its longest context, plus a copied page each time it goes on
 * after a fork. */
static int trace_pages(const chain *c, const record *recs) {
    return tte_sched_pages_for(recs[c->records[c->n_records - 1]].n_context) + c->n_records + 1;
}

/* Takes each record from the cache, or from an earlier record with the same key, or makes it
 * part of a chain: records of an item in (sample, budget) order whose contexts extend each other. */
static void plan(scorer *s) {
    tte_strmap by_key = {0};
    for (int i = 0; i < s->n_items; i++) {
        item *it = &s->items[i];
        qsort_r(it->records, (size_t)it->n_records, sizeof *it->records, by_sample_budget, s->recs);
        chain *open = NULL;
        const record *last = NULL;
        for (int k = 0; k < it->n_records; k++) {
            int ri = it->records[k];
            record *r = &s->recs[ri];
            r->key = record_key(s, it, r);
            json_t *hit =
                s->ses->cache && !s->opt->refresh ? tte_cache_get_json(s->ses->cache, r->key) : NULL;
            if (json_array_size(hit) == (size_t)it->n_cands) {
                r->lp = tte_xmalloc((size_t)it->n_cands * sizeof *r->lp);
                for (int c = 0; c < it->n_cands; c++)
                    r->lp[c] = json_number_value(json_array_get(hit, (size_t)c));
                r->state = DONE;
                s->n_done++;
            }
            json_decref(hit);
            if (r->state == DONE) continue;
            int same = tte_strmap_get(&by_key, (const char *)&r->key, sizeof r->key);
            if (same >= 0) {
                r->state = DUPLICATE, r->same_as = same;
                continue;
            }
            tte_strmap_put(&by_key, (const char *)&r->key, sizeof r->key, ri);
            if (!open || last->n_context > r->n_context ||
                memcmp(last->context, r->context, (size_t)last->n_context * sizeof(int32_t)) != 0) {
                TTE_GROW(s->chains, s->cap_chains, s->n_chains + 1);
                open = &s->chains[s->n_chains++];
                memset(open, 0, sizeof *open);
                open->records = tte_xmalloc((size_t)it->n_records * sizeof *open->records);
            }
            open->records[open->n_records++] = ri;
            last = r;
            if (tree_pages(s, r) > s->most_tree_pages) s->most_tree_pages = tree_pages(s, r);
        }
    }
    tte_strmap_free(&by_key);
}

static lane_job *job_of(scorer *s, tte_sched *sched, int lane) {
    size_t old = s->cap_lanes;
    TTE_GROW(s->lanes, s->cap_lanes, (size_t)tte_sched_lane_limit(sched));
    if (s->cap_lanes > old) memset(s->lanes + old, 0, (s->cap_lanes - old) * sizeof *s->lanes);
    return &s->lanes[lane];
}

/* Record RI has every log-probability: its fields, the cache, and the records that share its key. */
static void record_done(scorer *s, int ri) {
    record *r = &s->recs[ri];
    r->state = DONE;
    s->n_done++;
    if (s->ses->cache) {
        json_t *v = json_array();
        for (int c = 0; c < s->items[r->item].n_cands; c++) json_array_append_new(v, json_real(r->lp[c]));
        char err[512];
        if (tte_cache_put_json(s->ses->cache, r->key, v, err, sizeof err) != 0) tte_warn("%s", err);
        json_decref(v);
    }
    tte_progress_update(&s->progress, "%d/%d records scored", s->n_done, s->n_recs);
}

/* The trace in LANE has reached the context of its chain's current record: fork that record's
 * forced end when its tree has room, then go on to the next record (forking again at once when it
 * has the same context), or end. Returns 1 when it no longer waits, 0 when it waits for room. */
static int fork_forced_ends(scorer *s, tte_sched *sched, int lane) {
    for (;;) {
        lane_job *t = job_of(s, sched, lane);
        chain *c = &s->chains[t->chain];
        int ri = c->records[t->at];
        record *r = &s->recs[ri];
        r->pages = tree_pages(s, r);
        if (tte_sched_reserve(sched, r->pages) != 0) return 0;
        r->lp = tte_xcalloc((size_t)s->items[r->item].n_cands, sizeof *r->lp);
        r->lanes_left = 1;
        int forced = tte_sched_lane_fork(sched, lane);
        *job_of(s, sched, forced) = (lane_job){.role = LANE_NODE, .record = ri, .node = 0};
        tte_sched_feed(sched, forced, r->end, r->n_end, TTE_LOGITS_LAST);
        t = job_of(s, sched, lane);
        if (++t->at == c->n_records) {
            tte_sched_lane_end(sched, lane);
            tte_sched_release(sched, c->pages);
            s->active_chains--;
            return 1;
        }
        const record *next = &s->recs[c->records[t->at]];
        if (next->n_context > r->n_context) {
            tte_sched_feed(sched, lane, next->context + r->n_context, next->n_context - r->n_context,
                           TTE_LOGITS_LAST);
            return 1;
        }
    }
}

/* A child lane of a record's tree: it holds NODE. */
static void note_child(void *ctx, int lane, int node) {
    scorer *s = ctx;
    int of = job_of(s, s->ses->sched, s->stepping)->record;
    *job_of(s, s->ses->sched, lane) = (lane_job){.role = LANE_NODE, .record = of, .node = node};
}

/* Node lane LANE's logits: its candidates scored, its children forked; the record is done when
 * the last lane of its tree ends. */
static void node_step(scorer *s, tte_sched *sched, int lane, const float *logits) {
    lane_job job = *job_of(s, sched, lane);
    record *r = &s->recs[job.record];
    s->stepping = lane;
    r->lanes_left +=
        tte_cand_tree_step(&s->items[r->item].tree, sched, lane, job.node, logits, r->lp, note_child, s);
    if (r->lanes_left == 0) {
        tte_sched_release(sched, r->pages);
        record_done(s, job.record);
    }
}

static int on_logits(void *ctx, tte_sched *sched, int lane, const float *logits, int first, int rows,
                     int fed_all, char *err, size_t errlen) {
    scorer *s = ctx;
    if (job_of(s, sched, lane)->role == LANE_NODE) {
        node_step(s, sched, lane, logits);
    } else if (!fork_forced_ends(s, sched, lane)) {
        TTE_GROW(s->waiting, s->cap_waiting, s->n_waiting + 1);
        s->waiting[s->n_waiting++] = lane;
    }
    return 0;
}

/* Forks the trees that waited for room, oldest first, then starts chains while there is room. */
static int admit(void *ctx, tte_sched *sched, char *err, size_t errlen) {
    scorer *s = ctx;
    int forked = 0;
    while (forked < s->n_waiting && fork_forced_ends(s, sched, s->waiting[forked])) forked++;
    for (int i = forked; i < s->n_waiting; i++) s->waiting[i - forked] = s->waiting[i];
    s->n_waiting -= forked;
    while (s->next_chain < s->n_chains && s->active_chains < s->opt->batch && s->n_waiting == 0) {
        chain *c = &s->chains[s->next_chain];
        const record *first = &s->recs[c->records[0]];
        c->pages = trace_pages(c, s->recs);
        /* A chain starts only when room for the largest tree is left beside its trace: so when no
         * tree runs, the oldest waiting trace can always fork, and traces never starve the trees. */
        int need = c->pages + s->most_tree_pages;
        if (need > tte_sched_pages_total(sched)) {
            snprintf(err, errlen,
                     "a record needs %d KV pages of %d tokens, the cache holds %d: raise --kv-mem", need,
                     TTE_PAGE_TOKENS, tte_sched_pages_total(sched));
            return -1;
        }
        if (tte_sched_reserve(sched, need) != 0) break;
        tte_sched_release(sched, s->most_tree_pages);
        int lane = tte_sched_lane_new(sched);
        *job_of(s, sched, lane) = (lane_job){.role = LANE_TRACE, .chain = s->next_chain++, .at = 0};
        tte_sched_feed(sched, lane, first->context, first->n_context, TTE_LOGITS_LAST);
        s->active_chains++;
    }
    /* A running trace may still have to wait for room for a tree: admission is needed until the
     * last trace is done. */
    return s->next_chain == s->n_chains && s->active_chains == 0 ? TTE_SCHED_NO_MORE : 0;
}

/* KV memory for a batch of chains, each with one tree, up to 2 GiB, and at least one of each. */
static size_t default_kv_bytes(const scorer *s) {
    int most = 0;
    for (int i = 0; i < s->n_chains; i++)
        if (trace_pages(&s->chains[i], s->recs) > most) most = trace_pages(&s->chains[i], s->recs);
    size_t page = TTE_PAGE_TOKENS * tte_model_kv_bytes_per_token(s->ses->model);
    size_t one = (size_t)(most + s->most_tree_pages + 8) * page, cap = (size_t)2 << 30;
    size_t want = one * (size_t)s->opt->batch;
    return want < cap ? want : one > cap ? one : cap;
}

static void scorer_free(scorer *s) {
    for (int i = 0; i < s->n_recs; i++) {
        json_decref(s->recs[i].rec);
        free(s->recs[i].context), free(s->recs[i].end), free(s->recs[i].answer), free(s->recs[i].lp);
    }
    for (int i = 0; i < s->n_items; i++) {
        item *it = &s->items[i];
        for (int c = 0; c < it->n_cands; c++) free(it->texts[c]), free(it->ids ? it->ids[c] : NULL);
        free(it->texts), free(it->ids), free(it->lens), free(it->records);
        tte_cand_tree_free(&it->tree);
    }
    for (int i = 0; i < s->n_chains; i++) free(s->chains[i].records);
    free(s->recs), free(s->items), free(s->chains), free(s->lanes), free(s->waiting);
    tte_strmap_free(&s->item_index);
}

int metric_run(tte_session *ses, const metric_options *o, tte_jsonl *in, FILE *out) {
    scorer s = {.ses = ses, .opt = o, .vocab = ses->cfg->vocab_size};
    char err[1024];
    int rc = -1, got;
    json_t *rec;
    while ((got = tte_jsonl_next(in, &rec)) == 1) {
        TTE_GROW(s.recs, s.cap_recs, s.n_recs + 1);
        if (read_record(&s, in, rec, &s.recs[s.n_recs++]) != 0) got = -1;
        if (got < 0) break;
    }
    if (got < 0) {
        tte_warn("%s", tte_jsonl_error(in));
        goto out;
    }
    for (int i = 0; i < s.n_items; i++) make_candidates(&s, &s.items[i]);
    plan(&s);
    tte_progress_init(&s.progress, o->progress);
    if (s.n_chains > 0) {
        if (tte_session_start(ses, o->kv_mem ? o->kv_mem : default_kv_bytes(&s), o->batch, err, sizeof err) !=
                0 ||
            tte_sched_run(ses->sched, &(tte_sched_client){admit, on_logits}, &s, err, sizeof err) != 0) {
            tte_progress_done(&s.progress);
            tte_warn("%s", err);
            goto out;
        }
    }
    tte_progress_done(&s.progress);
    for (int i = 0; i < s.n_recs; i++) {
        record *r = &s.recs[i];
        const record *from = r->state == DUPLICATE ? &s.recs[r->same_as] : r;
        set_fields(&s.items[r->item], r, from->lp);
        if (tte_jsonl_write(out, r->rec) != 0) break;
    }
    if (fflush(out) != 0 || ferror(out)) {
        tte_warn("write error");
        goto out;
    }
    rc = 0;
out:
    scorer_free(&s);
    return rc;
}
