/* compute: what running a model on tokens costs, in the cost model of the Kinetics paper
 * (Sadhukhan et al., "Kinetics: Rethinking Test-Time Scaling Laws", 2025), so that every strategy
 * (budget forcing, Best-of-N, search) is put on one compute axis:
 *
 *   FLOPs  per token at position p (it attends to p + 1 keys):  2 x P  +  4 x L x A x (p + 1)
 *          P = the parameters of every matrix a token goes through (lm_head or a reward head
 *          included, the embedding table not: it is a lookup), L layers, A = heads x head_dim
 *          (the QK^T and AV products, a multiply and an add each)
 *   bytes  the weights once per forward step, shared by the sequences that run that step together,
 *          plus the KV cache each token attends to:  (p + 1) x 2 x L x kv_heads x head_dim x 2 (bf16)
 * so attention's memory traffic, not parameter FLOPs, dominates long generations and many samples.
 * A prefill of n tokens is one forward step (the weights read once); a generated token is a step of
 * its own. Who runs together is the strategy's, not tte's scheduling: the n samples of one item for
 * sampling, the N solutions of one item for a search.
 *
 * Record fields (man/tte.7): "tokens_generated", "tokens_fed", "flops", "bytes" for the policy;
 * "prm_tokens_fed", "prm_flops", "prm_bytes" for a process reward model. Pure arithmetic; no
 * allocation; thread-safe. */
#ifndef TTE_COMPUTE_H
#define TTE_COMPUTE_H

#include <jansson.h>

#include "engine/model.h"

typedef struct {
    double matrix_params;      /* P above */
    double weight_bytes;       /* bytes one forward step reads (model.h's tte_model_bytes_per_token) */
    double attn_flops_per_key; /* 4 x L x A */
    double kv_bytes_per_key;   /* 2 x L x kv_heads x head_dim x 2 */
} tte_cost_model;

typedef struct {
    double tokens_generated, tokens_fed, flops, bytes;
} tte_cost;

void tte_cost_model_of(tte_cost_model *cm, const tte_model *m);

/* N tokens fed at positions FIRST .. FIRST + N - 1 in one forward step that SHARE sequences run
 * together (the weights' bytes are split between them); GENERATED: they were sampled. */
void tte_cost_step(tte_cost *c, const tte_cost_model *cm, long first, long n, int generated, double share);
/* N generated tokens at positions FIRST .. FIRST + N - 1, one forward step each, SHARE sequences
 * together. */
void tte_cost_decode(tte_cost *c, const tte_cost_model *cm, long first, long n, double share);

/* Adds C's fields to REC under PREFIX ("" for the policy's, "prm_" for a PRM's). */
void tte_cost_set(json_t *rec, const char *prefix, const tte_cost *c);

#endif
