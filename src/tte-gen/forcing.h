/* forcing: tte-gen's main job. Items in, one generation record per item x sample x budget out,
 * written as soon as an item's samples are done, in input order, and every unit of work cached. */
#ifndef TTE_GEN_FORCING_H
#define TTE_GEN_FORCING_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "budgets.h"
#include "jsonl.h"
#include "sampling.h"
#include "session.h"

typedef struct {
    int budgets[MAX_BUDGETS];
    int n_budgets;
    int samples; /* -n */
    uint64_t seed;
    sampling_choice sampling;
    const char *continue_phrase;
    const char *end_thinking;
    int answer_tokens;
    int allow_early_stop;
    int max_continues; /* < 0: no limit */
    int independent;
    int compat_study;  /* --compat study: the original study's loop (implies independent) */
    double chunk_frac; /* --chunk-frac, with --compat study */
    int batch;
    size_t kv_mem; /* bytes; 0: enough for the batch */
    int refresh;
    int progress; /* force the progress line */
} forcing_options;

/* Runs the sweep over every item read from IN on the session SES (opened with its weights and chat
 * template; the sweep starts its engine), writing records to OUT. Returns 0, or -1 after
 * printing one error line (records already written stay valid). */
int forcing_run(tte_session *ses, const forcing_options *opt, tte_jsonl *in, FILE *out);

#endif
