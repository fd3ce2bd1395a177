/* search: see search.h.
 *
 * Items are searched in groups, in lockstep: each item's root solution is its prompt (on the policy)
 * and the PRM's prefix (on the PRM), and every partial solution is a fork of it. A round generates
 * one step for the solutions of every item of the group on the policy (tte_sched_run_fed), then
 * feeds the new steps to the PRM the same way; each strategy's logic (which solutions to keep, fork
 * or end) runs between rounds, item by item. A group is as many items as --batch holds solutions
 * of, so the batch is full however few solutions one item has. */
#include "search.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "compute.h"
#include "engine/sampler.h"
#include "records.h"
#include "xalloc.h"

typedef enum { STOP_NONE, STOP_DELIM, STOP_EOS, STOP_LENGTH } stop_reason;

/* A partial solution. */
typedef struct {
    int lane, prm_lane; /* -1 once ended */
    tte_tokens ids;     /* every generated id */
    int *step_end;      /* ids[step_end[k - 1] .. step_end[k]) is step k */
    double *scores;     /* the PRM's score of each step */
    int n_steps, cap_steps;
    int step_start; /* where the step being generated starts in ids */
    char *step_text; /* its bytes so far, to find the delimiter without decoding the step again */
    size_t step_len, step_cap;
    float *next;    /* the policy's logits after the last fed token: the next token's */
    tte_rng rng;
    stop_reason stop;
    int closing;         /* the step ended; its last token is being fed for the next logits */
    int generating;      /* in this round */
    /* Being scored: the PRM's input for the new step(s), fed from read token to read token so that
     * only the rows that score are made (a language-model PRM's rows are vocabulary-sized). */
    tte_tokens prm_feed;
    size_t *prm_reads; /* where in prm_feed each new step's score is read */
    int prm_n_reads, prm_next, cap_reads;
    size_t prm_fed;    /* prm_feed's tokens fed so far */
    double *prm_got;   /* the scores read */
    int task;            /* the item it belongs to */
    int round;           /* revise: the attempt's round; its cost, up to the attempt's end: */
    tte_cost spent, spent_rm;
} solution;

/* One item being searched, and its strategy's state. */
typedef struct {
    json_t *rec; /* the item record */
    const char *problem;
    int32_t *prompt;
    int n_prompt;
    uint64_t seed;
    tte_cost spent, spent_rm; /* the item's, every branch included (compute.h) */
    int root;
    int *live, n_live; /* beam: the open solutions; dvts: each subtree's kept one; revise: the sequence */
    int *stopped;      /* dvts: per subtree */
    int *kids;         /* dvts: each subtree's latest candidates */
    int *out, n_out, cap_out; /* beam: the complete solutions in order; revise: the attempts */
    int finished;
    size_t attempt_start; /* revise: where the attempt being generated starts */
    int n_solutions;      /* made for this item so far: each one's index seeds its draws */
} task;

typedef struct {
    tte_session *pol, *rm;
    const search_options *o;
    tte_prm *prm;
    const char *delim;
    int same_tokenizer; /* the PRM reads the policy's ids as they are */
    tte_sampling sampling;
    int sample_vocab, width, width_prm;
    void *scratch;
    solution *sol; /* every solution of the item, by index */
    int n_sol, cap_sol;
    int *by_lane, cap_by_lane; /* policy lane -> solution */
    int *by_prm_lane, cap_by_prm_lane;
    task *tasks; /* the group of items being searched */
    int n_tasks;
    int last_round; /* steps run to the end of sequence */
    tte_cost_model cost_pol, cost_rm;
} searcher;

static void map_lane(int **map, int *cap, int lane, int sol) {
    if (lane >= *cap) {
        int old = *cap;
        TTE_GROW(*map, *cap, (size_t)lane + 1);
        for (int i = old; i < *cap; i++) (*map)[i] = -1;
    }
    (*map)[lane] = sol;
}

static int new_solution(searcher *s, int t) {
    TTE_GROW(s->sol, s->cap_sol, (size_t)s->n_sol + 1);
    solution *x = &s->sol[s->n_sol];
    memset(x, 0, sizeof *x);
    x->lane = x->prm_lane = -1;
    x->task = t;
    x->next = tte_xmalloc((size_t)s->width * sizeof *x->next);
    /* Each solution its own stream of draws, from the item's seed and its index among the item's
     * solutions (so that neither depends on the group the item ran in). */
    int own = s->tasks[t].n_solutions++;
    tte_rng_seed(&x->rng, s->tasks[t].seed ^ ((uint64_t)own + 1) * 0xbf58476d1ce4e5b9ull);
    return s->n_sol++;
}

