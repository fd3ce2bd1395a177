/* search: test-time search guided by a process reward model, `tte-gen --search beam|dvts --prm DIR`,
 * with huggingface/search-and-learn's semantics (beam_search.py, diverse_verifier_tree_search.py):
 *
 *   A step is what the policy generates up to and including the step delimiter (the PRM's, or
 *   --step-delim), or up to its end of sequence, or --step-tokens tokens. In the last iteration
 *   (--max-steps) a step runs to the end of sequence. After each iteration the PRM scores the new
 *   step of every partial solution, and a solution's score is the aggregate of its step scores
 *   (--prm-agg last|min|prod).
 *   beam  N (-n) partial solutions. Each iteration every one of them gets one more step; those
 *         that ended (end of sequence, the token limit, or an empty step) are complete; of the rest,
 *         the N/M (--beam-width M) best by score are kept and, copied round robin, brought back to
 *         N for the next iteration (ties: the later solution wins, numpy's stable argsort). The
 *         records are the first N complete solutions in the order they completed (repeated round
 *         robin when fewer completed).
 *   dvts  N/M subtrees, each keeps one partial solution: each iteration it gets M candidate steps,
 *         and the best-scored one (the first among equals) is kept; a subtree whose kept step is
 *         empty or ended the sequence stops. The records are the M candidates of each subtree's
 *         last expansion.
 *
 *   revise  sequential revisions: N attempts on one growing sequence, each after the previous
 *         attempt and the revision prompt (--revise-prompt, fed as it is: chat markers may be
 *         written in it); each attempt runs to its end (or --step-tokens) and is scored by the PRM
 *         on its own, its steps cut as a search cuts them. Its record's "n" is its round + 1 and
 *         its cost is everything spent up to its end.
 *
 * Every partial solution is a lane of the policy's scheduler and a lane of the PRM's: branching
 * forks both KV caches, and each new step is fed once to each model. Steps are token ids end to end:
 * when the PRM has the policy's tokenizer it reads the policy's ids as they are (the delimiter's
 * tokens are its join), otherwise the step's text, encoded once. Items are searched in groups of
 * as many as --batch holds solutions of, in lockstep, so that the batch stays full.
 *
 * Records: one per final candidate, the item's fields plus "search", "n", "beam_width", "sample",
 * "text" (the whole solution), "steps" (its steps' texts, delimiters included), "step_scores",
 * "prm_score", "prm", "model", "model_hash", "completion_tokens" (the policy tokens generated for
 * this candidate's own path), and the item's whole cost, pruned branches included (compute.h):
 * "tokens_generated", "tokens_fed", "flops", "bytes" and "prm_tokens_fed", "prm_flops",
 * "prm_bytes", the N solutions running together. */
#ifndef TTE_GEN_SEARCH_H
#define TTE_GEN_SEARCH_H

#include <stdint.h>
#include <stdio.h>

#include "jsonl.h"
#include "prm_format.h"
#include "sampling.h"
#include "session.h"

typedef enum { SEARCH_BEAM, SEARCH_DVTS, SEARCH_REVISE } search_kind;

/* What --search revise feeds after an attempt when --revise-prompt is not given. */
#define SEARCH_REVISE_PROMPT "\n\nWait, let me check that answer again, step by step.\n"

typedef struct {
    search_kind kind;
    int n, beam_width, max_steps, step_tokens;
    sampling_choice sampling;
    uint64_t seed;
    const char *step_delim; /* NULL: the PRM's */
    const char *revise_prompt;
    tte_prm_agg agg;
    size_t kv_mem; /* 0: room for n solutions of TTE_SESSION_RECORD_TOKENS tokens */
    int batch;
} search_options;

/* Searches every item of IN with the policy POLICY and the PRM RM (both opened with their weights;
 * this starts their engines), writing the records to OUT. Returns 0, or -1 after one error line; the
 * items before a bad one are written. */
int search_run(tte_session *policy, tte_session *rm, const search_options *o, tte_jsonl *in, FILE *out);

#endif
