#!/usr/bin/python3
"""Tiny random GPT-NeoX (Pythia) models in the Hugging Face folder layout, with reference logits.

The companion of tools/make_tiny_models.py (same safetensors writer, same reference.json format) for
GPTNeoXForCausalLM. The reference forward pass below is written from transformers'
modeling_gpt_neox.py, in plain torch because transformers is not installed here:

  LayerNorm                     (x - mean) / sqrt(var + layer_norm_eps) * w + b (biased variance)
  attention.query_key_value     one Linear (3 * hidden, hidden) with bias; its output viewed as
                                (heads, 3 * head_size): per head the q, k, v blocks of head_size
  rotary embedding              rotary_ndims = int(head_size * rotary_pct);
                                inv_freq = 1 / base^(arange(0, rotary_ndims, 2) / rotary_ndims);
                                cos/sin of cat(freqs, freqs); q[..., :rotary_ndims] * cos +
                                rotate_half(q[..., :rotary_ndims]) * sin, the other dims passed through
  attention                     softmax(q k^T * head_size^-0.5 + causal mask) v, then attention.dense
                                (with bias)
  MLP                           dense_4h_to_h(gelu(dense_h_to_4h(x))), exact erf GELU ("gelu")
  layer                         use_parallel_residual: x + attn(ln1(x)) + mlp(ln2(x));
                                else x = x + attn(ln1(x)); x = x + mlp(ln2(x))
  model                         embed_in -> layers -> final_layer_norm -> embed_out (untied)

The vocabulary is padded as Pythia's is (its tokenizer has 50277 tokens, its tables 50304 rows): the
tables here have VOCAB rows of which the last few are ids no tokenizer would produce; the engine
computes logits for every row and so does the reference.

The reference computes in float64 from the stored weights (bf16: the rounded values).

Usage: /usr/bin/python3 tools/make_tiny_neox.py [OUTDIR]   (default tests/fixtures/models)
"""
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_tiny_models import GREEDY_TOKENS, TORCH_DTYPE, write_safetensors  # noqa: E402

VOCAB = 264  # 256 "tokenizer" ids plus 8 padding rows

# name, dtype, heads, hidden, intermediate, rotary_pct, use_parallel_residual
MODELS = [
    ("gpt-neox-f32", "F32", 2, 32, 64, 0.25, True),
    ("gpt-neox-seq-f32", "F32", 4, 32, 64, 1.0, False),
    ("gpt-neox-bf16", "BF16", 2, 32, 64, 0.5, True),
]


def make_config(name, dtype, heads, hidden, inter, pct, parallel):
    return {
        "architectures": ["GPTNeoXForCausalLM"], "model_type": "gpt_neox", "vocab_size": VOCAB,
        "hidden_size": hidden, "intermediate_size": inter, "num_hidden_layers": 2,
        "num_attention_heads": heads, "max_position_embeddings": 128, "layer_norm_eps": 1e-5,
        "rotary_pct": pct, "rotary_emb_base": 10000, "use_parallel_residual": parallel,
        "hidden_act": "gelu", "tie_word_embeddings": False, "attention_bias": True,
        "attention_dropout": 0.0, "hidden_dropout": 0.0, "initializer_range": 0.02, "use_cache": True,
        "torch_dtype": {"F32": "float32", "BF16": "bfloat16"}[dtype], "bos_token_id": 0, "eos_token_id": 0,
    }


def make_weights(cfg, dtype, gen):
    """Random weights with unit-ish activations (see make_tiny_models.make_weights)."""
    H, I, V = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]

    def mat(rows, cols, gain=1.0):
        return torch.randn(rows, cols, generator=gen) * (gain / math.sqrt(cols))

    def vec(n, mean, spread):
        return mean + spread * torch.randn(n, generator=gen)

    w = {"gpt_neox.embed_in.weight": torch.randn(V, H, generator=gen)}
    for l in range(cfg["num_hidden_layers"]):
        p = f"gpt_neox.layers.{l}."
        w[p + "input_layernorm.weight"] = vec(H, 1.0, 0.1)
        w[p + "input_layernorm.bias"] = vec(H, 0.0, 0.1)
        w[p + "attention.query_key_value.weight"] = mat(3 * H, H, 2.0)
        w[p + "attention.query_key_value.bias"] = vec(3 * H, 0.0, 0.2)
        w[p + "attention.dense.weight"] = mat(H, H)
        w[p + "attention.dense.bias"] = vec(H, 0.0, 0.1)
        w[p + "post_attention_layernorm.weight"] = vec(H, 1.0, 0.1)
        w[p + "post_attention_layernorm.bias"] = vec(H, 0.0, 0.1)
        w[p + "mlp.dense_h_to_4h.weight"] = mat(I, H, 1.5)
        w[p + "mlp.dense_h_to_4h.bias"] = vec(I, 0.0, 0.2)
        w[p + "mlp.dense_4h_to_h.weight"] = mat(H, I)
        w[p + "mlp.dense_4h_to_h.bias"] = vec(H, 0.0, 0.1)
    w["gpt_neox.final_layer_norm.weight"] = vec(H, 1.0, 0.1)
    w["gpt_neox.final_layer_norm.bias"] = vec(H, 0.0, 0.1)
    w["embed_out.weight"] = mat(V, H, 3.0)
    return {k: v.to(TORCH_DTYPE[dtype]) for k, v in w.items()}


