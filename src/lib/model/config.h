/* config: the hyperparameters of a Hugging Face causal LM folder (config.json) and its default
 * generation settings (generation_config.json).
 *
 * Supported architectures and what distinguishes them in the forward pass:
 *   Qwen2ForCausalLM  (Qwen2.5, QwQ, DeepSeek-R1-Distill-Qwen): biases on q/k/v projections
 *   Qwen3ForCausalLM  RMSNorm over each head of q and k (q_norm, k_norm) before RoPE, no biases,
 *                     head_dim given explicitly (q width may differ from hidden_size)
 *   LlamaForCausalLM  no biases; rope_scaling type "llama3" supported
 *   GPTNeoXForCausalLM (Pythia) LayerNorm with biases, a fused query_key_value projection laid out
 *                     per head as [q, k, v], RoPE on the first rotary_pct of each head's dims, biases
 *                     on every projection, a GELU MLP, the parallel residual (use_parallel_residual)
 *   Qwen2ForProcessRewardModel (Qwen2.5-Math-PRM): the Qwen2 body, and instead of lm_head a
 *                     classifier: score.0 (Linear H to H, bias), ReLU, score.2 (Linear H to
 *                     its labels, 2 for Qwen2.5-Math-PRM, bias)
 *   Qwen2ForPrmModel  (Skywork o1 Open PRM): a Qwen2 causal LM whose output tte reads is its value
 *                     head v_head.summary (Linear H to 1, bias) instead of lm_head
 * Anything else, or a feature these do not have (sliding window, other rope scalings, attention
 * biases on Llama), is an error naming it. */
#ifndef TTE_CONFIG_H
#define TTE_CONFIG_H

#include "cache.h"

#include <stddef.h>

typedef enum { TTE_ARCH_QWEN2, TTE_ARCH_QWEN3, TTE_ARCH_LLAMA, TTE_ARCH_GPT_NEOX } tte_arch;

/* What the last hidden state is turned into: next-token logits (vocab_size per row), or a reward
 * model's head (num_labels or 1 per row). */
typedef enum { TTE_HEAD_LM, TTE_HEAD_CLASSIFIER, TTE_HEAD_VALUE } tte_head;

enum { TTE_MAX_EOS = 8 };

typedef struct {
    tte_arch arch;
    const char *arch_name; /* "Qwen2ForCausalLM", static */
    tte_head head;         /* TTE_HEAD_LM for every *ForCausalLM */
    int vocab_size;        /* rows of embed_tokens and lm_head */
    int hidden_size;       /* width of the residual stream */
    int intermediate_size; /* width of the SwiGLU (GPT-NeoX: GELU) MLP */
    int n_layers;          /* num_hidden_layers */
    int n_heads;           /* num_attention_heads (query heads) */
    int n_kv_heads;        /* num_key_value_heads; query head h uses kv head h / (n_heads / n_kv_heads) */
    int head_dim;          /* config head_dim, else hidden_size / n_heads */
    int max_position_embeddings;
    double rms_norm_eps;     /* RMSNorm (Qwen2, Qwen3, Llama) */
    double layer_norm_eps;   /* LayerNorm (GPT-NeoX) */
    double rope_theta;       /* GPT-NeoX: rotary_emb_base */
    int rotary_dim;          /* the leading dims of each head that RoPE rotates (even): head_dim, or
                                int(head_dim * rotary_pct) for GPT-NeoX; the rest pass through */
    int parallel_residual;   /* GPT-NeoX use_parallel_residual: x + attn(ln1(x)) + mlp(ln2(x)) */
    int tie_word_embeddings; /* lm_head is embed_tokens */
    int qkv_bias;            /* Qwen2; GPT-NeoX attention_bias (query_key_value and dense) */
    int qk_norm;             /* Qwen3 */
    /* rope_scaling {"rope_type": "llama3", ...}; rope_llama3 = 0 means plain RoPE. */
    int rope_llama3;
    double rope_factor, rope_low_freq_factor, rope_high_freq_factor;
    int rope_original_max_pos;

    /* From generation_config.json (defaults when the file or a key is absent): */
    int n_eos; /* end-of-sequence ids: generation_config's eos_token_id, else config's */
    int eos[TTE_MAX_EOS];
    int bos;            /* -1 when unknown */
    int do_sample;      /* default 1 */
    double temperature; /* default 1.0 */
    double top_p;       /* default 1.0 (off) */
    int top_k;          /* default 0 (off; note transformers' generate() would use 50) */

    tte_key source_key; /* xxh3-128 of config.json and generation_config.json as read by
                           tte_config_load (zero after tte_config_parse) */
} tte_config;

/* Parses the JSON text of config.json (TEXT, LEN bytes; NAME for messages) into C. Returns 0, or -1
 * with a one-line message in ERR naming the key. Generation fields get their defaults. */
int tte_config_parse(const char *text, size_t len, const char *name, tte_config *c, char *err, size_t errlen);

/* Applies the JSON text of generation_config.json to C (only the keys present). */
int tte_config_parse_generation(const char *text, size_t len, const char *name, tte_config *c, char *err,
                                size_t errlen);

/* 1 when TOKEN is one of C's end-of-sequence ids. */
int tte_config_is_eos(const tte_config *c, int token);

/* Reads DIR/config.json and, when present, DIR/generation_config.json. Returns 0, or -1 with a
 * message in ERR (out of memory exits, xalloc.h). */
int tte_config_load(const char *dir, tte_config *c, char *err, size_t errlen);

#endif
