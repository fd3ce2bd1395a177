/* cuda: the forward pass on an NVIDIA GPU (the "cuda" backend of engine/backend.h).
 *
 * The same computation as cpu.c, step for step, so the two can be checked against each other:
 * weights are uploaded once in their stored dtype; activations are f32; every matrix product
 * accumulates in f32. Products over many tokens (prefill, large decode batches) go to cuBLAS
 * (cublasGemmEx: the activations are rounded to the weights' 16-bit type, f32 accumulation, as
 * transformers does in bf16); products over a few tokens are matrix-vector work bound by memory
 * bandwidth, done by our own kernel that reads each weight row once for all the tokens and keeps
 * the activations in f32. RMSNorm, RoPE, attention over the paged KV cache, SiLU * up, the
 * embedding and the NaN check are kernels of this file.
 *
 * Built only where nvcc is found (Makefile); engine.c then offers backend "cuda". */
extern "C" {
#include "engine/backend.h"
}

#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* At most this many tokens per call go through the matrix-vector kernel; more go to cuBLAS. */
enum { GEMV_MAX_TOKENS = 8, WARP = 32 };

typedef struct {
    void *data; /* device copy, stored dtype */
    tte_dtype dtype;
    int rows, cols;
} dev_mat;

typedef struct {
    dev_mat wq, wk, wv, wo, w_gate, w_up, w_down;
} dev_layer;

struct tte_backend_state {
    const tte_model *m;
    const tte_config *c;
    cublasHandle_t blas;
    int page_tokens;
    size_t page_floats;
    float *kv; /* device: n_pages pages, the layout of cpu.c */
    float *inv_freq;
    float *attn_norm, *mlp_norm, *final_norm, *bq, *bk, *bv, *q_norm, *k_norm; /* device, f32 */
    dev_mat embed, lm_head;
    dev_layer *layers;
    /* Per-call buffers, grown on demand (device unless said). */
    int rows, logit_rows;
    float *x, *h, *q, *k, *v, *att, *gate, *up, *logits;
    void *half_in;          /* activations rounded to 16 bits for cuBLAS */
    int *row_seq, *row_pos; /* device copies of the per-row tables */
    int *row_pages;         /* device: per row, offset of its sequence's page list in `pages` */
    int *pages, page_cap;
    int *bad;                           /* device: first non-finite row per layer (n_layers + 1) */
    int *host_seq, *host_pos, *host_pg, *host_src; /* host staging */
    int *host_pages, host_page_cap;
    int32_t *tokens;
    int token_cap;
};

/* ---------------------------------------------------------------------------------------------
 * Errors: every CUDA and cuBLAS call is checked, and the message names the call. */

