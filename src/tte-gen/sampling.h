/* sampling: the sampling parameters a user asked for, completed from the model's
 * generation_config.json, as transformers' generate() does. */
#ifndef TTE_GEN_SAMPLING_H
#define TTE_GEN_SAMPLING_H

#include "engine/sampler.h"
#include "model/config.h"
#include "model/tokenizer.h"

typedef struct {
    double temperature, top_p; /* < 0: the model's default */
    int top_k;                 /* < 0: the model's default */
    int greedy;                /* --greedy: argmax whatever else is set */
} sampling_choice;

tte_sampling sampling_resolve(const sampling_choice *c, const tte_config *cfg);

/* How many of the model's ids may be sampled: those below the tokenizer's largest id + 1. A
 * model's vocab_size is often padded (DeepSeek-R1-Distill-Qwen: 151936 rows, 151665 tokens); a
 * padding id has no text, and a random or undertrained model does draw them. */
int sampling_vocab(const tte_config *cfg, const tte_tokenizer *tok);

#endif
