/* sweep: see sweep.h.
 *
 * Every live engine sequence is a `lane` in one of three roles:
 *   prompt  an item's prompt without its last token, prefilled once; each sample forks it
 *   stream  a sample's thinking, one token per step, to the largest budget
 *   branch  a forced final answer at one budget (or at every remaining budget when the model ended
 *           its thinking and that is allowed)
 * Each step feeds every lane's pending tokens in one forward call and acts on the logits. */
#include "sweep.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

typedef enum { LANE_PROMPT, LANE_STREAM, LANE_BRANCH } lane_role;

typedef struct {
    lane_role role;
    int seq;          /* engine sequence */
    int unit;         /* the unit it serves; for a prompt, the first unit of its item */
    int32_t *pending; /* tokens to feed in the next forward call */
    int n_pending, cap_pending;
    tte_rng rng;
    /* prompt */
    int ready;      /* prefilled: samples may fork it */
    int forks_left; /* samples of the item still to fork it */
    /* stream */
    int phrase_pos; /* next token of the continuation phrase to insert; n_continue: none */
    int continues;
    int next_budget; /* index of the next budget to reach */
    int chunk_used;  /* --compat study: tokens sampled in the current chunk */
    int last_phrase; /* --compat study: trace length where the last phrase went in; -1: none */
    /* branch */
    int first_result, end_result; /* the results [first, end) it answers */
    int32_t *answer;
    int n_answer;
} lane;

typedef struct {
    tte_engine *e;
    const sweep_rules *r;
    sweep_unit *units;
    int n_units;
    sweep_done_fn done;
    void *ctx;
    int vocab;
    lane *lanes;
    int n_lanes, cap_lanes;
    int next_unit;   /* first unit not started */
    int n_streams;   /* live stream lanes */
    int *parts_left; /* per unit: its lanes still running */
    int pages_total, pages_reserved;
    int *unit_pages; /* per unit: pages reserved for it */
    void *scratch;   /* for tte_sample */
} sweep;

static void *xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fputs("out of memory\n", stderr);
        abort();
    }
    return q;
}

static void set_pending(lane *l, const int32_t *a, int na, const int32_t *b, int nb) {
    if (na + nb > l->cap_pending) {
        l->cap_pending = na + nb;
        l->pending = xrealloc(l->pending, (size_t)l->cap_pending * sizeof *l->pending);
    }
    if (na) memcpy(l->pending, a, (size_t)na * sizeof *a);
    if (nb) memcpy(l->pending + na, b, (size_t)nb * sizeof *b);
    l->n_pending = na + nb;
}

static lane *add_lane(sweep *s, lane_role role, int seq, int unit) {
    if (s->n_lanes == s->cap_lanes) {
        s->cap_lanes = s->cap_lanes ? 2 * s->cap_lanes : 64;
        s->lanes = xrealloc(s->lanes, (size_t)s->cap_lanes * sizeof *s->lanes);
    }
    lane *l = &s->lanes[s->n_lanes++];
    memset(l, 0, sizeof *l);
    l->role = role, l->seq = seq, l->unit = unit;
    return l;
}

static int contains(const int32_t *ids, int n, int32_t tok) {
    for (int i = 0; i < n; i++)
        if (ids[i] == tok) return 1;
    return 0;
}

static int pages_for(int tokens) { return (tokens + TTE_PAGE_TOKENS - 1) / TTE_PAGE_TOKENS; }

/* The most KV pages unit U can take beyond its shared prompt: its own thinking, one copied page per
 * fork (a shared, partly filled last page), and each branch's end string and answer. */
static int unit_pages(const sweep *s, const sweep_unit *u) {
    int most = u->budgets[u->n_budgets - 1];
    int branch = 1 + pages_for(1 + s->r->n_end + s->r->answer_tokens);
    return pages_for(most + 1) + 1 + u->n_budgets * (1 + branch);
}

uint64_t sweep_branch_seed(uint64_t seed, int budget) {
    uint64_t in[2] = {seed, (uint64_t)budget};
    return XXH3_64bits(in, sizeof in);
}

/* A unit has finished: hand it over and release its pages. */
static void unit_finished(sweep *s, int unit) {
    s->units[unit].done = 1;
    s->pages_reserved -= s->unit_pages[unit];
    s->done(s->ctx, unit);
}

/* Turns lane L of a stream into the branch answering results [first, end) after feeding PRE
 * (the token that reached the budget, if any) and the end-of-thinking string. */
