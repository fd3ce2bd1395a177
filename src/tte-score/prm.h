/* prm: process-reward scores, `tte-score --prm DIR`, for every kind of PRM prm_format.h reads
 * (Math-Shepherd and RLHFlow style causal LMs, Qwen2.5-Math-PRM's classifier, Skywork's value head).
 *
 * A record's solution is split into steps: its "steps" (a list of texts, as in PRM benchmarks), or
 * tte-gen's "thinking" cut at the step delimiter (empty pieces dropped) followed by its forced
 * answer "\boxed{" + "final" as the last step; PROBLEM is "problem", else "prompt". The PRM's input
 * (prm_format.h's tte_prm_encode) is fed once, so scoring a trace costs one pass over it.
 * Fields added: "step_scores" (one per step), "prm_score" (their last, min or product:
 * search-and-learn's three aggregates) and "prm" (the PRM's name).
 *
 * Records are jobs of engine/jobs.h on the PRM's own session: up to --batch at once, in order. Step
 * scores are cached by the PRM, its numerics and the exact input ids and read positions, so a rerun
 * (or a record scored twice) feeds nothing. */
#ifndef TTE_SCORE_PRM_H
#define TTE_SCORE_PRM_H

#include <stdio.h>

#include "jsonl.h"
#include "prm_format.h"
#include "session.h"

typedef struct {
    const char *step_delim; /* --step-delim, or NULL for the folder's or "\n\n" */
    tte_prm_agg agg;
    int batch;
    size_t kv_mem;
    int refresh; /* --refresh: recompute what the cache holds */
} prm_options;

/* Scores every record of IN with the PRM of SES (its folder's tte_prm.json read here), writing them
 * to OUT. Returns 0, or -1 after one error line; records before a bad one are written. */
int prm_run(tte_session *ses, const prm_options *o, tte_jsonl *in, FILE *out);

#endif
