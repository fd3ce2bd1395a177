/* gpu_check: the engine's speed on one device, for tools/gpu_check.sh (issue 23). Each mode prints
 * one JSON line.
 *
 *   gpu_check decode MODEL_DIR DEVICE BATCH[,BATCH...] [STEPS]
 *       Greedy decode at each batch size after a 16-token prompt per sequence: STEPS timed steps
 *       (default 32) after one untimed. tokens_s counts every step's whole time (the forward call,
 *       then the argmax of every row on the host, as tte-gen's loop does); forward_tok_s the time in
 *       tte_engine_forward alone (it includes copying the logits to the host). Also the bytes of
 *       weights one batch-1 step reads (tte_model_bytes_per_token), for the HBM bound.
 *   gpu_check metric MODEL_DIR DEVICE TRACE_TOKENS
 *       The continuous metric's 1000 candidates "0}" .. "999}" after a TRACE_TOKENS trace, as the
 *       tree of tte_candidates_logprob, and by brute force (each candidate on its own fork, 100 per
 *       call): times, and the largest difference between the two (bench/metric_bench.c on the CPU;
 *       on the GPU the two differ in rounding, since their calls have other shapes).
 *
 * DEVICE is cpu or cuda. Built by `make gpu-bundle` into the bundle's tests/ (it needs TTE_CUDA_LIB,
 * which the bundle's env.sh sets, to find the plug-in from there). */
#include "engine/candidates.h"
#include "engine/engine.h"
#include "engine/sampler.h"
#include "model/tokenizer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void check(int ok, const char *what, const char *err) {
    if (!ok) {
        fprintf(stderr, "gpu_check: %s: %s\n", what, err);
        exit(1);
    }
}

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    check(p != NULL, "malloc", "out of memory");
    return p;
}

static tte_engine *engine(const tte_model *m, const char *device, size_t kv_tokens) {
    char err[1024];
    tte_engine_opts o = {.threads = 0, .kv_bytes = kv_tokens * tte_model_kv_bytes_per_token(m), .backend = device};
    tte_engine *e = tte_engine_create(m, &o, err, sizeof err);
    check(e != NULL, "engine", err);
    return e;
}

/* Decode STEPS greedy tokens for B sequences after a PROMPT-token prefill each; the rates of whole
 * steps and of forward calls alone, in tokens/s. */
static void decode_rate(tte_engine *e, int vocab, int B, int prompt, int steps, double *rate, double *fwd_rate) {
    char err[1024];
    int32_t *toks = xmalloc((size_t)B * (size_t)prompt * sizeof *toks), *next = xmalloc((size_t)B * sizeof *next);
    tte_span *sp = xmalloc((size_t)B * sizeof *sp);
    float *lg = xmalloc((size_t)B * (size_t)vocab * sizeof *lg);
    for (int i = 0; i < B * prompt; i++) toks[i] = (int32_t)(((size_t)i * 7919) % (size_t)vocab);
    for (int b = 0; b < B; b++) sp[b] = (tte_span){tte_seq_new(e), toks + (size_t)b * prompt, prompt};
    check(tte_engine_forward(e, sp, B, TTE_LOGITS_LAST, lg, err, sizeof err) == 0, "prefill", err);
    double t0 = 0, in_forward = 0;
    for (int s = 0; s <= steps; s++) {
        if (s == 1) t0 = now(), in_forward = 0; /* the first step is a warm-up */
        for (int b = 0; b < B; b++) {
            next[b] = (int32_t)tte_argmax(lg + (size_t)b * vocab, vocab);
            sp[b].tokens = &next[b];
            sp[b].n_tokens = 1;
        }
        double f0 = now();
        check(tte_engine_forward(e, sp, B, TTE_LOGITS_LAST, lg, err, sizeof err) == 0, "decode", err);
        in_forward += now() - f0;
    }
    *rate = (double)B * steps / (now() - t0);
    *fwd_rate = (double)B * steps / in_forward;
    for (int b = 0; b < B; b++) tte_seq_free(e, sp[b].seq);
    free(toks), free(next), free(sp), free(lg);
}

