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
    int32_t *tokens, *host_tokens;
    int token_cap;
    int n_sm;                 /* multiprocessors of the GPU, to size attention's split */
    int att_split, att_chunk; /* this call's attention split (attention_kernel) */
    float *att_part;          /* device: the split's partial results */
    size_t att_part_cap;      /* floats */
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

/* out[r] = x[src_row(r)] / rms * weight, one block per row. SRC_ROWS (or NULL: r) picks the input row.
 * With ADD (not NULL; then SRC_ROWS is NULL), the residual add comes first, in the same launch:
 * x[r] += add[r], then out[r] = the norm of the new x[r]. ADD may be OUT: each element of add is read
 * and the same element of out written by the same thread, the read before the __syncthreads. */
__global__ static void rmsnorm_kernel(float *out, float *x, const int *src_rows, const float *add, const float *weight,
                                      int n, float eps) {
    __shared__ float partial[32];
    int r = blockIdx.x, src = src_rows ? src_rows[r] : r;
    float *in = x + (size_t)src * n;
    float ss = 0;
    if (add)
        for (int i = threadIdx.x; i < n; i += blockDim.x) in[i] += add[(size_t)r * n + i];
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

/* Eight consecutive weights W[I..I+8) as f32, from one 16-byte load (two for f32). I must be a
 * multiple of 8 and the row's start 16-byte aligned (gemv_kernel's caller checks). A bf16 is the top
 * half of an f32, so widening is a shift; the element at the lower address is the low half of each
 * 32-bit word (little-endian). */
__device__ static void load8(const void *w, tte_dtype t, size_t i, float f[8]) {
    if (t == TTE_DT_F32) {
        const float4 *p = (const float4 *)((const float *)w + i);
        float4 a = p[0], b = p[1];
        f[0] = a.x, f[1] = a.y, f[2] = a.z, f[3] = a.w, f[4] = b.x, f[5] = b.y, f[6] = b.z, f[7] = b.w;
        return;
    }
    uint4 u = *(const uint4 *)((const unsigned short *)w + i);
    unsigned word[4] = {u.x, u.y, u.z, u.w};
#pragma unroll
    for (int k = 0; k < 4; k++) {
        if (t == TTE_DT_BF16) {
            f[2 * k] = __uint_as_float(word[k] << 16);
            f[2 * k + 1] = __uint_as_float(word[k] & 0xffff0000u);
        } else {
            f[2 * k] = __half2float(__ushort_as_half((unsigned short)(word[k] & 0xffffu)));
            f[2 * k + 1] = __half2float(__ushort_as_half((unsigned short)(word[k] >> 16)));
        }
    }
}

/* Up to three matrices of the same width and dtype that read the same input, in one launch of the
 * matrix-vector kernel: q, k and v share theirs, so do gate and up. One launch instead of three
 * saves launch time (decode is a few microseconds per matrix), and the small k and v projections
 * (256 rows for DeepSeek-R1-Distill-Qwen-1.5B) no longer leave most multiprocessors idle. Row r of
 * the launch is row r of matrix 0, then of matrix 1, and so on. */
enum { GEMV_MAX_MATS = 3 };
typedef struct {
    const void *w[GEMV_MAX_MATS];
    float *out[GEMV_MAX_MATS];
    int rows[GEMV_MAX_MATS];
    int n;
} gemv_set;

/* out[t][r] = sum_c w[r][c] * in[t][c] for T <= GEMV_MAX_TOKENS tokens: one warp per output row,
 * the weight row read once for all tokens. This is bound by the bandwidth of reading the weights,
 * so with VEC (every row 16-byte aligned and COLS a multiple of 8) each lane reads 8 weights per
 * 16-byte load, a warp 512 contiguous bytes per step; otherwise one weight per lane and step. The
 * token loops run to the constant GEMV_MAX_TOKENS so that ACC stays in registers. */
__global__ static void gemv_kernel(gemv_set set, const float *in, int T, tte_dtype dt, int cols, int vec) {
    int row = blockIdx.x * (blockDim.x / WARP) + threadIdx.x / WARP, lane = threadIdx.x % WARP, m = -1;
    const void *w = NULL;
    float *out = NULL;
    int rows = 0;
    /* Which matrix ROW falls in (unrolled: indexing the parameter arrays at run time copies them to memory). */
#pragma unroll
    for (int i = 0; i < GEMV_MAX_MATS; i++) {
        if (m >= 0 || i >= set.n) break;
        if (row < set.rows[i])
            m = i, w = set.w[i], out = set.out[i], rows = set.rows[i];
        else
            row -= set.rows[i];
    }
    if (m < 0) return; /* past the last matrix: the whole warp leaves (warp_sum needs all lanes) */
    float acc[GEMV_MAX_TOKENS] = {0};
    size_t base = (size_t)row * cols;
    if (vec) {
#pragma unroll 4
        for (int c = lane * 8; c < cols; c += WARP * 8) {
            float wv[8];
            load8(w, dt, base + c, wv);
#pragma unroll
            for (int t = 0; t < GEMV_MAX_TOKENS; t++) {
                if (t >= T) break;
                const float4 *x = (const float4 *)(in + (size_t)t * cols + c); /* 32-byte aligned */
                float4 x0 = x[0], x1 = x[1];
                acc[t] += wv[0] * x0.x + wv[1] * x0.y + wv[2] * x0.z + wv[3] * x0.w + wv[4] * x1.x + wv[5] * x1.y +
                          wv[6] * x1.z + wv[7] * x1.w;
            }
        }
    } else {
        for (int c = lane; c < cols; c += WARP) {
            float wv = load(w, dt, base + c);
#pragma unroll
            for (int t = 0; t < GEMV_MAX_TOKENS; t++) {
                if (t >= T) break;
                acc[t] += wv * in[(size_t)t * cols + c];
            }
        }
    }
#pragma unroll
    for (int t = 0; t < GEMV_MAX_TOKENS; t++) {
        if (t >= T) break;
        float sum = warp_sum(acc[t]);
        if (lane == 0) out[(size_t)t * rows + row] = sum;
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

/* Attention, flash-decoding style. A row's softmax over positions 0..pos is split into ranges of
 * CHUNK positions, each done by its own warp; a second kernel combines them. Without the split, a
 * decode step (a few rows, 12 query heads each) would be a few dozen warps each walking its whole
 * context serially, 16k positions for a long reasoning trace, with most of the GPU idle; with it,
 * cuda_forward picks N_SPLIT so that there are about as many warps as the GPU holds (and at least
 * ATTN_MIN_CHUNK positions per warp, where splitting further would cost more in the combine step).
 * Prefill has many rows and so N_SPLIT 1, which skips the combine step.
 *
 * Each warp keeps an online softmax over its range (one pass over the cache, no buffer of scores):
 * the running maximum M, the sum S of exp(score - M), and ACC = sum of exp(score - M) * value. Two
 * ranges (M1, S1, ACC1) and (M2, S2, ACC2) combine exactly: with M = max(M1, M2),
 * S = S1 exp(M1 - M) + S2 exp(M2 - M), ACC likewise, and the output is ACC / S.
 *
 * PART holds, per (row, head, split) task, [M, S, ACC[0..d)] (d + 2 floats), at
 * ((row * n_heads + head) * n_split + split) * (d + 2). A split that starts past the row's position
 * writes nothing, and the combine step reads only the splits that start at or before it. Head
 * dimensions up to DIM_SLOTS * WARP = 256 (cuda_create checks): each lane holds dims lane,
 * lane + 32, ... */
enum { ATTN_MIN_CHUNK = 64, ATTN_WARPS_PER_SM = 32, DIM_SLOTS = 8 };
/* for each dim slot j of this lane (dim lane + j * WARP): unrolled to the constant DIM_SLOTS, so that
 * the per-lane arrays stay in registers (indexing them with a run-time bound puts them in memory). */
#define FOR_SLOTS(j) _Pragma("unroll") for (int j = 0; j < DIM_SLOTS; j++)

__global__ static void attention_kernel(head_args a, int T, int n_split, int chunk, float *part) {
    int nh = a.n_heads, nkv = a.n_kv, d = a.d, layer = a.layer;
    int task = blockIdx.x * (blockDim.x / WARP) + threadIdx.x / WARP, lane = threadIdx.x % WARP;
    if (task >= T * nh * n_split) return;
    int split = task % n_split, th = task / n_split, t = th / nh, h = th % nh, g = h / (nh / nkv);
    int pos = a.row_pos[t], begin = split * chunk, end = min(begin + chunk, pos + 1);
    if (begin >= end) return; /* this range is past the row's context */
    const int *pages = a.pages + a.row_pages[t];
    const float *q = a.q + (size_t)t * nh * d + h * d;
    float qr[DIM_SLOTS], acc[DIM_SLOTS], scale = rsqrtf((float)d), most = -INFINITY, sum = 0;
    FOR_SLOTS(j) qr[j] = lane + j * WARP < d ? q[lane + j * WARP] : 0, acc[j] = 0;
    for (int p = begin; p < end; p++) {
        const float *kp = kv_slot(a.kv, a.page_floats, a.page_tokens, pages, nkv, d, layer, 0, g, p);
        const float *vp = kv_slot(a.kv, a.page_floats, a.page_tokens, pages, nkv, d, layer, 1, g, p);
        float dot = 0;
        FOR_SLOTS(j) if (lane + j * WARP < d) dot += qr[j] * kp[lane + j * WARP];
        float score = warp_sum(dot) * scale, next = fmaxf(most, score);
        float old = __expf(most - next), wgt = __expf(score - next); /* old is 0 at the first position */
        sum = sum * old + wgt;
        FOR_SLOTS(j) acc[j] = acc[j] * old + (lane + j * WARP < d ? wgt * vp[lane + j * WARP] : 0);
        most = next;
    }
    if (n_split == 1) { /* the whole context: the output itself */
        float *out = a.att + (size_t)t * nh * d + h * d;
        FOR_SLOTS(j) if (lane + j * WARP < d) out[lane + j * WARP] = acc[j] / sum;
        return;
    }
    float *o = part + (size_t)task * (d + 2);
    if (lane == 0) o[0] = most, o[1] = sum;
    FOR_SLOTS(j) if (lane + j * WARP < d) o[2 + lane + j * WARP] = acc[j];
}

/* The combine step of attention_kernel when N_SPLIT > 1: one warp per (row, head). */
__global__ static void attention_combine_kernel(head_args a, int T, int n_split, int chunk, const float *part) {
    int nh = a.n_heads, d = a.d;
    int task = blockIdx.x * (blockDim.x / WARP) + threadIdx.x / WARP, lane = threadIdx.x % WARP;
    if (task >= T * nh) return;
    int t = task / nh, h = task % nh, used = a.row_pos[t] / chunk + 1; /* splits holding positions */
    const float *p = part + (size_t)task * n_split * (d + 2);
    float most = -INFINITY, total = 0, acc[DIM_SLOTS];
    for (int s = 0; s < used; s++) most = fmaxf(most, p[(size_t)s * (d + 2)]);
    FOR_SLOTS(j) acc[j] = 0;
    for (int s = 0; s < used; s++) {
        const float *ps = p + (size_t)s * (d + 2);
        float wgt = __expf(ps[0] - most);
        total += ps[1] * wgt;
        FOR_SLOTS(j) if (lane + j * WARP < d) acc[j] += wgt * ps[2 + lane + j * WARP];
    }
    float *out = a.att + (size_t)t * nh * d + h * d;
    FOR_SLOTS(j) if (lane + j * WARP < d) out[lane + j * WARP] = acc[j] / total;
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
                    s->row_pos, s->row_pages, s->pages, s->bad,      s->embed.data, s->lm_head.data, s->tokens,
                    s->att_part};
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
    free(s->host_tokens);
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
    CK(cudaDeviceGetAttribute(&s->n_sm, cudaDevAttrMultiProcessorCount, 0));
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
    if (tte_model_config(m)->head_dim > DIM_SLOTS * WARP) {
        snprintf(err, errlen, "the CUDA engine handles head_dim up to %d, the model has %d", DIM_SLOTS * WARP,
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
        s->host_tokens = (int32_t *)realloc(s->host_tokens, r * sizeof(int32_t));
        if (!s->host_seq || !s->host_pos || !s->host_pg || !s->host_src || !s->host_tokens)
            return snprintf(err, errlen, "out of memory"), -1;
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

/* OUT[i] (T x W[i].rows) = IN (T x cols) W[i]^T for the N matrices W[0..N) (N <= GEMV_MAX_MATS), which
 * all read IN. Few tokens: one launch of the matrix-vector kernel for all N (when they share their
 * dtype and width, as a layer's do); many: cuBLAS with the activations rounded once to the weights'
 * type (column-major view: OUT^T = W IN^T). */
static int matmul_n(tte_backend_state *s, const float *in, int T, int n, const dev_mat *const *w, float *const *out,
                    char *err, size_t errlen) {
    int same = 1;
    for (int i = 1; i < n; i++) same &= w[i]->dtype == w[0]->dtype && w[i]->cols == w[0]->cols;
    if (T <= GEMV_MAX_TOKENS && same) {
        gemv_set set = {};
        size_t rows = 0;
        int cols = w[0]->cols, vec = cols % 8 == 0 && (uintptr_t)in % 32 == 0;
        for (int i = 0; i < n; i++) {
            set.w[i] = w[i]->data, set.out[i] = out[i], set.rows[i] = w[i]->rows, rows += (size_t)w[i]->rows;
            vec &= (uintptr_t)w[i]->data % 32 == 0; /* cudaMalloc gives 256-byte alignment; with cols % 8 == 0 every row is then 16-byte aligned */
        }
        set.n = n;
        gemv_kernel<<<blocks(rows, 8), 8 * WARP>>>(set, in, T, w[0]->dtype, cols, vec);
        CK(cudaGetLastError());
        return 0;
    }
    const float one = 1, zero = 0;
    for (int i = 0; i < n; i++) {
        if (T <= GEMV_MAX_TOKENS) { /* mixed dtypes or widths: one matrix at a time */
            if (matmul_n(s, in, T, 1, &w[i], &out[i], err, errlen)) return -1;
            continue;
        }
        const void *b = in;
        cudaDataType type = CUDA_R_32F;
        if (w[i]->dtype != TTE_DT_F32) {
            /* One rounding of IN serves every matrix of its dtype and width that follows. */
            if (i == 0 || w[i]->dtype != w[i - 1]->dtype || w[i]->cols != w[i - 1]->cols) {
                size_t count = (size_t)T * (size_t)w[i]->cols;
                round_kernel<<<blocks(count, 256), 256>>>(s->half_in, in, count, w[i]->dtype);
                CK(cudaGetLastError());
            }
            b = s->half_in;
            type = w[i]->dtype == TTE_DT_BF16 ? CUDA_R_16BF : CUDA_R_16F;
        }
        CKB(cublasGemmEx(s->blas, CUBLAS_OP_T, CUBLAS_OP_N, w[i]->rows, T, w[i]->cols, &one, w[i]->data, type,
                         w[i]->cols, b, type, w[i]->cols, &zero, out[i], CUDA_R_32F, w[i]->rows, CUBLAS_COMPUTE_32F,
                         CUBLAS_GEMM_DEFAULT));
    }
    return 0;
}

/* OUT (T x w.rows) = IN (T x w.cols) W^T. */
static int matmul(tte_backend_state *s, float *out, const float *in, int T, const dev_mat *w, char *err, size_t errlen) {
    return matmul_n(s, in, T, 1, &w, &out, err, errlen);
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
    int H = c->hidden_size, I = c->intermediate_size, nh = c->n_heads;
    float eps = (float)c->rms_norm_eps;
    head_args a = layer_args(s, l);
    rmsnorm_kernel<<<T, 256>>>(s->h, s->x, NULL, NULL, s->attn_norm + (size_t)l * H, H, eps);
    const dev_mat *qkv[] = {&L->wq, &L->wk, &L->wv};
    float *qkv_out[] = {s->q, s->k, s->v};
    if (matmul_n(s, s->h, T, 3, qkv, qkv_out, err, errlen)) return -1;
    qkv_kernel<<<blocks((size_t)T * (nh + c->n_kv_heads), 8), 8 * WARP>>>(a, T);
    int split = s->att_split, chunk = s->att_chunk;
    attention_kernel<<<blocks((size_t)T * nh * split, 8), 8 * WARP>>>(a, T, split, chunk, s->att_part);
    if (split > 1) attention_combine_kernel<<<blocks((size_t)T * nh, 8), 8 * WARP>>>(a, T, split, chunk, s->att_part);
    if (matmul(s, s->h, s->att, T, &L->wo, err, errlen)) return -1;
    /* x += attention output (in h), then h = the MLP's norm of x: one launch. */
    rmsnorm_kernel<<<T, 256>>>(s->h, s->x, NULL, s->h, s->mlp_norm + (size_t)l * H, H, eps);
    const dev_mat *gate_up[] = {&L->w_gate, &L->w_up};
    float *gate_up_out[] = {s->gate, s->up};
    if (matmul_n(s, s->h, T, 2, gate_up, gate_up_out, err, errlen)) return -1;
    swiglu_kernel<<<blocks((size_t)T * I, 256), 256>>>(s->gate, s->up, (size_t)T * I);
    if (matmul(s, s->h, s->gate, T, &L->w_down, err, errlen)) return -1;
    add_kernel<<<blocks((size_t)T * H, 256), 256>>>(s->x, s->h, (size_t)T * H);
    nonfinite_kernel<<<blocks((size_t)T * H, 256), 256>>>(s->x, T, H, s->bad + l);
    CK(cudaGetLastError());
    return 0;
}

/* How this call's attention is split (attention_kernel): enough (row, head, split) warps to fill
 * the GPU, ATTN_MIN_CHUNK positions per warp at least, for the longest context MAX_CTX of the call;
 * and room for the partial results. */
static int plan_attention(tte_backend_state *s, int T, int max_ctx, char *err, size_t errlen) {
    int tasks = T * s->c->n_heads, want = (s->n_sm * ATTN_WARPS_PER_SM + tasks - 1) / tasks;
    int most = (max_ctx + ATTN_MIN_CHUNK - 1) / ATTN_MIN_CHUNK, split = want < most ? want : most;
    if (split < 1) split = 1;
    int chunk = (max_ctx + split - 1) / split;
    split = (max_ctx + chunk - 1) / chunk; /* no split left empty for the longest row */
    s->att_split = split, s->att_chunk = chunk;
    if (split == 1) return 0;
    size_t need = (size_t)tasks * (size_t)split * (size_t)(s->c->head_dim + 2);
    if (need > s->att_part_cap) {
        if (dev_grow((void **)&s->att_part, need * sizeof(float), "attention's partial results", err, errlen))
            return -1;
        s->att_part_cap = need;
    }
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
    int max_ctx = 1;
    for (int i = 0, t = 0, p = 0; i < n; i++) {
        int np = (seqs[i].start + seqs[i].n_new + s->page_tokens - 1) / s->page_tokens;
        memcpy(s->host_pages + p, seqs[i].pages, (size_t)np * sizeof(int));
        memcpy(s->host_tokens + t, seqs[i].tokens, (size_t)seqs[i].n_new * sizeof(int32_t));
        for (int j = 0; j < seqs[i].n_new; j++, t++) s->host_seq[t] = i, s->host_pos[t] = seqs[i].start + j, s->host_pg[t] = p;
        if (seqs[i].start + seqs[i].n_new > max_ctx) max_ctx = seqs[i].start + seqs[i].n_new;
        p += np;
    }
    if (plan_attention(s, T, max_ctx, err, errlen)) return -1;
    /* One copy per table (a copy from pageable memory costs microseconds however small). */
    CK(cudaMemcpy(s->tokens, s->host_tokens, (size_t)T * 4, cudaMemcpyHostToDevice));
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
    rmsnorm_kernel<<<out, 256>>>(s->h, s->x, s->row_pages, NULL, s->final_norm, H, (float)c->rms_norm_eps);
    if (matmul(s, s->logits, s->h, out, &s->lm_head, err, errlen)) return -1;
    nonfinite_kernel<<<blocks((size_t)out * c->vocab_size, 256), 256>>>(s->logits, out, c->vocab_size, s->bad + c->n_layers);
    CK(cudaMemcpy(logits, s->logits, (size_t)out * (size_t)c->vocab_size * 4, cudaMemcpyDeviceToHost));

    /* The first layer where a NaN or infinity appeared, reported as the CPU does. */
    int *bad = (int *)malloc((size_t)(c->n_layers + 1) * sizeof *bad);
    if (!bad) return snprintf(err, errlen, "out of memory"), -1;
    if (cuda_failed(cudaMemcpy(bad, s->bad, (size_t)(c->n_layers + 1) * sizeof *bad, cudaMemcpyDeviceToHost),
                    "cudaMemcpy of the non-finite flags", err, errlen)) {
        free(bad);
        return -1;
    }
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
