/* search: see search.h.
 *
 * One item at a time: a root solution is the prompt (on the policy) and the PRM's prefix (on the
 * PRM), and every partial solution is a fork of it. A round generates one step for a set of
 * solutions on the policy (tte_sched_run_fed), then feeds the new steps to the PRM the same way;
 * the search's own logic (which solutions to keep, fork or end) runs between rounds. */
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
    int prm_wait;        /* a step is being scored: its feed ends at the token its score is read at */
    tte_tokens prm_tail; /* the PRM tokens after that one (a format's text after its score mark) */
    double pending;      /* the score, once read */
    int round;           /* revise: the attempt's round; its cost, up to the attempt's end: */
    tte_cost spent, spent_rm;
} solution;

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
    const char *problem;
    int32_t *prompt;
    int n_prompt;
    uint64_t item_seed;
    int last_round; /* steps run to the end of sequence */
    tte_cost_model cost_pol, cost_rm;
    tte_cost spent, spent_rm; /* the item's, every branch included (compute.h) */
} searcher;

static void map_lane(int **map, int *cap, int lane, int sol) {
    if (lane >= *cap) {
        int old = *cap;
        TTE_GROW(*map, *cap, (size_t)lane + 1);
        for (int i = old; i < *cap; i++) (*map)[i] = -1;
    }
    (*map)[lane] = sol;
}

static int new_solution(searcher *s) {
    TTE_GROW(s->sol, s->cap_sol, (size_t)s->n_sol + 1);
    solution *x = &s->sol[s->n_sol];
    memset(x, 0, sizeof *x);
    x->lane = x->prm_lane = -1;
    x->next = tte_xmalloc((size_t)s->width * sizeof *x->next);
    /* Each solution its own stream of draws, from the item's seed and its index. */
    tte_rng_seed(&x->rng, s->item_seed ^ ((uint64_t)s->n_sol + 1) * 0xbf58476d1ce4e5b9ull);
    return s->n_sol++;
}

/* A copy of solution P with forks of its lanes. */
static int fork_solution(searcher *s, int p) {
    int c = new_solution(s);
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
        tte_tokens_free(&s->sol[i].prm_tail);
        free(s->sol[i].step_text);
        free(s->sol[i].step_end), free(s->sol[i].scores), free(s->sol[i].next);
    }
    s->n_sol = 0;
}

/* Whether the text of X's current step holds the delimiter, decoded from its ids (revise cuts a
 * finished attempt into steps with it; a delimiter that spans tokens is found). */
static int step_has_delim(const searcher *s, const solution *x) {
    char err[256];
    size_t len;
    char *text = tte_tokenizer_decode(s->pol->tok, x->ids.ids + x->step_start, x->ids.n - (size_t)x->step_start,
                                      0, &len, err, sizeof err);
    if (!text) tte_die("%s", err);
    int found = memmem(text, len, s->delim, strlen(s->delim)) != NULL;
    free(text);
    return found;
}

