/* jobs: one scheduler lane per input record, for the tools' record-at-a-time modes (tte-gen
 * --max-tokens, tte-score --logprobs). Records are read only as the batch has room, so a long input
 * streams; up to BATCH run together; each is written to OUT, in input order, as soon as every
 * earlier record is written. A bad record ends the reading: the records before it still finish and
 * are written, then its located error is reported.
 *
 * The client says, for each record, what to feed its lane and how many KV pages it can take at
 * most (reserved while it runs: engine/sched.h), acts on the lane's logits like any scheduler
 * client, and adds its fields to the record when it is done. Job indices count records from 0 in
 * input order; the client keeps its per-job state by them. Not thread-safe. */
#ifndef TTE_JOBS_H
#define TTE_JOBS_H

#include <stdio.h>

#include "engine/sched.h"
#include "jsonl.h"
#include "model/tokenizer.h"

typedef struct {
    /* Record JOB was read (REC borrowed; the position of IN is its line): fill FEED with the tokens
     * its lane starts with (empty: the job is done at once), *FLAGS with TTE_LOGITS_*, and *PAGES.
     * Returns 0, or -1 after tte_jsonl_fail. */
    int (*prepare)(void *ctx, tte_jsonl *in, json_t *rec, int job, tte_tokens *feed, int *flags, int *pages);
    /* As sched.h's logits callback, for JOB's LANE. Returns 1 when the job is done (its lane is then
     * ended for it), 0 when it goes on (the callback fed the lane again, or waits for more rows), or
     * -1 with a message in ERR. */
    int (*logits)(void *ctx, tte_sched *s, int lane, int job, const float *logits, int first, int rows,
                  int fed_all, char *err, size_t errlen);
    /* JOB is done: add its fields to REC, which is written next. */
    void (*finish)(void *ctx, int job, json_t *rec);
} tte_jobs_client;

/* Runs every record of IN. Returns 0, or -1 after printing one error line (an engine error, a bad
 * record, a write error). */
int tte_jobs_run(tte_sched *s, tte_jsonl *in, FILE *out, int batch, const tte_jobs_client *c, void *ctx);

#endif
