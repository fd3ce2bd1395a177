/* cpu: the forward pass on the CPU (the "cpu" backend of engine/backend.h).
 *
 * All the batch's new tokens travel together as rows of one activation matrix, so every weight
 * matrix is read once per call whatever the batch size; attention is the only step that looks at a
 * row's own sequence, reading its keys and values from the paged cache. */
#include "engine/backend.h"
#include "cli.h"
#include "engine/cpu_kernels.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tte_backend_state {
    const tte_model *m;
    const tte_config *c;
    tte_pool *pool;
    int page_tokens;
    size_t page_floats; /* floats per page: n_layers * 2 * n_kv_heads * page_tokens * head_dim */
    float *kv;          /* n_pages pages */
    float *inv_freq;    /* rotary_dim / 2 rotary frequencies, rope scaling applied */
    /* Small vectors converted to f32 once (norm weights, biases): (n_layers, ...); zeros for the
     * ones an architecture does not have. */
    float *attn_norm, *mlp_norm, *final_norm, *bq, *bk, *bv, *q_norm, *k_norm;
    float *attn_norm_b, *mlp_norm_b, *final_norm_b, *bqkv, *bo, *b_up, *b_down; /* GPT-NeoX */
    /* Activation buffers for up to `rows` tokens, grown on demand. */
    int rows;
    float *x, *h, *q, *k, *v, *att, *gate, *up;
    float *qkv, *m2;        /* GPT-NeoX: the fused projection (3 * hidden), the MLP's input and output */
    int *row_seq, *row_pos; /* per row: batch entry and absolute position */
    float *scores;          /* per thread: attention weights, score_len each */
    int score_len;
};

/* Rotary frequencies as transformers computes them: theta^(-2i/d), and for rope_type "llama3" the
 * long wavelengths divided by `factor`, with a smooth blend between the two wavelength bounds. */
void tte_rope_frequencies(const tte_config *c, float *inv_freq) {
    int d = c->rotary_dim;
    for (int i = 0; i < d / 2; i++) {
        double f = 1.0 / pow(c->rope_theta, (double)(2 * i) / d);
        if (c->rope_llama3) {
            double old = c->rope_original_max_pos, lo = c->rope_low_freq_factor,
                   hi = c->rope_high_freq_factor;
            double wavelen = 2 * M_PI / f, low_wavelen = old / lo, high_wavelen = old / hi;
            if (wavelen > low_wavelen)
                f /= c->rope_factor;
            else if (wavelen >= high_wavelen) {
                double smooth = (old / wavelen - lo) / (hi - lo);
                f = (1 - smooth) * f / c->rope_factor + smooth * f;
            }
        }
        inv_freq[i] = (float)f;
    }
}

/* Converts a (1, n) vector of each layer (selected by OFFSET into tte_layer_weights) to f32. */
static float *layer_vectors(const tte_model *m, size_t offset, int n) {
    const tte_config *c = tte_model_config(m);
    const tte_weights *w = tte_model_weights(m);
    float *out = malloc((size_t)c->n_layers * (size_t)n * sizeof *out);
    for (int l = 0; out && l < c->n_layers; l++) {
        const tte_mat *v = (const tte_mat *)((const char *)&w->layers[l] + offset);
        for (int i = 0; i < n; i++) out[(size_t)l * n + i] = v->data ? tte_mat_get(v, (size_t)i) : 0;
    }
    return out;
}

static void cpu_destroy(tte_backend_state *s) {
    if (!s) return;
    float *vectors[] = {s->inv_freq,   s->attn_norm,    s->mlp_norm, s->final_norm,  s->bq, s->bk,
                        s->bv,         s->q_norm,       s->k_norm,   s->attn_norm_b, s->bo, s->b_up,
                        s->mlp_norm_b, s->final_norm_b, s->bqkv,     s->b_down};
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) free(vectors[i]);
    float *bufs[] = {s->kv, s->x, s->h, s->q, s->k, s->v, s->att, s->gate, s->up, s->scores, s->qkv, s->m2};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) free(bufs[i]);
    free(s->row_seq);
    free(s->row_pos);
    tte_pool_free(s->pool);
    free(s);
}

