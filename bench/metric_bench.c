/* metric_bench: the cost of the continuous metric's solution set (tte-score) after a long trace.
 *
 *   metric_bench MODEL_DIR TRACE_TOKENS [THREADS]
 *
 * Feeds a trace of TRACE_TOKENS token ids (a fixed pseudo-random sequence: the cost does not depend
 * on the text), then scores the 1000 AIME candidates "0}" .. "999}" (tokenised with the model's
 * tokenizer) two ways: as the tree of tte_candidates_logprob (shared prefixes forked from the trace's
 * cache, on the scheduler) and by brute force (each candidate forked and fed whole, 100 per forward call).
 * Prints one JSON object with the three times, the positions each way computes, and the largest difference of
 * log-probability between the two. Built and run by bench/metric.sh. */
#include "engine/candidates.h"
#include "engine/engine.h"
#include "engine/sampler.h"
#include "model/tokenizer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { N_CANDS = 1000, BRUTE_BATCH = 100, CHUNK = 512 };

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void check(int ok, const char *what, const char *err) {
    if (!ok) {
        fprintf(stderr, "metric_bench: %s: %s\n", what, err);
        exit(1);
    }
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: metric_bench MODEL_DIR TRACE_TOKENS [THREADS]\n");
        return 2;
    }
    char err[1024];
    int trace_len = atoi(argv[2]), threads = argc > 3 ? atoi(argv[3]) : 0;
    tte_tokenizer *tok = tte_tokenizer_load(argv[1], err, sizeof err);
    check(tok != NULL, "tokenizer", err);
    tte_model *m = tte_model_load(argv[1], err, sizeof err);
    check(m != NULL, "model", err);
    int vocab = tte_model_config(m)->vocab_size;

    int32_t *cands[N_CANDS];
    int lens[N_CANDS], positions_brute = 0;
    for (int c = 0; c < N_CANDS; c++) {
        char text[8];
        snprintf(text, sizeof text, "%d}", c);
        tte_tokens t = {0};
        check(tte_tokenizer_encode(tok, text, strlen(text), &t) == 0, "encode", "out of memory");
        cands[c] = t.ids, lens[c] = (int)t.n;
        positions_brute += lens[c] - 1; /* the last token is scored, never fed */
    }
    /* KV: the trace twice (the tree's call feeds its own copy), plus one partly shared page per fork
     * of the tree or the brute-force batch. */
    tte_engine_opts o = {.threads = threads,
                         .kv_bytes = tte_model_kv_bytes_per_token(m) *
                                     (size_t)(2 * trace_len + 2 * N_CANDS * TTE_PAGE_TOKENS)};
    tte_engine *e = tte_engine_create(m, &o, err, sizeof err);
    check(e != NULL, "engine", err);

    int32_t *trace = malloc((size_t)trace_len * sizeof *trace);
    uint64_t x = 12345;
    for (int i = 0; i < trace_len; i++)
        x = x * 6364136223846793005ull + 1442695040888963407ull, trace[i] = (int32_t)((x >> 33) % 300);
    float *logits = malloc((size_t)BRUTE_BATCH * (size_t)vocab * sizeof *logits);
    int seq = tte_seq_new(e);
    double t0 = now();
    for (int at = 0; at < trace_len; at += CHUNK) {
        tte_span s = {seq, trace + at, trace_len - at < CHUNK ? trace_len - at : CHUNK};
        check(tte_engine_forward(e, &s, 1, TTE_LOGITS_LAST, logits, err, sizeof err) == 0, "trace", err);
    }
    double trace_s = now() - t0;
    float *seq_logits = malloc((size_t)vocab * sizeof *seq_logits);
    memcpy(seq_logits, logits, (size_t)vocab * sizeof *seq_logits);

    double tree[N_CANDS], brute[N_CANDS];
    t0 = now();
    /* tte_candidates_logprob feeds the context in a lane of its own before the walk: the tree's
     * time is that call's less the trace's. */
    check(tte_candidates_logprob(e, trace, trace_len, (const int32_t *const *)cands, lens, N_CANDS, tree, err,
                                 sizeof err) == 0,
          "tree", err);
    double tree_s = now() - t0 - trace_s;

    /* Brute force: each candidate on its own fork, fed all but its last token, BRUTE_BATCH at a time
     * (TTE_LOGITS_ALL gives the rows that score its tokens). */
    t0 = now();
    for (int c0 = 0; c0 < N_CANDS; c0 += BRUTE_BATCH) {
        tte_span spans[BRUTE_BATCH];
        int n = 0, rows = 0;
        for (int c = c0; c < c0 + BRUTE_BATCH; c++) {
            brute[c] = tte_logprob(seq_logits, vocab, cands[c][0]);
            if (lens[c] > 1)
                spans[n++] = (tte_span){tte_seq_fork(e, seq), cands[c], lens[c] - 1}, rows += lens[c] - 1;
        }
        float *all = malloc((size_t)rows * (size_t)vocab * sizeof *all);
        check(tte_engine_forward(e, spans, n, TTE_LOGITS_ALL, all, err, sizeof err) == 0, "brute force", err);
        int row = 0;
        for (int c = c0, k = 0; c < c0 + BRUTE_BATCH; c++) {
            if (lens[c] < 2) continue;
            for (int j = 1; j < lens[c]; j++, row++)
                brute[c] += tte_logprob(all + (size_t)row * vocab, vocab, cands[c][j]);
            tte_seq_free(e, spans[k++].seq);
        }
        free(all);
    }
    double brute_s = now() - t0;
    double worst = 0;
    for (int c = 0; c < N_CANDS; c++) worst = fmax(worst, fabs(tree[c] - brute[c]));
    printf("{\"model\":\"%s\",\"threads\":%d,\"trace_tokens\":%d,\"trace_forward_s\":%.2f,\"tree_s\":%.2f,"
           "\"brute_force_s\":%.2f,\"tree_over_trace\":%.3f,\"brute_over_tree\":%.2f,\"positions_brute\":%d,"
           "\"max_abs_logprob_diff\":%.2g}\n",
           argv[1], threads, trace_len, trace_s, tree_s, brute_s, tree_s / trace_s, brute_s / tree_s,
           positions_brute, worst);
    for (int c = 0; c < N_CANDS; c++) free(cands[c]);
    free(trace), free(logits), free(seq_logits);
    tte_engine_free(e);
    tte_model_free(m);
    tte_tokenizer_free(tok);
    return 0;
}
