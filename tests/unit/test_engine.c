/* The CPU engine against the float64 reference of tools/make_tiny_models.py, and the invariances
 * the scheduler relies on: batching, forking and thread count do not change a single bit. */
#include "engine/cpu_kernels.h"
#include "engine/engine.h"
#include "engine/sampler.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIXTURES "tests/fixtures/models/"

typedef struct {
    int n;
    int32_t ids[64];
    float *logits; /* n x vocab */
    int greedy[32];
} ref_prompt;

typedef struct {
    tte_model *m;
    int vocab, nprompts;
    ref_prompt p[4];
} fixture;

static void load_fixture(fixture *f, const char *name) {
    char dir[256], path[300], err[512];
    snprintf(dir, sizeof dir, FIXTURES "%s", name);
    f->m = tte_model_load(dir, err, sizeof err);
    cr_assert(f->m, "%s", err);
    f->vocab = tte_model_config(f->m)->vocab_size;
    snprintf(path, sizeof path, "%s/reference.json", dir);
    json_error_t je;
    json_t *ref = json_load_file(path, 0, &je);
    cr_assert(ref, "%s: %s", path, je.text);
    json_t *prompts = json_object_get(ref, "prompts");
    f->nprompts = (int)json_array_size(prompts);
    for (int i = 0; i < f->nprompts; i++) {
        json_t *p = json_array_get(prompts, (size_t)i), *ids = json_object_get(p, "ids"),
               *lg = json_object_get(p, "logits"), *gr = json_object_get(p, "greedy");
        ref_prompt *r = &f->p[i];
        r->n = (int)json_array_size(ids);
        r->logits = malloc((size_t)r->n * (size_t)f->vocab * sizeof(float));
        for (int t = 0; t < r->n; t++) {
            r->ids[t] = (int32_t)json_integer_value(json_array_get(ids, (size_t)t));
            for (int v = 0; v < f->vocab; v++)
                r->logits[(size_t)t * f->vocab + v] =
                    (float)json_number_value(json_array_get(json_array_get(lg, (size_t)t), (size_t)v));
        }
        for (int t = 0; t < 32; t++) r->greedy[t] = (int)json_integer_value(json_array_get(gr, (size_t)t));
    }
    json_decref(ref);
}

static void free_fixture(fixture *f) {
    for (int i = 0; i < f->nprompts; i++) free(f->p[i].logits);
    tte_model_free(f->m);
}

static tte_engine *engine_on(const tte_model *m, int threads, const char *backend) {
    char err[512];
    tte_engine_opts o = {.threads = threads, .kv_bytes = 0, .backend = backend};
    tte_engine *e = tte_engine_create(m, &o, err, sizeof err);
    cr_assert(e, "%s", err);
    return e;
}

static tte_engine *engine(const tte_model *m, int threads) { return engine_on(m, threads, "cpu"); }

static void forward(tte_engine *e, const tte_span *s, int n, int flags, float *logits) {
    char err[512];
    cr_assert_eq(tte_engine_forward(e, s, n, flags, logits, err, sizeof err), 0, "%s", err);
}

/* Every position's logits against the reference, and 32 greedy tokens decoded one at a time, on
 * BACKEND. TOL bounds |logit - reference|. With REL > 0 (products of activations rounded to bf16,
 * the avx512bf16 path) the bound is REL x the prompt's largest |reference logit| instead, and the
 * greedy tokens may leave the reference's at a near-tie: a step where this engine's own logits for
 * its token and the reference's are within twice the bound (the float64 reference, within the bound
 * of ours, could pick either); checking stops there. */
