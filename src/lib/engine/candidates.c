/* candidates: see candidates.h. */
#include "engine/candidates.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/sampler.h"
#include "xalloc.h"

int tte_cand_tree_init(tte_cand_tree *t, const int32_t *const *cands, const int *lens, int n, int vocab,
                       char *err, size_t errlen) {
    memset(t, 0, sizeof *t);
    int total = 0;
    for (int c = 0; c < n; c++) {
        if (lens[c] < 1) return snprintf(err, errlen, "candidate %d has no tokens", c), -1;
        for (int d = 0; d < lens[c]; d++)
            if (cands[c][d] < 0 || cands[c][d] >= vocab)
                return snprintf(err, errlen, "candidate %d: token %d outside the vocabulary", c, cands[c][d]),
                       -1;
        total += lens[c];
    }
    t->cands = cands, t->lens = lens, t->n_cands = n;
    /* At most one node per candidate token, and a candidate appears once in each node it passes. */
    t->nodes = tte_xmalloc((size_t)(total + 1) * sizeof *t->nodes);
    t->node_cands = tte_xmalloc((size_t)(total + 1) * sizeof *t->node_cands);
    int n_node_cands = 0;
    for (int c = 0; c < n; c++) t->node_cands[n_node_cands++] = c;
    t->nodes[0] = (tte_cand_node){.depth = 0, .first_cand = 0, .n_cands = n};
    t->n_nodes = 1;
    for (int k = 0; k < t->n_nodes; k++) {
        tte_cand_node *nd = &t->nodes[k];
        int d = nd->depth;
        nd->first_child = t->n_nodes;
        /* Children in the order of their first candidate; a candidate that ends here has none. */
        for (int i = 0; i < nd->n_cands; i++) {
            int c = t->node_cands[nd->first_cand + i];
            if (lens[c] <= d + 1) continue;
            int seen = 0;
            for (int ch = nd->first_child; ch < t->n_nodes && !seen; ch++)
                seen = t->nodes[ch].token == cands[c][d];
            if (seen) continue;
            tte_cand_node *child = &t->nodes[t->n_nodes++];
            *child = (tte_cand_node){.depth = d + 1, .token = cands[c][d], .first_cand = n_node_cands};
            for (int j = i; j < nd->n_cands; j++) {
                int c2 = t->node_cands[nd->first_cand + j];
                if (lens[c2] > d + 1 && cands[c2][d] == child->token) t->node_cands[n_node_cands++] = c2;
            }
            child->n_cands = n_node_cands - child->first_cand;
        }
        nd->n_children = t->n_nodes - nd->first_child;
    }
    return 0;
}

void tte_cand_tree_free(tte_cand_tree *t) {
    free(t->nodes), free(t->node_cands);
    memset(t, 0, sizeof *t);
}

int tte_cand_tree_pages(const tte_cand_tree *t) { return t->n_nodes; }

int tte_cand_tree_step(const tte_cand_tree *t, tte_sched *s, int lane, int node, const float *logits,
                       double *lp, tte_cand_child_fn child, void *ctx) {
    const tte_cand_node *nd = &t->nodes[node];
    int vocab = tte_sched_width(s);
    double lse = tte_logsumexp(logits, vocab);
    for (int i = 0; i < nd->n_cands; i++) {
        int c = t->node_cands[nd->first_cand + i];
        lp[c] += (double)logits[t->cands[c][nd->depth]] - lse;
    }
    for (int k = nd->first_child; k < nd->first_child + nd->n_children; k++) {
        int fork = tte_sched_lane_fork(s, lane);
        tte_sched_feed(s, fork, &t->nodes[k].token, 1, TTE_LOGITS_LAST);
        child(ctx, lane, fork, k);
    }
    tte_sched_lane_end(s, lane);
    return nd->n_children - 1;
}

/* tte_candidates_logprob's client: lane 0 feeds the context, then the walk. */
typedef struct {
    const tte_cand_tree *t;
    const int32_t *context;
    int n_context, started, pages, live;
    int *node_of; /* by lane id */
    size_t cap;
    double *lp;
} one_walk;

static void note_child(void *ctx, int parent, int lane, int node) {
    one_walk *w = ctx;
    TTE_GROW(w->node_of, w->cap, (size_t)lane + 1);
    w->node_of[lane] = node;
}

static int walk_admit(void *ctx, tte_sched *s, char *err, size_t errlen) {
    one_walk *w = ctx;
    if (w->started) return TTE_SCHED_NO_MORE;
    w->pages = tte_sched_pages_for(w->n_context) + 1 + tte_cand_tree_pages(w->t);
    if (tte_sched_reserve(s, w->pages) != 0)
        return snprintf(err, errlen, "the candidate tree needs %d KV pages, the cache has %d", w->pages,
                        tte_sched_pages_total(s)),
               -1;
    int lane = tte_sched_lane_new(s);
    note_child(w, -1, lane, 0);
    tte_sched_feed(s, lane, w->context, w->n_context, TTE_LOGITS_LAST);
    w->started = w->live = 1;
    return TTE_SCHED_NO_MORE;
}

static int walk_logits(void *ctx, tte_sched *s, int lane, const float *logits, int first, int rows,
                       int fed_all, char *err, size_t errlen) {
    one_walk *w = ctx;
    w->live += tte_cand_tree_step(w->t, s, lane, w->node_of[lane], logits, w->lp, note_child, w);
    if (w->live == 0) tte_sched_release(s, w->pages);
    return 0;
}

int tte_candidates_logprob(tte_engine *e, const int32_t *context, int n_context, const int32_t *const *cands,
                           const int *lens, int n, double *out, char *err, size_t errlen) {
    tte_cand_tree t;
    if (tte_cand_tree_init(&t, cands, lens, n, tte_model_config(tte_engine_model(e))->vocab_size, err,
                           errlen) != 0)
        return -1;
    memset(out, 0, (size_t)n * sizeof *out);
    one_walk w = {.t = &t, .context = context, .n_context = n_context, .lp = out};
    tte_sched *s = tte_sched_create(e, NULL);
    int rc = tte_sched_run(s, &(tte_sched_client){walk_admit, walk_logits}, &w, err, errlen);
    tte_sched_free(s);
    free(w.node_of);
    tte_cand_tree_free(&t);
    return rc;
}
