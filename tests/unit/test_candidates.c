/* The candidate tree, walked on the scheduler, against brute force: one sequence per candidate,
 * every token teacher-forced, straight on the engine. */
#include "engine/candidates.h"
#include "engine/sampler.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

static tte_model *model;
static tte_engine *engine;
static int vocab;

static void setup(void) {
    char err[512];
    model = tte_model_load("tests/fixtures/models/qwen2-f32", err, sizeof err);
    cr_assert(model, "%s", err);
    vocab = tte_model_config(model)->vocab_size;
    tte_engine_opts o = {.threads = 1, .kv_bytes = 64 << 20};
    engine = tte_engine_create(model, &o, err, sizeof err);
    cr_assert(engine, "%s", err);
}

static void teardown(void) {
    tte_engine_free(engine);
    tte_model_free(model);
}

TestSuite(candidates, .init = setup, .fini = teardown);

static void run_forward(const tte_span *s, int n, int flags, float *logits) {
    char err[512];
    cr_assert_eq(tte_engine_forward(engine, s, n, flags, logits, err, sizeof err), 0, "%s", err);
}

/* log p(cand | seq) with a fresh fork fed the whole candidate. */
static double brute_force(int seq, const float *seq_logits, const int32_t *cand, int len) {
    double lp = tte_logprob(seq_logits, vocab, cand[0]);
    if (len == 1) return lp;
    int fork = tte_seq_fork(engine, seq);
    float *rows = malloc((size_t)len * (size_t)vocab * sizeof *rows);
    tte_span s = {.seq = fork, .tokens = cand, .n_tokens = len};
    run_forward(&s, 1, TTE_LOGITS_ALL, rows);
    for (int i = 1; i < len; i++) lp += tte_logprob(rows + (size_t)(i - 1) * vocab, vocab, cand[i]);
    free(rows);
    tte_seq_free(engine, fork);
    return lp;
}

Test(candidates, trie_equals_brute_force_on_1000_three_token_answers_and_ragged_ones) {
    int seq = tte_seq_new(engine);
    int32_t prompt[] = {5, 17, 42, 9, 33, 71, 2};
    float *logits = malloc((size_t)vocab * sizeof *logits);
    tte_span s = {.seq = seq, .tokens = prompt, .n_tokens = 7};
    run_forward(&s, 1, TTE_LOGITS_LAST, logits);
    int free_before = tte_engine_pages_free(engine);

    /* "000".."999" over ten digit-like tokens, then ragged candidates sharing their prefixes. */
    enum { N = 1000 + 5 };
    int32_t store[N][4], *cands[N];
    int lens[N];
    for (int i = 0; i < 1000; i++) {
        store[i][0] = 100 + i / 100, store[i][1] = 100 + i / 10 % 10, store[i][2] = 100 + i % 10;
        lens[i] = 3;
    }
    int32_t ragged[5][4] = {{100}, {100, 101}, {100, 101, 102, 103}, {7, 8, 9, 10}, {7, 8}};
    int ragged_len[5] = {1, 2, 4, 4, 2};
    for (int i = 0; i < 5; i++) {
        for (int t = 0; t < 4; t++) store[1000 + i][t] = ragged[i][t];
        lens[1000 + i] = ragged_len[i];
    }
    for (int i = 0; i < N; i++) cands[i] = store[i];
    double *got = malloc(N * sizeof *got);
    char err[512];
    cr_assert_eq(tte_candidates_logprob(engine, prompt, 7, (const int32_t *const *)cands, lens, N, got, err,
                                        sizeof err),
                 0, "%s", err);
    cr_assert_eq(tte_engine_pages_free(engine), free_before, "the tree's forks were not all freed");

    double total = 0, worst = 0;
    for (int i = 0; i < N; i++) {
        double want = brute_force(seq, logits, cands[i], lens[i]);
        worst = fmax(worst, fabs(got[i] - want));
        if (i < 1000) total += exp(got[i]);
    }
    cr_assert(worst <= 1e-5, "largest log-prob difference %g", worst);
    cr_assert(total > 0 && total <= 1 + 1e-9, "the 1000 answers' probabilities sum to %g", total);
    free(got);
    free(logits);
    tte_seq_free(engine, seq);
}

Test(candidates, bad_candidates_are_errors) {
    int seq = tte_seq_new(engine);
    int32_t prompt[] = {1, 2, 3};
    float *logits = malloc((size_t)vocab * sizeof *logits);
    tte_span s = {.seq = seq, .tokens = prompt, .n_tokens = 3};
    run_forward(&s, 1, TTE_LOGITS_LAST, logits);
    int32_t bad[] = {1, vocab + 5}, *cands[] = {bad};
    int lens[] = {2};
    double out[1];
    char err[256];
    cr_assert_eq(tte_candidates_logprob(engine, prompt, 3, (const int32_t *const *)cands, lens, 1, out, err,
                                        sizeof err),
                 -1);
    cr_assert(strstr(err, "outside the vocabulary"), "%s", err);
    lens[0] = 0;
    cr_assert_eq(tte_candidates_logprob(engine, prompt, 3, (const int32_t *const *)cands, lens, 1, out, err,
                                        sizeof err),
                 -1);
    free(logits);
    tte_seq_free(engine, seq);
}