static tte_backend_state *cpu_create(const tte_model *m, int threads, int n_pages, int page_tokens, char *err,
                                     size_t errlen) {
    tte_backend_state *s = calloc(1, sizeof *s);
    if (!s) goto oom;
    const tte_config *c = s->c = tte_model_config(m);
    s->m = m;
    /* "All cores" are the ones this process may run on (taskset, a cgroup's cpuset), not the machine's. */
    if (!(s->pool = tte_pool_create(threads > 0 ? threads : tte_cli_cores()))) goto oom;
    s->page_tokens = page_tokens;
    s->page_floats =
        (size_t)c->n_layers * 2 * (size_t)c->n_kv_heads * (size_t)page_tokens * (size_t)c->head_dim;
    /* calloc: pages come from the OS untouched, so RSS grows only with the cache actually used. */
    s->kv = calloc((size_t)n_pages, s->page_floats * sizeof(float));
    s->inv_freq = malloc(((size_t)c->head_dim / 2 + 1) * sizeof(float));
    if (!s->kv || !s->inv_freq) goto oom;
    tte_rope_frequencies(c, s->inv_freq);
    int H = c->hidden_size, q = c->n_heads * c->head_dim, kv = c->n_kv_heads * c->head_dim;
    s->attn_norm = layer_vectors(m, offsetof(tte_layer_weights, attn_norm), H);
    s->mlp_norm = layer_vectors(m, offsetof(tte_layer_weights, mlp_norm), H);
    s->bq = layer_vectors(m, offsetof(tte_layer_weights, bq), q);
    s->bk = layer_vectors(m, offsetof(tte_layer_weights, bk), kv);
    s->bv = layer_vectors(m, offsetof(tte_layer_weights, bv), kv);
    s->q_norm = layer_vectors(m, offsetof(tte_layer_weights, q_norm), c->head_dim);
    s->k_norm = layer_vectors(m, offsetof(tte_layer_weights, k_norm), c->head_dim);
    s->attn_norm_b = layer_vectors(m, offsetof(tte_layer_weights, attn_norm_b), H);
    s->mlp_norm_b = layer_vectors(m, offsetof(tte_layer_weights, mlp_norm_b), H);
    s->bqkv = layer_vectors(m, offsetof(tte_layer_weights, bqkv), 3 * q);
    s->bo = layer_vectors(m, offsetof(tte_layer_weights, bo), H);
    s->b_up = layer_vectors(m, offsetof(tte_layer_weights, b_up), c->intermediate_size);
    s->b_down = layer_vectors(m, offsetof(tte_layer_weights, b_down), H);
    s->final_norm = malloc((size_t)H * sizeof(float));
    s->final_norm_b = calloc((size_t)H, sizeof(float));
    if (!s->attn_norm || !s->mlp_norm || !s->bq || !s->bk || !s->bv || !s->q_norm || !s->k_norm ||
        !s->final_norm || !s->attn_norm_b || !s->mlp_norm_b || !s->bqkv || !s->bo || !s->b_up || !s->b_down ||
        !s->final_norm_b)
        goto oom;
    tte_mat_row(&tte_model_weights(m)->final_norm, 0, s->final_norm);
    if (tte_model_weights(m)->final_norm_b.data)
        tte_mat_row(&tte_model_weights(m)->final_norm_b, 0, s->final_norm_b);
    return s;
oom:
    snprintf(err, errlen, "out of memory for the CPU engine (%d KV pages)", n_pages);
    cpu_destroy(s);
    return NULL;
}

static void cpu_copy_page(tte_backend_state *s, int dst, int src) {
    memcpy(s->kv + (size_t)dst * s->page_floats, s->kv + (size_t)src * s->page_floats,
           s->page_floats * sizeof(float));
}

static int grow(float **p, size_t n) {
    float *q = realloc(*p, n * sizeof **p);
    if (!q) return -1;
    *p = q;
    return 0;
}