# ---- reference forward pass (float64) -------------------------------------------------------------

def layer_norm(x, w, b, eps):
    mean = x.mean(-1, keepdim=True)
    var = (x - mean).pow(2).mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * w + b


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def forward(cfg, w, ids):
    """Logits (seq, vocab) for one sequence of token ids."""
    w = {k: v.to(torch.float64) for k, v in w.items()}
    H, nh = cfg["hidden_size"], cfg["num_attention_heads"]
    d = H // nh
    rd = int(d * cfg["rotary_pct"])
    eps = cfg["layer_norm_eps"]
    S = len(ids)
    inv_freq = 1.0 / (cfg["rotary_emb_base"] ** (torch.arange(0, rd, 2, dtype=torch.float64) / rd))
    freqs = torch.arange(S, dtype=torch.float64)[:, None] * inv_freq[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos(), emb.sin()
    mask = torch.full((S, S), float("-inf"), dtype=torch.float64).triu(1)

    def rope(t):  # (heads, S, d): rotate the first rd dims, pass the rest
        rot, rest = t[..., :rd], t[..., rd:]
        return torch.cat((rot * cos + rotate_half(rot) * sin, rest), dim=-1)

    def mlp(p, y):
        y = y @ w[p + "mlp.dense_h_to_4h.weight"].T + w[p + "mlp.dense_h_to_4h.bias"]
        y = torch.nn.functional.gelu(y)  # exact erf form
        return y @ w[p + "mlp.dense_4h_to_h.weight"].T + w[p + "mlp.dense_4h_to_h.bias"]

    x = w["gpt_neox.embed_in.weight"][torch.tensor(ids)]
    for l in range(cfg["num_hidden_layers"]):
        p = f"gpt_neox.layers.{l}."
        h = layer_norm(x, w[p + "input_layernorm.weight"], w[p + "input_layernorm.bias"], eps)
        qkv = h @ w[p + "attention.query_key_value.weight"].T + w[p + "attention.query_key_value.bias"]
        qkv = qkv.view(S, nh, 3 * d).transpose(0, 1)  # (heads, S, 3d)
        q, k, v = rope(qkv[..., :d]), rope(qkv[..., d:2 * d]), qkv[..., 2 * d:]
        scores = q @ k.transpose(1, 2) * d ** -0.5 + mask
        att = (torch.softmax(scores, dim=-1) @ v).transpose(0, 1).reshape(S, H)
        att = att @ w[p + "attention.dense.weight"].T + w[p + "attention.dense.bias"]
        ln2 = (w[p + "post_attention_layernorm.weight"], w[p + "post_attention_layernorm.bias"])
        if cfg["use_parallel_residual"]:
            x = mlp(p, layer_norm(x, *ln2, eps)) + att + x
        else:
            x = x + att
            x = mlp(p, layer_norm(x, *ln2, eps)) + x
    x = layer_norm(x, w["gpt_neox.final_layer_norm.weight"], w["gpt_neox.final_layer_norm.bias"], eps)
    return x @ w["embed_out.weight"].T


def greedy(cfg, w, ids, n):
    ids = list(ids)
    out = []
    for _ in range(n):
        tok = int(forward(cfg, w, ids)[-1].argmax())
        out.append(tok)
        ids.append(tok)
    return out


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/models"
    gen = torch.Generator().manual_seed(20261201)
    prompts = [[int(t) for t in torch.randint(3, 256, (n,), generator=gen)] for n in (7, 12, 3)]
    for spec in MODELS:
        name, dtype = spec[0], spec[1]
        d = os.path.join(outdir, name)
        os.makedirs(d, exist_ok=True)
        cfg = make_config(*spec)
        w = make_weights(cfg, dtype, gen)
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(cfg, f, indent=2)
        with open(os.path.join(d, "generation_config.json"), "w") as f:
            json.dump({"bos_token_id": 0, "eos_token_id": 0}, f, indent=2)
        write_safetensors(os.path.join(d, "model.safetensors"), w)
        ref = {"model": name, "note": "float64 reference from tools/make_tiny_neox.py", "prompts": []}
        for ids in prompts:
            logits = forward(cfg, w, ids)
            ref["prompts"].append({
                "ids": ids,
                "logits": [[float(f"{v:.7g}") for v in row] for row in logits.tolist()],
                "greedy": greedy(cfg, w, ids, GREEDY_TOKENS),
            })
        with open(os.path.join(d, "reference.json"), "w") as f:
            json.dump(ref, f, separators=(",", ":"))
        print(f"{d}: {sum(t.numel() for t in w.values())} parameters")


if __name__ == "__main__":
    main()