static void check_reference_rel(const char *name, double tol, double rel, const char *backend) {
    fixture f;
    load_fixture(&f, name);
    tte_engine *e = engine_on(f.m, 1, backend);
    for (int i = 0; i < f.nprompts; i++) {
        ref_prompt *r = &f.p[i];
        float *lg = malloc((size_t)r->n * (size_t)f.vocab * sizeof *lg);
        int s = tte_seq_new(e);
        tte_span span = {s, r->ids, r->n};
        forward(e, &span, 1, TTE_LOGITS_ALL, lg);
        double worst = 0, scale = 0;
        for (size_t k = 0; k < (size_t)r->n * (size_t)f.vocab; k++) {
            worst = fmax(worst, fabs(lg[k] - r->logits[k]));
            scale = fmax(scale, fabs(r->logits[k]));
        }
        double bound = rel > 0 ? rel * scale : tol;
        cr_expect_leq(worst, bound, "%s prompt %d: max |logit - reference| = %g > %g", name, i, worst, bound);
        if (getenv("TTE_TEST_SHOW_ERROR")) /* the measured error, for BENCH.md and the man pages */
            fprintf(stderr, "%s %s prompt %d: max |logit - reference| = %.3g, largest |logit| %.3g\n",
                    tte_cpu_path_name(tte_cpu_path_now()), name, i, worst, scale);
        float *last = lg + (size_t)(r->n - 1) * f.vocab;
        int t = 0;
        for (; t < 32; t++) {
            int32_t tok = tte_argmax(last, f.vocab);
            if (tok != r->greedy[t] && rel > 0) {
                double margin = last[tok] - last[r->greedy[t]];
                cr_expect_leq(margin, 2 * bound, "%s prompt %d: greedy token %d is %d by %g, reference %d",
                              name, i, t, (int)tok, margin, r->greedy[t]);
                if (getenv("TTE_TEST_SHOW_ERROR"))
                    fprintf(stderr, "%s %s prompt %d: greedy token %d at a near-tie (%.3g apart)\n",
                            tte_cpu_path_name(tte_cpu_path_now()), name, i, t, margin);
                break;
            }
            cr_expect_eq(tok, r->greedy[t], "%s prompt %d: greedy token %d is %d, reference %d", name, i, t,
                         (int)tok, r->greedy[t]);
            if (tok != r->greedy[t]) break;
            span = (tte_span){s, &tok, 1};
            forward(e, &span, 1, TTE_LOGITS_LAST, last);
        }
        cr_expect_eq(tte_seq_len(e, s), r->n + t);
        tte_seq_free(e, s);
        free(lg);
    }
    cr_expect_eq(tte_engine_pages_free(e), (int)(4096 / TTE_PAGE_TOKENS), "pages leaked");
    tte_engine_free(e);
    free_fixture(&f);
}

static void check_reference_on(const char *name, double tol, const char *backend) {
    check_reference_rel(name, tol, 0, backend);
}

static void check_reference(const char *name, double tol) { check_reference_on(name, tol, "cpu"); }

Test(engine_reference, qwen2_f32) { check_reference("qwen2-f32", 1e-4); }
Test(engine_reference, qwen3_f32) { check_reference("qwen3-f32", 1e-4); }
Test(engine_reference, llama_f32_llama3_rope_sharded) { check_reference("llama-f32", 1e-4); }
Test(engine_reference, qwen2_bf16_tied) { check_reference("qwen2-bf16", 2e-2); }
Test(engine_reference, qwen3_bf16) { check_reference("qwen3-bf16", 2e-2); }
Test(engine_reference, llama_bf16_tied) { check_reference("llama-bf16", 2e-2); }
Test(engine_reference, llama_f16) { check_reference("llama-f16", 2e-2); }
/* GPT-NeoX (tools/make_tiny_neox.py): parallel residual with rotary_pct 0.25, sequential with 1.0,
 * bf16 with 0.5; tables padded past the 256 "tokenizer" ids (264 rows, all computed). */
Test(engine_reference, gpt_neox_f32_parallel_partial_rotary) { check_reference("gpt-neox-f32", 1e-4); }
Test(engine_reference, gpt_neox_f32_sequential_full_rotary) { check_reference("gpt-neox-seq-f32", 1e-4); }
Test(engine_reference, gpt_neox_bf16) { check_reference("gpt-neox-bf16", 2e-2); }

/* Every kernel path this CPU has, forced one by one, against the same references. Criterion runs
 * each test in its own process, so TTE_CPU is read fresh in each. The avx512bf16 and amx paths round the
 * activations of bf16 weights' products to bf16, so its bf16 goldens meet the bf16 tolerance too;
 * f32 and f16 weights are the AVX-512 path's products there. */
