/* sched: see sched.h.
 *
 * Each step runs at most two forward calls: one for the lanes that want only their last token's
 * logits and one for those that want every token's (teacher forcing). Keeping them apart means a
 * long prefill never pays for a vocabulary-sized row per token it did not ask for. */
#include "engine/sched.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "xalloc.h"

typedef struct {
    int live;
    int seq;       /* engine sequence */
    int32_t *feed; /* the tokens of the current feed */
    int n_feed;    /* 0: no feed, the lane waits for its client */
    int fed;       /* tokens of the feed already in the cache */
    int cap_feed;
    int flags; /* the feed's TTE_LOGITS_* */
} lane_t;

/* One forward call being put together: which lane each span is, where its feed starts, where its
 * logits rows start. */
typedef struct {
    tte_span *spans;
    int *lane, *first, *row;
    int n, cap;
    float *logits;
    size_t cap_rows;
} call_t;

struct tte_sched {
    tte_engine *e;
    int batch, call_tokens, vocab;
    lane_t *lanes;
    int n_lanes, cap_lanes; /* ids in [0, n_lanes) have been used */
    int *free_ids, n_free;  /* ended before this step: may be reused */
    int *ended, n_ended;    /* ended during this step: reused from the next one */
    int pages_total, pages_reserved;
    int cursor; /* the lane the next call starts from: round robin */
    call_t call;
};

tte_sched *tte_sched_create(tte_engine *e, const tte_sched_opts *opts) {
    tte_sched *s = tte_xcalloc(1, sizeof *s);
    s->e = e;
    s->batch = opts && opts->batch > 0 ? opts->batch : 32;
    s->call_tokens = opts && opts->call_tokens > 0 ? opts->call_tokens : 512;
    s->vocab = tte_model_out_width(tte_engine_model(e));
    s->pages_total = tte_engine_pages_free(e);
    return s;
}

static void end_all(tte_sched *s) {
    for (int i = 0; i < s->n_lanes; i++)
        if (s->lanes[i].live) tte_sched_lane_end(s, i);
}

void tte_sched_free(tte_sched *s) {
    if (!s) return;
    end_all(s);
    for (int i = 0; i < s->n_lanes; i++) free(s->lanes[i].feed);
    free(s->lanes), free(s->free_ids), free(s->ended);
    free(s->call.spans), free(s->call.lane), free(s->call.first), free(s->call.row), free(s->call.logits);
    free(s);
}

static int add_lane(tte_sched *s, int seq) {
    if (seq < 0) tte_die("out of memory for a KV sequence");
    int id;
    if (s->n_free) {
        id = s->free_ids[--s->n_free];
    } else {
        TTE_GROW(s->lanes, s->cap_lanes, s->n_lanes + 1);
        id = s->n_lanes++;
        memset(&s->lanes[id], 0, sizeof s->lanes[id]);
        /* The ended and free lists hold at most every id once. */
        s->free_ids = tte_xrealloc(s->free_ids, (size_t)s->cap_lanes * sizeof *s->free_ids);
        s->ended = tte_xrealloc(s->ended, (size_t)s->cap_lanes * sizeof *s->ended);
    }
    lane_t *l = &s->lanes[id];
    l->live = 1, l->seq = seq, l->n_feed = 0, l->fed = 0;
    return id;
}

int tte_sched_lane_new(tte_sched *s) { return add_lane(s, tte_seq_new(s->e)); }

int tte_sched_lane_fork(tte_sched *s, int lane) {
    return add_lane(s, tte_seq_fork(s->e, s->lanes[lane].seq));
}

void tte_sched_lane_end(tte_sched *s, int lane) {
    lane_t *l = &s->lanes[lane];
    if (!l->live) return;
    tte_seq_free(s->e, l->seq);
    l->live = 0, l->n_feed = 0, l->fed = 0;
    s->ended[s->n_ended++] = lane;
}

void tte_sched_feed(tte_sched *s, int lane, const int32_t *tokens, int n, int flags) {
    lane_t *l = &s->lanes[lane];
    TTE_GROW(l->feed, l->cap_feed, n);
    memcpy(l->feed, tokens, (size_t)n * sizeof *tokens);
    l->n_feed = n, l->fed = 0, l->flags = flags;
}

int tte_sched_lane_len(const tte_sched *s, int lane) { return tte_seq_len(s->e, s->lanes[lane].seq); }
int tte_sched_lane_limit(const tte_sched *s) { return s->n_lanes; }
int tte_sched_pages_total(const tte_sched *s) { return s->pages_total; }
int tte_sched_pages_for(int tokens) { return (tokens + TTE_PAGE_TOKENS - 1) / TTE_PAGE_TOKENS; }
tte_engine *tte_sched_engine(const tte_sched *s) { return s->e; }
int tte_sched_width(const tte_sched *s) { return s->vocab; }

int tte_sched_reserve(tte_sched *s, int pages) {
    if (s->pages_reserved + pages > s->pages_total) return -1;
    s->pages_reserved += pages;
    return 0;
}

void tte_sched_release(tte_sched *s, int pages) { s->pages_reserved -= pages; }

/* Puts together the call for the lanes whose feed wants FLAGS: up to `batch` lanes and
 * `call_tokens` tokens, round robin from where the last call stopped. Returns the rows of logits it
 * needs. */