static int decode(const char *dir, const char *device, const char *batches, int steps) {
    char err[1024];
    tte_model *m = tte_model_load(dir, err, sizeof err);
    check(m != NULL, "model", err);
    int vocab = tte_model_config(m)->vocab_size, largest = 1;
    for (const char *p = batches; *p; p += strcspn(p, ","), p += *p == ',')
        if (atoi(p) > largest) largest = atoi(p);
    /* Room for every sequence's prompt and steps, each rounded up to whole pages, and one spare page. */
    size_t per_seq = ((size_t)(16 + steps + 1) / TTE_PAGE_TOKENS + 2) * TTE_PAGE_TOKENS;
    double t0 = now();
    tte_engine *e = engine(m, device, per_seq * (size_t)largest);
    double create_s = now() - t0;
    printf("{\"mode\":\"decode\",\"device\":\"%s\",\"numerics\":\"%s\",\"engine_create_s\":%.2f,"
           "\"weight_bytes_per_token\":%zu,\"steps\":%d,\"batches\":{",
           device, tte_engine_numerics(device), create_s, tte_model_bytes_per_token(m), steps);
    int first = 1;
    for (const char *p = batches; *p; p += strcspn(p, ","), p += *p == ',') {
        int B = atoi(p);
        if (B < 1) continue;
        double rate, fwd;
        decode_rate(e, vocab, B, 16, steps, &rate, &fwd);
        printf("%s\"%d\":{\"tokens_s\":%.1f,\"forward_tok_s\":%.1f}", first ? "" : ",", B, rate, fwd);
        fflush(stdout);
        first = 0;
    }
    printf("}}\n");
    tte_engine_free(e);
    tte_model_free(m);
    return 0;
}

enum { N_CANDS = 1000, BRUTE_BATCH = 100, CHUNK = 512 };