static const struct {
    const char *name;
    double tol;
} goldens[] = {{"qwen2-f32", 1e-4},    {"qwen3-f32", 1e-4},    {"llama-f32", 1e-4},
               {"qwen2-bf16", 2e-2},   {"qwen3-bf16", 2e-2},   {"llama-bf16", 2e-2},
               {"llama-f16", 2e-2},    {"gpt-neox-f32", 1e-4}, {"gpt-neox-seq-f32", 1e-4},
               {"gpt-neox-bf16", 2e-2}};

static void force_path(tte_cpu_path p) {
    if (!tte_cpu_has(p)) cr_skip_test("this CPU lacks the %s path", tte_cpu_path_name(p));
    setenv("TTE_CPU", tte_cpu_path_name(p), 1);
    cr_assert_eq(tte_cpu_path_now(), p);
}

/* The avx512bf16 path's bound for bf16 weights: 1% of the largest |logit|. A bf16 activation is
 * within 2^-9 (0.2%) of its f32 value, and such errors of every layer's inputs add up; measured
 * 0.3% to 0.7% on these fixtures (0.03 to 0.16 in absolute terms), against 1e-5 on the f32 paths. */
enum { BF16_PERCENT = 1 };

static void check_references_on_path(tte_cpu_path p) {
    force_path(p);
    for (size_t i = 0; i < sizeof goldens / sizeof goldens[0]; i++) {
        int bf16 = strstr(goldens[i].name, "-bf16") != NULL;
        double rel = (p == TTE_CPU_AVX512BF16 || p == TTE_CPU_AMX) && bf16 ? BF16_PERCENT / 100.0 : 0;
        check_reference_rel(goldens[i].name, goldens[i].tol, rel, "cpu");
    }
}

Test(engine_reference, portable_path) { check_references_on_path(TTE_CPU_SCALAR); }
Test(engine_reference, avx2_path) { check_references_on_path(TTE_CPU_AVX2); }
Test(engine_reference, avx512_path) { check_references_on_path(TTE_CPU_AVX512); }
Test(engine_reference, avx512bf16_path) { check_references_on_path(TTE_CPU_AVX512BF16); }
Test(engine_reference, amx_path) { check_references_on_path(TTE_CPU_AMX); }

/* Greedy decode of N_STEPS tokens per prompt, all prompts in one batch, recording every logits row. */
static void batch_run(tte_engine *e, fixture *f, int n_steps, float *out) {
    int n = f->nprompts, seqs[4];
    tte_span spans[4];
    int32_t next[4];
    float *lg = malloc((size_t)n * (size_t)f->vocab * sizeof *lg);
    for (int i = 0; i < n; i++) {
        seqs[i] = tte_seq_new(e);
        spans[i] = (tte_span){seqs[i], f->p[i].ids, f->p[i].n};
    }
    for (int step = 0; step <= n_steps; step++) {
        forward(e, spans, n, TTE_LOGITS_LAST, lg);
        memcpy(out + (size_t)step * n * f->vocab, lg, (size_t)n * (size_t)f->vocab * sizeof *lg);
        for (int i = 0; i < n; i++) {
            next[i] = tte_argmax(lg + (size_t)i * f->vocab, f->vocab);
            spans[i] = (tte_span){seqs[i], &next[i], 1};
        }
    }
    for (int i = 0; i < n; i++) tte_seq_free(e, seqs[i]);
    free(lg);
}

/* The same, one sequence at a time, each prompt token by token. */
static void single_run(tte_engine *e, fixture *f, int n_steps, float *out) {
    float *lg = malloc((size_t)f->vocab * sizeof *lg);
    for (int i = 0; i < f->nprompts; i++) {
        int s = tte_seq_new(e);
        for (int t = 0; t < f->p[i].n; t++) {
            tte_span sp = {s, &f->p[i].ids[t], 1};
            forward(e, &sp, 1, TTE_LOGITS_LAST, lg);
        }
        for (int step = 0; step <= n_steps; step++) {
            memcpy(out + ((size_t)step * f->nprompts + i) * f->vocab, lg, (size_t)f->vocab * sizeof *lg);
            int32_t tok = tte_argmax(lg, f->vocab);
            tte_span sp = {s, &tok, 1};
            if (step < n_steps) forward(e, &sp, 1, TTE_LOGITS_LAST, lg);
        }
        tte_seq_free(e, s);
    }
    free(lg);
}