/* A copy of solution P with forks of its lanes. */
static int fork_solution(searcher *s, int p) {
    int c = new_solution(s, s->sol[p].task);
    solution *x = &s->sol[c], *y = &s->sol[p];
    TTE_GROW(x->ids.ids, x->ids.cap, y->ids.n + 1);
    if (y->ids.n) memcpy(x->ids.ids, y->ids.ids, y->ids.n * sizeof *y->ids.ids);
    x->ids.n = y->ids.n;
    x->cap_steps = y->n_steps + 1;
    x->step_end = tte_xmalloc((size_t)x->cap_steps * sizeof *x->step_end);
    x->scores = tte_xmalloc((size_t)x->cap_steps * sizeof *x->scores);
    if (y->n_steps) {
        memcpy(x->step_end, y->step_end, (size_t)y->n_steps * sizeof *x->step_end);
        memcpy(x->scores, y->scores, (size_t)y->n_steps * sizeof *x->scores);
    }
    x->n_steps = y->n_steps;
    x->step_start = (int)y->ids.n;
    memcpy(x->next, y->next, (size_t)s->width * sizeof *x->next);
    x->lane = tte_sched_lane_fork(s->pol->sched, y->lane);
    x->prm_lane = tte_sched_lane_fork(s->rm->sched, y->prm_lane);
    map_lane(&s->by_lane, &s->cap_by_lane, x->lane, c);
    map_lane(&s->by_prm_lane, &s->cap_by_prm_lane, x->prm_lane, c);
    return c;
}

/* Ends a solution's lanes (its tokens and scores stay, for its record). */
static void end_solution(searcher *s, int i) {
    solution *x = &s->sol[i];
    if (x->lane >= 0) tte_sched_lane_end(s->pol->sched, x->lane), s->by_lane[x->lane] = -1;
    if (x->prm_lane >= 0) tte_sched_lane_end(s->rm->sched, x->prm_lane), s->by_prm_lane[x->prm_lane] = -1;
    x->lane = x->prm_lane = -1;
}

static void free_solutions(searcher *s) {
    for (int i = 0; i < s->n_sol; i++) {
        end_solution(s, i);
        tte_tokens_free(&s->sol[i].ids);
        tte_tokens_free(&s->sol[i].prm_feed);
        free(s->sol[i].prm_reads), free(s->sol[i].prm_got);
        free(s->sol[i].step_text);
        free(s->sol[i].step_end), free(s->sol[i].scores), free(s->sol[i].next);
    }
    s->n_sol = 0;
}

/* Appends TOK's bytes to the running text *BUF (*LEN bytes, *CAP allocated) and says whether the
 * delimiter now occurs in it: it can only end in the new bytes, so the search starts where it could
 * begin (a delimiter that spans tokens is found). */
static int delim_after(const searcher *s, char **buf, size_t *len, size_t *cap, int32_t tok) {
    size_t n, dl = strlen(s->delim), from = *len >= dl ? *len - dl + 1 : 0;
    const char *bytes = tte_tokenizer_token_bytes(s->pol->tok, tok, &n);
    TTE_GROW(*buf, *cap, *len + n + 1);
    if (n) memcpy(*buf + *len, bytes, n);
    *len += n;
    return memmem(*buf + from, *len - from, s->delim, dl) != NULL;
}

/* Takes token TOK for solution X: it ends the step, or is fed for the next one. */
static void take_token(searcher *s, solution *x, int32_t tok) {
    const tte_config *cfg = s->pol->cfg;
    task *t = &s->tasks[x->task];
    if (tte_config_is_eos(cfg, tok)) {
        x->stop = STOP_EOS;
        x->generating = 0;
        return;
    }
    TTE_GROW(x->ids.ids, x->ids.cap, x->ids.n + 1);
    x->ids.ids[x->ids.n++] = tok;
    tte_cost_decode(&t->spent, &s->cost_pol, t->n_prompt + (long)x->ids.n - 1, 1, s->o->n);
    int step_len = (int)x->ids.n - x->step_start;
    if (delim_after(s, &x->step_text, &x->step_len, &x->step_cap, tok) && !s->last_round)
        x->stop = STOP_DELIM;
    else if (step_len >= s->o->step_tokens || t->n_prompt + (int)x->ids.n >= cfg->max_position_embeddings)
        x->stop = STOP_LENGTH;
    /* Fed either way: a finished step's last token gives the logits the next step starts from. */
    x->closing = x->stop != STOP_NONE;
    tte_sched_feed(s->pol->sched, x->lane, &tok, 1, TTE_LOGITS_LAST);
}

