/* logprobs: teacher forcing, `tte-score --model DIR --logprobs`. Each {"prompt": …, "text": …} or
 * {"prompt_ids": […], "ids": […]} record gets "logprobs": the log-probability of each token of the
 * continuation after the prompt and the tokens before it (and "ids" when it gave "text").
 *
 * Records are jobs of engine/jobs.h: up to --batch are fed together, each in chunks with the logits
 * of every position, and written in input order. Results do not depend on --batch or --threads. */
#ifndef TTE_SCORE_LOGPROBS_H
#define TTE_SCORE_LOGPROBS_H

#include <stdio.h>

#include "jsonl.h"
#include "session.h"

/* Scores every record of IN on SES (opened with its weights; this starts its engine) with at most
 * BATCH records at once, writing them to OUT. Returns 0, or -1 after one error line; records before
 * a bad one are written. */
int logprobs_run(tte_session *ses, int batch, size_t kv_mem, tte_jsonl *in, FILE *out);

#endif