/* Sizes the activation buffers for ROWS tokens and attention over MAX_LEN positions. */
static int reserve(tte_backend_state *s, int rows, int max_len) {
    const tte_config *c = s->c;
    if (rows > s->rows) {
        size_t r = (size_t)rows, H = (size_t)c->hidden_size, Q = (size_t)c->n_heads * c->head_dim,
               KV = (size_t)c->n_kv_heads * c->head_dim, I = (size_t)c->intermediate_size;
        int *rs = realloc(s->row_seq, r * sizeof *rs);
        if (rs) s->row_seq = rs;
        int *rp = realloc(s->row_pos, r * sizeof *rp);
        if (rp) s->row_pos = rp;
        if (!rs || !rp || grow(&s->x, r * H) || grow(&s->h, r * (H > Q ? H : Q)) || grow(&s->q, r * Q) ||
            grow(&s->k, r * KV) || grow(&s->v, r * KV) || grow(&s->att, r * Q) || grow(&s->gate, r * I) ||
            grow(&s->up, r * I))
            return -1;
        int neox = c->arch == TTE_ARCH_GPT_NEOX;
        if (grow(&s->qkv, neox ? r * 3 * Q : 1) || grow(&s->m2, neox ? r * H : 1)) return -1;
        s->rows = rows;
    }
    if (max_len > s->score_len) {
        if (grow(&s->scores, (size_t)tte_pool_size(s->pool) * (size_t)max_len)) return -1;
        s->score_len = max_len;
    }
    return 0;
}

/* out = x / sqrt(mean(x^2) + eps) * weight, over N values (the mean in double, as one reduction). */
static void rmsnorm(float *out, const float *x, const float *weight, int n, double eps) {
    double ss = 0;
    for (int i = 0; i < n; i++) ss += (double)x[i] * x[i];
    float scale = (float)(1.0 / sqrt(ss / n + eps));
    for (int i = 0; i < n; i++) out[i] = weight[i] * (x[i] * scale);
}

/* Rotates pairs (i, i + d/2) of one head's first D dims by pos * inv_freq[i] (transformers'
 * rotate_half layout; D is rotary_dim, and dims from D on are left as they are). */
static void rope(float *v, int d, int pos, const float *inv_freq) {
    for (int i = 0; i < d / 2; i++) {
        double a = (double)pos * inv_freq[i];
        float cs = (float)cos(a), sn = (float)sin(a), x0 = v[i], x1 = v[i + d / 2];
        v[i] = x0 * cs - x1 * sn;
        v[i + d / 2] = x1 * cs + x0 * sn;
    }
}

/* Where token POS of a sequence keeps its key (kind 0) or value (kind 1) for LAYER and KV head G. */
static float *kv_slot(const tte_backend_state *s, const int32_t *pages, int layer, int kind, int g, int pos) {
    const tte_config *c = s->c;
    size_t page = (size_t)pages[pos / s->page_tokens];
    size_t block = ((size_t)layer * 2 + (size_t)kind) * (size_t)c->n_kv_heads + (size_t)g;
    return s->kv + page * s->page_floats +
           (block * (size_t)s->page_tokens + (size_t)(pos % s->page_tokens)) * (size_t)c->head_dim;
}

/* Softmax attention of one query row and head over positions 0..pos of its sequence. */
static void attend(const tte_backend_state *s, const int32_t *pages, int layer, int head, int pos,
                   const float *q, float *out, float *scores) {
    const tte_config *c = s->c;
    int d = c->head_dim, g = head / (c->n_heads / c->n_kv_heads);
    float scale = 1.0f / sqrtf((float)d), max = -INFINITY;
    int p = 0;
    for (; p + 4 <= pos + 1; p += 4) { /* four keys at a time: the same bits, more in flight */
        const float *keys[4] = {kv_slot(s, pages, layer, 0, g, p), kv_slot(s, pages, layer, 0, g, p + 1),
                                kv_slot(s, pages, layer, 0, g, p + 2), kv_slot(s, pages, layer, 0, g, p + 3)};
        tte_cpu_dot4(q, keys, d, &scores[p]);
    }
    for (; p <= pos; p++) scores[p] = tte_cpu_dot(q, kv_slot(s, pages, layer, 0, g, p), d);
    for (p = 0; p <= pos; p++) {
        scores[p] *= scale;
        if (scores[p] > max) max = scores[p];
    }
    float sum = 0;
    for (p = 0; p <= pos; p++) sum += scores[p] = expf(scores[p] - max);
    memset(out, 0, (size_t)d * sizeof *out);
    for (p = 0; p + 4 <= pos + 1; p += 4) {
        const float *values[4] = {kv_slot(s, pages, layer, 1, g, p), kv_slot(s, pages, layer, 1, g, p + 1),
                                  kv_slot(s, pages, layer, 1, g, p + 2), kv_slot(s, pages, layer, 1, g, p + 3)};
        const float weights[4] = {scores[p] / sum, scores[p + 1] / sum, scores[p + 2] / sum, scores[p + 3] / sum};
        tte_cpu_axpy4(out, weights, values, d);
    }
    for (; p <= pos; p++) tte_cpu_axpy(out, scores[p] / sum, kv_slot(s, pages, layer, 1, g, p), d);
}