static int on_policy_logits(void *ctx, tte_sched *sched, int lane, const float *logits, int first, int rows,
                            int fed_all, char *err, size_t errlen) {
    searcher *s = ctx;
    solution *x = &s->sol[s->by_lane[lane]];
    if (!x->generating || x->closing) {
        memcpy(x->next, logits, (size_t)s->width * sizeof *logits);
        x->closing = x->generating = 0;
        return 0;
    }
    take_token(s, x, tte_sample(logits, s->sample_vocab, &s->sampling, &x->rng, s->scratch));
    return 0;
}

/* One step for each solution of LIST[0..n). */
static int generate(searcher *s, const int *list, int n, char *err, size_t errlen) {
    for (int k = 0; k < n; k++) {
        solution *x = &s->sol[list[k]];
        x->stop = STOP_NONE;
        x->generating = 1;
        x->step_start = (int)x->ids.n;
        x->step_len = 0;
        take_token(s, x, tte_sample(x->next, s->sample_vocab, &s->sampling, &x->rng, s->scratch));
    }
    return tte_sched_run_fed(s->pol->sched, on_policy_logits, s, err, errlen);
}

/* Feeds X's PRM lane up to its next read token, or what follows the last one. */
static void prm_feed_next(searcher *s, tte_sched *sched, int lane, solution *x) {
    size_t to = x->prm_next < x->prm_n_reads ? x->prm_reads[x->prm_next] + 1 : x->prm_feed.n;
    if (to > x->prm_fed) tte_sched_feed(sched, lane, x->prm_feed.ids + x->prm_fed, (int)(to - x->prm_fed), TTE_LOGITS_LAST);
    x->prm_fed = to;
}

static int on_prm_logits(void *ctx, tte_sched *sched, int lane, const float *logits, int first, int rows,
                         int fed_all, char *err, size_t errlen) {
    searcher *s = ctx;
    solution *x = &s->sol[s->by_prm_lane[lane]];
    /* A read token's row (the text after the last one needs none). */
    if (x->prm_next < x->prm_n_reads && x->prm_fed == x->prm_reads[x->prm_next] + 1) {
        x->prm_got[x->prm_next++] = tte_prm_score(s->prm, logits);
        prm_feed_next(s, sched, lane, x);
    }
    return 0;
}

/* The ends of X's current step's pieces, cut as a search cuts steps (after each delimiter): one
 * piece but for a step that ran to its end (the last round, --search revise), which may hold many.
 * Returns how many; *ENDS malloc'd. */
static int step_pieces(const searcher *s, const solution *x, int **ends) {
    size_t n = x->ids.n;
    int count = 0, cap = 0;
    char *text = NULL;
    size_t len = 0, text_cap = 0;
    *ends = NULL;
    for (size_t i = (size_t)x->step_start; i < n; i++)
        if ((delim_after(s, &text, &len, &text_cap, x->ids.ids[i]) && i + 1 < n) || i + 1 == n) {
            TTE_GROW(*ends, cap, count + 1);
            (*ends)[count++] = (int)(i + 1);
            len = 0; /* the next piece's text starts here */
        }
    free(text);
    return count;
}

/* The step being scored, as the PRM reads it: without the delimiter it ended at (the format's join
 * puts that back between steps). Its ids (*IDS, *N_IDS) when they are exactly the step before the
 * delimiter's tokens and the PRM shares the tokenizer, else NULL; its text always (malloc'd). */
static char *step_body(const searcher *s, const solution *x, const int32_t **ids, size_t *n_ids, size_t *len) {
    const int32_t *step = x->ids.ids + x->step_start;
    size_t n = x->ids.n - (size_t)x->step_start, dl = strlen(s->delim);
    char err[256];
    char *text = tte_tokenizer_decode_text(s->pol->tok, step, n, 0, len, err, sizeof err);
    if (!text) tte_die("%s", err);
    *ids = s->same_tokenizer ? step : NULL;
    *n_ids = n;
    if (x->stop != STOP_DELIM) return text;
    char *at = memmem(text, *len, s->delim, dl);
    *len = (size_t)(at - text);
    text[*len] = 0;
    /* The delimiter's own tokens, when it is made of the step's last ones. */
    for (size_t j = 1; j <= n && j <= 4; j++) {
        size_t tl;
        char *tail = tte_tokenizer_decode(s->pol->tok, step + n - j, j, 0, &tl, err, sizeof err);
        int exact = tail && tl == dl && memcmp(tail, s->delim, dl) == 0;
        free(tail);
        if (exact) {
            *n_ids = n - j;
            return text;
        }
    }
    *ids = NULL; /* the delimiter ends inside a token: the PRM reads the text */
    return text;
}

/* Feeds the new step of each solution of LIST[0..n) that has one to the PRM; appends its score (its
 * scores, when a step that ran to its end holds delimiters: as many steps as they cut). */