static size_t collect(tte_sched *s, int flags) {
    call_t *c = &s->call;
    c->n = 0;
    int tokens = 0;
    size_t rows = 0;
    for (int k = 0; k < s->n_lanes && c->n < s->batch && tokens < s->call_tokens; k++) {
        int i = (s->cursor + k) % s->n_lanes;
        lane_t *l = &s->lanes[i];
        if (!l->live || l->n_feed == 0 || l->flags != flags) continue;
        int chunk = l->n_feed - l->fed;
        if (chunk > s->call_tokens - tokens) chunk = s->call_tokens - tokens;
        if (c->n == c->cap) {
            c->cap = c->cap ? 2 * c->cap : 64;
            c->spans = tte_xrealloc(c->spans, (size_t)c->cap * sizeof *c->spans);
            c->lane = tte_xrealloc(c->lane, (size_t)c->cap * sizeof *c->lane);
            c->first = tte_xrealloc(c->first, (size_t)c->cap * sizeof *c->first);
            c->row = tte_xrealloc(c->row, (size_t)c->cap * sizeof *c->row);
        }
        c->spans[c->n] = (tte_span){.seq = l->seq, .tokens = l->feed + l->fed, .n_tokens = chunk};
        c->lane[c->n] = i, c->first[c->n] = l->fed, c->row[c->n] = (int)rows;
        c->n++;
        tokens += chunk;
        rows += flags == TTE_LOGITS_ALL ? (size_t)chunk : 1;
    }
    /* The next call starts after the last lane this one took. */
    if (c->n) s->cursor = (c->lane[c->n - 1] + 1) % s->n_lanes;
    return rows;
}

/* Runs the call put together by collect and hands each lane its logits. */
static int run_call(tte_sched *s, const tte_sched_client *client, void *ctx, int flags, size_t rows,
                    char *err, size_t errlen) {
    call_t *c = &s->call;
    if (rows > c->cap_rows) {
        c->cap_rows = rows;
        c->logits = tte_xrealloc(c->logits, rows * (size_t)s->vocab * sizeof *c->logits);
    }
    if (tte_engine_forward(s->e, c->spans, c->n, flags, c->logits, err, errlen) != 0) return -1;
    for (int k = 0; k < c->n; k++) {
        lane_t *l = &s->lanes[c->lane[k]];
        if (!l->live) continue; /* ended by an earlier callback of this call */
        l->fed += c->spans[k].n_tokens;
        int fed_all = l->fed == l->n_feed;
        if (fed_all) l->n_feed = 0, l->fed = 0; /* the callback may feed the lane again */
        if (flags == TTE_LOGITS_LAST && !fed_all) continue;
        const float *logits = c->logits + (size_t)c->row[k] * (size_t)s->vocab;
        int n_rows = flags == TTE_LOGITS_ALL ? c->spans[k].n_tokens : 1;
        if (client->logits(ctx, s, c->lane[k], logits, c->first[k], n_rows, fed_all, err, errlen) != 0)
            return -1;
    }
    return 0;
}

static int any_live(const tte_sched *s) {
    for (int i = 0; i < s->n_lanes; i++)
        if (s->lanes[i].live) return 1;
    return 0;
}

/* Ids ended in this step are free from the next one on. */
static void recycle_ended(tte_sched *s) {
    for (int i = 0; i < s->n_ended; i++) s->free_ids[s->n_free++] = s->ended[i];
    s->n_ended = 0;
}

/* The loop of both runs. KEEP: return once nothing waits to be fed and admit has nothing more,
 * leaving the lanes live. */
static int run_loop(tte_sched *s, const tte_sched_client *client, void *ctx, int keep, char *err, size_t errlen) {
    int no_more = 0, rc = 0;
    for (;;) {
        if (!no_more) {
            int a = client->admit(ctx, s, err, errlen);
            if (a < 0) {
                rc = -1;
                break;
            }
            no_more = a == TTE_SCHED_NO_MORE;
        }
        int ran = 0;
        static const int kinds[2] = {TTE_LOGITS_LAST, TTE_LOGITS_ALL};
        for (int k = 0; k < 2 && rc == 0; k++) {
            size_t rows = collect(s, kinds[k]);
            if (s->call.n == 0) continue;
            ran = 1;
            rc = run_call(s, client, ctx, kinds[k], rows, err, errlen);
        }
        recycle_ended(s);
        if (rc != 0) break;
        if (ran) continue;
        if (no_more && (keep || !any_live(s))) break; /* all done */
        if (!any_live(s) && s->pages_reserved == 0)
            snprintf(err, errlen,
                     "the next piece of work needs more KV pages than the cache has (%d pages of %d "
                     "tokens): raise --kv-mem",
                     s->pages_total, TTE_PAGE_TOKENS);
        else
            snprintf(err, errlen,
                     "internal: lanes wait for tokens that no one feeds (%d of %d KV pages reserved)",
                     s->pages_reserved, s->pages_total);
        rc = -1;
        break;
    }
    return rc;
}

/* The admit of a run whose work was fed before it started. */
static int admit_nothing(void *ctx, tte_sched *s, char *err, size_t errlen) { return TTE_SCHED_NO_MORE; }

int tte_sched_run_fed(tte_sched *s, int (*logits)(void *, tte_sched *, int, const float *, int, int, int, char *, size_t),
                      void *ctx, char *err, size_t errlen) {
    tte_sched_client c = {admit_nothing, logits};
    return run_loop(s, &c, ctx, 1, err, errlen);
}

int tte_sched_run(tte_sched *s, const tte_sched_client *client, void *ctx, char *err, size_t errlen) {
    int rc = run_loop(s, client, ctx, 0, err, errlen);
    end_all(s);
    recycle_ended(s);
    /* Every lane has ended: a page still taken, or a reservation not released, is a bookkeeping
     * bug, never silent. */
    if (rc == 0 && (tte_engine_pages_free(s->e) != s->pages_total || s->pages_reserved != 0)) {
        snprintf(err, errlen, "internal: %d KV pages not returned and %d still reserved after the run",
                 s->pages_total - tte_engine_pages_free(s->e), s->pages_reserved);
        rc = -1;
    }
    return rc;
}