static int metric(const char *dir, const char *device, int trace_len) {
    char err[1024];
    tte_tokenizer *tok = tte_tokenizer_load(dir, err, sizeof err);
    check(tok != NULL, "tokenizer", err);
    tte_model *m = tte_model_load(dir, err, sizeof err);
    check(m != NULL, "model", err);
    int vocab = tte_model_config(m)->vocab_size;
    int32_t *cands[N_CANDS];
    int lens[N_CANDS], positions = 0;
    for (int c = 0; c < N_CANDS; c++) {
        char text[8];
        snprintf(text, sizeof text, "%d}", c);
        tte_tokens t = {0};
        check(tte_tokenizer_encode(tok, text, strlen(text), &t) == 0, "encode", "out of memory");
        cands[c] = t.ids, lens[c] = (int)t.n;
        positions += lens[c] - 1;
    }
    /* The trace twice (the tree feeds its own copy), and a partly shared page per fork. */
    tte_engine *e = engine(m, device, (size_t)(2 * trace_len + 2 * N_CANDS * TTE_PAGE_TOKENS));
    int32_t *trace = xmalloc((size_t)trace_len * sizeof *trace);
    uint64_t x = 12345;
    for (int i = 0; i < trace_len; i++)
        x = x * 6364136223846793005ull + 1442695040888963407ull, trace[i] = (int32_t)((x >> 33) % 300);
    float *logits = xmalloc((size_t)BRUTE_BATCH * (size_t)vocab * sizeof *logits);
    /* A warm-up call (the first cuBLAS call sets itself up). */
    int warm = tte_seq_new(e);
    tte_span ws = {warm, trace, trace_len < 64 ? trace_len : 64};
    check(tte_engine_forward(e, &ws, 1, TTE_LOGITS_LAST, logits, err, sizeof err) == 0, "warm-up", err);
    tte_seq_free(e, warm);
    int seq = tte_seq_new(e);
    double t0 = now();
    for (int at = 0; at < trace_len; at += CHUNK) {
        tte_span s = {seq, trace + at, trace_len - at < CHUNK ? trace_len - at : CHUNK};
        check(tte_engine_forward(e, &s, 1, TTE_LOGITS_LAST, logits, err, sizeof err) == 0, "trace", err);
    }
    double trace_s = now() - t0;
    float *seq_logits = xmalloc((size_t)vocab * sizeof *seq_logits);
    memcpy(seq_logits, logits, (size_t)vocab * sizeof *seq_logits);
    static double tree[N_CANDS], brute[N_CANDS];
    t0 = now();
    check(tte_candidates_logprob(e, trace, trace_len, (const int32_t *const *)cands, lens, N_CANDS, tree, err,
                                 sizeof err) == 0,
          "tree", err);
    double tree_s = now() - t0 - trace_s; /* the call feeds the trace in a lane of its own first */
    t0 = now();
    for (int c0 = 0; c0 < N_CANDS; c0 += BRUTE_BATCH) {
        tte_span spans[BRUTE_BATCH];
        int n = 0, rows = 0;
        for (int c = c0; c < c0 + BRUTE_BATCH; c++) {
            brute[c] = tte_logprob(seq_logits, vocab, cands[c][0]);
            if (lens[c] > 1) spans[n++] = (tte_span){tte_seq_fork(e, seq), cands[c], lens[c] - 1}, rows += lens[c] - 1;
        }
        float *all = xmalloc((size_t)rows * (size_t)vocab * sizeof *all);
        check(tte_engine_forward(e, spans, n, TTE_LOGITS_ALL, all, err, sizeof err) == 0, "brute force", err);
        for (int c = c0, k = 0, row = 0; c < c0 + BRUTE_BATCH; c++) {
            if (lens[c] < 2) continue;
            for (int j = 1; j < lens[c]; j++, row++) brute[c] += tte_logprob(all + (size_t)row * vocab, vocab, cands[c][j]);
            tte_seq_free(e, spans[k++].seq);
        }
        free(all);
    }
    double brute_s = now() - t0, worst = 0;
    int finite = 1;
    for (int c = 0; c < N_CANDS; c++) {
        worst = fmax(worst, fabs(tree[c] - brute[c]));
        finite &= isfinite(tree[c]) && tree[c] <= 0;
    }
    printf("{\"mode\":\"metric\",\"device\":\"%s\",\"trace_tokens\":%d,\"candidates\":%d,\"trace_forward_s\":%.3f,"
           "\"tree_s\":%.3f,\"brute_force_s\":%.3f,\"tree_over_trace\":%.3f,\"brute_over_tree\":%.2f,"
           "\"positions_brute\":%d,\"max_abs_logprob_diff_tree_vs_brute\":%.3g,\"tree_logprobs_valid\":%s}\n",
           device, trace_len, N_CANDS, trace_s, tree_s, brute_s, tree_s / trace_s, brute_s / tree_s, positions, worst,
           finite ? "true" : "false");
    for (int c = 0; c < N_CANDS; c++) free(cands[c]);
    free(trace), free(logits), free(seq_logits);
    tte_engine_free(e);
    tte_model_free(m);
    tte_tokenizer_free(tok);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 5 && strcmp(argv[1], "decode") == 0)
        return decode(argv[2], argv[3], argv[4], argc > 5 ? atoi(argv[5]) : 32);
    if (argc >= 5 && strcmp(argv[1], "metric") == 0) return metric(argv[2], argv[3], atoi(argv[4]));
    fprintf(stderr, "usage: gpu_check decode MODEL_DIR DEVICE BATCH[,BATCH...] [STEPS]\n"
                    "       gpu_check metric MODEL_DIR DEVICE TRACE_TOKENS\n");
    return 2;
}