static void become_branch(sweep *s, lane *l, int first, int end, const int32_t *pre, int n_pre) {
    const sweep_unit *u = &s->units[l->unit];
    l->role = LANE_BRANCH;
    l->first_result = first, l->end_result = end;
    l->n_answer = 0;
    l->answer = xrealloc(NULL, (size_t)s->r->answer_tokens * sizeof *l->answer);
    tte_rng_seed(&l->rng, sweep_branch_seed(u->seed, u->budgets[first]));
    set_pending(l, pre, n_pre, s->r->end_ids, s->r->n_end);
}

const char *sweep_ended_name(sweep_ended e) {
    return e == ENDED_MODEL ? "model" : e == ENDED_GUARD ? "guard" : "budget";
}

static void record_budget(sweep_unit *u, int j, int thinking_tokens, int continues, sweep_ended ended) {
    sweep_result *res = &u->results[j];
    res->budget = u->budgets[j];
    res->thinking_tokens = thinking_tokens;
    res->continues = continues;
    res->ended = ended;
}

/* The stream's thinking ends before the budget (the model's end, accepted, or the repetition guard):
 * every remaining budget answers from this trace. */
static void end_thinking_early(sweep *s, lane *l, sweep_ended why) {
    sweep_unit *u = &s->units[l->unit];
    for (int j = l->next_budget; j < u->n_budgets; j++) record_budget(u, j, u->n_thinking, l->continues, why);
    s->n_streams--;
    become_branch(s, l, l->next_budget, u->n_budgets, NULL, 0);
}

/* --compat study: whether the sampled token TOK ends a chunk, which then gets the phrase in place of
 * its last token. */
static int chunk_ends(const sweep *s, lane *l, int32_t tok) {
    const sweep_unit *u = &s->units[l->unit];
    int budget = u->budgets[l->next_budget];
    int size = (int)ceil(budget * s->r->chunk_frac);
    if (++l->chunk_used < size && !contains(s->r->stop_ids, s->r->n_stop, tok)) return 0;
    l->chunk_used = 0;
    return u->n_thinking + 1 < budget; /* a chunk that reaches the budget keeps its last token */
}

/* One thinking token for the stream in lane index LI, from LOGITS. */
static int stream_step(sweep *s, int li, const float *logits, char *err, size_t errlen) {
    const sweep_rules *r = s->r;
    lane *l = &s->lanes[li];
    sweep_unit *u = &s->units[l->unit];
    int32_t tok;
    if (l->phrase_pos < r->n_continue) {
        tok = r->continue_ids[l->phrase_pos++];
    } else {
        tok = tte_sample(logits, r->sample_vocab, &r->sampling, &l->rng, s->scratch);
        int stop = contains(r->stop_ids, r->n_stop, tok);
        int insert_phrase = r->chunk_frac > 0 ? chunk_ends(s, l, tok) || stop : stop;
        if (insert_phrase && r->chunk_frac > 0 && l->last_phrase >= 0 &&
            u->n_thinking - l->last_phrase <= r->guard_tokens) {
            end_thinking_early(s, l, ENDED_GUARD);
            return 0;
        }
        if (insert_phrase && r->chunk_frac == 0 &&
            (r->allow_early_stop || (r->max_continues >= 0 && l->continues >= r->max_continues))) {
            end_thinking_early(s, l, ENDED_MODEL);
            return 0;
        }
        if (insert_phrase) {
            l->continues++;
            l->last_phrase = u->n_thinking;
            l->phrase_pos = 0;
            tok = r->continue_ids[l->phrase_pos++];
        }
    }
    u->thinking = xrealloc(u->thinking, (size_t)(u->n_thinking + 1) * sizeof *u->thinking);
    u->thinking[u->n_thinking++] = tok;
    if (u->n_thinking < u->budgets[l->next_budget]) {
        set_pending(l, &tok, 1, NULL, 0);
        return 0;
    }
    int j = l->next_budget++;
    record_budget(u, j, u->n_thinking, l->continues, ENDED_BUDGET);
    if (j == u->n_budgets - 1) { /* the largest budget: the stream itself answers */
        s->n_streams--;
        become_branch(s, l, j, j + 1, &tok, 1);
        return 0;
    }
    int child = tte_seq_fork(s->e, l->seq);
    if (child < 0) {
        snprintf(err, errlen, "no free sequence slot to fork a final answer (lower --batch)");
        return -1;
    }
    set_pending(l, &tok, 1, NULL, 0);
    int unit = l->unit; /* add_lane may move the lanes */
    lane *b = add_lane(s, LANE_BRANCH, child, unit);
    s->parts_left[unit]++;
    become_branch(s, b, j, j + 1, &tok, 1);
    return 0;
}