static int score(searcher *s, const int *list, int n, char *err, size_t errlen) {
    for (int k = 0; k < n; k++) {
        solution *x = &s->sol[list[k]];
        if (x->ids.n == (size_t)x->step_start) continue; /* an empty step: nothing to score */
        task *t = &s->tasks[x->task];
        int *ends, n_pieces = step_pieces(s, x, &ends);
        size_t start = (size_t)x->step_start, full = x->ids.n;
        stop_reason stop = x->stop;
        x->prm_feed.n = 0, x->prm_n_reads = x->prm_next = 0, x->prm_fed = 0;
        if (x->n_steps + n_pieces > x->cap_steps) {
            x->cap_steps = 2 * (x->n_steps + n_pieces) + 8;
            x->step_end = tte_xrealloc(x->step_end, (size_t)x->cap_steps * sizeof *x->step_end);
            x->scores = tte_xrealloc(x->scores, (size_t)x->cap_steps * sizeof *x->scores);
        }
        TTE_GROW(x->prm_reads, x->cap_reads, n_pieces);
        x->prm_got = tte_xrealloc(x->prm_got, (size_t)x->cap_reads * sizeof *x->prm_got);
        int rc = 0;
        for (int p = 0; p < n_pieces && rc == 0; p++) {
            x->step_start = p ? ends[p - 1] : (int)start;
            x->ids.n = (size_t)ends[p];
            x->stop = p + 1 < n_pieces ? STOP_DELIM : stop;
            const int32_t *ids;
            size_t n_ids, len, read;
            char *text = step_body(s, x, &ids, &n_ids, &len);
            rc = tte_prm_step(s->prm, t->problem, x->n_steps + p, text, len, ids, n_ids, &x->prm_feed, &read, err,
                              errlen);
            free(text);
            x->prm_reads[x->prm_n_reads++] = read;
            x->step_end[x->n_steps + p] = ends[p];
        }
        x->step_start = (int)start, x->ids.n = full, x->stop = stop;
        free(ends);
        if (rc != 0) return -1;
        tte_cost_step(&t->spent_rm, &s->cost_rm, tte_sched_lane_len(s->rm->sched, x->prm_lane),
                      (long)x->prm_feed.n, 0, s->o->n);
        prm_feed_next(s, s->rm->sched, x->prm_lane, x);
    }
    if (tte_sched_run_fed(s->rm->sched, on_prm_logits, s, err, errlen) != 0) return -1;
    for (int k = 0; k < n; k++) {
        solution *x = &s->sol[list[k]];
        for (int p = 0; p < x->prm_n_reads; p++) x->scores[x->n_steps++] = x->prm_got[p];
        x->prm_n_reads = 0;
    }
    return 0;
}

/* A solution's score: the aggregate of its steps' (0 before it has any). */
static double solution_score(const searcher *s, const solution *x) {
    return x->n_steps ? tte_prm_aggregate(s->o->agg, x->scores, x->n_steps) : 0;
}

/* Each item's root: its prompt on the policy (whose logits start every solution), the PRM's prefix
 * on the PRM; all of the group's at once. */
static int start_roots(searcher *s, char *err, size_t errlen) {
    for (int t = 0; t < s->n_tasks; t++) {
        task *tk = &s->tasks[t];
        int r = tk->root = new_solution(s, t);
        solution *x = &s->sol[r];
        x->lane = tte_sched_lane_new(s->pol->sched);
        x->prm_lane = tte_sched_lane_new(s->rm->sched);
        map_lane(&s->by_lane, &s->cap_by_lane, x->lane, r);
        map_lane(&s->by_prm_lane, &s->cap_by_prm_lane, x->prm_lane, r);
        tte_sched_feed(s->pol->sched, x->lane, tk->prompt, tk->n_prompt, TTE_LOGITS_LAST);
        tte_cost_step(&tk->spent, &s->cost_pol, 0, tk->n_prompt, 0, 1);
        tte_tokens prefix = {0};
        tte_prm_prefix(s->prm, tk->problem, &prefix);
        tte_cost_step(&tk->spent_rm, &s->cost_rm, 0, (long)prefix.n, 0, 1);
        if (prefix.n) tte_sched_feed(s->rm->sched, x->prm_lane, prefix.ids, (int)prefix.n, TTE_LOGITS_LAST);
        tte_tokens_free(&prefix);
    }
    return tte_sched_run_fed(s->pol->sched, on_policy_logits, s, err, errlen) != 0 ||
                   tte_sched_run_fed(s->rm->sched, on_prm_logits, s, err, errlen) != 0
               ? -1
               : 0;
}

