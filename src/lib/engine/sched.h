/* sched: continuous batching over one engine, the only code that calls tte_engine_forward for the
 * tools. Every job that needs the model (budget forcing, plain generation, the candidate trees of
 * the continuous metric, teacher-forced log-probs) is a client of it.
 *
 * A lane is one engine sequence with the tokens it is waiting to be fed. Each step, the scheduler
 * asks the client to start new work (admit), then feeds every lane that has tokens waiting, up to
 * `batch` lanes and `call_tokens` tokens, in one forward call, and hands each lane its logits
 * (logits). The client answers inside that callback: feed the lane its next tokens, fork it, or end
 * it. Lanes are taken round robin, so when there are more lanes than a call holds, none waits long. A feed
 * longer than what is left of a call goes in chunks, so activation memory is bounded by call_tokens whatever
 * the prompt length.
 *
 * KV memory: the engine's page pool is fixed. A client reserves, when it starts a piece of work,
 * the pages that work can take at most (tte_sched_reserve), and releases them when it ends; while a
 * reservation does not fit, admission waits, so a run never runs out of cache in the middle. At the
 * end of tte_sched_run every page must be back in the pool: a page still taken is reported as an
 * error, never ignored.
 *
 * Results do not depend on the batch size, the rotation or the thread count: the engine's logits
 * for a sequence are bit-identical whatever else is in the call (engine.h), so a client whose
 * decisions for a lane depend only on that lane's logits (and its own rng) gets the same tokens for
 * every --batch and --threads.
 *
 * Typical client (greedy continuation of one prompt; errors left out):
 *     static int admit(void *ctx, tte_sched *s, char *err, size_t n) {
 *         job *j = ctx;
 *         if (j->started) return TTE_SCHED_NO_MORE;
 *         if (tte_sched_reserve(s, tte_sched_pages_for(j->n_prompt + j->max))) return 0; (waits)
 *         int lane = tte_sched_lane_new(s);
 *         tte_sched_feed(s, lane, j->prompt, j->n_prompt, TTE_LOGITS_LAST);
 *         j->started = 1;
 *         return 0;
 *     }
 *     static int on_logits(void *ctx, tte_sched *s, int lane, const float *logits, int first,
 *                          int rows, int fed_all, char *err, size_t n) {
 *         int32_t tok = tte_argmax(logits, vocab);
 *         ... keep tok; when done: tte_sched_lane_end(s, lane), tte_sched_release(s, pages);
 *         else tte_sched_feed(s, lane, &tok, 1, TTE_LOGITS_LAST);
 *         return 0;
 *     }
 *     tte_sched_client c = {admit, on_logits};
 *     tte_sched *s = tte_sched_create(engine, &(tte_sched_opts){.batch = 32});
 *     tte_sched_run(s, &c, &job, err, sizeof err);
 *     tte_sched_free(s);
 *
 * Ownership: the scheduler borrows the engine and owns its lanes (their engine sequences and fed
 * tokens, copied by tte_sched_feed). Not thread-safe: one caller drives a scheduler, and callbacks
 * run on that caller's thread. Out of memory exits with a message (cli.h's policy). */
#ifndef TTE_SCHED_H
#define TTE_SCHED_H

#include <stddef.h>
#include <stdint.h>

#include "engine/engine.h"

typedef struct tte_sched tte_sched;

/* A batch with no limit on lanes: the call's tokens bound it. */
enum { TTE_SCHED_UNLIMITED = 1 << 30 };

typedef struct {
    int batch;       /* most lanes in one forward call; <= 0: 32; TTE_SCHED_UNLIMITED */
    int call_tokens; /* most tokens in one forward call; <= 0: 512 */
} tte_sched_opts;

/* The admit callback's answer when the client has nothing more to start, ever. */
enum { TTE_SCHED_NO_MORE = 1 };