/* One final-answer token for the branch in lane L. Returns 1 when the branch is finished. */
static int branch_step(sweep *s, lane *l, const float *logits) {
    const sweep_rules *r = s->r;
    int32_t tok = tte_sample(logits, r->sample_vocab, &r->sampling, &l->rng, s->scratch);
    int finished = contains(r->eos_ids, r->n_eos, tok);
    if (!finished) {
        l->answer[l->n_answer++] = tok;
        finished = r->closes_answer[tok] || l->n_answer >= r->answer_tokens;
    }
    if (!finished) {
        set_pending(l, &tok, 1, NULL, 0);
        return 0;
    }
    sweep_unit *u = &s->units[l->unit];
    for (int j = l->first_result; j < l->end_result; j++) {
        u->results[j].answer = xrealloc(NULL, (size_t)l->n_answer * sizeof(int32_t));
        memcpy(u->results[j].answer, l->answer, (size_t)l->n_answer * sizeof(int32_t));
        u->results[j].n_answer = l->n_answer;
    }
    return 1;
}

static void drop_lane(sweep *s, int li) {
    lane *l = &s->lanes[li];
    tte_seq_free(s->e, l->seq);
    free(l->pending);
    free(l->answer);
    s->lanes[li] = s->lanes[--s->n_lanes];
}

/* Starts units while there is room: a prompt lane first for a new item, then one stream per sample
 * forked from it once it is prefilled. */
static int admit(sweep *s, char *err, size_t errlen) {
    while (s->next_unit < s->n_units && s->n_streams < s->r->batch) {
        sweep_unit *u = &s->units[s->next_unit];
        if (u->done) { /* done before the sweep (cached) */
            s->next_unit++;
            continue;
        }
        lane *prompt = NULL;
        for (int i = 0; i < s->n_lanes; i++)
            if (s->lanes[i].role == LANE_PROMPT && s->units[s->lanes[i].unit].item == u->item)
                prompt = &s->lanes[i];
        int need = s->unit_pages[s->next_unit] = unit_pages(s, u);
        if (!prompt && u->n_prompt > 1) {
            int prompt_pages = pages_for(u->n_prompt);
            if (need + prompt_pages > s->pages_total) {
                snprintf(err, errlen,
                         "one sample needs %d KV pages of %d tokens, the cache holds %d: raise --kv-mem",
                         need + prompt_pages, TTE_PAGE_TOKENS, s->pages_total);
                return -1;
            }
            if (s->pages_reserved + prompt_pages + need > s->pages_total) return 0;
            int seq = tte_seq_new(s->e);
            if (seq < 0) return 0;
            prompt = add_lane(s, LANE_PROMPT, seq, s->next_unit);
            set_pending(prompt, u->prompt, u->n_prompt - 1, NULL, 0);
            for (int k = s->next_unit; k < s->n_units && s->units[k].item == u->item; k++)
                prompt->forks_left += !s->units[k].done;
            s->pages_reserved += prompt_pages;
        }
        if (prompt && !prompt->ready) return 0;
        if (s->pages_reserved + need > s->pages_total) return 0;
        int seq = prompt ? tte_seq_fork(s->e, prompt->seq) : tte_seq_new(s->e);
        if (seq < 0) return 0;
        int unit = s->next_unit++;
        u->results = xrealloc(NULL, (size_t)u->n_budgets * sizeof *u->results);
        memset(u->results, 0, (size_t)u->n_budgets * sizeof *u->results);
        u->thinking = NULL, u->n_thinking = 0, u->done = 0;
        s->pages_reserved += need;
        s->parts_left[unit] = 1;
        s->n_streams++;
        if (prompt && --prompt->forks_left == 0) {
            s->pages_reserved -= pages_for(u->n_prompt);
            drop_lane(s, (int)(prompt - s->lanes));
        }
        lane *l = add_lane(s, LANE_STREAM, seq, unit);
        l->phrase_pos = s->r->n_continue;
        l->last_phrase = -1;
        tte_rng_seed(&l->rng, u->seed);
        if (u->n_prompt > 1)
            set_pending(l, u->prompt + u->n_prompt - 1, 1, NULL, 0);
        else
            set_pending(l, u->prompt, u->n_prompt, NULL, 0);
    }
    return 0;
}