static float silu(float x) { return x / (1.0f + expf(-x)); }

/* The first row holding a NaN or infinity among ROWS rows of N values, or -1. */
static int first_nonfinite(const float *x, int rows, int n) {
    for (int r = 0; r < rows; r++)
        for (int i = 0; i < n; i++)
            if (!isfinite(x[(size_t)r * n + i])) return r;
    return -1;
}

static int report_nonfinite(const tte_backend_state *s, const tte_fwd_seq *seqs, int row, const char *where,
                            char *err, size_t errlen) {
    int b = s->row_seq[row];
    snprintf(err, errlen, "non-finite value %s (batch entry %d, token %d at position %d)", where, b,
             s->row_pos[row] - seqs[b].start, s->row_pos[row]);
    return -1;
}

/* What the parallel loops of one layer share. */
typedef struct {
    tte_backend_state *s;
    const tte_fwd_seq *seqs;
    int layer;
    const float *norm; /* RMSNorm weights for norm_rows */
} layer_job;

/* h = rmsnorm(x) * norm, rows [t0, t1). */
static void norm_rows(void *arg, int t0, int t1, int worker) {
    const layer_job *j = arg;
    int H = j->s->c->hidden_size;
    for (int t = t0; t < t1; t++)
        rmsnorm(j->s->h + (size_t)t * H, j->s->x + (size_t)t * H, j->norm, H, j->s->c->rms_norm_eps);
}

/* Per row: biases, per-head q/k norms, RoPE, then the key and value go into the cache. */
static void qkv_rows(void *arg, int t0, int t1, int worker) {
    const layer_job *j = arg;
    tte_backend_state *s = j->s;
    const tte_config *c = s->c;
    int l = j->layer, d = c->head_dim, Q = c->n_heads * d, KV = c->n_kv_heads * d;
    for (int t = t0; t < t1; t++) {
        float *q = s->q + (size_t)t * Q, *k = s->k + (size_t)t * KV, *v = s->v + (size_t)t * KV;
        if (c->qkv_bias) {
            for (int i = 0; i < Q; i++) q[i] += s->bq[(size_t)l * Q + i];
            for (int i = 0; i < KV; i++) k[i] += s->bk[(size_t)l * KV + i], v[i] += s->bv[(size_t)l * KV + i];
        }
        int pos = s->row_pos[t];
        for (int h = 0; h < c->n_heads; h++) {
            if (c->qk_norm) rmsnorm(q + h * d, q + h * d, s->q_norm + (size_t)l * d, d, c->rms_norm_eps);
            rope(q + h * d, c->rotary_dim, pos, s->inv_freq);
        }
        const int32_t *pages = j->seqs[s->row_seq[t]].pages;
        for (int g = 0; g < c->n_kv_heads; g++) {
            if (c->qk_norm) rmsnorm(k + g * d, k + g * d, s->k_norm + (size_t)l * d, d, c->rms_norm_eps);
            rope(k + g * d, c->rotary_dim, pos, s->inv_freq);
            memcpy(kv_slot(s, pages, l, 0, g, pos), k + g * d, (size_t)d * sizeof(float));
            memcpy(kv_slot(s, pages, l, 1, g, pos), v + g * d, (size_t)d * sizeof(float));
        }
    }
}

