/* engine_bench: speed of the CPU engine on one model folder, and the machine's memory bandwidth.
 *
 *   engine_bench MODEL_DIR [THREADS [PREFILL_TOKENS]]
 *
 * Prints one JSON object: load time, prefill tokens/s (one prompt of PREFILL_TOKENS, default 128),
 * decode tokens/s at batch 1, 8 and 32, the
 * read bandwidth of this machine (a multi-threaded AVX-512 / scalar sum over a 2 GiB buffer, best of
 * 5), the bytes of weights one batch-1 decode step reads and so the bandwidth bound in tokens/s,
 * and the process's resident memory split into file-backed (the mapped weights) and anonymous
 * (KV cache, activations) parts. "simd" names the kernel path (TTE_CPU forces one). Built and run
 * by bench/engine.sh. */
#include "engine/cpu_kernels.h"
#include "engine/engine.h"
#include "engine/sampler.h"
#include "engine/threadpool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* CPU seconds this process has used, all threads: on a shared machine, tokens per CPU second
 * measure the kernels' arithmetic rate without the time other jobs held the cores. */
static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* kB of a /proc/self/status field ("RssFile:"), or -1. */
static long status_kb(const char *field) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, field, strlen(field)) == 0) kb = atol(line + strlen(field));
    if (f) fclose(f);
    return kb;
}

#if defined(__x86_64__)
__attribute__((target("avx512f"))) static float sum_avx512(const float *p, size_t n) {
    __m512 a = _mm512_setzero_ps(), b = a, c = a, d = a;
    for (size_t i = 0; i + 64 <= n; i += 64) {
        a = _mm512_add_ps(a, _mm512_loadu_ps(p + i));
        b = _mm512_add_ps(b, _mm512_loadu_ps(p + i + 16));
        c = _mm512_add_ps(c, _mm512_loadu_ps(p + i + 32));
        d = _mm512_add_ps(d, _mm512_loadu_ps(p + i + 48));
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a, b), _mm512_add_ps(c, d)));
}
#endif

static float sum_any(const float *p, size_t n) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx512f")) return sum_avx512(p, n);
#endif
    float s[8] = {0};
    for (size_t i = 0; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) s[k] += p[i + k];
    return s[0] + s[1] + s[2] + s[3] + s[4] + s[5] + s[6] + s[7];
}

typedef struct {
    const float *buf;
    size_t chunk;
    float sums[256];
} bw_job;

static void bw_part(void *arg, int begin, int end, int worker) {
    bw_job *j = arg;
    for (int part = begin; part < end; part++)
        j->sums[part] = sum_any(j->buf + (size_t)part * j->chunk, j->chunk);
}

/* Read bandwidth in bytes/s: the pool's threads each sum their share of a 2 GiB buffer. */
static double read_bandwidth(tte_pool *pool) {
    size_t n = (size_t)1 << 29; /* floats */
    float *buf = malloc(n * sizeof *buf);
    if (!buf) return 0;
    for (size_t i = 0; i < n; i++) buf[i] = (float)(i & 7);
    int parts = tte_pool_size(pool);
    bw_job j = {buf, n / (size_t)parts, {0}};
    double best = 0;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = now();
        tte_pool_for(pool, parts, bw_part, &j);
        double bw = (double)j.chunk * (double)parts * sizeof *buf / (now() - t0);
        if (bw > best) best = bw;
    }
    free(buf);
    return best;
}

static void die(const char *what, const char *err) {
    fprintf(stderr, "engine_bench: %s: %s\n", what, err);
    exit(1);
}

/* Decode STEPS greedy tokens for B sequences after a PROMPT-token prefill each; returns tokens/s,
 * and tokens per CPU second in *PER_CPU_S. */
