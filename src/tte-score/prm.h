/* prm: process-reward scores, `tte-score --prm DIR`, for PRMs that are causal language models read
 * at a tag token (Math-Shepherd style, as huggingface/search-and-learn scores them).
 *
 * A record's solution is split into steps: its "steps" (a list of texts, as in PRM benchmarks), or
 * tte-gen's "thinking" cut at the step delimiter (empty pieces dropped) followed by its forced
 * answer "\boxed{" + "final" as the last step. The PRM reads
 *     SYSTEM "\n" PROBLEM "\n" " " STEP1 TAG DELIM STEP2 TAG DELIM ... STEPn TAG
 * (search-and-learn's Math-Shepherd input: every delimiter gets the tag before it, and the last step
 * a tag of its own), tokenised as one text, fed once; at each tag token, the step's score is the
 * softmax of the logits of GOOD and BAD, GOOD's share. PROBLEM is "problem", else "prompt".
 * Fields added: "step_scores" (one per step) and "prm_score" (their last, min or product:
 * search-and-learn's three aggregates). A PRM folder may say its own format in tte_prm.json:
 * {"style": "shepherd", "tag": " ки", "good": "+", "bad": "-", "system": "", "step_delim": "\n\n"}.
 *
 * Records are jobs of engine/jobs.h on the PRM's own session: up to --batch at once, in order. */
#ifndef TTE_SCORE_PRM_H
#define TTE_SCORE_PRM_H

#include <stdio.h>

#include "jsonl.h"
#include "session.h"

typedef enum { PRM_AGG_LAST, PRM_AGG_MIN, PRM_AGG_PROD } prm_agg;

typedef struct {
    const char *step_delim; /* --step-delim, or NULL for the folder's or "\n\n" */
    prm_agg agg;
    int batch;
    size_t kv_mem;
} prm_options;

/* Scores every record of IN with the PRM of SES (its folder's tte_prm.json read here), writing them
 * to OUT. Returns 0, or -1 after one error line; records before a bad one are written. */
int prm_run(tte_session *ses, const prm_options *o, tte_jsonl *in, FILE *out);

#endif