/* (row, head) pairs [i0, i1): independent once all keys of the batch are in the cache. */
static void attend_pairs(void *arg, int i0, int i1, int worker) {
    const layer_job *j = arg;
    tte_backend_state *s = j->s;
    int nh = s->c->n_heads, d = s->c->head_dim, Q = nh * d;
    float *scores = s->scores + (size_t)worker * (size_t)s->score_len;
    for (int i = i0; i < i1; i++) {
        int t = i / nh, h = i % nh;
        attend(s, j->seqs[s->row_seq[t]].pages, j->layer, h, s->row_pos[t], s->q + (size_t)t * Q + h * d,
               s->att + (size_t)t * Q + h * d, scores);
    }
}

/* gate = silu(gate) * up over rows [t0, t1). */
static void swiglu_rows(void *arg, int t0, int t1, int worker) {
    const layer_job *j = arg;
    size_t I = (size_t)j->s->c->intermediate_size;
    for (size_t i = (size_t)t0 * I; i < (size_t)t1 * I; i++)
        j->s->gate[i] = silu(j->s->gate[i]) * j->s->up[i];
}

static void attention_block(tte_backend_state *s, const tte_fwd_seq *seqs, int l, int T) {
    const tte_config *c = s->c;
    const tte_layer_weights *L = &tte_model_weights(s->m)->layers[l];
    int H = c->hidden_size;
    layer_job j = {s, seqs, l, s->attn_norm + (size_t)l * H};
    tte_pool_for(s->pool, T, norm_rows, &j);
    tte_cpu_matmul(s->q, s->h, T, &L->wq, s->pool);
    tte_cpu_matmul(s->k, s->h, T, &L->wk, s->pool);
    tte_cpu_matmul(s->v, s->h, T, &L->wv, s->pool);
    tte_pool_for(s->pool, T, qkv_rows, &j);
    tte_pool_for(s->pool, T * c->n_heads, attend_pairs, &j);
    tte_cpu_matmul(s->h, s->att, T, &L->wo, s->pool);
    for (size_t i = 0; i < (size_t)T * H; i++) s->x[i] += s->h[i];
}

static void mlp_block(tte_backend_state *s, int l, int T) {
    const tte_config *c = s->c;
    const tte_layer_weights *L = &tte_model_weights(s->m)->layers[l];
    int H = c->hidden_size;
    layer_job j = {s, NULL, l, s->mlp_norm + (size_t)l * H};
    tte_pool_for(s->pool, T, norm_rows, &j);
    tte_cpu_matmul(s->gate, s->h, T, &L->w_gate, s->pool);
    tte_cpu_matmul(s->up, s->h, T, &L->w_up, s->pool);
    tte_pool_for(s->pool, T, swiglu_rows, &j);
    tte_cpu_matmul(s->h, s->gate, T, &L->w_down, s->pool);
    for (size_t i = 0; i < (size_t)T * H; i++) s->x[i] += s->h[i];
}

/* ---- GPT-NeoX (Pythia): LayerNorm, the fused per-head [q, k, v] projection, partial RoPE, biases,
 * the GELU MLP and the parallel residual (model.h). */

/* out = (x - mean) / sqrt(var + eps) * weight + bias over N values (mean and variance in double,
 * two passes, as one reduction each). */
static void layernorm(float *out, const float *x, const float *weight, const float *bias, int n, double eps) {
    double sum = 0, ss = 0;
    for (int i = 0; i < n; i++) sum += x[i];
    double mean = sum / n;
    for (int i = 0; i < n; i++) ss += (x[i] - mean) * (x[i] - mean);
    float scale = (float)(1.0 / sqrt(ss / n + eps)), mu = (float)mean;
    for (int i = 0; i < n; i++) out[i] = (x[i] - mu) * scale * weight[i] + bias[i];
}

/* The exact (erf) GELU of transformers' "gelu". */
static float gelu(float x) { return 0.5f * x * (1.0f + erff(x * (float)M_SQRT1_2)); }

/* What the parallel loops of a GPT-NeoX layer share. */
typedef struct {
    tte_backend_state *s;
    const tte_fwd_seq *seqs;
    int layer;
    const float *in, *w, *b; /* neox_norm_rows: out = ln(in) * w + b */
    float *out;
} neox_job;