/* Takes token TOK for solution X: it ends the step, or is fed for the next one. */
static void take_token(searcher *s, solution *x, int32_t tok) {
    const tte_config *cfg = s->pol->cfg;
    if (tte_config_is_eos(cfg, tok)) {
        x->stop = STOP_EOS;
        x->generating = 0;
        return;
    }
    TTE_GROW(x->ids.ids, x->ids.cap, x->ids.n + 1);
    x->ids.ids[x->ids.n++] = tok;
    tte_cost_decode(&s->spent, &s->cost_pol, s->n_prompt + (long)x->ids.n - 1, 1, s->o->n);
    int step_len = (int)x->ids.n - x->step_start;
    /* The delimiter can only end in the new token's bytes: look from where it could begin. */
    size_t n, dl = strlen(s->delim), from = x->step_len >= dl ? x->step_len - dl + 1 : 0;
    const char *bytes = tte_tokenizer_token_bytes(s->pol->tok, tok, &n);
    TTE_GROW(x->step_text, x->step_cap, x->step_len + n + 1);
    if (n) memcpy(x->step_text + x->step_len, bytes, n);
    x->step_len += n;
    if (!s->last_round && memmem(x->step_text + from, x->step_len - from, s->delim, dl))
        x->stop = STOP_DELIM;
    else if (step_len >= s->o->step_tokens || s->n_prompt + (int)x->ids.n >= cfg->max_position_embeddings)
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

static int on_prm_logits(void *ctx, tte_sched *sched, int lane, const float *logits, int first, int rows,
                         int fed_all, char *err, size_t errlen) {
    searcher *s = ctx;
    solution *x = &s->sol[s->by_prm_lane[lane]];
    if (x->prm_wait == 1) {
        /* The step's row; then what follows its score mark, whose logits nobody needs. */
        x->pending = tte_prm_score(s->prm, logits);
        x->prm_wait = 2;
        if (x->prm_tail.n) tte_sched_feed(sched, lane, x->prm_tail.ids, (int)x->prm_tail.n, TTE_LOGITS_LAST);
    }
    return 0;
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

/* Feeds the new step of each solution of LIST[0..n) that has one to the PRM; appends its score. */
static int score(searcher *s, const int *list, int n, char *err, size_t errlen) {
    for (int k = 0; k < n; k++) {
        solution *x = &s->sol[list[k]];
        if (x->ids.n == (size_t)x->step_start) continue; /* an empty step: nothing to score */
        const int32_t *ids;
        size_t n_ids, len, read;
        char *text = step_body(s, x, &ids, &n_ids, &len);
        tte_tokens feed = {0};
        int rc = tte_prm_step(s->prm, s->problem, x->n_steps, text, len, ids, n_ids, &feed, &read, err, errlen);
        free(text);
        if (rc != 0) return tte_tokens_free(&feed), -1;
        if (x->n_steps == x->cap_steps) {
            x->cap_steps = 2 * x->cap_steps + 8;
            x->step_end = tte_xrealloc(x->step_end, (size_t)x->cap_steps * sizeof *x->step_end);
            x->scores = tte_xrealloc(x->scores, (size_t)x->cap_steps * sizeof *x->scores);
        }
        x->step_end[x->n_steps] = (int)x->ids.n;
        x->prm_wait = 1;
        x->pending = NAN;
        tte_cost_step(&s->spent_rm, &s->cost_rm, tte_sched_lane_len(s->rm->sched, x->prm_lane), (long)feed.n, 0,
                      s->o->n);
        /* Fed up to the read token, so that only its row of logits is made (a language-model PRM's
         * rows are vocabulary-sized). */
        x->prm_tail.n = 0;
        if (feed.n > read + 1) {
            TTE_GROW(x->prm_tail.ids, x->prm_tail.cap, feed.n - read - 1);
            memcpy(x->prm_tail.ids, feed.ids + read + 1, (feed.n - read - 1) * sizeof *feed.ids);
            x->prm_tail.n = feed.n - read - 1;
        }
        tte_sched_feed(s->rm->sched, x->prm_lane, feed.ids, (int)read + 1, TTE_LOGITS_LAST);
        tte_tokens_free(&feed);
    }
    if (tte_sched_run_fed(s->rm->sched, on_prm_logits, s, err, errlen) != 0) return -1;
    for (int k = 0; k < n; k++) {
        solution *x = &s->sol[list[k]];
        if (!x->prm_wait) continue;
        x->scores[x->n_steps++] = x->pending;
        x->prm_wait = 0;
    }
    return 0;
}

/* A solution's score: the aggregate of its steps' (0 before it has any). */
static double solution_score(const searcher *s, const solution *x) {
    return x->n_steps ? tte_prm_aggregate(s->o->agg, x->scores, x->n_steps) : 0;
}

/* The root: the prompt on the policy (its logits start every solution), the prefix on the PRM. */
static int start_root(searcher *s, char *err, size_t errlen) {
    int r = new_solution(s);
    solution *x = &s->sol[r];
    x->lane = tte_sched_lane_new(s->pol->sched);
    x->prm_lane = tte_sched_lane_new(s->rm->sched);
    map_lane(&s->by_lane, &s->cap_by_lane, x->lane, r);
    map_lane(&s->by_prm_lane, &s->cap_by_prm_lane, x->prm_lane, r);
    tte_sched_feed(s->pol->sched, x->lane, s->prompt, s->n_prompt, TTE_LOGITS_LAST);
    tte_cost_step(&s->spent, &s->cost_pol, 0, s->n_prompt, 0, 1);
    tte_tokens prefix = {0};
    tte_prm_prefix(s->prm, s->problem, &prefix);
    tte_cost_step(&s->spent_rm, &s->cost_rm, 0, (long)prefix.n, 0, 1);
    if (prefix.n) tte_sched_feed(s->rm->sched, x->prm_lane, prefix.ids, (int)prefix.n, TTE_LOGITS_LAST);
    tte_tokens_free(&prefix);
    if (tte_sched_run_fed(s->pol->sched, on_policy_logits, s, err, errlen) != 0 ||
        tte_sched_run_fed(s->rm->sched, on_prm_logits, s, err, errlen) != 0)
        return -1;
    return r;
}

/* Beam search: the indices of the records' solutions into OUT (o->n of them). */
static int beam_search(searcher *s, int root, int *out, char *err, size_t errlen) {
    int N = s->o->n, keep = s->o->n / s->o->beam_width, n_active = 0, n_done = 0;
    int *active = tte_xmalloc((size_t)N * sizeof *active), *done = NULL, cap_done = 0;
    double *agg = tte_xmalloc((size_t)N * sizeof *agg);
    int *order = tte_xmalloc((size_t)N * sizeof *order);
    for (int i = 0; i < N; i++) active[n_active++] = fork_solution(s, root);
    end_solution(s, root);
    int rc = 0;
    for (int it = 0; it < s->o->max_steps && n_active > 0 && rc == 0; it++) {
        /* Back to N, the survivors copied round robin. */
        for (int i = n_active, k = 0; i < N; i++, k++) active[i] = fork_solution(s, active[k % n_active]);
        n_active = N;
        s->last_round = it == s->o->max_steps - 1;
        if (generate(s, active, n_active, err, errlen) != 0 || score(s, active, n_active, err, errlen) != 0) {
            rc = -1;
            break;
        }
        int n_open = 0;
        for (int i = 0; i < n_active; i++) {
            solution *x = &s->sol[active[i]];
            if (x->stop == STOP_EOS || x->stop == STOP_LENGTH || x->ids.n == (size_t)x->step_start) {
                TTE_GROW(done, cap_done, (size_t)n_done + 1);
                done[n_done++] = active[i];
                end_solution(s, active[i]);
            } else {
                active[n_open++] = active[i];
            }
        }
        n_active = n_open;
        /* The KEEP best, by a stable ascending sort whose last KEEP win (numpy's argsort). */
        for (int i = 0; i < n_active; i++) agg[i] = solution_score(s, &s->sol[active[i]]), order[i] = i;
        for (int i = 1; i < n_active; i++)
            for (int j = i; j > 0 && agg[order[j - 1]] > agg[order[j]]; j--) {
                int t = order[j];
                order[j] = order[j - 1], order[j - 1] = t;
            }
        int n_keep = n_active < keep ? n_active : keep, n_kept = 0;
        for (int i = 0; i < n_active; i++) {
            int rank = 0;
            while (order[rank] != i) rank++;
            if (rank >= n_active - n_keep)
                active[n_kept++] = active[i];
            else
                end_solution(s, active[i]);
        }
        n_active = n_kept;
    }
    for (int i = 0; i < n_active; i++) end_solution(s, active[i]);
    if (rc == 0 && n_done == 0) rc = -1, snprintf(err, errlen, "beam search completed no solution");
    for (int i = 0; rc == 0 && i < N; i++) out[i] = done[i % n_done];
    free(active), free(done), free(agg), free(order);
    return rc;
}

/* Diverse verifier tree search: the records' solutions into OUT (o->n of them). */
static int dvts(searcher *s, int root, int *out, char *err, size_t errlen) {
    int M = s->o->beam_width, T = s->o->n / M, rc = 0;
    int *tree = tte_xmalloc((size_t)T * sizeof *tree), *stopped = tte_xcalloc((size_t)T, sizeof *stopped);
    int *kids = tte_xmalloc((size_t)T * (size_t)M * sizeof *kids), *gen = tte_xmalloc((size_t)T * (size_t)M * sizeof *gen);
    for (int t = 0; t < T; t++) tree[t] = root;
    for (int it = 0; it < s->o->max_steps && rc == 0; it++) {
        int n_gen = 0;
        for (int t = 0; t < T; t++) {
            if (stopped[t]) continue;
            for (int m = 0; m < M; m++) gen[n_gen++] = kids[t * M + m] = fork_solution(s, tree[t]);
            if (tree[t] != root) end_solution(s, tree[t]);
        }
        if (n_gen == 0) break;
        s->last_round = it == s->o->max_steps - 1;
        if (generate(s, gen, n_gen, err, errlen) != 0 || score(s, gen, n_gen, err, errlen) != 0) {
            rc = -1;
            break;
        }
        for (int t = 0; t < T; t++) {
            if (stopped[t]) continue;
            int best = 0;
            for (int m = 1; m < M; m++)
                if (solution_score(s, &s->sol[kids[t * M + m]]) > solution_score(s, &s->sol[kids[t * M + best]]))
                    best = m;
            for (int m = 0; m < M; m++)
                if (m != best) end_solution(s, kids[t * M + m]);
            solution *b = &s->sol[kids[t * M + best]];
            tree[t] = kids[t * M + best];
            if (b->stop == STOP_EOS || b->ids.n == (size_t)b->step_start) stopped[t] = 1, end_solution(s, tree[t]);
        }
    }
    end_solution(s, root);
    for (int t = 0; t < T * M; t++) out[t] = kids[t], end_solution(s, kids[t]);
    free(tree), free(stopped), free(kids), free(gen);
    return rc;
}

static json_t *json_doubles(const double *v, int n) {
    json_t *a = json_array();
    for (int i = 0; i < n; i++) json_array_append_new(a, json_real(v[i]));
    return a;
}

static json_t *candidate_record(const searcher *s, json_t *item, int sample, const solution *x) {
    char err[256];
    size_t len;
    json_t *rec = json_deep_copy(item), *steps = json_array();
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
    tte_cost_set(rec, "", o->kind == SEARCH_REVISE ? &x->spent : &s->spent);
    tte_cost_set(rec, "prm_", o->kind == SEARCH_REVISE ? &x->spent_rm : &s->spent_rm);
    free(text);
    return rec;
}

/* Sequential revisions: o->n attempts, each after the previous ones and the revision prompt, on one
 * growing sequence. Each attempt is scored by the PRM on its own, step by step from the prefix, as
 * a solution of its own. The attempts into OUT. */
static int revise(searcher *s, int root, int *out, char *err, size_t errlen) {
    int x = fork_solution(s, root), rc = 0;
    int n_rev;
    int32_t *rev = tte_session_encode(s->pol, s->o->revise_prompt, strlen(s->o->revise_prompt), &n_rev);
    s->last_round = 1; /* an attempt runs to its end */
    for (int r = 0; r < s->o->n && rc == 0; r++) {
        size_t start = s->sol[x].ids.n;
        if (generate(s, &x, 1, err, errlen) != 0) {
            rc = -1;
            break;
        }
        /* The attempt alone, on a fork of the PRM's prefix; its steps found as a search would cut them. */
        int a = new_solution(s);
        solution *att = &s->sol[a], *cur = &s->sol[x];
        size_t n = cur->ids.n - start;
        TTE_GROW(att->ids.ids, att->ids.cap, n + 1);
        if (n) memcpy(att->ids.ids, cur->ids.ids + start, n * sizeof *att->ids.ids);
        att->prm_lane = tte_sched_lane_fork(s->rm->sched, s->sol[root].prm_lane);
        map_lane(&s->by_prm_lane, &s->cap_by_prm_lane, att->prm_lane, a);
        att->round = r;
        for (size_t end = 0; end < n && rc == 0;) {
            att->step_start = (int)end;
            att->ids.n = end;
            att->stop = STOP_NONE;
            while (att->ids.n < n && att->stop == STOP_NONE) {
                att->ids.n++;
                if (att->ids.n < n && step_has_delim(s, att)) att->stop = STOP_DELIM;
            }
            if (att->stop == STOP_NONE) att->stop = s->sol[x].stop;
            end = att->ids.n;
            rc = score(s, &a, 1, err, errlen);
            att = &s->sol[a]; /* score() may not move solutions, but stay safe against growth */
        }
        end_solution(s, a);
        s->sol[a].spent = s->spent, s->sol[a].spent_rm = s->spent_rm;
        out[r] = a;
        /* The revision prompt after the attempt, for the next one; its logits start it. */
        if (r + 1 < s->o->n && n_rev > 0 && rc == 0) {
            solution *y = &s->sol[x];
            tte_cost_step(&s->spent, &s->cost_pol, s->n_prompt + (long)y->ids.n, n_rev, 0, 1);
            TTE_GROW(y->ids.ids, y->ids.cap, y->ids.n + (size_t)n_rev);
            memcpy(y->ids.ids + y->ids.n, rev, (size_t)n_rev * sizeof *rev);
            y->ids.n += (size_t)n_rev;
            y->generating = 0;
            tte_sched_feed(s->pol->sched, y->lane, rev, n_rev, TTE_LOGITS_LAST);
            rc = tte_sched_run_fed(s->pol->sched, on_policy_logits, s, err, errlen);
        }
    }
    free(rev);
    end_solution(s, x);
    end_solution(s, root);
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

static int search_item(searcher *s, tte_jsonl *in, json_t *item, FILE *out, char *err, size_t errlen) {
    const char *prompt;
    if (tte_jsonl_get_string(in, item, TTE_FIELD_PROMPT, &prompt)) return 1;
    const char *problem = json_string_value(json_object_get(item, "problem"));
    s->problem = problem ? problem : prompt;
    s->prompt = tte_session_prompt(s->pol, prompt, &s->n_prompt);
    s->item_seed = s->o->seed ^ (uint64_t)tte_jsonl_line(in) * 0x9e3779b97f4a7c15ull;
    s->spent = s->spent_rm = (tte_cost){0};
    s->last_round = 0;
    int *chosen = tte_xmalloc((size_t)s->o->n * sizeof *chosen);
    int root = start_root(s, err, errlen);
    int rc = root < 0 ? -1
             : s->o->kind == SEARCH_BEAM ? beam_search(s, root, chosen, err, errlen)
             : s->o->kind == SEARCH_DVTS ? dvts(s, root, chosen, err, errlen)
                                         : revise(s, root, chosen, err, errlen);
    for (int i = 0; rc == 0 && i < s->o->n; i++) {
        json_t *rec = candidate_record(s, item, i, &s->sol[chosen[i]]);
        if (tte_jsonl_write(out, rec) != 0) tte_die("write error");
        json_decref(rec);
    }
    free(chosen), free(s->prompt);
    free_solutions(s);
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
    size_t kv = o->kv_mem ? o->kv_mem : tte_session_kv_default(pol, TTE_SESSION_RECORD_TOKENS, o->n);
    size_t kv_rm = o->kv_mem ? o->kv_mem : tte_session_kv_default(rm, TTE_SESSION_RECORD_TOKENS, o->n);
    int rc = 0;
    if (tte_session_start(pol, kv, o->batch, err, sizeof err) != 0 ||
        tte_session_start(rm, kv_rm, o->batch, err, sizeof err) != 0)
        rc = -1, tte_warn("%s", err);
    tte_cost_model_of(&s.cost_pol, pol->model);
    tte_cost_model_of(&s.cost_rm, rm->model);
    s.width = pol->engine ? tte_sched_width(pol->sched) : 0;
    s.width_prm = rm->engine ? tte_sched_width(rm->sched) : 0;
    json_t *item;
    int got;
    while (rc == 0 && (got = tte_jsonl_next(in, &item)) == 1) {
        int r = search_item(&s, in, item, out, err, sizeof err);
        json_decref(item);
        if (r > 0) rc = -1, tte_warn("%s", tte_jsonl_error(in));
        else if (r < 0) rc = -1, tte_warn("%s: %s", tte_jsonl_name(in), err);
    }
    if (rc == 0 && got < 0) rc = -1, tte_warn("%s", tte_jsonl_error(in));
    free(s.sol), free(s.by_lane), free(s.by_prm_lane), free(s.scratch);
    tte_prm_free(s.prm);
    return rc;
}
