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

#include "xalloc.h"

typedef enum { LANE_PROMPT, LANE_STREAM, LANE_BRANCH } lane_role;

/* The sweep's state of one scheduler lane, at the lane's id. */
typedef struct {
    int live;
    lane_role role;
    int unit; /* the unit it serves; for a prompt, the first unit of its item */
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
    tte_sched *sched;
    const sweep_rules *r;
    sweep_unit *units;
    int n_units;
    sweep_done_fn done;
    void *ctx;
    lane *lanes; /* by scheduler lane id */
    size_t cap_lanes;
    int next_unit;   /* first unit not started */
    int n_streams;   /* live stream lanes */
    int *parts_left; /* per unit: its lanes still running */
    int *unit_pages; /* per unit: pages reserved for it */
    int32_t *feed;   /* a token and the end-of-thinking string, fed together */
    void *scratch;   /* for tte_sample */
} sweep;

/* A lane the scheduler has just made, with its state cleared. */
static lane *add_lane(sweep *s, lane_role role, int id, int unit) {
    size_t old = s->cap_lanes;
    TTE_GROW(s->lanes, s->cap_lanes, (size_t)tte_sched_lane_limit(s->sched));
    memset(s->lanes + old, 0, (s->cap_lanes - old) * sizeof *s->lanes);
    lane *l = &s->lanes[id];
    free(l->answer);
    memset(l, 0, sizeof *l);
    l->live = 1, l->role = role, l->unit = unit;
    return l;
}

static void end_lane(sweep *s, int id) {
    s->lanes[id].live = 0;
    tte_sched_lane_end(s->sched, id);
}

static int contains(const int32_t *ids, int n, int32_t tok) {
    for (int i = 0; i < n; i++)
        if (ids[i] == tok) return 1;
    return 0;
}

/* The most KV pages unit U can take beyond its shared prompt: its own thinking, one copied page per
 * fork (a shared, partly filled last page), and each branch's end string and answer. */
static int unit_pages(const sweep *s, const sweep_unit *u) {
    int most = u->budgets[u->n_budgets - 1];
    int branch = 1 + tte_sched_pages_for(1 + s->r->n_end + s->r->answer_tokens);
    return tte_sched_pages_for(most + 1) + 1 + u->n_budgets * (1 + branch);
}

uint64_t sweep_branch_seed(uint64_t seed, int budget) {
    uint64_t in[2] = {seed, (uint64_t)budget};
    return XXH3_64bits(in, sizeof in);
}

/* A unit has finished: hand it over and release its pages. */
static void unit_finished(sweep *s, int unit) {
    s->units[unit].done = 1;
    tte_sched_release(s->sched, s->unit_pages[unit]);
    s->done(s->ctx, unit);
}

/* Lane ID of a stream becomes the branch answering results [first, end), fed PRE (the token that
 * reached the budget, if any) and the end-of-thinking string. */