static void neox_norm_rows(void *arg, int t0, int t1, int worker) {
    const neox_job *j = arg;
    int H = j->s->c->hidden_size;
    for (int t = t0; t < t1; t++)
        layernorm(j->out + (size_t)t * H, j->in + (size_t)t * H, j->w, j->b, H, j->s->c->layer_norm_eps);
}

/* Per row: the fused projection plus its bias, split per head into q (kept for attention) and k, v
 * (straight into the cache), RoPE over the first rotary_dim dims of q and k. */
static void neox_qkv_rows(void *arg, int t0, int t1, int worker) {
    const neox_job *j = arg;
    tte_backend_state *s = j->s;
    const tte_config *c = s->c;
    int l = j->layer, d = c->head_dim, H = c->hidden_size;
    for (int t = t0; t < t1; t++) {
        int pos = s->row_pos[t];
        const int32_t *pages = j->seqs[s->row_seq[t]].pages;
        for (int h = 0; h < c->n_heads; h++) {
            const float *f = s->qkv + (size_t)t * 3 * H + (size_t)h * 3 * d,
                        *b = s->bqkv + (size_t)l * 3 * H + (size_t)h * 3 * d;
            float *q = s->q + (size_t)t * H + (size_t)h * d, *k = kv_slot(s, pages, l, 0, h, pos),
                  *v = kv_slot(s, pages, l, 1, h, pos);
            for (int i = 0; i < d; i++) {
                q[i] = f[i] + b[i];
                k[i] = f[d + i] + b[d + i];
                v[i] = f[2 * d + i] + b[2 * d + i];
            }
            rope(q, c->rotary_dim, pos, s->inv_freq);
            rope(k, c->rotary_dim, pos, s->inv_freq);
        }
    }
}

/* gate = gelu(gate + b_up) over rows [t0, t1). */
static void neox_gelu_rows(void *arg, int t0, int t1, int worker) {
    const neox_job *j = arg;
    int I = j->s->c->intermediate_size;
    const float *b = j->s->b_up + (size_t)j->layer * I;
    for (int t = t0; t < t1; t++) {
        float *g = j->s->gate + (size_t)t * I;
        for (int i = 0; i < I; i++) g[i] = gelu(g[i] + b[i]);
    }
}

static void neox_layer(tte_backend_state *s, const tte_fwd_seq *seqs, int l, int T) {
    const tte_config *c = s->c;
    const tte_layer_weights *L = &tte_model_weights(s->m)->layers[l];
    size_t H = (size_t)c->hidden_size, n = (size_t)T * H;
    neox_job j = {s, seqs, l, s->x, s->attn_norm + l * H, s->attn_norm_b + l * H, s->h};
    tte_pool_for(s->pool, T, neox_norm_rows, &j);
    tte_cpu_matmul(s->qkv, s->h, T, &L->wqkv, s->pool);
    tte_pool_for(s->pool, T, neox_qkv_rows, &j);
    layer_job a = {s, seqs, l, NULL};
    tte_pool_for(s->pool, T * c->n_heads, attend_pairs, &a);
    tte_cpu_matmul(s->h, s->att, T, &L->wo, s->pool);
    const float *bo = s->bo + l * H, *b_down = s->b_down + l * H;
    for (size_t i = 0; i < n; i++) s->h[i] += bo[i % H];
    if (!c->parallel_residual)
        for (size_t i = 0; i < n; i++) s->x[i] += s->h[i];
    /* The MLP reads x before the attention output is added (parallel) or after (sequential). */
    j = (neox_job){s, seqs, l, s->x, s->mlp_norm + l * H, s->mlp_norm_b + l * H, s->m2};
    tte_pool_for(s->pool, T, neox_norm_rows, &j);
    tte_cpu_matmul(s->gate, s->m2, T, &L->w_up, s->pool);
    tte_pool_for(s->pool, T, neox_gelu_rows, &j);
    tte_cpu_matmul(s->m2, s->gate, T, &L->w_down, s->pool);
    for (size_t i = 0; i < n; i++)
        s->x[i] += c->parallel_residual ? (s->m2[i] + b_down[i % H]) + s->h[i] : s->m2[i] + b_down[i % H];
}

