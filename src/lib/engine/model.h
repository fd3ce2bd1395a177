/* model: a Hugging Face causal LM folder loaded for inference: its config and pointers to its
 * weights inside the memory-mapped safetensors files. Nothing is copied or converted at load; a
 * backend reads each matrix in its stored dtype (bf16, f16 or f32).
 *
 * The forward pass these weights serve (transformers' Qwen2/Qwen3/Llama, pre-norm decoder):
 *   x = embed_tokens[token]
 *   per layer:  h = rmsnorm(x) * attn_norm
 *               q = h Wq^T (+bq), k = h Wk^T (+bk), v = h Wv^T (+bv)     per head: q_norm/k_norm (Qwen3)
 *               q, k = rope(q, pos), rope(k, pos);  a = softmax(q k^T / sqrt(head_dim)) v  (causal, GQA)
 *               x = x + a Wo^T
 *               h = rmsnorm(x) * mlp_norm;  x = x + (silu(h Wg^T) * (h Wu^T)) Wd^T
 *   logits = (rmsnorm(x) * final_norm) lm_head^T
 * and transformers' GPT-NeoX (Pythia; modeling_gpt_neox.py), with LayerNorm ln(x) = (x - mean) /
 * sqrt(var + eps) * w + b:
 *   x = embed_in[token]
 *   per layer:  qkv = ln1(x) Wqkv^T + bqkv, per head h the rows [3h d, 3h d + d) are q, then k, then v
 *               q, k = rope over their first rotary_dim dims (rotate-half within those), the rest as is
 *               a = softmax(q k^T / sqrt(d)) v Wo^T + bo  (attention.dense)
 *               mlp(y) = gelu(y W1^T + b1) W2^T + b2      (dense_h_to_4h, dense_4h_to_h; erf GELU)
 *               x = x + a + mlp(ln2(x))  (use_parallel_residual), else x = x + a; x = x + mlp(ln2(x))
 *   logits = ln_final(x) embed_out^T
 * A reward model's head replaces lm_head (config.h's tte_head), on the same normalised last state y:
 *   classifier (Qwen2ForProcessRewardModel):  out = relu(y score.0^T + b0) score.2^T + b2
 *   value (Qwen2ForPrmModel, Skywork):         out = y v_head.summary^T + b  (one number per row)
 * The engine hands back these raw outputs; the reader applies the softmax or sigmoid.
 * Matrices are stored as PyTorch nn.Linear weights: (out_features, in_features), row-major. */
#ifndef TTE_MODEL_H
#define TTE_MODEL_H

#include "cache.h"
#include "model/config.h"
#include "model/safetensors.h"

#include <stddef.h>

/* A row-major matrix (or, with rows = 1, a vector) in the mapped file. */
typedef struct {
    const void *data; /* read-only, inside the mapping */
    tte_dtype dtype;  /* TTE_DT_F32, TTE_DT_F16 or TTE_DT_BF16 */
    int rows, cols;
} tte_mat;

typedef struct {
    tte_mat attn_norm;      /* (1, hidden) input_layernorm (.weight for GPT-NeoX) */
    tte_mat wq;             /* (n_heads * head_dim, hidden) */
    tte_mat wk;             /* (n_kv_heads * head_dim, hidden) */
    tte_mat wv;             /* (n_kv_heads * head_dim, hidden) */
    tte_mat bq, bk, bv;     /* (1, same rows) biases, Qwen2 only; data NULL otherwise */
    tte_mat q_norm, k_norm; /* (1, head_dim), Qwen3 only; data NULL otherwise */
    tte_mat wo;             /* (hidden, n_heads * head_dim) */
    tte_mat mlp_norm;       /* (1, hidden) post_attention_layernorm */
    tte_mat w_gate;         /* (intermediate, hidden) */
    tte_mat w_up;           /* (intermediate, hidden) */
    tte_mat w_down;         /* (hidden, intermediate) */
    /* GPT-NeoX only (data NULL otherwise; it uses attn_norm, mlp_norm, wo, w_up = dense_h_to_4h and
     * w_down = dense_4h_to_h of the above, and none of wq, wk, wv, w_gate): */
    tte_mat attn_norm_b, mlp_norm_b; /* (1, hidden) LayerNorm biases */
    tte_mat wqkv;                    /* (3 * hidden, hidden) attention.query_key_value, per head [q, k, v] */
    tte_mat bqkv;                    /* (1, 3 * hidden); data NULL when attention_bias is false */
    tte_mat bo;                      /* (1, hidden) attention.dense.bias; NULL without attention_bias */
    tte_mat b_up, b_down;            /* (1, intermediate), (1, hidden) MLP biases */
} tte_layer_weights;

typedef struct {
    tte_mat embed;             /* (vocab, hidden) model.embed_tokens */
    tte_layer_weights *layers; /* n_layers */
    tte_mat final_norm;        /* (1, hidden) model.norm (GPT-NeoX: final_layer_norm.weight) */
    tte_mat final_norm_b;      /* (1, hidden) final_layer_norm.bias, GPT-NeoX only */
    tte_mat lm_head;           /* (vocab, hidden); the embed matrix when tie_word_embeddings; data NULL
                                  for a reward model's head */
    /* A reward model's head (data NULL for a causal LM): classifier score.0 (hidden, hidden) and
     * score.2 (labels, hidden), or value head_out = v_head.summary (1, hidden); biases (1, rows). */
    tte_mat head_mid, head_mid_b, head_out, head_out_b;
} tte_weights;

typedef struct tte_model tte_model;

/* Loads DIR (config.json, optional generation_config.json, model.safetensors or sharded with
 * model.safetensors.index.json). Checks that every tensor the architecture needs is present with the
 * right shape and a float dtype. Returns NULL with a one-line message in ERR (naming the file and
 * tensor) on failure. The caller owns the model: tte_model_free. */
tte_model *tte_model_load(const char *dir, char *err, size_t errlen);
void tte_model_free(tte_model *m);

/* Floats per output row of a forward pass: vocab_size for a causal LM, the head's outputs for a
 * reward model. */
int tte_model_out_width(const tte_model *m);

/* Borrowed from the model, valid until tte_model_free. */
const tte_config *tte_model_config(const tte_model *m);
const tte_weights *tte_model_weights(const tte_model *m);
const char *tte_model_dir(const tte_model *m);

/* A stable identity for cache keys: xxh3-128 over config.json, generation_config.json, and every
 * safetensors file's header bytes and size. Cheap (reads no weights). */
tte_key tte_model_hash(const tte_model *m);

/* Bytes of weights one forward step reads per token at batch 1: every matrix except the embedding
 * table (one row is read), counting lm_head once even when tied. For the bandwidth bound. */
size_t tte_model_bytes_per_token(const tte_model *m);
/* Bytes of the mapped safetensors files. */
size_t tte_model_mapped_bytes(const tte_model *m);

/* Element I of a matrix's storage as float (for vectors and single rows; not for hot loops). */
float tte_mat_get(const tte_mat *w, size_t i);
/* Row R of W converted to float into OUT (cols floats). */
void tte_mat_row(const tte_mat *w, int r, float *out);
/* Elements FIRST..FIRST+N-1 of W's storage converted to float into OUT, one loop per dtype (the
 * portable kernels' way to read weights without a per-element switch). */
void tte_mat_floats(const tte_mat *w, size_t first, int n, float *out);

#endif