/* One round for the solutions of LIST[0..n): a step each, then its score. */
static int round_of(searcher *s, const int *list, int n, char *err, size_t errlen) {
    return generate(s, list, n, err, errlen) != 0 || score(s, list, n, err, errlen) != 0 ? -1 : 0;
}

static void out_add(task *t, int sol) {
    TTE_GROW(t->out, t->cap_out, (size_t)t->n_out + 1);
    t->out[t->n_out++] = sol;
}

/* Beam search, step by step: after a round, an item's ended solutions are complete (in the order
 * they completed) and its best N/M open ones are kept. */
static void beam_select(searcher *s, task *t, double *agg, int *order) {
    int keep = s->o->n / s->o->beam_width, n_open = 0;
    for (int i = 0; i < t->n_live; i++) {
        solution *x = &s->sol[t->live[i]];
        if (x->stop == STOP_EOS || x->stop == STOP_LENGTH || x->ids.n == (size_t)x->step_start) {
            out_add(t, t->live[i]);
            end_solution(s, t->live[i]);
        } else {
            t->live[n_open++] = t->live[i];
        }
    }
    t->n_live = n_open;
    /* The KEEP best, by a stable ascending sort whose last KEEP win (numpy's argsort). */
    for (int i = 0; i < n_open; i++) agg[i] = solution_score(s, &s->sol[t->live[i]]), order[i] = i;
    for (int i = 1; i < n_open; i++)
        for (int j = i; j > 0 && agg[order[j - 1]] > agg[order[j]]; j--) {
            int tmp = order[j];
            order[j] = order[j - 1], order[j - 1] = tmp;
        }
    int n_keep = n_open < keep ? n_open : keep, n_kept = 0;
    for (int i = 0; i < n_open; i++) {
        int rank = 0;
        while (order[rank] != i) rank++;
        if (rank >= n_open - n_keep)
            t->live[n_kept++] = t->live[i];
        else
            end_solution(s, t->live[i]);
    }
    t->n_live = n_kept;
}

static int beam_search(searcher *s, char *err, size_t errlen) {
    int N = s->o->n, rc = 0;
    int *list = tte_xmalloc((size_t)N * (size_t)s->n_tasks * sizeof *list), *order = tte_xmalloc((size_t)N * sizeof *order);
    double *agg = tte_xmalloc((size_t)N * sizeof *agg);
    for (int t = 0; t < s->n_tasks; t++) {
        task *tk = &s->tasks[t];
        tk->live = tte_xmalloc((size_t)N * sizeof *tk->live);
        for (int i = 0; i < N; i++) tk->live[tk->n_live++] = fork_solution(s, tk->root);
    }
    for (int it = 0; it < s->o->max_steps && rc == 0; it++) {
        int n = 0;
        for (int t = 0; t < s->n_tasks; t++) {
            task *tk = &s->tasks[t];
            if (tk->n_live == 0) continue;
            /* Back to N, the survivors copied round robin. */
            for (int i = tk->n_live, k = 0; i < N; i++, k++) tk->live[i] = fork_solution(s, tk->live[k % tk->n_live]);
            tk->n_live = N;
            for (int i = 0; i < N; i++) list[n++] = tk->live[i];
        }
        if (n == 0) break;
        s->last_round = it == s->o->max_steps - 1;
        rc = round_of(s, list, n, err, errlen);
        for (int t = 0; t < s->n_tasks && rc == 0; t++)
            if (s->tasks[t].n_live) beam_select(s, &s->tasks[t], agg, order);
    }
    for (int t = 0; t < s->n_tasks && rc == 0; t++)
        if (s->tasks[t].n_out == 0) rc = -1, snprintf(err, errlen, "beam search completed no solution");
    free(list), free(order), free(agg);
    return rc;
}

/* Diverse verifier tree search, step by step: each open subtree's M candidates, the best kept. */
static void dvts_select(searcher *s, task *t) {
    int M = s->o->beam_width;
    for (int j = 0; j < t->n_live; j++) {
        if (t->stopped[j]) continue;
        int *kids = t->kids + j * M, best = 0;
        for (int m = 1; m < M; m++)
            if (solution_score(s, &s->sol[kids[m]]) > solution_score(s, &s->sol[kids[best]])) best = m;
        for (int m = 0; m < M; m++)
            if (m != best) end_solution(s, kids[m]);
        solution *b = &s->sol[kids[best]];
        t->live[j] = kids[best];
        if (b->stop == STOP_EOS || b->ids.n == (size_t)b->step_start) t->stopped[j] = 1, end_solution(s, kids[best]);
    }
}