/* On the process's kernel path: a batch of prompts prefilled and decoded together gives the bits of
 * each prompt fed token by token alone, and 2 threads the bits of 1. */
static void check_batch_invariance(void) {
    const char *names[] = {"qwen2-f32",        "qwen3-bf16", "llama-f32",  "gpt-neox-f32",
                           "gpt-neox-seq-f32", "qwen2-bf16", "llama-bf16", "gpt-neox-bf16"};
    for (int k = 0; k < 8; k++) {
        fixture f;
        load_fixture(&f, names[k]);
        int steps = 20;
        size_t sz = (size_t)(steps + 1) * f.nprompts * f.vocab;
        float *a = malloc(sz * sizeof *a), *b = malloc(sz * sizeof *b), *c = malloc(sz * sizeof *c);
        tte_engine *e2 = engine(f.m, 2), *e1 = engine(f.m, 1);
        batch_run(e1, &f, steps, a);
        single_run(e1, &f, steps, b);
        batch_run(e2, &f, steps, c);
        cr_expect(memcmp(a, b, sz * sizeof *a) == 0, "%s: batched decode differs from one-by-one", names[k]);
        cr_expect(memcmp(a, c, sz * sizeof *a) == 0, "%s: 1 thread differs from 2", names[k]);
        tte_engine_free(e1);
        tte_engine_free(e2);
        free(a);
        free(b);
        free(c);
        free_fixture(&f);
    }
}

static void check_fork(const char *name);

Test(engine_invariance, batch_equals_single_and_threads_do_not_matter) { check_batch_invariance(); }
Test(engine_invariance, on_the_portable_path) {
    force_path(TTE_CPU_SCALAR);
    check_batch_invariance();
}
Test(engine_invariance, on_the_avx2_path) {
    force_path(TTE_CPU_AVX2);
    check_batch_invariance();
}
Test(engine_invariance, on_the_avx512bf16_path) {
    force_path(TTE_CPU_AVX512BF16);
    check_batch_invariance();
    check_fork("qwen3-bf16");
}
Test(engine_invariance, on_the_amx_path) {
    force_path(TTE_CPU_AMX);
    check_batch_invariance();
    check_fork("qwen3-bf16");
}

/* Decodes TOKENS after the prefix in S and returns the last logits. */
static void decode(tte_engine *e, int s, const int32_t *tokens, int n, float *lg) {
    for (int i = 0; i < n; i++) {
        tte_span sp = {s, &tokens[i], 1};
        forward(e, &sp, 1, TTE_LOGITS_LAST, lg);
    }
}

static void check_fork(const char *name) {
    fixture f;
    load_fixture(&f, name);
    tte_engine *e = engine(f.m, 1);
    int V = f.vocab;
    /* Prefix of 21 tokens: a shared full page plus a partly filled one that both branches write. */
    int32_t prefix[21], a[7] = {5, 9, 100, 7, 33, 200, 4}, b[7] = {60, 61, 62, 63, 64, 65, 66};
    for (int i = 0; i < 21; i++) prefix[i] = f.p[1].ids[i % f.p[1].n];
    float *lg = malloc(4 * (size_t)V * sizeof *lg), *ref = malloc(2 * (size_t)V * sizeof *ref);
    int p = tte_seq_new(e);
    tte_span sp = {p, prefix, 21};
    forward(e, &sp, 1, TTE_LOGITS_LAST, lg);
    int before = tte_engine_pages_free(e);
    int c = tte_seq_fork(e, p);
    cr_assert_geq(c, 0);
    cr_expect_eq(tte_engine_pages_free(e), before, "fork copied pages");
    cr_expect_eq(tte_seq_len(e, c), 21);
    cr_expect_eq(tte_engine_pages_needed(e, c, 1), 1, "a shared partial page must be copied on write");
    decode(e, p, a, 7, lg);
    decode(e, c, b, 7, lg + V);
    /* Same continuations from fresh sequences that each prefill the whole prefix. */
    for (int k = 0; k < 2; k++) {
        int s = tte_seq_new(e);
        tte_span q = {s, prefix, 21};
        forward(e, &q, 1, TTE_LOGITS_LAST, ref + (size_t)k * V);
        decode(e, s, k ? b : a, 7, ref + (size_t)k * V);
        tte_seq_free(e, s);
    }
    cr_expect(memcmp(lg, ref, 2 * (size_t)V * sizeof *lg) == 0, "fork + decode differs from prefix twice");
    /* A grandchild forked after the parent moved on still sees the parent's 28 tokens. */
    int g = tte_seq_fork(e, p);
    cr_expect_eq(tte_seq_len(e, g), 28);
    tte_seq_free(e, p);
    tte_seq_free(e, c);
    tte_seq_free(e, g);
    cr_expect_eq(tte_engine_pages_free(e), 4096 / TTE_PAGE_TOKENS);
    tte_engine_free(e);
    free(lg);
    free(ref);
    free_fixture(&f);
}