static int compare_int(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

int sweep_run(tte_engine *e, const sweep_rules *rules, sweep_unit *units, int n, sweep_done_fn done,
              void *ctx, char *err, size_t errlen) {
    sweep s = {.e = e, .r = rules, .units = units, .n_units = n, .done = done, .ctx = ctx};
    s.vocab = tte_model_config(tte_engine_model(e))->vocab_size;
    s.pages_total = tte_engine_pages_free(e);
    s.parts_left = xrealloc(NULL, (size_t)(n ? n : 1) * sizeof *s.parts_left);
    s.unit_pages = xrealloc(NULL, (size_t)(n ? n : 1) * sizeof *s.unit_pages);
    s.scratch = xrealloc(NULL, tte_sample_scratch_bytes(s.vocab));
    tte_span *spans = NULL;
    float *logits = NULL;
    int cap = 0, rc = 0, finished = 0;
    for (int k = 0; k < n; k++) finished += units[k].done;
    for (unsigned step = 0; finished < n; step++) {
        if ((rc = admit(&s, err, errlen)) != 0) break;
        /* Every lane with tokens to feed, at most `batch` of them, starting at a rotating offset so
         * that no lane waits for long when there are more lanes than the batch holds. */
        int m = 0;
        if (s.n_lanes > cap) {
            cap = s.n_lanes;
            spans = xrealloc(spans, (size_t)cap * sizeof *spans);
            logits = xrealloc(logits, (size_t)cap * (size_t)s.vocab * sizeof *logits);
        }
        int *which = xrealloc(NULL, (size_t)(s.n_lanes ? s.n_lanes : 1) * sizeof *which);
        for (int k = 0; k < s.n_lanes && m < rules->batch; k++) {
            int i = (int)((step * (unsigned)rules->batch + (unsigned)k) % (unsigned)s.n_lanes);
            lane *l = &s.lanes[i];
            if (!l->n_pending) continue;
            spans[m] = (tte_span){.seq = l->seq, .tokens = l->pending, .n_tokens = l->n_pending};
            which[m++] = i;
        }
        if (m == 0) {
            free(which);
            snprintf(err, errlen, "internal: nothing to run with %d units unfinished", n - finished);
            rc = -1;
            break;
        }
        if (tte_engine_forward(e, spans, m, TTE_LOGITS_LAST, logits, err, errlen) != 0) {
            free(which);
            rc = -1;
            break;
        }
        /* Act on each lane's logits. Finished lanes are dropped after the loop, from the highest
         * index down (drop_lane moves the last lane into the hole), so the indices in `which` stay
         * valid while new branch lanes are appended. */
        int *drop = xrealloc(NULL, (size_t)m * sizeof *drop), n_drop = 0;
        for (int k = 0; k < m && rc == 0; k++) {
            lane *l = &s.lanes[which[k]];
            l->n_pending = 0;
            const float *row = logits + (size_t)k * (size_t)s.vocab;
            if (l->role == LANE_PROMPT) {
                l->ready = 1;
            } else if (l->role == LANE_STREAM) {
                rc = stream_step(&s, which[k], row, err, errlen);
            } else if (branch_step(&s, l, row)) {
                drop[n_drop++] = which[k];
            }
        }
        qsort(drop, (size_t)n_drop, sizeof *drop, compare_int);
        for (int k = n_drop - 1; k >= 0; k--) {
            int unit = s.lanes[drop[k]].unit;
            drop_lane(&s, drop[k]);
            if (--s.parts_left[unit] == 0) {
                unit_finished(&s, unit);
                finished++;
            }
        }
        free(drop);
        free(which);
    }
    while (s.n_lanes) drop_lane(&s, s.n_lanes - 1);
    /* Every fork was freed: a page still taken here is a bookkeeping bug, never silent. */
    if (rc == 0 && tte_engine_pages_free(e) != s.pages_total) {
        snprintf(err, errlen, "internal: %d KV pages not returned after the sweep",
                 s.pages_total - tte_engine_pages_free(e));
        rc = -1;
    }
    free(s.lanes);
    free(s.parts_left);
    free(s.unit_pages);
    free(s.scratch);
    free(spans);
    free(logits);
    return rc;
}

void sweep_unit_clear(sweep_unit *u) {
    for (int j = 0; u->results && j < u->n_budgets; j++) free(u->results[j].answer);
    free(u->results);
    free(u->thinking);
    u->results = NULL, u->thinking = NULL;
    u->n_thinking = 0;
}