static void become_branch(sweep *s, int id, int first, int end, const int32_t *pre, int n_pre) {
    lane *l = &s->lanes[id];
    const sweep_unit *u = &s->units[l->unit];
    l->role = LANE_BRANCH;
    l->first_result = first, l->end_result = end;
    l->n_answer = 0;
    l->answer = tte_xrealloc(l->answer, (size_t)s->r->answer_tokens * sizeof *l->answer);
    tte_rng_seed(&l->rng, sweep_branch_seed(u->seed, u->budgets[first]));
    if (n_pre) memcpy(s->feed, pre, (size_t)n_pre * sizeof *pre);
    memcpy(s->feed + n_pre, s->r->end_ids, (size_t)s->r->n_end * sizeof *s->feed);
    tte_sched_feed(s->sched, id, s->feed, n_pre + s->r->n_end, TTE_LOGITS_LAST);
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
static void end_thinking_early(sweep *s, int id, sweep_ended why) {
    lane *l = &s->lanes[id];
    sweep_unit *u = &s->units[l->unit];
    for (int j = l->next_budget; j < u->n_budgets; j++) record_budget(u, j, u->n_thinking, l->continues, why);
    s->n_streams--;
    become_branch(s, id, l->next_budget, u->n_budgets, NULL, 0);
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

/* One thinking token for the stream in lane ID, from LOGITS. */
static void stream_step(sweep *s, int id, const float *logits) {
    const sweep_rules *r = s->r;
    lane *l = &s->lanes[id];
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
            end_thinking_early(s, id, ENDED_GUARD);
            return;
        }
        if (insert_phrase && r->chunk_frac == 0 &&
            (r->allow_early_stop || (r->max_continues >= 0 && l->continues >= r->max_continues))) {
            end_thinking_early(s, id, ENDED_MODEL);
            return;
        }
        if (insert_phrase) {
            l->continues++;
            l->last_phrase = u->n_thinking;
            l->phrase_pos = 0;
            tok = r->continue_ids[l->phrase_pos++];
        }
    }
    TTE_GROW(u->thinking, u->cap_thinking, u->n_thinking + 1);
    u->thinking[u->n_thinking++] = tok;
    if (u->n_thinking < u->budgets[l->next_budget]) {
        tte_sched_feed(s->sched, id, &tok, 1, TTE_LOGITS_LAST);
        return;
    }
    int j = l->next_budget++;
    record_budget(u, j, u->n_thinking, l->continues, ENDED_BUDGET);
    if (j == u->n_budgets - 1) { /* the largest budget: the stream itself answers */
        s->n_streams--;
        become_branch(s, id, j, j + 1, &tok, 1);
        return;
    }
    int unit = l->unit; /* add_lane may move the lanes */
    int child = tte_sched_lane_fork(s->sched, id);
    tte_sched_feed(s->sched, id, &tok, 1, TTE_LOGITS_LAST);
    add_lane(s, LANE_BRANCH, child, unit);
    s->parts_left[unit]++;
    become_branch(s, child, j, j + 1, &tok, 1);
}

/* One final-answer token for the branch in lane ID. Returns 1 when the branch is finished. */
static int branch_step(sweep *s, int id, const float *logits) {
    const sweep_rules *r = s->r;
    lane *l = &s->lanes[id];
    int32_t tok = tte_sample(logits, r->sample_vocab, &r->sampling, &l->rng, s->scratch);
    int finished = contains(r->eos_ids, r->n_eos, tok);
    if (!finished) {
        l->answer[l->n_answer++] = tok;
        finished = r->closes_answer[tok] || l->n_answer >= r->answer_tokens;
    }
    if (!finished) {
        tte_sched_feed(s->sched, id, &tok, 1, TTE_LOGITS_LAST);
        return 0;
    }
    sweep_unit *u = &s->units[l->unit];
    for (int j = l->first_result; j < l->end_result; j++) {
        u->results[j].answer = tte_xmalloc((size_t)l->n_answer * sizeof(int32_t));
        memcpy(u->results[j].answer, l->answer, (size_t)l->n_answer * sizeof(int32_t));
        u->results[j].n_answer = l->n_answer;
    }
    return 1;
}

static int on_logits(void *ctx, tte_sched *sched, int id, const float *logits, int first, int rows,
                     int fed_all, char *err, size_t errlen) {
    sweep *s = ctx;
    lane *l = &s->lanes[id];
    if (l->role == LANE_PROMPT) {
        l->ready = 1;
    } else if (l->role == LANE_STREAM) {
        stream_step(s, id, logits);
    } else if (branch_step(s, id, logits)) {
        int unit = l->unit;
        end_lane(s, id);
        if (--s->parts_left[unit] == 0) unit_finished(s, unit);
    }
    return 0;
}

/* The prompt lane of ITEM, or -1. */
static int prompt_lane(const sweep *s, int item) {
    for (int i = 0; i < (int)s->cap_lanes && i < tte_sched_lane_limit(s->sched); i++)
        if (s->lanes[i].live && s->lanes[i].role == LANE_PROMPT && s->units[s->lanes[i].unit].item == item)
            return i;
    return -1;
}

/* Starts units while there is room: a prompt lane first for a new item, then one stream per sample
 * forked from it once it is prefilled. */