static int dvts(searcher *s, char *err, size_t errlen) {
    int M = s->o->beam_width, T = s->o->n / M, rc = 0;
    int *list = tte_xmalloc((size_t)s->o->n * (size_t)s->n_tasks * sizeof *list);
    for (int t = 0; t < s->n_tasks; t++) {
        task *tk = &s->tasks[t];
        tk->live = tte_xmalloc((size_t)T * sizeof *tk->live);
        tk->stopped = tte_xcalloc((size_t)T, sizeof *tk->stopped);
        tk->kids = tte_xmalloc((size_t)s->o->n * sizeof *tk->kids);
        for (int j = 0; j < T; j++) tk->live[j] = tk->root;
        tk->n_live = T;
    }
    for (int it = 0; it < s->o->max_steps && rc == 0; it++) {
        int n = 0;
        for (int t = 0; t < s->n_tasks; t++) {
            task *tk = &s->tasks[t];
            for (int j = 0; j < T; j++) {
                if (tk->stopped[j]) continue;
                for (int m = 0; m < M; m++) list[n++] = tk->kids[j * M + m] = fork_solution(s, tk->live[j]);
                if (tk->live[j] != tk->root) end_solution(s, tk->live[j]);
            }
        }
        if (n == 0) break;
        s->last_round = it == s->o->max_steps - 1;
        rc = round_of(s, list, n, err, errlen);
        for (int t = 0; t < s->n_tasks && rc == 0; t++) dvts_select(s, &s->tasks[t]);
    }
    /* The records: each subtree's last candidates. */
    for (int t = 0; t < s->n_tasks; t++)
        for (int k = 0; k < s->o->n; k++) out_add(&s->tasks[t], s->tasks[t].kids[k]), end_solution(s, s->tasks[t].kids[k]);
    free(list);
    return rc;
}

static json_t *json_doubles(const double *v, int n) {
    json_t *a = json_array();
    for (int i = 0; i < n; i++) json_array_append_new(a, json_real(v[i]));
    return a;
}

static json_t *candidate_record(const searcher *s, const task *t, int sample, const solution *x) {
    char err[256];
    size_t len;
    json_t *rec = json_deep_copy(t->rec), *steps = json_array();
    char *text = tte_tokenizer_decode_text(s->pol->tok, x->ids.ids, x->ids.n, 0, &len, err, sizeof err);
    if (!text) tte_die("%s", err);
    for (int k = 0, at = 0; k < x->n_steps; at = x->step_end[k++]) {
        size_t sl;
        char *st = tte_tokenizer_decode_text(s->pol->tok, x->ids.ids + at, (size_t)(x->step_end[k] - at), 0, &sl,
                                             err, sizeof err);
        if (!st) tte_die("%s", err);
        json_array_append_new(steps, json_stringn(st, sl));
        free(st);
    }
    const search_options *o = s->o;
    json_object_set_new(rec, "model", json_string(s->pol->model_name));
    json_object_set_new(rec, "model_hash", json_string(s->pol->model_hash));
    json_object_set_new(rec, TTE_FIELD_MODEL_PARAMS, json_real(s->pol->n_params));
    static const char *const kinds[] = {[SEARCH_BEAM] = "beam", [SEARCH_DVTS] = "dvts", [SEARCH_REVISE] = "revise"};
    json_object_set_new(rec, "search", json_string(kinds[o->kind]));
    if (o->kind == SEARCH_REVISE) {
        /* An attempt is the answer after n rounds: tte-fit --x n draws accuracy against rounds. */
        json_object_set_new(rec, "n", json_integer(x->round + 1));
        json_object_set_new(rec, "round", json_integer(x->round));
        json_object_set_new(rec, TTE_FIELD_SAMPLE, json_integer(0));
    } else {
        json_object_set_new(rec, "n", json_integer(o->n));
        json_object_set_new(rec, "beam_width", json_integer(o->beam_width));
        json_object_set_new(rec, TTE_FIELD_SAMPLE, json_integer(sample));
    }
    json_object_set_new(rec, "seed", json_integer((json_int_t)o->seed));
    json_object_set_new(rec, TTE_FIELD_TEXT, json_stringn(text, len));
    json_object_set_new(rec, "steps", steps);
    json_object_set_new(rec, "step_scores", json_doubles(x->scores, x->n_steps));
    json_object_set_new(rec, "prm_score", json_real(solution_score(s, x)));
    json_object_set_new(rec, "prm", json_string(s->rm->model_name));
    json_object_set_new(rec, "completion_tokens", json_integer((json_int_t)x->ids.n));
    /* The cost of getting this candidate: the item's search, or a revision's rounds so far. */
    tte_cost_set(rec, "", o->kind == SEARCH_REVISE ? &x->spent : &t->spent);
    tte_cost_set(rec, "prm_", o->kind == SEARCH_REVISE ? &x->spent_rm : &t->spent_rm);
    free(text);
    return rec;
}

