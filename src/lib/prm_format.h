/* prm_format: how a process reward model (PRM) reads a solution, step by step, and turns its output at a
 * step into a score. Shared by `tte-score --prm` (scoring finished traces) and `tte-gen --search`
 * (scoring partial solutions while generating), so that both feed the PRM the same ids.
 *
 * A PRM reads   PREFIX  STEP_1  JOIN STEP_2 ... JOIN STEP_n   where PREFIX holds the problem and
 * each STEP_k is the step's text inside the format's step template. The template marks where the
 * score is read: "{score}" (the output row of the token just before it), or else the end of the
 * template. "{step}" is the step's text, "{problem}" the problem's; every piece of text between
 * the marks is tokenised on its own (as search-and-learn's inputs are where pieces meet at special
 * tokens or at the pre-tokenizer's splits), so a search that feeds a step as soon as it is generated
 * feeds exactly what scoring the finished trace feeds.
 *
 * The kinds (search-and-learn's and the models' own inference code):
 *   shepherd    a causal LM read at a tag (Math-Shepherd): prefix SYSTEM "\n" PROBLEM "\n ", step
 *               "{step} ки", join "\n\n"; score = softmax over the logits of GOOD ("+") and BAD
 *               ("-"), GOOD's share, at the tag
 *   rlhflow     a causal LM over a chat (RLHFlow, Llama-3.1 template): each step is a user turn (the
 *               first one "PROBLEM STEP") and each answer an assistant turn "+"; the score is the same
 *               share, read where the assistant's "+" is predicted
 *   classifier  Qwen2ForProcessRewardModel (Qwen2.5-Math-PRM): chat template with the system
 *               "Please reason step by step, and put your final answer within \boxed{}.", the steps
 *               in the assistant turn, each followed by "<extra_0>"; score = softmax of the head's
 *               outputs, label 1's share, at each "<extra_0>"
 *   value       Qwen2ForPrmModel (Skywork o1 Open PRM): BOS PROBLEM "\n", each step followed by "\n";
 *               score = sigmoid of the value head at that "\n"; steps are delimited by "\n"
 * The kind follows from config.json's architecture (a causal LM is shepherd unless told); a folder
 * may say its own format in tte_prm.json, every field optional:
 *   {"style": "shepherd|rlhflow|classifier|value", "prefix": "...{problem}...", "step": "...{step}...",
 *    "first_step": "...", "join": "...", "step_delim": "\n\n", "good": "+", "bad": "-",
 *    "system": "...", "tag": " ки"}
 * ("tag" and "system" fill the shepherd defaults: step "{step}" TAG, prefix SYSTEM "\n{problem}\n ".)
 *
 * Ownership: tte_prm_open returns an object the caller frees with tte_prm_free; it borrows the
 * session, which must outlive it. Not thread-safe. Errors: one line in ERR. */
#ifndef TTE_PRM_FORMAT_H
#define TTE_PRM_FORMAT_H

#include <stddef.h>

#include "session.h"

typedef enum { TTE_PRM_SHEPHERD, TTE_PRM_RLHFLOW, TTE_PRM_CLASSIFIER, TTE_PRM_VALUE } tte_prm_kind;

typedef struct tte_prm tte_prm;

/* The format of the PRM of SES (its architecture, then its folder's tte_prm.json); STEP_DELIM, when
 * not NULL, overrides the folder's delimiter (--step-delim). NULL with a message on a bad file, an
 * unknown style, a style the model cannot serve (a head it lacks), or a label that encodes to no
 * token. */
tte_prm *tte_prm_open(tte_session *ses, const char *step_delim, char *err, size_t errlen);
void tte_prm_free(tte_prm *p);

tte_prm_kind tte_prm_kind_of(const tte_prm *p);
/* "shepherd", "rlhflow", "classifier" or "value" (static). */
const char *tte_prm_kind_name(tte_prm_kind k);
/* The text that ends a step: in a trace, between steps; in search, where a step stops (borrowed). */
const char *tte_prm_step_delim(const tte_prm *p);

/* Appends the ids of the prefix for PROBLEM to OUT. */
void tte_prm_prefix(const tte_prm *p, const char *problem, tte_tokens *out);

/* Appends the ids of step K (0-based) of a solution to PROBLEM to OUT: the join (K > 0), then the
 * step template around STEP's text (STEP[0..len)), or around STEP_IDS[0..n_ids) as they are when
 * STEP_IDS is not NULL (a search whose policy shares the PRM's tokenizer). *READ is set to the index
 * in OUT of the token whose output row scores the step. Returns 0, or -1 with a message in ERR when
 * the step's own ids hold the token the score is read at (the PRM would see two steps). */
int tte_prm_step(const tte_prm *p, const char *problem, int k, const char *step, size_t len,
                 const int32_t *step_ids, size_t n_ids, tte_tokens *out, size_t *read, char *err, size_t errlen);

/* A finished solution's ids, for scoring it in one pass: the prefix and STEPS[0..n) (texts of
 * LENS bytes), tokenised from the prefix to the first score mark, then from mark to mark (so the
 * prefix meets the first step as in the reference's one text). Appends to OUT; READS[k] is the index
 * of step k's read token. Returns 0, or -1 with a message in ERR (as tte_prm_step). */
int tte_prm_encode(const tte_prm *p, const char *problem, const char *const *steps, const size_t *lens, int n,
                   tte_tokens *out, size_t *reads, char *err, size_t errlen);

/* The step's score, in [0, 1], from the PRM's output ROW at the read token. */
double tte_prm_score(const tte_prm *p, const float *row);

/* Search-and-learn's aggregates of a solution's step scores: the last, the least or the product. */
typedef enum { TTE_PRM_AGG_LAST, TTE_PRM_AGG_MIN, TTE_PRM_AGG_PROD } tte_prm_agg;
double tte_prm_aggregate(tte_prm_agg agg, const double *scores, int n);
/* "last", "min" or "prod" into *AGG: 0, or -1 for another name. */
int tte_prm_agg_parse(const char *name, tte_prm_agg *agg);

#endif
