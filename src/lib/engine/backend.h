/* backend: what a device implements for the engine (internal to src/lib/engine). The engine keeps
 * the sequences and the page tables; the backend owns the page storage and computes. */
#ifndef TTE_BACKEND_H
#define TTE_BACKEND_H

#include "engine/model.h"

#include <stddef.h>
#include <stdint.h>

/* One sequence of a forward batch, as the backend sees it. */
typedef struct {
    int start;             /* tokens already in the cache: the new ones take positions start.. */
    int n_new;             /* tokens to append */
    const int32_t *tokens; /* n_new ids */
    const int32_t *pages;  /* page ids covering positions 0 .. start + n_new - 1 */
} tte_fwd_seq;

typedef struct tte_backend_state tte_backend_state;

typedef struct {
    const char *name;
    /* Allocates storage for N_PAGES pages of PAGE_TOKENS tokens each. */
    tte_backend_state *(*create)(const tte_model *m, int threads, int n_pages, int page_tokens, char *err,
                                 size_t errlen);
    void (*destroy)(tte_backend_state *s);
    /* Copies the whole page SRC over DST (copy-on-write). */
    void (*copy_page)(tte_backend_state *s, int dst, int src);
    /* Writes the new tokens' keys and values into their pages and logits as tte_engine_forward
     * describes. Returns 0, or -1 with a message (non-finite activations). */
    int (*forward)(tte_backend_state *s, const tte_fwd_seq *seqs, int n, int all_logits, float *logits,
                   char *err, size_t errlen);
} tte_backend;

extern const tte_backend tte_backend_cpu;
/* The CUDA plug-in (cuda.cu, libtte-cuda.so) exports `tte_backend_cuda` (a tte_backend) and
 * `int tte_cuda_device_count(void)`; engine.c finds them with dlsym. */

/* Rotary frequencies as transformers computes them (rope scaling applied): rotary_dim / 2 values
 * (rotary_dim is head_dim except for GPT-NeoX's partial rotary). */
void tte_rope_frequencies(const tte_config *c, float *inv_freq);

#endif