static int admit(void *ctx, tte_sched *sched, char *err, size_t errlen) {
    sweep *s = ctx;
    while (s->next_unit < s->n_units && s->n_streams < s->r->batch) {
        sweep_unit *u = &s->units[s->next_unit];
        if (u->done) { /* done before the sweep (cached) */
            s->next_unit++;
            continue;
        }
        int prompt = prompt_lane(s, u->item);
        int need = s->unit_pages[s->next_unit] = unit_pages(s, u);
        if (prompt < 0 && u->n_prompt > 1) {
            int prompt_pages = tte_sched_pages_for(u->n_prompt);
            if (need + prompt_pages > tte_sched_pages_total(sched)) {
                snprintf(err, errlen,
                         "one sample needs %d KV pages of %d tokens, the cache holds %d: raise --kv-mem",
                         need + prompt_pages, TTE_PAGE_TOKENS, tte_sched_pages_total(sched));
                return -1;
            }
            if (tte_sched_reserve(sched, prompt_pages + need) != 0) return 0;
            tte_sched_release(sched, need); /* reserved below, with the stream */
            prompt = tte_sched_lane_new(sched);
            lane *p = add_lane(s, LANE_PROMPT, prompt, s->next_unit);
            tte_sched_feed(sched, prompt, u->prompt, u->n_prompt - 1, TTE_LOGITS_LAST);
            for (int k = s->next_unit; k < s->n_units && s->units[k].item == u->item; k++)
                p->forks_left += !s->units[k].done;
        }
        if (prompt >= 0 && !s->lanes[prompt].ready) return 0;
        if (tte_sched_reserve(sched, need) != 0) return 0;
        int id = prompt >= 0 ? tte_sched_lane_fork(sched, prompt) : tte_sched_lane_new(sched);
        int unit = s->next_unit++;
        u->results = tte_xcalloc((size_t)u->n_budgets, sizeof *u->results);
        u->thinking = NULL, u->n_thinking = 0, u->cap_thinking = 0, u->done = 0;
        s->parts_left[unit] = 1;
        s->n_streams++;
        if (prompt >= 0 && --s->lanes[prompt].forks_left == 0) {
            tte_sched_release(sched, tte_sched_pages_for(u->n_prompt));
            end_lane(s, prompt);
        }
        lane *l = add_lane(s, LANE_STREAM, id, unit);
        l->phrase_pos = s->r->n_continue;
        l->last_phrase = -1;
        tte_rng_seed(&l->rng, u->seed);
        if (u->n_prompt > 1)
            tte_sched_feed(sched, id, u->prompt + u->n_prompt - 1, 1, TTE_LOGITS_LAST);
        else
            tte_sched_feed(sched, id, u->prompt, u->n_prompt, TTE_LOGITS_LAST);
    }
    return s->next_unit == s->n_units ? TTE_SCHED_NO_MORE : 0;
}

int sweep_run(tte_sched *sched, const sweep_rules *rules, sweep_unit *units, int n, sweep_done_fn done,
              void *ctx, char *err, size_t errlen) {
    sweep s = {.sched = sched, .r = rules, .units = units, .n_units = n, .done = done, .ctx = ctx};
    s.parts_left = tte_xcalloc((size_t)n, sizeof *s.parts_left);
    s.unit_pages = tte_xcalloc((size_t)n, sizeof *s.unit_pages);
    s.feed = tte_xmalloc((size_t)(1 + rules->n_end) * sizeof *s.feed);
    s.scratch = tte_xmalloc(tte_sample_scratch_bytes(tte_sched_width(sched)));
    tte_sched_client client = {admit, on_logits};
    int rc = tte_sched_run(sched, &client, &s, err, errlen);
    for (size_t i = 0; i < s.cap_lanes; i++) free(s.lanes[i].answer);
    free(s.lanes);
    free(s.parts_left);
    free(s.unit_pages);
    free(s.feed);
    free(s.scratch);
    return rc;
}

void sweep_unit_clear(sweep_unit *u) {
    for (int j = 0; u->results && j < u->n_budgets; j++) free(u->results[j].answer);
    free(u->results);
    free(u->thinking);
    u->results = NULL, u->thinking = NULL;
    u->n_thinking = 0, u->cap_thinking = 0;
}
