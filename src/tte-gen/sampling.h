/* sampling: the sampling parameters a user asked for, completed from the model's
 * generation_config.json, as transformers' generate() does. */
#ifndef TTE_GEN_SAMPLING_H
#define TTE_GEN_SAMPLING_H

#include "engine/sampler.h"
#include "model/config.h"

typedef struct {
    double temperature, top_p; /* < 0: the model's default */
    int top_k;                 /* < 0: the model's default */
    int greedy;                /* --greedy: argmax whatever else is set */
} sampling_choice;

tte_sampling sampling_resolve(const sampling_choice *c, const tte_config *cfg);

#endif