/* Y += B on each of ROWS rows of B's width. */
static void add_bias(float *y, int rows, const tte_mat *b) {
    for (int r = 0; r < rows; r++)
        for (int i = 0; i < b->cols; i++) y[(size_t)r * b->cols + i] += tte_mat_get(b, (size_t)i);
}

/* A reward model's head over the ROWS normalised states in s->h (model.h). The residual stream
 * s->x is free by now and holds the classifier's middle layer. */
static void reward_head(tte_backend_state *s, float *out, int rows) {
    const tte_weights *w = tte_model_weights(s->m);
    const float *in = s->h;
    if (w->head_mid.data) {
        tte_cpu_matmul(s->x, s->h, rows, &w->head_mid, s->pool);
        add_bias(s->x, rows, &w->head_mid_b);
        for (size_t i = 0; i < (size_t)rows * (size_t)w->head_mid.rows; i++) s->x[i] = s->x[i] > 0 ? s->x[i] : 0;
        in = s->x;
    }
    tte_cpu_matmul(out, in, rows, &w->head_out, s->pool);
    add_bias(out, rows, &w->head_out_b);
}

static int cpu_forward(tte_backend_state *s, const tte_fwd_seq *seqs, int n, int all_logits, float *logits,
                       char *err, size_t errlen) {
    const tte_config *c = s->c;
    const tte_weights *w = tte_model_weights(s->m);
    int T = 0, max_len = 0, H = c->hidden_size;
    for (int i = 0; i < n; i++) {
        T += seqs[i].n_new;
        if (seqs[i].start + seqs[i].n_new > max_len) max_len = seqs[i].start + seqs[i].n_new;
    }
    if (reserve(s, T, max_len) != 0) {
        snprintf(err, errlen, "out of memory for a batch of %d tokens", T);
        return -1;
    }
    for (int i = 0, t = 0; i < n; i++)
        for (int j = 0; j < seqs[i].n_new; j++, t++) {
            s->row_seq[t] = i;
            s->row_pos[t] = seqs[i].start + j;
            tte_mat_row(&w->embed, seqs[i].tokens[j], s->x + (size_t)t * H);
        }
    char where[64];
    for (int l = 0; l < c->n_layers; l++) {
        if (c->arch == TTE_ARCH_GPT_NEOX)
            neox_layer(s, seqs, l, T);
        else {
            attention_block(s, seqs, l, T);
            mlp_block(s, l, T);
        }
        int bad = first_nonfinite(s->x, T, H);
        if (bad >= 0) {
            snprintf(where, sizeof where, "after layer %d", l);
            return report_nonfinite(s, seqs, bad, where, err, errlen);
        }
    }
    /* The rows that need logits, normalised and packed, then one pass over lm_head. */
    int out = 0;
    for (int i = 0, t = 0; i < n; t += seqs[i].n_new, i++)
        for (int j = all_logits ? 0 : seqs[i].n_new - 1; j < seqs[i].n_new; j++, out++) {
            s->row_seq[out] = i; /* rows below t are already consumed: safe to reuse for the report */
            s->row_pos[out] = seqs[i].start + j;
            if (c->arch == TTE_ARCH_GPT_NEOX)
                layernorm(s->h + (size_t)out * H, s->x + (size_t)(t + j) * H, s->final_norm, s->final_norm_b,
                          H, c->layer_norm_eps);
            else
                rmsnorm(s->h + (size_t)out * H, s->x + (size_t)(t + j) * H, s->final_norm, H,
                        c->rms_norm_eps);
        }
    int width = tte_model_out_width(s->m);
    if (w->head_out.data)
        reward_head(s, logits, out);
    else
        tte_cpu_matmul(logits, s->h, out, &w->lm_head, s->pool);
    int bad = first_nonfinite(logits, out, width);
    if (bad >= 0) return report_nonfinite(s, seqs, bad, "in the logits", err, errlen);
    return 0;
}

const tte_backend tte_backend_cpu = {"cpu", cpu_create, cpu_destroy, cpu_copy_page, cpu_forward};
