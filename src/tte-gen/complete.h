/* complete: plain generation, `tte-gen --max-tokens N`: each {"prompt": …} or {"prompt_ids": […]}
 * record gets its continuation as "ids" and "text". */
#ifndef TTE_GEN_COMPLETE_H
#define TTE_GEN_COMPLETE_H

#include <stdint.h>

#include "engine/sampler.h"
#include "jsonl.h"
#include "model/tokenizer.h"
#include "sampling.h"

typedef struct {
    int max_tokens;
    sampling_choice sampling;
    uint64_t seed; /* each record's rng is seeded from it and the record's line number */
    int threads;
    const char *device;
} complete_options;

/* Returns 0, or -1 after printing one error line. */
int complete_run(const char *model_dir, tte_tokenizer *tok, const complete_options *opt, tte_jsonl *in);

#endif
