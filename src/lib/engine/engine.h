/* engine: batched inference over a loaded model with a paged, forkable KV cache.
 *
 * An engine owns a fixed pool of KV pages (bounded memory, chosen at creation) and a set of
 * sequences. A sequence is a list of page ids holding the keys and values of its tokens; fork gives
 * a new sequence that shares all of its parent's pages (copy-on-write: a shared page is copied only
 * when one of them writes into it, which happens only for a partly filled last page). So a scheduler
 * can branch one prompt into many samples, or one reasoning trace into many forced answers, without
 * recomputing or copying the prefix.
 *
 * One call, tte_engine_forward, runs a batch: each entry appends a span of tokens to one sequence
 * (a prompt = many, a decode step = 1) and gets logits back. Results are bit-identical whatever the
 * batch composition, the split into calls and the thread count: every output element is computed by
 * one thread in a fixed order. So a long prompt may be fed in chunks (activation memory grows with
 * the tokens of one call: about 4 * (2 * intermediate + 6 * hidden) bytes per token), and a
 * scheduler may regroup sequences freely. The arithmetic is f32 over weights in their stored dtype.
 *
 * Typical use (error handling left out; logits holds vocab_size floats per returned row,
 * or a reward model's head outputs: tte_model_out_width):
 *     tte_model *m = tte_model_load(dir, err, sizeof err);
 *     tte_engine_opts o = {.threads = 0, .kv_bytes = (size_t)2 << 30};
 *     tte_engine *e = tte_engine_create(m, &o, err, sizeof err);
 *     int s = tte_seq_new(e);
 *     tte_span span = {s, prompt_ids, n_prompt};
 *     tte_engine_forward(e, &span, 1, TTE_LOGITS_LAST, logits, err, sizeof err);
 *     int c = tte_seq_fork(e, s);   (c shares the prompt's pages)
 *     ... sample a token for each (engine/sampler.h), forward both 1-token spans in one batch ...
 *     tte_seq_free(e, c), tte_seq_free(e, s), tte_engine_free(e), tte_model_free(m);
 *
 * Log-probabilities: forward with TTE_LOGITS_ALL gives the logits after every token of a span
 * (teacher forcing: row i scores token i + 1), and engine/sampler.h turns logits into log-probs and
 * top-k lists.
 *
 * The engine is device-neutral; the computation runs in a backend (engine/backend.h): "cpu"
 * (cpu.c), or "cuda" (cuda.cu, a plug-in loaded on demand; see tte_engine_opts.backend).
 * Not thread-safe: one caller drives an engine (it uses threads inside). */
#ifndef TTE_ENGINE_H
#define TTE_ENGINE_H

#include "engine/model.h"

#include <stddef.h>
#include <stdint.h>

/* Tokens per KV page. */
enum { TTE_PAGE_TOKENS = 16 };

typedef struct {
    int threads;         /* 0: OpenMP's default (all cores or OMP_NUM_THREADS) */
    size_t kv_bytes;     /* memory for the KV cache; 0: room for 4096 tokens */
    const char *backend; /* "cpu" (or NULL), "cuda", or "auto": cuda when a GPU is present */
} tte_engine_opts;

typedef struct tte_engine tte_engine;

/* Whether this build has the CUDA engine and the machine a GPU. */
int tte_gpu_present(void);
/* The backend a --device name runs on: "cpu" or "cuda" ("auto" decided; NULL is "cpu"). Results
 * differ in their rounding between the two, so caches keep them apart. */
const char *tte_device_resolve(const char *device);
/* What the results on a --device name are computed with, for cache keys: the backend, its kernel
 * path and the numerics version, like "cpu/avx512/n1", "cpu/scalar/n1" or "cuda/n1". Any two
 * round differently, so a cache shared between machines keeps them apart. The version goes up when
 * a change to the arithmetic changes results. (A static string.) */
enum { TTE_NUMERICS_VERSION = 1 };
const char *tte_engine_numerics(const char *device);

/* Creates an engine over M (borrowed: M must outlive the engine). NULL with a message on failure. */
tte_engine *tte_engine_create(const tte_model *m, const tte_engine_opts *opts, char *err, size_t errlen);
void tte_engine_free(tte_engine *e);
const tte_model *tte_engine_model(const tte_engine *e);

/* Bytes of KV cache per token: n_layers * 2 * n_kv_heads * head_dim * 4 (stored as f32). */
size_t tte_engine_kv_bytes_per_token(const tte_engine *e);
/* The same before an engine exists, to size its kv_bytes. */
size_t tte_model_kv_bytes_per_token(const tte_model *m);

/* A new empty sequence: its id (>= 0), or -1 when all sequence slots are taken. */
int tte_seq_new(tte_engine *e);
/* A new sequence sharing SEQ's tokens (no copy); -1 when SEQ is not live or no slot is free. */
int tte_seq_fork(tte_engine *e, int seq);
/* Releases SEQ's pages (shared ones when their last user goes). Ignores ids that are not live. */
void tte_seq_free(tte_engine *e, int seq);
/* Tokens in SEQ's cache; -1 when SEQ is not live. */
int tte_seq_len(const tte_engine *e, int seq);

/* Free pages in the pool, and the pages that appending N_NEW tokens to SEQ would take (new pages
 * plus a copy of a shared partly filled last page). A scheduler admits work while the sum over its
 * batch of tte_engine_pages_needed stays <= tte_engine_pages_free; forward then cannot run out. */
int tte_engine_pages_free(const tte_engine *e);
int tte_engine_pages_needed(const tte_engine *e, int seq, int n_new);

/* One entry of a batch: append TOKENS[0..n_tokens) to sequence SEQ. */
typedef struct {
    int seq;
    const int32_t *tokens; /* borrowed for the call */
    int n_tokens;          /* >= 1 */
} tte_span;

enum {
    TTE_LOGITS_LAST = 0, /* logits of each span's last token: n rows */
    TTE_LOGITS_ALL = 1,  /* logits of every new token, span after span: sum of n_tokens rows */
};

/* Runs the batch SPANS[0..n) (each sequence at most once per call) and writes logits
 * (f32, rows of tte_model_out_width) into the caller's LOGITS. Appends the tokens to the sequences' caches.
 * Returns 0, or -1 with a message in ERR and the sequences unchanged: bad ids or tokens, not enough
 * free pages, or a NaN/infinity in the activations ("non-finite value after layer L (batch entry i,
 * token j)"), which is reported instead of being turned into tokens. */
int tte_engine_forward(tte_engine *e, const tte_span *spans, int n, int flags, float *logits, char *err,
                       size_t errlen);

#endif