static int cuda_failed(cudaError_t rc, const char *call, char *err, size_t errlen) {
    if (rc == cudaSuccess) return 0;
    snprintf(err, errlen, "CUDA error in %s: %s", call, cudaGetErrorString(rc));
    return -1;
}
#define CK(call)                                                                                          \
    do {                                                                                                  \
        if (cuda_failed((call), #call, err, errlen)) return -1;                                          \
    } while (0)
#define CKB(call)                                                                                         \
    do {                                                                                                  \
        cublasStatus_t st_ = (call);                                                                     \
        if (st_ != CUBLAS_STATUS_SUCCESS) {                                                              \
            snprintf(err, errlen, "cuBLAS error in %s: %s", #call, cublasGetStatusString(st_));          \
            return -1;                                                                                    \
        }                                                                                                 \
    } while (0)

/* cudaMalloc with the message a user can act on. */
static int dev_alloc(void **p, size_t bytes, const char *what, char *err, size_t errlen) {
    if (cudaMalloc(p, bytes ? bytes : 1) == cudaSuccess) return 0;
    cudaGetLastError(); /* clear the sticky error of a failed allocation */
    size_t free_b = 0, total = 0;
    cudaMemGetInfo(&free_b, &total);
    snprintf(err, errlen, "out of GPU memory: %s needs %.0f MiB, %.0f MiB of %.0f MiB are free (lower --batch or --kv-mem)",
             what, bytes / 1048576.0, free_b / 1048576.0, total / 1048576.0);
    return -1;
}

static size_t dtype_size(tte_dtype t) { return t == TTE_DT_F32 ? 4 : 2; }

static int upload_mat(dev_mat *d, const tte_mat *w, char *err, size_t errlen) {
    size_t bytes = (size_t)w->rows * (size_t)w->cols * dtype_size(w->dtype);
    d->dtype = w->dtype, d->rows = w->rows, d->cols = w->cols;
    if (dev_alloc(&d->data, bytes, "the weights", err, errlen)) return -1;
    CK(cudaMemcpy(d->data, w->data, bytes, cudaMemcpyHostToDevice));
    return 0;
}

/* A (1, n) vector of every layer (at OFFSET in tte_layer_weights), as f32 on the device; zeros when
 * the model has none. */
static int upload_layer_vectors(float **out, const tte_model *m, size_t offset, int n, char *err, size_t errlen) {
    const tte_config *c = tte_model_config(m);
    const tte_weights *w = tte_model_weights(m);
    size_t count = (size_t)c->n_layers * (size_t)n;
    float *host = (float *)malloc(count * sizeof *host);
    if (!host) return snprintf(err, errlen, "out of memory"), -1;
    for (int l = 0; l < c->n_layers; l++) {
        const tte_mat *v = (const tte_mat *)((const char *)&w->layers[l] + offset);
        for (int i = 0; i < n; i++) host[(size_t)l * n + i] = v->data ? tte_mat_get(v, (size_t)i) : 0;
    }
    int rc = dev_alloc((void **)out, count * sizeof *host, "the norm weights", err, errlen);
    if (rc == 0 && cuda_failed(cudaMemcpy(*out, host, count * sizeof *host, cudaMemcpyHostToDevice), "cudaMemcpy",
                               err, errlen))
        rc = -1;
    free(host);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
 * Kernels. */

/* What the per-head kernels of one layer read: device pointers and the shape (kernels cannot read
 * the host's tte_config). */
typedef struct {
    float *kv, *q, *k, *v, *att;
    const float *bq, *bk, *bv, *q_norm, *k_norm, *inv_freq;
    const int *pages, *row_pages, *row_pos;
    int n_heads, n_kv, d, qk_norm, page_tokens, layer;
    size_t page_floats;
    float eps;
} head_args;

__device__ static float load(const void *p, tte_dtype t, size_t i) {
    if (t == TTE_DT_BF16) return __bfloat162float(((const __nv_bfloat16 *)p)[i]);
    if (t == TTE_DT_F16) return __half2float(((const __half *)p)[i]);
    return ((const float *)p)[i];
}

__device__ static float warp_sum(float v) {
    for (int o = WARP / 2; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

/* x[t] = embed[tokens[t]] */
__global__ static void embed_kernel(float *x, const int32_t *tokens, const void *embed, tte_dtype t, int H) {
    int row = blockIdx.x;
    for (int i = threadIdx.x; i < H; i += blockDim.x) x[(size_t)row * H + i] = load(embed, t, (size_t)tokens[row] * H + i);
}

/* out[r] = x[src_row(r)] / rms * weight, one block per row. SRC_ROWS (or NULL: r) picks the input row. */
__global__ static void rmsnorm_kernel(float *out, const float *x, const int *src_rows, const float *weight, int n,
                                      float eps) {
    __shared__ float partial[32];
    int r = blockIdx.x, src = src_rows ? src_rows[r] : r;
    const float *in = x + (size_t)src * n;
    float ss = 0;
    for (int i = threadIdx.x; i < n; i += blockDim.x) ss += in[i] * in[i];
    ss = warp_sum(ss);
    if (threadIdx.x % WARP == 0) partial[threadIdx.x / WARP] = ss;
    __syncthreads();
    if (threadIdx.x < WARP) {
        ss = threadIdx.x < blockDim.x / WARP ? partial[threadIdx.x] : 0;
        ss = warp_sum(ss);
        if (threadIdx.x == 0) partial[0] = ss;
    }
    __syncthreads();
    float scale = rsqrtf(partial[0] / n + eps);
    for (int i = threadIdx.x; i < n; i += blockDim.x) out[(size_t)r * n + i] = weight[i] * (in[i] * scale);
}

/* out[t][r] = sum_c w[r][c] * in[t][c] for T <= GEMV_MAX_TOKENS tokens: one warp per output row,
 * the weight row read once for all tokens. */
__global__ static void gemv_kernel(float *out, const float *in, int T, const void *w, tte_dtype dt, int rows,
                                   int cols) {
    int row = blockIdx.x * (blockDim.x / WARP) + threadIdx.x / WARP, lane = threadIdx.x % WARP;
    if (row >= rows) return;
    float acc[GEMV_MAX_TOKENS] = {0};
    size_t base = (size_t)row * cols;
    for (int c = lane; c < cols; c += WARP) {
        float wv = load(w, dt, base + c);
        for (int t = 0; t < T; t++) acc[t] += wv * in[(size_t)t * cols + c];
    }
    for (int t = 0; t < T; t++) {
        float s = warp_sum(acc[t]);
        if (lane == 0) out[(size_t)t * rows + row] = s;
    }
}

__global__ static void round_kernel(void *out, const float *in, size_t n, tte_dtype t) {
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    if (t == TTE_DT_BF16)
        ((__nv_bfloat16 *)out)[i] = __float2bfloat16(in[i]);
    else
        ((__half *)out)[i] = __float2half(in[i]);
}

/* Where token POS of a sequence keeps its key (kind 0) or value (kind 1): the layout of cpu.c. */
__device__ static float *kv_slot(float *kv, size_t page_floats, int page_tokens, const int *pages, int n_kv, int d,
                                 int layer, int kind, int g, int pos) {
    size_t block = ((size_t)layer * 2 + kind) * n_kv + g;
    return kv + (size_t)pages[pos / page_tokens] * page_floats + (block * page_tokens + pos % page_tokens) * d;
}

/* Per (row, head): bias, q/k norm (Qwen3), RoPE; key and value heads also go into the cache. One
 * warp per head: heads 0..n_heads-1 are queries, then the n_kv key/value heads. */
__global__ static void qkv_kernel(head_args a, int T) {
    int nh = a.n_heads, nkv = a.n_kv, d = a.d, layer = a.layer;
    int task = blockIdx.x * (blockDim.x / WARP) + threadIdx.x / WARP, lane = threadIdx.x % WARP;
    if (task >= T * (nh + nkv)) return;
    int t = task / (nh + nkv), h = task % (nh + nkv), is_q = h < nh, g = h - nh;
    int Q = nh * d, KV = nkv * d, pos = a.row_pos[t];
    float *v = is_q ? a.q + (size_t)t * Q + h * d : a.k + (size_t)t * KV + g * d;
    const float *bias = is_q ? a.bq + (size_t)layer * Q + h * d : a.bk + (size_t)layer * KV + g * d;
    const float *norm = (is_q ? a.q_norm : a.k_norm) + (size_t)layer * d;
    for (int i = lane; i < d; i += WARP) v[i] += bias[i]; /* zeros when the model has no biases */
    __syncwarp();
    if (a.qk_norm) {
        float ss = 0;
        for (int i = lane; i < d; i += WARP) ss += v[i] * v[i];
        float scale = rsqrtf(warp_sum(ss) / d + a.eps);
        for (int i = lane; i < d; i += WARP) v[i] = norm[i] * (v[i] * scale);
        __syncwarp();
    }
    for (int i = lane; i < d / 2; i += WARP) {
        float sn, cs;
        sincosf((float)pos * a.inv_freq[i], &sn, &cs);
        float x0 = v[i], x1 = v[i + d / 2];
        v[i] = x0 * cs - x1 * sn;
        v[i + d / 2] = x1 * cs + x0 * sn;
    }
    __syncwarp();
    if (is_q) return;
    const int *pages = a.pages + a.row_pages[t];
    const float *vv = a.v + (size_t)t * KV + g * d, *vbias = a.bv + (size_t)layer * KV + g * d;
    float *ks = kv_slot(a.kv, a.page_floats, a.page_tokens, pages, nkv, d, layer, 0, g, pos);
    float *vs = kv_slot(a.kv, a.page_floats, a.page_tokens, pages, nkv, d, layer, 1, g, pos);
    for (int i = lane; i < d; i += WARP) ks[i] = v[i], vs[i] = vv[i] + vbias[i];
}

/* Softmax attention of one (row, head) over positions 0..pos, one warp, online softmax (one pass
 * over the cache, no buffer of scores). Head dimensions up to 256. */
__global__ static void attention_kernel(head_args a, int T) {
    int nh = a.n_heads, nkv = a.n_kv, d = a.d, layer = a.layer;
    int task = blockIdx.x * (blockDim.x / WARP) + threadIdx.x / WARP, lane = threadIdx.x % WARP;
    if (task >= T * nh) return;
    int t = task / nh, h = task % nh, g = h / (nh / nkv), pos = a.row_pos[t];
    const int *pages = a.pages + a.row_pages[t];
    const float *q = a.q + (size_t)t * nh * d + h * d;
    float qr[8], acc[8], scale = rsqrtf((float)d), most = -INFINITY, sum = 0;
    int per = (d + WARP - 1) / WARP;
    for (int j = 0; j < per; j++) qr[j] = lane + j * WARP < d ? q[lane + j * WARP] : 0, acc[j] = 0;
    for (int p = 0; p <= pos; p++) {
        const float *kp = kv_slot(a.kv, a.page_floats, a.page_tokens, pages, nkv, d, layer, 0, g, p);
        const float *vp = kv_slot(a.kv, a.page_floats, a.page_tokens, pages, nkv, d, layer, 1, g, p);
        float dot = 0;
        for (int j = 0; j < per; j++)
            if (lane + j * WARP < d) dot += qr[j] * kp[lane + j * WARP];
        float score = warp_sum(dot) * scale, next = fmaxf(most, score);
        float old = __expf(most - next), wgt = __expf(score - next);
        sum = sum * old + wgt;
        for (int j = 0; j < per; j++) acc[j] = acc[j] * old + (lane + j * WARP < d ? wgt * vp[lane + j * WARP] : 0);
        most = next;
    }
    float *out = a.att + (size_t)t * nh * d + h * d;
    for (int j = 0; j < per; j++)
        if (lane + j * WARP < d) out[lane + j * WARP] = acc[j] / sum;
}

__global__ static void add_kernel(float *x, const float *y, size_t n) {
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] += y[i];
}

__global__ static void swiglu_kernel(float *gate, const float *up, size_t n) {
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) gate[i] = gate[i] / (1.0f + __expf(-gate[i])) * up[i];
}

/* bad[0] = the first row of X (ROWS x N) holding a NaN or infinity (bad stays INT_MAX otherwise). */
__global__ static void nonfinite_kernel(const float *x, int rows, int n, int *bad) {
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < (size_t)rows * n && !isfinite(x[i])) atomicMin(bad, (int)(i / n));
}

static unsigned blocks(size_t n, unsigned per) { return (unsigned)((n + per - 1) / per); }

/* ---------------------------------------------------------------------------------------------
 * The backend. */

static void cuda_destroy(tte_backend_state *s) {
    if (!s) return;
    if (s->lm_head.data == s->embed.data) s->lm_head.data = NULL; /* tied: one copy */
    void *bufs[] = {s->kv,   s->inv_freq, s->attn_norm, s->mlp_norm, s->final_norm, s->bq,       s->bk,
                    s->bv,   s->q_norm,   s->k_norm,    s->x,        s->h,          s->q,        s->k,
                    s->v,    s->att,      s->gate,      s->up,       s->logits,     s->half_in,  s->row_seq,
                    s->row_pos, s->row_pages, s->pages, s->bad,      s->embed.data, s->lm_head.data, s->tokens};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) cudaFree(bufs[i]);
    if (s->layers) {
        for (int l = 0; l < s->c->n_layers; l++) {
            dev_layer *L = &s->layers[l];
            dev_mat *mats[] = {&L->wq, &L->wk, &L->wv, &L->wo, &L->w_gate, &L->w_up, &L->w_down};
            for (size_t i = 0; i < sizeof mats / sizeof mats[0]; i++) cudaFree(mats[i]->data);
        }
        free(s->layers);
    }
    if (s->blas) cublasDestroy(s->blas);
    free(s->host_seq), free(s->host_pos), free(s->host_pg), free(s->host_src), free(s->host_pages);
    free(s);
}

static int cuda_setup(tte_backend_state *s, const tte_model *m, int n_pages, char *err, size_t errlen) {
    const tte_config *c = s->c;
    const tte_weights *w = tte_model_weights(m);
    int dev_count = 0;
    if (cudaGetDeviceCount(&dev_count) != cudaSuccess || dev_count == 0) {
        cudaGetLastError();
        snprintf(err, errlen, "no CUDA GPU found (use --device cpu)");
        return -1;
    }
    CKB(cublasCreate(&s->blas));
    if (upload_mat(&s->embed, &w->embed, err, errlen)) return -1;
    if (w->lm_head.data == w->embed.data)
        s->lm_head = s->embed; /* tied: one copy, freed once */
    else if (upload_mat(&s->lm_head, &w->lm_head, err, errlen))
        return -1;
    s->layers = (dev_layer *)calloc((size_t)c->n_layers, sizeof *s->layers);
    if (!s->layers) return snprintf(err, errlen, "out of memory"), -1;
    for (int l = 0; l < c->n_layers; l++) {
        const tte_layer_weights *L = &w->layers[l];
        dev_layer *D = &s->layers[l];
        if (upload_mat(&D->wq, &L->wq, err, errlen) || upload_mat(&D->wk, &L->wk, err, errlen) ||
            upload_mat(&D->wv, &L->wv, err, errlen) || upload_mat(&D->wo, &L->wo, err, errlen) ||
            upload_mat(&D->w_gate, &L->w_gate, err, errlen) || upload_mat(&D->w_up, &L->w_up, err, errlen) ||
            upload_mat(&D->w_down, &L->w_down, err, errlen))
            return -1;
    }
    int H = c->hidden_size, Q = c->n_heads * c->head_dim, KV = c->n_kv_heads * c->head_dim, d = c->head_dim;
    if (upload_layer_vectors(&s->attn_norm, m, offsetof(tte_layer_weights, attn_norm), H, err, errlen) ||
        upload_layer_vectors(&s->mlp_norm, m, offsetof(tte_layer_weights, mlp_norm), H, err, errlen) ||
        upload_layer_vectors(&s->bq, m, offsetof(tte_layer_weights, bq), Q, err, errlen) ||
        upload_layer_vectors(&s->bk, m, offsetof(tte_layer_weights, bk), KV, err, errlen) ||
        upload_layer_vectors(&s->bv, m, offsetof(tte_layer_weights, bv), KV, err, errlen) ||
        upload_layer_vectors(&s->q_norm, m, offsetof(tte_layer_weights, q_norm), d, err, errlen) ||
        upload_layer_vectors(&s->k_norm, m, offsetof(tte_layer_weights, k_norm), d, err, errlen))
        return -1;
    float *host = (float *)malloc((size_t)(H > d ? H : d) * sizeof *host);
    if (!host) return snprintf(err, errlen, "out of memory"), -1;
    tte_mat_row(&w->final_norm, 0, host);
    int rc = dev_alloc((void **)&s->final_norm, (size_t)H * 4, "the norm weights", err, errlen);
    if (!rc) rc = cuda_failed(cudaMemcpy(s->final_norm, host, (size_t)H * 4, cudaMemcpyHostToDevice), "cudaMemcpy", err, errlen);
    tte_rope_frequencies(c, host);
    if (!rc) rc = dev_alloc((void **)&s->inv_freq, (size_t)d / 2 * 4, "the rotary table", err, errlen);
    if (!rc) rc = cuda_failed(cudaMemcpy(s->inv_freq, host, (size_t)d / 2 * 4, cudaMemcpyHostToDevice), "cudaMemcpy", err, errlen);
    free(host);
    if (rc) return -1;
    if (dev_alloc((void **)&s->kv, (size_t)n_pages * s->page_floats * sizeof(float), "the KV cache", err, errlen) ||
        dev_alloc((void **)&s->bad, (size_t)(c->n_layers + 1) * sizeof(int), "a flag", err, errlen))
        return -1;
    return 0;
}

static tte_backend_state *cuda_create(const tte_model *m, int threads, int n_pages, int page_tokens, char *err,
                                      size_t errlen) {
    (void)threads; /* the GPU does not use CPU threads */
    if (tte_model_config(m)->arch == TTE_ARCH_GPT_NEOX) {
        snprintf(err, errlen, "%s: the CUDA engine does not run GPTNeoXForCausalLM yet (use --device cpu)",
                 tte_model_dir(m));
        return NULL;
    }
    if (tte_model_config(m)->head_dim > 8 * WARP) {
        snprintf(err, errlen, "the CUDA engine handles head_dim up to %d, the model has %d", 8 * WARP,
                 tte_model_config(m)->head_dim);
        return NULL;
    }
    tte_backend_state *s = (tte_backend_state *)calloc(1, sizeof *s);
    if (!s) return snprintf(err, errlen, "out of memory"), (tte_backend_state *)NULL;
    s->m = m;
    s->c = tte_model_config(m);
    s->page_tokens = page_tokens;
    s->page_floats = (size_t)s->c->n_layers * 2 * (size_t)s->c->n_kv_heads * (size_t)page_tokens * (size_t)s->c->head_dim;
    if (cuda_setup(s, m, n_pages, err, errlen) != 0) {
        cuda_destroy(s);
        return NULL;
    }
    return s;
}

static void cuda_copy_page(tte_backend_state *s, int dst, int src) {
    cudaMemcpy(s->kv + (size_t)dst * s->page_floats, s->kv + (size_t)src * s->page_floats,
               s->page_floats * sizeof(float), cudaMemcpyDeviceToDevice);
}

/* Grows a device buffer to BYTES (contents are not kept). */
static int dev_grow(void **p, size_t bytes, const char *what, char *err, size_t errlen) {
    cudaFree(*p);
    *p = NULL;
    return dev_alloc(p, bytes, what, err, errlen);
}

/* Sizes the per-call buffers for ROWS tokens and N_PAGES page ids. */
static int reserve(tte_backend_state *s, int rows, int n_pages, char *err, size_t errlen) {
    const tte_config *c = s->c;
    if (rows > s->rows) {
        size_t r = (size_t)rows, H = (size_t)c->hidden_size, Q = (size_t)c->n_heads * c->head_dim,
               KV = (size_t)c->n_kv_heads * c->head_dim, I = (size_t)c->intermediate_size,
               widest = I > H ? (I > Q ? I : Q) : (H > Q ? H : Q);
        const char *what = "activations of the batch";
        if (dev_grow((void **)&s->x, r * H * 4, what, err, errlen) ||
            dev_grow((void **)&s->h, r * (H > Q ? H : Q) * 4, what, err, errlen) ||
            dev_grow((void **)&s->q, r * Q * 4, what, err, errlen) || dev_grow((void **)&s->k, r * KV * 4, what, err, errlen) ||
            dev_grow((void **)&s->v, r * KV * 4, what, err, errlen) || dev_grow((void **)&s->att, r * Q * 4, what, err, errlen) ||
            dev_grow((void **)&s->gate, r * I * 4, what, err, errlen) || dev_grow((void **)&s->up, r * I * 4, what, err, errlen) ||
            dev_grow(&s->half_in, r * widest * 2, what, err, errlen) ||
            dev_grow((void **)&s->row_seq, r * 4, what, err, errlen) || dev_grow((void **)&s->row_pos, r * 4, what, err, errlen) ||
            dev_grow((void **)&s->row_pages, r * 4, what, err, errlen) || dev_grow((void **)&s->tokens, r * 4, what, err, errlen))
            return -1;
        s->host_seq = (int *)realloc(s->host_seq, r * sizeof(int));
        s->host_pos = (int *)realloc(s->host_pos, r * sizeof(int));
        s->host_pg = (int *)realloc(s->host_pg, r * sizeof(int));
        s->host_src = (int *)realloc(s->host_src, r * sizeof(int));
        if (!s->host_seq || !s->host_pos || !s->host_pg || !s->host_src) return snprintf(err, errlen, "out of memory"), -1;
        s->rows = rows;
    }
    if (n_pages > s->page_cap) {
        if (dev_grow((void **)&s->pages, (size_t)n_pages * 4, "the page tables", err, errlen)) return -1;
        s->host_pages = (int *)realloc(s->host_pages, (size_t)n_pages * sizeof(int));
        if (!s->host_pages) return snprintf(err, errlen, "out of memory"), -1;
        s->page_cap = n_pages;
    }
    return 0;
}

/* OUT (T x w.rows) = IN (T x w.cols) W^T. Few tokens: the matrix-vector kernel; many: cuBLAS with the
 * activations in the weights' type (column-major view: OUT^T = W IN^T). */
static int matmul(tte_backend_state *s, float *out, const float *in, int T, const dev_mat *w, char *err, size_t errlen) {
    if (T <= GEMV_MAX_TOKENS) {
        gemv_kernel<<<blocks((size_t)w->rows, 8), 8 * WARP>>>(out, in, T, w->data, w->dtype, w->rows, w->cols);
        CK(cudaGetLastError());
        return 0;
    }
    const float one = 1, zero = 0;
    const void *b = in;
    cudaDataType type = CUDA_R_32F;
    if (w->dtype != TTE_DT_F32) {
        size_t n = (size_t)T * (size_t)w->cols;
        round_kernel<<<blocks(n, 256), 256>>>(s->half_in, in, n, w->dtype);
        CK(cudaGetLastError());
        b = s->half_in;
        type = w->dtype == TTE_DT_BF16 ? CUDA_R_16BF : CUDA_R_16F;
    }
    CKB(cublasGemmEx(s->blas, CUBLAS_OP_T, CUBLAS_OP_N, w->rows, T, w->cols, &one, w->data, type, w->cols, b, type,
                     w->cols, &zero, out, CUDA_R_32F, w->rows, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    return 0;
}

static head_args layer_args(const tte_backend_state *s, int layer) {
    const tte_config *c = s->c;
    head_args a = {s->kv, s->q, s->k, s->v, s->att, s->bq, s->bk, s->bv, s->q_norm, s->k_norm, s->inv_freq,
                   s->pages, s->row_pages, s->row_pos, c->n_heads, c->n_kv_heads, c->head_dim, c->qk_norm,
                   s->page_tokens, layer, s->page_floats, (float)c->rms_norm_eps};
    return a;
}

static int layer_forward(tte_backend_state *s, int l, int T, char *err, size_t errlen) {
    const tte_config *c = s->c;
    const dev_layer *L = &s->layers[l];
    int H = c->hidden_size, I = c->intermediate_size;
    float eps = (float)c->rms_norm_eps;
    head_args a = layer_args(s, l);
    rmsnorm_kernel<<<T, 256>>>(s->h, s->x, NULL, s->attn_norm + (size_t)l * H, H, eps);
    if (matmul(s, s->q, s->h, T, &L->wq, err, errlen) || matmul(s, s->k, s->h, T, &L->wk, err, errlen) ||
        matmul(s, s->v, s->h, T, &L->wv, err, errlen))
        return -1;
    qkv_kernel<<<blocks((size_t)T * (c->n_heads + c->n_kv_heads), 8), 8 * WARP>>>(a, T);
    attention_kernel<<<blocks((size_t)T * c->n_heads, 8), 8 * WARP>>>(a, T);
    if (matmul(s, s->h, s->att, T, &L->wo, err, errlen)) return -1;
    add_kernel<<<blocks((size_t)T * H, 256), 256>>>(s->x, s->h, (size_t)T * H);
    rmsnorm_kernel<<<T, 256>>>(s->h, s->x, NULL, s->mlp_norm + (size_t)l * H, H, eps);
    if (matmul(s, s->gate, s->h, T, &L->w_gate, err, errlen) || matmul(s, s->up, s->h, T, &L->w_up, err, errlen))
        return -1;
    swiglu_kernel<<<blocks((size_t)T * I, 256), 256>>>(s->gate, s->up, (size_t)T * I);
    if (matmul(s, s->h, s->gate, T, &L->w_down, err, errlen)) return -1;
    add_kernel<<<blocks((size_t)T * H, 256), 256>>>(s->x, s->h, (size_t)T * H);
    nonfinite_kernel<<<blocks((size_t)T * H, 256), 256>>>(s->x, T, H, s->bad + l);
    CK(cudaGetLastError());
    return 0;
}

static int cuda_forward(tte_backend_state *s, const tte_fwd_seq *seqs, int n, int all_logits, float *logits,
                        char *err, size_t errlen) {
    const tte_config *c = s->c;
    int T = 0, n_pages = 0, H = c->hidden_size;
    for (int i = 0; i < n; i++) {
        T += seqs[i].n_new;
        n_pages += (seqs[i].start + seqs[i].n_new + s->page_tokens - 1) / s->page_tokens;
    }
    if (reserve(s, T, n_pages, err, errlen)) return -1;
    /* The per-row tables, the page lists and the tokens. */
    for (int i = 0, t = 0, p = 0; i < n; i++) {
        int np = (seqs[i].start + seqs[i].n_new + s->page_tokens - 1) / s->page_tokens;
        memcpy(s->host_pages + p, seqs[i].pages, (size_t)np * sizeof(int));
        for (int j = 0; j < seqs[i].n_new; j++, t++) s->host_seq[t] = i, s->host_pos[t] = seqs[i].start + j, s->host_pg[t] = p;
        p += np;
    }
    for (int i = 0, t = 0; i < n; t += seqs[i].n_new, i++)
        CK(cudaMemcpy(s->tokens + t, seqs[i].tokens, (size_t)seqs[i].n_new * 4, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(s->pages, s->host_pages, (size_t)n_pages * 4, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(s->row_seq, s->host_seq, (size_t)T * 4, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(s->row_pos, s->host_pos, (size_t)T * 4, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(s->row_pages, s->host_pg, (size_t)T * 4, cudaMemcpyHostToDevice));
    CK(cudaMemset(s->bad, 0x7f, (size_t)(c->n_layers + 1) * sizeof(int)));

    embed_kernel<<<T, 256>>>(s->x, s->tokens, s->embed.data, s->embed.dtype, H);
    for (int l = 0; l < c->n_layers; l++)
        if (layer_forward(s, l, T, err, errlen)) return -1;

    /* The rows that need logits: normalised into h (row_pages, used up, becomes the source-row table). */
    int out = 0;
    for (int i = 0, t = 0; i < n; t += seqs[i].n_new, i++)
        for (int j = all_logits ? 0 : seqs[i].n_new - 1; j < seqs[i].n_new; j++, out++) s->host_src[out] = t + j;
    CK(cudaMemcpy(s->row_pages, s->host_src, (size_t)out * 4, cudaMemcpyHostToDevice));
    if (out > s->logit_rows) {
        if (dev_grow((void **)&s->logits, (size_t)out * (size_t)c->vocab_size * 4, "the logits of the batch", err, errlen))
            return -1;
        s->logit_rows = out;
    }
    rmsnorm_kernel<<<out, 256>>>(s->h, s->x, s->row_pages, s->final_norm, H, (float)c->rms_norm_eps);
    if (matmul(s, s->logits, s->h, out, &s->lm_head, err, errlen)) return -1;
    nonfinite_kernel<<<blocks((size_t)out * c->vocab_size, 256), 256>>>(s->logits, out, c->vocab_size, s->bad + c->n_layers);
    CK(cudaMemcpy(logits, s->logits, (size_t)out * (size_t)c->vocab_size * 4, cudaMemcpyDeviceToHost));

    /* The first layer where a NaN or infinity appeared, reported as the CPU does. */
    int *bad = (int *)malloc((size_t)(c->n_layers + 1) * sizeof *bad);
    if (!bad) return snprintf(err, errlen, "out of memory"), -1;
    CK(cudaMemcpy(bad, s->bad, (size_t)(c->n_layers + 1) * sizeof *bad, cudaMemcpyDeviceToHost));
    int rc = 0;
    for (int l = 0; l <= c->n_layers && rc == 0; l++) {
        if (bad[l] == 0x7f7f7f7f) continue; /* the memset value: nothing found */
        int row = l < c->n_layers ? bad[l] : s->host_src[bad[l]], b = s->host_seq[row];
        char where[48];
        if (l < c->n_layers)
            snprintf(where, sizeof where, "after layer %d", l);
        else
            snprintf(where, sizeof where, "in the logits");
        snprintf(err, errlen, "non-finite value %s (batch entry %d, token %d at position %d)", where, b,
                 s->host_pos[row] - seqs[b].start, s->host_pos[row]);
        rc = -1;
    }
    free(bad);
    return rc;
}

extern "C" const tte_backend tte_backend_cuda = {"cuda", cuda_create, cuda_destroy, cuda_copy_page, cuda_forward};

extern "C" int tte_cuda_device_count(void) {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        cudaGetLastError();
        return 0;
    }
    return n;
}
