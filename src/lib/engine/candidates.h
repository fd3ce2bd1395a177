/* candidates: the log-probability of every answer in a solution set after one state, by teacher
 * forcing over the prefix tree of the candidates' tokens, on the scheduler (engine/sched.h).
 *
 * Candidates that share a prefix share its computation: each distinct proper prefix is one node,
 * a lane forked from its parent's with one more token. The 1000 AIME answers 0-999 (up to three
 * digit tokens each) cost 1 + 10 + 100 positions instead of 3000, and every node of one depth (of
 * every tree in flight) can go through the engine in one forward call. Log-probabilities are of the
 * raw logits (temperature 1), in double precision.
 *
 * A scheduler client walks a tree from a lane that holds the context: that lane's logits are the
 * root's. tte_cand_tree_step scores the candidates through a node from its logits, forks a lane for
 * each child node and ends the node's lane; the walk is over when no lane of it is left. */
#ifndef TTE_CANDIDATES_H
#define TTE_CANDIDATES_H

#include <stddef.h>
#include <stdint.h>

#include "engine/engine.h"
#include "engine/sched.h"

/* A distinct prefix that some candidate goes on from. The candidates through it are scored at it
 * with their token at `depth`; its children (contiguous, after it) are one token longer. */
typedef struct {
    int depth;
    int32_t token;           /* the token that leads here from the parent (unused at the root, node 0) */
    int first_cand, n_cands; /* into node_cands */
    int first_child, n_children;
} tte_cand_node;

typedef struct {
    const int32_t *const *cands; /* borrowed: the candidates' tokens */
    const int *lens;
    int n_cands;
    tte_cand_node *nodes; /* breadth-first; nodes[0] is the root */
    int n_nodes;
    int *node_cands;
} tte_cand_tree;

/* Builds the tree of CANDS[0..n) (LENS[c] >= 1 tokens each, in [0, VOCAB)); borrows the arrays.
 * Returns 0, or -1 with a message in ERR. */
int tte_cand_tree_init(tte_cand_tree *t, const int32_t *const *cands, const int *lens, int n, int vocab,
                       char *err, size_t errlen);
void tte_cand_tree_free(tte_cand_tree *t);
/* The KV pages a walk can take beyond its starting lane's: one per node forked (a copied page or a
 * new one). */
int tte_cand_tree_pages(const tte_cand_tree *t);

/* Told of each child LANE a step forks from PARENT, and the node it holds. */
typedef void (*tte_cand_child_fn)(void *ctx, int parent, int lane, int node);

/* LANE holds NODE's prefix and has LOGITS: adds each candidate's log-probability at this node into
 * LP[c], forks LANE for each child (fed its token; CHILD is told), and ends LANE. Returns the change
 * in the walk's live lanes: children - 1. */
int tte_cand_tree_step(const tte_cand_tree *t, tte_sched *s, int lane, int node, const float *logits,
                       double *lp, tte_cand_child_fn child, void *ctx);

/* For tests and benchmarks: OUT[c] = log p(CANDS[c] | CONTEXT) for every candidate, on a scheduler
 * of its own over E (CONTEXT fed in one lane, then the walk). Returns 0, or -1 with a message in
 * ERR. */
int tte_candidates_logprob(tte_engine *e, const int32_t *context, int n_context, const int32_t *const *cands,
                           const int *lens, int n, double *out, char *err, size_t errlen);

#endif