static double decode_rate(tte_engine *e, int vocab, int B, int prompt, int steps, double *per_cpu_s) {
    char err[512];
    int32_t *toks = malloc((size_t)B * (size_t)prompt * sizeof *toks),
            *next = malloc((size_t)B * sizeof *next);
    tte_span *sp = malloc((size_t)B * sizeof *sp);
    float *lg = malloc((size_t)B * (size_t)vocab * sizeof *lg);
    for (int i = 0; i < B * prompt; i++) toks[i] = (int32_t)((i * 7919) % vocab);
    for (int b = 0; b < B; b++) sp[b] = (tte_span){tte_seq_new(e), toks + (size_t)b * prompt, prompt};
    if (tte_engine_forward(e, sp, B, TTE_LOGITS_LAST, lg, err, sizeof err) != 0) die("prefill", err);
    double t0 = 0, c0 = 0;
    for (int s = 0; s <= steps; s++) {
        if (s == 1) t0 = now(), c0 = cpu_now(); /* the first step is a warm-up */
        for (int b = 0; b < B; b++) {
            next[b] = (int32_t)tte_argmax(lg + (size_t)b * vocab, vocab);
            sp[b].tokens = &next[b];
            sp[b].n_tokens = 1;
        }
        if (tte_engine_forward(e, sp, B, TTE_LOGITS_LAST, lg, err, sizeof err) != 0) die("decode", err);
    }
    double rate = (double)B * steps / (now() - t0);
    *per_cpu_s = (double)B * steps / (cpu_now() - c0);
    for (int b = 0; b < B; b++) tte_seq_free(e, sp[b].seq);
    free(toks);
    free(next);
    free(sp);
    free(lg);
    return rate;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: engine_bench MODEL_DIR [THREADS]\n");
        return 2;
    }
    int threads = argc > 2 ? atoi(argv[2]) : 0;
    if (threads <= 0 || threads > 256) threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
    int prefill_n = argc > 3 ? atoi(argv[3]) : 128;
    if (prefill_n < 16 || prefill_n > 4096) prefill_n = 128;
    char err[512];
    double t0 = now();
    tte_model *m = tte_model_load(argv[1], err, sizeof err);
    if (!m) die("load", err);
    int vocab = tte_model_config(m)->vocab_size;
    size_t kv_tokens = 32 * 160 > prefill_n + 16 ? 32 * 160 : (size_t)prefill_n + 16;
    tte_engine_opts o = {.threads = threads, .kv_bytes = 0};
    tte_engine *probe = tte_engine_create(m, &o, err, sizeof err);
    if (!probe) die("engine", err);
    o.kv_bytes = kv_tokens * tte_engine_kv_bytes_per_token(probe);
    tte_engine_free(probe);
    tte_engine *e = tte_engine_create(m, &o, err, sizeof err);
    if (!e) die("engine", err);
    double load_s = now() - t0;

    /* Prefill of one prompt (after a warm-up that pages the weights in). */
    int32_t *prompt = malloc((size_t)prefill_n * sizeof *prompt);
    for (int i = 0; i < prefill_n; i++) prompt[i] = (int32_t)((i * 31) % vocab);
    float *lg = malloc((size_t)vocab * sizeof *lg);
    int s = tte_seq_new(e);
    tte_span sp = {s, prompt, 16};
    double warm0 = now();
    if (tte_engine_forward(e, &sp, 1, 0, lg, err, sizeof err) != 0) die("warm-up", err);
    double first_forward_s = now() - warm0;
    tte_seq_free(e, s);
    s = tte_seq_new(e);
    sp = (tte_span){s, prompt, prefill_n};
    double p0 = now(), pc0 = cpu_now();
    if (tte_engine_forward(e, &sp, 1, 0, lg, err, sizeof err) != 0) die("prefill", err);
    double prefill = prefill_n / (now() - p0), prefill_cpu = prefill_n / (cpu_now() - pc0);
    tte_seq_free(e, s);
    free(lg);
    free(prompt);

    double c1, c8, c32;
    double d1 = decode_rate(e, vocab, 1, 16, 16, &c1);
    double d8 = decode_rate(e, vocab, 8, 16, 8, &c8);
    double d32 = decode_rate(e, vocab, 32, 16, 4, &c32);
    long rss_file = status_kb("RssFile:"), rss_anon = status_kb("RssAnon:");
    tte_pool *pool = tte_pool_create(threads);
    double bw = pool ? read_bandwidth(pool) : 0;
    tte_pool_free(pool);
    size_t bytes = tte_model_bytes_per_token(m);
    printf(
        "{\"model\":\"%s\",\"threads\":%d,\"simd\":\"%s\",\"load_s\":%.3f,\"first_forward_s\":%.2f,"
        "\"prefill_tokens\":%d,\"prefill_tok_s\":%.2f,\"decode_tok_s\":{\"1\":%.3f,\"8\":%.3f,\"32\":%.3f},"
        "\"prefill_tok_per_cpu_s\":%.2f,\"decode_tok_per_cpu_s\":{\"1\":%.3f,\"8\":%.3f,\"32\":%.3f},"
        "\"batch32_over_batch1\":%.2f,\"read_bandwidth_gb_s\":%.2f,\"weight_bytes_per_token\":%zu,"
        "\"bandwidth_bound_tok_s\":%.3f,\"batch1_fraction_of_bound\":%.3f,\"mapped_mb\":%.0f,"
        "\"rss_file_mb\":%.0f,\"rss_anon_mb\":%.0f,\"kv_cache_mb\":%.0f}\n",
        argv[1], threads, tte_cpu_path_name(tte_cpu_path_now()), load_s, first_forward_s, prefill_n, prefill,
        d1, d8, d32, prefill_cpu, c1, c8, c32, d32 / d1, bw / 1e9, bytes, bw / (double)bytes,
        d1 / (bw / (double)bytes), (double)tte_model_mapped_bytes(m) / 1e6, rss_file / 1e3, rss_anon / 1e3,
        (double)o.kv_bytes / 1e6);
    tte_engine_free(e);
    tte_model_free(m);
    return 0;
}
