/* sweep: budget forcing for many samples at once, with continuous batching over one engine.
 *
 * A unit is one sample of one item: a stream of thinking tokens that runs to the largest budget.
 * When the model ends its thinking early (the end-of-thinking token or end of sequence), the token is
 * dropped and the continuation phrase goes in instead; phrase tokens count toward the budget. At each
 * budget B the stream forks (the KV cache is shared, not copied) into a branch that gets the
 * end-of-thinking string and samples at most answer_tokens tokens of final answer, stopping at a
 * token that contains "}". Because the stream's random draws never depend on its branches, the
 * trace at B is a prefix of the trace at 2B, and one pass serves every budget.
 *
 * Up to `batch` sequences (streams and branches) decode together; new units start as others finish.
 * Every unit reserves, when it starts, the KV pages it can need at most, so the sweep never runs out
 * of cache in the middle: admission waits instead. The samples of one item share the prompt's cache.
 * Results depend only on each unit's seed, never on the batch or the thread count. */
#ifndef TTE_GEN_SWEEP_H
#define TTE_GEN_SWEEP_H

#include <stddef.h>
#include <stdint.h>

#include "engine/sampler.h"
#include "engine/sched.h"

/* The rules of budget forcing, shared by every unit of a sweep. Arrays are borrowed. */
typedef struct {
    const int *budgets; /* ascending thinking budgets */
    int n_budgets;
    const int32_t *continue_ids; /* the continuation phrase */
    int n_continue;
    const int32_t *end_ids; /* the end-of-thinking string, "</think>FINAL ANSWER: \boxed{" */
    int n_end;
    const int32_t *stop_ids; /* tokens that end the thinking: </think> and the EOS ids */
    int n_stop;
    const int32_t *eos_ids; /* tokens that end the final answer */
    int n_eos;
    const unsigned char *closes_answer; /* per token id: 1 when its text holds "}" */
    int answer_tokens;                  /* most tokens of final answer */
    int allow_early_stop;               /* accept the model's own end of thinking */
    int max_continues;                  /* after this many continuations, accept the end; < 0: no limit */
    /* --compat study (units then have one budget each): thinking comes in chunks of
     * ceil(budget * chunk_frac) tokens; the last token of every chunk short of the budget is
     * overwritten by the continuation phrase, whatever it was; and thinking ends early when a phrase
     * would follow the previous one within guard_tokens tokens. chunk_frac 0: off. */
    double chunk_frac;
    int guard_tokens;
    tte_sampling sampling;
    int sample_vocab; /* tokens are drawn from ids [0, sample_vocab): those the tokenizer has (a
                       * model's embedding table is often padded beyond them) */
    int batch;        /* most sequences in one forward call */
} sweep_rules;

/* How the thinking at a budget ended (the record's "ended"). */
typedef enum { ENDED_BUDGET, ENDED_MODEL, ENDED_GUARD } sweep_ended;
const char *sweep_ended_name(sweep_ended e);

/* The outcome at one budget. */
typedef struct {
    int budget;
    int thinking_tokens; /* the budget, or fewer when the model ended its thinking */
    int continues;       /* continuation phrases inserted before the end of thinking */
    sweep_ended ended;
    int32_t *answer; /* final answer tokens (malloc'd) */
    int n_answer;
} sweep_result;

typedef struct {
    /* Input, set by the caller. */
    int item;              /* units of one item are adjacent and share the prompt */
    const int32_t *prompt; /* the chat-templated prompt (borrowed) */
    int n_prompt;
    uint64_t seed;      /* the thinking stream's seed; branches derive theirs from it */
    const int *budgets; /* this unit's budgets: all of them, or one with --independent */
    int n_budgets;

    /* Output, filled by the sweep. */
    int32_t *thinking; /* the trace to the largest budget reached (malloc'd) */
    int n_thinking, cap_thinking;
    sweep_result *results; /* n_budgets entries (malloc'd) */
    int done;
} sweep_unit;

/* Called when a unit is complete, with its index; the unit's results stay valid. */
typedef void (*sweep_done_fn)(void *ctx, int unit);

/* Runs UNITS[0..n) on the scheduler S (a client of it, see engine/sched.h), skipping units whose
 * `done` is already set (taken from a cache). The done callback gets the index into UNITS. Returns
 * 0, or -1 with a message in ERR (an engine error, or a unit that cannot fit in the KV cache even
 * alone). */
int sweep_run(tte_sched *s, const sweep_rules *rules, sweep_unit *units, int n, sweep_done_fn done, void *ctx,
              char *err, size_t errlen);

/* Frees what the sweep allocated in U. */
void sweep_unit_clear(sweep_unit *u);

/* The seed of the branch that answers at budget index J of a stream seeded SEED. */
uint64_t sweep_branch_seed(uint64_t seed, int budget);

#endif
