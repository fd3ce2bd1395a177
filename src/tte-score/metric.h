/* metric: the continuous metric of DESIGN.md, tte-score's model mode.
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
 * The traces of one sample at growing budgets are prefixes of each other (tte-gen's one-pass
 * design), so the trace's cache is extended from budget to budget rather than recomputed, and each
 * budget's forced end forks from it. Results are cached per record like generations. */
#ifndef TTE_SCORE_METRIC_H
#define TTE_SCORE_METRIC_H

#include <stddef.h>

#include "jsonl.h"

typedef struct {
    const char *model_dir;     /* resolved folder */
    const char *template_path; /* --template, or NULL for the model's chat template */
    int threads;
    const char *device; /* cpu, cuda or auto */
    size_t kv_mem;      /* 0: enough for the longest record and the largest solution set */
    int use_cache, refresh, progress;
} metric_options;

/* Scores every record of IN, writing them in input order to stdout. Returns 0, or -1 after one
 * error line. */
int metric_run(const metric_options *o, tte_jsonl *in);

#endif
