/* nextdist: next-token distributions, `tte-score --model DIR --next-dist K|all`. Each record with
 * "prompt" (text, encoded as it is, or through the chat template with --template) or "prompt_ids"
 * gets the model's distribution over the token after it, over the tokenizer's ids only (an
 * embedding table padded past the vocabulary does not count):
 *   "next_dist"     the K most likely tokens, [{"id", "token", "logprob"}], most likely first (ties:
 *                   lower id first); "token" is the token's text (invalid UTF-8, and a token with a
 *                   NUL byte, as U+FFFD)
 *   "entropy_nats"  of the whole distribution
 *   "next_dist_vocab"  the number of ids it is over
 *   "model", "model_params"  the model's name and parameter count, for tte-fit --predict-largest
 * With K = all, every record's full distribution goes to FILE (--next-dist-file) as one .npy array
 * of shape (records, vocabulary), log-probabilities in f32 or f16, rows in record order, and each
 * record gets "next_dist_row" instead of "next_dist": numpy.load(FILE) reads it in one call.
 *
 * Records are jobs of engine/jobs.h: up to --batch at once, written in input order. */
#ifndef TTE_SCORE_NEXTDIST_H
#define TTE_SCORE_NEXTDIST_H

#include <stdio.h>

#include "jsonl.h"
#include "session.h"

typedef struct {
    int top_k;        /* K; 0: all (then file is set) */
    const char *file; /* --next-dist-file */
    int f16;          /* --next-dist-dtype f16 */
    int use_template; /* --template given: prompts go through the chat template */
    int batch;
    size_t kv_mem;
} nextdist_options;

/* Runs every record of IN on SES, writing them to OUT. Returns 0, or -1 after one error line
 * (records before a bad one are written; the .npy file is written only when every record was). */
int nextdist_run(tte_session *ses, const nextdist_options *o, tte_jsonl *in, FILE *out);

#endif