/* Sequential revisions, round by round for the group: every item's next attempt after its previous
 * ones and the revision prompt, on one growing sequence; each attempt is scored by the PRM on its
 * own, step by step from the prefix, as a solution of its own. */
static int revise(searcher *s, char *err, size_t errlen) {
    int G = s->n_tasks, rc = 0, n_rev;
    int32_t *rev = tte_session_encode(s->pol, s->o->revise_prompt, strlen(s->o->revise_prompt), &n_rev);
    int *list = tte_xmalloc((size_t)G * sizeof *list), *att = tte_xmalloc((size_t)G * sizeof *att);
    for (int t = 0; t < G; t++) {
        task *tk = &s->tasks[t];
        tk->live = tte_xmalloc(sizeof *tk->live);
        tk->live[0] = fork_solution(s, tk->root);
        tk->n_live = 1;
    }
    s->last_round = 1; /* an attempt runs to its end */
    for (int r = 0; r < s->o->n && rc == 0; r++) {
        for (int t = 0; t < G; t++) list[t] = s->tasks[t].live[0], s->tasks[t].attempt_start = s->sol[list[t]].ids.n;
        if ((rc = generate(s, list, G, err, errlen)) != 0) break;
        /* Each attempt alone, on a fork of its item's PRM prefix, scored as one step that ran to its
         * end: as many steps as its delimiters cut. */
        for (int t = 0; t < G; t++) {
            task *tk = &s->tasks[t];
            int a = att[t] = new_solution(s, t);
            solution *y = &s->sol[a], *cur = &s->sol[tk->live[0]];
            size_t n = cur->ids.n - tk->attempt_start;
            TTE_GROW(y->ids.ids, y->ids.cap, n + 1);
            if (n) memcpy(y->ids.ids, cur->ids.ids + tk->attempt_start, n * sizeof *y->ids.ids);
            y->ids.n = n;
            y->prm_lane = tte_sched_lane_fork(s->rm->sched, s->sol[tk->root].prm_lane);
            map_lane(&s->by_prm_lane, &s->cap_by_prm_lane, y->prm_lane, a);
            y->round = r;
            y->step_start = 0;
            y->stop = cur->stop;
        }
        rc = score(s, att, G, err, errlen);
        for (int t = 0; t < G && rc == 0; t++) {
            task *tk = &s->tasks[t];
            solution *y = &s->sol[att[t]];
            end_solution(s, att[t]);
            y->spent = tk->spent, y->spent_rm = tk->spent_rm;
            out_add(tk, att[t]);
        }
        /* The revision prompt after each attempt, for the next one; its logits start it. */
        if (r + 1 == s->o->n || n_rev == 0 || rc != 0) continue;
        for (int t = 0; t < G; t++) {
            task *tk = &s->tasks[t];
            solution *y = &s->sol[tk->live[0]];
            tte_cost_step(&tk->spent, &s->cost_pol, tk->n_prompt + (long)y->ids.n, n_rev, 0, 1);
            TTE_GROW(y->ids.ids, y->ids.cap, y->ids.n + (size_t)n_rev);
            memcpy(y->ids.ids + y->ids.n, rev, (size_t)n_rev * sizeof *rev);
            y->ids.n += (size_t)n_rev;
            y->generating = 0;
            tte_sched_feed(s->pol->sched, y->lane, rev, n_rev, TTE_LOGITS_LAST);
        }
        rc = tte_sched_run_fed(s->pol->sched, on_policy_logits, s, err, errlen);
    }
    free(rev), free(list), free(att);
    return rc;
}

/* Whether the two tokenizers give every id the same bytes. */
static int same_tokenizer(const tte_tokenizer *a, const tte_tokenizer *b) {
    int32_t n = tte_tokenizer_vocab_size(a);
    if (n != tte_tokenizer_vocab_size(b)) return 0;
    for (int32_t i = 0; i < n; i++) {
        size_t la, lb;
        const char *x = tte_tokenizer_token_bytes(a, i, &la), *y = tte_tokenizer_token_bytes(b, i, &lb);
        if ((x == NULL) != (y == NULL) || (x && (la != lb || memcmp(x, y, la) != 0))) return 0;
    }
    return 1;
}

/* Frees the group's tasks and solutions. */
static void free_tasks(searcher *s) {
    free_solutions(s);
    for (int t = 0; t < s->n_tasks; t++) {
        task *tk = &s->tasks[t];
        json_decref(tk->rec);
        free(tk->prompt), free(tk->live), free(tk->stopped), free(tk->kids), free(tk->out);
    }
    s->n_tasks = 0;
}

