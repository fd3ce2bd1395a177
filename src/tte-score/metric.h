/* metric: the continuous metric, tte-score's model mode.
 *
 * For each generation record (from tte-gen: it carries "thinking_ids" and "end_thinking"), the
 * probability the model gives each answer of the item's solution set right after the forced end of
 * thinking, by teacher forcing on token ids, with raw logits (temperature 1). Each candidate is
 * scored as its text followed by the closing "}" of \boxed{…}, so the set is prefix-free ("3}" and
 * "33}" are different answers, not one inside the other) and the probabilities of distinct answers
 * add up. Solution sets:
 *   int:0-999   integer answers in 0..999 (AIME): the 1000 strings "0".."999" as the model writes
 *               them (no leading zeros), evaluated as a tree over shared prefixes
 *   choice:A-X  multiple choice: the letters of the item's choices
 *   answers     anything else: the gold answer plus the distinct answers (by the grader's
 *               equivalence) that the model gave for the item at any budget or sample
 * Fields added, besides grading's pred/extracted/correct: p_gold, logp_gold, p_gold_norm (p_gold over
 * the sum over the set), entropy_nats (of the normalised set), gold_rank (1 = most probable),
 * solution_set and set_size.
 *
 * How the work is shared: the traces of one sample at growing budgets are prefixes of each other
 * (tte-gen's one-pass design), so one trace lane per sample is extended from budget to budget and
 * forks, at each budget, a forced end whose candidate tree forks again at every shared prefix.
 * Records with the same inputs (a trace that ended before the budget) are computed once. Up to
 * --batch traces run at once on the library's scheduler, their trees in the same forward calls;
 * results are identical for every --batch and --threads. Results are cached per record. */
#ifndef TTE_SCORE_METRIC_H
#define TTE_SCORE_METRIC_H

#include <stddef.h>
#include <stdio.h>

#include "jsonl.h"
#include "session.h"

typedef struct {
    int batch;     /* traces scored together */
    size_t kv_mem; /* 0: a batch of traces and trees, up to 2 GiB (at least one of each) */
    int refresh, progress;
    int rescore; /* score records another model generated (their model_hash differs) */
} metric_options;

/* Scores every record of IN on the session SES (with weights and chat template; this starts its
 * engine), writing them in input order to OUT. Returns 0, or -1 after one error line. */
int metric_run(tte_session *ses, const metric_options *o, tte_jsonl *in, FILE *out);

#endif