typedef struct {
    /* Starts new work while it fits (tte_sched_reserve succeeds): new lanes, forks, feeds. Called
     * once before every forward call. Returns 0 (call me again next step), TTE_SCHED_NO_MORE, or -1
     * with a message in ERR. */
    int (*admit)(void *ctx, tte_sched *s, char *err, size_t errlen);
    /* LANE's logits: ROWS rows of tte_sched_width floats. For a TTE_LOGITS_LAST feed, one row, after its
     * last token (FED_ALL is 1). For a TTE_LOGITS_ALL feed, a row per token of this chunk: row i is
     * after token FIRST + i of the feed; FED_ALL is 1 on the feed's last chunk. Once the feed is
     * done (FED_ALL), the lane waits until the callback feeds it again; it may also fork it, end
     * it, or start other lanes. Returns 0, or -1 with a message in ERR (the run stops). */
    int (*logits)(void *ctx, tte_sched *s, int lane, const float *logits, int first, int rows, int fed_all,
                  char *err, size_t errlen);
} tte_sched_client;

/* A scheduler over E (borrowed; it must outlive the scheduler). Takes every page free now as its
 * pool. */
tte_sched *tte_sched_create(tte_engine *e, const tte_sched_opts *opts);
/* Ends the lanes still live and frees the scheduler. */
void tte_sched_free(tte_sched *s);

/* Runs until the client has nothing more to start and no lane is live. Returns 0, or -1 with a
 * message in ERR: a callback's error, an engine error, a run where no lane has tokens to feed and
 * admit starts nothing (a reservation that can never fit: check tte_sched_pages_total first), or
 * KV pages not returned at the end. */
int tte_sched_run(tte_sched *s, const tte_sched_client *c, void *ctx, char *err, size_t errlen);

/* Feeds what the lanes were given before the call (tte_sched_feed), handing LOGITS each lane's
 * rows as a client's logits callback gets them (it may feed, fork and end lanes), until no lane has
 * tokens waiting. Lanes stay live, with their sequences, for the caller's next round: a search
 * that alternates between two models (a policy and its reward model, each with its scheduler)
 * keeps every partial solution's cache this way. Returns 0, or -1 with a message in ERR (an engine
 * error, the callback's). End every lane (tte_sched_lane_end) before tte_sched_free. */
int tte_sched_run_fed(tte_sched *s, int (*logits)(void *, tte_sched *, int, const float *, int, int, int, char *, size_t),
                      void *ctx, char *err, size_t errlen);

/* A new lane with an empty sequence, or a fork of LANE sharing its tokens (copy-on-write). Lane
 * ids are small integers >= 0 (an index the client may use for its own per-lane state), reused
 * once a lane has ended and the step it ended in is over. */
int tte_sched_lane_new(tte_sched *s);
int tte_sched_lane_fork(tte_sched *s, int lane);
/* Ends LANE: its sequence is freed and it gets no more callbacks. */
void tte_sched_lane_end(tte_sched *s, int lane);
/* Queues TOKENS[0..n) (copied; n >= 1) to be fed to LANE, with the logits FLAGS asks for
 * (TTE_LOGITS_LAST or TTE_LOGITS_ALL). A lane has one feed at a time: call it once the previous
 * feed is done (or on a new lane). */
void tte_sched_feed(tte_sched *s, int lane, const int32_t *tokens, int n, int flags);
/* Tokens in LANE's sequence (fed so far). */
int tte_sched_lane_len(const tte_sched *s, int lane);
/* The most lane ids in use at once so far (ids are below it). */
int tte_sched_lane_limit(const tte_sched *s);

/* KV pages: the pool's size, the pages TOKENS tokens take, and reservations against the pool.
 * tte_sched_reserve returns 0 and reserves, or -1 when the pages are not free now (wait). */
int tte_sched_pages_total(const tte_sched *s);
int tte_sched_pages_for(int tokens);
int tte_sched_reserve(tte_sched *s, int pages);
void tte_sched_release(tte_sched *s, int pages);

tte_engine *tte_sched_engine(const tte_sched *s);
/* Floats per logits row: the vocabulary, or a reward model's head outputs (model.h). */
int tte_sched_width(const tte_sched *s);

#endif