/* Reads up to MOST items into the group. Returns 0 (*EOF set at the end of the input), or -1 after
 * tte_jsonl_fail (the items read before it are in the group). */
static int read_group(searcher *s, tte_jsonl *in, int most, int *eof) {
    *eof = 0;
    while (s->n_tasks < most) {
        json_t *rec;
        int got = tte_jsonl_next(in, &rec);
        if (got <= 0) return got < 0 ? -1 : (*eof = 1, 0);
        const char *prompt;
        if (tte_jsonl_get_string(in, rec, TTE_FIELD_PROMPT, &prompt)) return json_decref(rec), -1;
        task *tk = &s->tasks[s->n_tasks++];
        memset(tk, 0, sizeof *tk);
        tk->rec = rec;
        const char *problem = json_string_value(json_object_get(rec, "problem"));
        tk->problem = problem ? problem : prompt;
        tk->prompt = tte_session_prompt(s->pol, prompt, &tk->n_prompt);
        tk->seed = s->o->seed ^ (uint64_t)tte_jsonl_line(in) * 0x9e3779b97f4a7c15ull;
    }
    return 0;
}

/* Searches the group and writes its records, item by item in input order. */
static int search_group(searcher *s, FILE *out, char *err, size_t errlen) {
    if (s->n_tasks == 0) return 0;
    int rc = start_roots(s, err, errlen);
    if (rc == 0)
        rc = s->o->kind == SEARCH_BEAM   ? beam_search(s, err, errlen)
             : s->o->kind == SEARCH_DVTS ? dvts(s, err, errlen)
                                         : revise(s, err, errlen);
    for (int t = 0; t < s->n_tasks && rc == 0; t++)
        for (int i = 0; i < s->o->n; i++) {
            /* Fewer complete solutions than N (beam): repeated round robin, as search-and-learn does. */
            task *tk = &s->tasks[t];
            json_t *rec = candidate_record(s, tk, i, &s->sol[tk->out[i % tk->n_out]]);
            if (tte_jsonl_write(out, rec) != 0) tte_die("write error");
            json_decref(rec);
        }
    free_tasks(s);
    return rc;
}

int search_run(tte_session *pol, tte_session *rm, const search_options *o, tte_jsonl *in, FILE *out) {
    searcher s = {.pol = pol, .rm = rm, .o = o};
    char err[1024];
    if (!(s.prm = tte_prm_open(rm, o->step_delim, err, sizeof err))) return tte_warn("%s", err), -1;
    s.delim = tte_prm_step_delim(s.prm);
    s.same_tokenizer = same_tokenizer(pol->tok, rm->tok);
    s.sampling = sampling_resolve(&o->sampling, pol->cfg);
    s.sample_vocab = sampling_vocab(pol->cfg, pol->tok);
    s.scratch = tte_xmalloc(tte_sample_scratch_bytes(pol->cfg->vocab_size));
    /* As many items together as --batch holds solutions of (revise: one sequence each). */
    int group = o->kind == SEARCH_REVISE ? o->batch : o->batch / o->n;
    if (group < 1) group = 1;
    int lanes = o->kind == SEARCH_REVISE ? group : o->n * group;
    size_t kv = o->kv_mem ? o->kv_mem : tte_session_kv_default(pol, TTE_SESSION_RECORD_TOKENS, lanes);
    size_t kv_rm = o->kv_mem ? o->kv_mem : tte_session_kv_default(rm, TTE_SESSION_RECORD_TOKENS, lanes);
    int rc = 0;
    if (tte_session_start(pol, kv, o->batch, err, sizeof err) != 0 ||
        tte_session_start(rm, kv_rm, o->batch, err, sizeof err) != 0)
        rc = -1, tte_warn("%s", err);
    tte_cost_model_of(&s.cost_pol, pol->model);
    tte_cost_model_of(&s.cost_rm, rm->model);
    s.width = pol->engine ? tte_sched_width(pol->sched) : 0;
    s.width_prm = rm->engine ? tte_sched_width(rm->sched) : 0;
    s.tasks = tte_xcalloc((size_t)group, sizeof *s.tasks);
    for (int eof = 0; rc == 0 && !eof;) {
        int bad = read_group(&s, in, group, &eof) != 0;
        if (search_group(&s, out, err, sizeof err) != 0) rc = -1, tte_warn("%s: %s", tte_jsonl_name(in), err);
        else if (bad) rc = -1, tte_warn("%s", tte_jsonl_error(in));
    }
    free_tasks(&s);
    free(s.tasks);
    free(s.sol), free(s.by_lane), free(s.by_prm_lane), free(s.scratch);
    tte_prm_free(s.prm);
    return rc;
}
