/* complete: plain generation, `tte-gen --max-tokens N`: each {"prompt": …} or {"prompt_ids": […]}
 * record gets its continuation as "ids" and "text".
 *
 * Records are read as the scheduler has room for them, up to --batch decoding together, and
 * written in input order as soon as every earlier one is written. Each record's tokens depend only
 * on its own seed (the --seed and its line number), never on the batch. */
#ifndef TTE_GEN_COMPLETE_H
#define TTE_GEN_COMPLETE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "jsonl.h"
#include "sampling.h"
#include "session.h"

typedef struct {
    int max_tokens;
    sampling_choice sampling;
    uint64_t seed; /* each record's rng is seeded from it and the record's line number */
    int batch;     /* records decoded together */
    size_t kv_mem; /* 0: room for a batch of max_tokens after 1024 prompt tokens, up to 2 GiB */
} complete_options;

/* Continues every record of IN on the session SES (opened with its weights; this starts its
 * engine), writing them to OUT. Returns 0, or -1 after printing one error line; the records before
 * a bad one are written. */
int complete_run(tte_session *ses, const complete_options *opt, tte_jsonl *in, FILE *out);

#endif
