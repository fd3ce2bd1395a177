/* logprobs: teacher forcing, `tte-score --model DIR --logprobs`. Each {"prompt": …, "text": …} or
 * {"prompt_ids": […], "ids": […]} record gets "logprobs": the log-probability of each token of the
 * continuation given everything before it (raw logits, temperature 1), one per token, and "ids"
 * when it was given as text. Text is encoded as it is, without a chat template. */
#ifndef TTE_SCORE_LOGPROBS_H
#define TTE_SCORE_LOGPROBS_H

#include "jsonl.h"

/* Returns 0, or -1 after one error line; records before a bad one are written. */
int logprobs_run(const char *model_dir, int threads, const char *device, tte_jsonl *in);

#endif
