/* predict: `tte-fit --predict-largest`, the predicting-emergence challenge
 * (kothasuhas/predicting_emergence): from the next-token distributions of the smaller models of a
 * family, predict the largest model's most likely next token, prompt by prompt.
 *
 * Input: tte-score --next-dist K records of every model of the family on the same prompts ("id",
 * "model", "model_params", "next_dist", "next_dist_vocab"). A token a model does not list among its
 * K gets the mass the list leaves, spread evenly over the ids not listed. Strategies:
 *   token0          always token 0 (the challenge's baseline)
 *   random          a uniformly random id, drawn from the seed and the prompt's id
 *   average         the argmax of the smaller models' average distribution (the challenge's baseline)
 *   largest_small   the largest of the smaller models' own top token
 *   loglinear       each token's log-probability fitted against log(parameters) by least squares
 *                   over the smaller models and extrapolated to the largest
 *   damped_trend    the largest smaller model's log-probability moved on by half the slope between
 *                   the two largest smaller models, to the largest's log(parameters): a trend that
 *                   trusts the recent sizes and only half believes them
 * Candidates are the tokens some smaller model lists; ties go to the lower id.
 *
 * Output: one record {"kind": "prediction"} per strategy: "strategy", "target" (the largest model),
 * "target_params", "models" (the smaller ones, by size), "prompts", "top1" (agreement with the
 * largest model's top token) and its percentile-bootstrap interval over prompts "top1_lo",
 * "top1_hi" (BOOTSTRAP resamples, LEVEL, SEED). */
#ifndef TTE_FIT_PREDICT_H
#define TTE_FIT_PREDICT_H

#include <stdint.h>
#include <stdio.h>

#include "jsonl.h"

typedef struct {
    int bootstrap;
    uint64_t seed;
    double level;
} predict_options;

/* Reads every record of IN and writes the prediction records to OUT. Returns 0, or -1 after one
 * error line (a located one for bad input). */
int predict_run(tte_jsonl *in, FILE *out, const predict_options *o);

#endif