Test(engine_invariance, fork_equals_prefix_twice) { check_fork("qwen3-f32"); }
Test(engine_invariance, fork_equals_prefix_twice_gpt_neox) { check_fork("gpt-neox-f32"); }

Test(engine_invariance, kv_full_is_an_error_not_a_crash) {
    fixture f;
    load_fixture(&f, "qwen2-f32");
    char err[512];
    tte_engine_opts o = {.threads = 1, .kv_bytes = 2 * TTE_PAGE_TOKENS * 0 + 1};
    cr_expect_null(tte_engine_create(f.m, &o, err, sizeof err), "a cache smaller than a page must fail");
    o.kv_bytes = 2 * TTE_PAGE_TOKENS * 2 * 2 * 2 * 8 * sizeof(float); /* 2 pages: layers 2, kv 2, hd 8 */
    tte_engine *e = tte_engine_create(f.m, &o, err, sizeof err);
    cr_assert(e, "%s", err);
    cr_expect_eq(tte_engine_pages_free(e), 2);
    int32_t toks[40] = {0};
    float *lg = malloc((size_t)f.vocab * sizeof *lg);
    int s = tte_seq_new(e);
    tte_span sp = {s, toks, 33};
    cr_expect_eq(tte_engine_pages_needed(e, s, 33), 3);
    cr_expect_eq(tte_engine_forward(e, &sp, 1, 0, lg, err, sizeof err), -1);
    cr_expect(strstr(err, "KV cache full"), "%s", err);
    cr_expect_eq(tte_seq_len(e, s), 0);
    sp.n_tokens = 32;
    forward(e, &sp, 1, 0, lg);
    cr_expect_eq(tte_engine_pages_free(e), 0);
    toks[0] = 999;
    sp.n_tokens = 1;
    cr_expect_eq(tte_engine_forward(e, &sp, 1, 0, lg, err, sizeof err), -1);
    cr_expect(strstr(err, "outside the vocabulary"), "%s", err);
    free(lg);
    tte_engine_free(e);
    free_fixture(&f);
}

/* The same goldens on the GPU, at the bf16 tolerance (cuBLAS rounds activations to 16 bits for large
 * batches; the reference prompts are small enough for the f32 matrix-vector kernel, so this is
 * loose). Skipped, saying so, where there is no GPU or no CUDA build. */
Test(engine_cuda, reference_goldens_on_the_gpu) {
    if (!tte_gpu_present())
        cr_skip_test("no CUDA GPU here: the CUDA engine was built (if nvcc was found) but not run");
    const char *names[] = {"qwen2-f32",  "qwen3-f32",  "llama-f32", "qwen2-bf16",
                           "qwen3-bf16", "llama-bf16", "llama-f16"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) check_reference_on(names[i], 2e-2, "cuda");
}

/* Cache keys name the path, so results of the bf16 products are never taken for the f32 ones. */
Test(engine_reference, the_avx512bf16_path_has_its_own_numerics_name) {
    force_path(TTE_CPU_AVX512BF16);
    cr_expect_str_eq(tte_engine_numerics("cpu"), "cpu/avx512bf16/n1");
}
Test(engine_reference, the_amx_path_has_its_own_numerics_name) {
    force_path(TTE_CPU_AMX);
    cr_expect_str_eq(tte_engine_numerics("cpu"), "cpu/amx/n1");
}
