#!/usr/bin/python3
"""Tiny random Qwen2 / Qwen3 / Llama models in the Hugging Face folder layout, with reference logits.

The engine's tests compare against these. The reference forward pass below is written from the
transformers model definitions (modeling_qwen2.py, modeling_qwen3.py, modeling_llama.py and
modeling_rope_utils.py), in plain torch because transformers is not installed here:

  Qwen2RMSNorm / LlamaRMSNorm   w * (x * rsqrt(mean(x^2) + eps))
  rotary embedding              inv_freq = 1 / theta^(arange(0, d, 2) / d), "llama3" rope_type scaling
                                as _compute_llama3_parameters; q * cos + rotate_half(q) * sin
  attention                     q/k/v projections (biases in Qwen2), Qwen3 q_norm / k_norm per head
                                before RoPE, repeat_kv for GQA, softmax(q k^T * d^-0.5 + causal mask)
  MLP                           down(silu(gate(x)) * up(x))
  model                         embed -> layers (pre-norm residual) -> norm -> lm_head (or tied embed)

The reference computes in float64 from the stored weights (bf16/f16 models: the rounded values), so
it is the exact answer that an f32 engine approximates. Weights are written by our own safetensors
writer (the format: 8-byte little-endian header length, JSON header, raw little-endian data).

Usage: /usr/bin/python3 tools/make_tiny_models.py [OUTDIR]   (default tests/fixtures/models)
"""
import json
import math
import os
import struct
import sys

import torch

VOCAB = 256

# name, architecture, dtype, tied, heads, kv heads, hidden, head_dim, intermediate, extra config
MODELS = [
    ("qwen2-f32", "qwen2", "F32", False, 4, 2, 32, 8, 64, {}),
    ("qwen2-bf16", "qwen2", "BF16", True, 4, 4, 32, 8, 64, {}),
    ("qwen3-f32", "qwen3", "F32", True, 6, 1, 32, 16, 64, {}),
    ("qwen3-bf16", "qwen3", "BF16", False, 4, 2, 32, 16, 64, {}),
    ("llama-f32", "llama", "F32", False, 6, 1, 48, 8, 64,
     {"rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                       "high_freq_factor": 4.0, "original_max_position_embeddings": 64},
      "shards": 2}),
    ("llama-bf16", "llama", "BF16", True, 4, 2, 32, 8, 64, {}),
    ("llama-f16", "llama", "F16", False, 4, 4, 32, 8, 64, {}),
]

ARCH = {"qwen2": ("Qwen2ForCausalLM", "qwen2"), "qwen3": ("Qwen3ForCausalLM", "qwen3"),
        "llama": ("LlamaForCausalLM", "llama")}
TORCH_DTYPE = {"F32": torch.float32, "BF16": torch.bfloat16, "F16": torch.float16}
GREEDY_TOKENS = 32


def make_config(name, arch, dtype, tied, heads, kv, hidden, head_dim, inter, extra):
    cfg = {
        "architectures": [ARCH[arch][0]], "model_type": ARCH[arch][1], "vocab_size": VOCAB,
        "hidden_size": hidden, "intermediate_size": inter, "num_hidden_layers": 2,
        "num_attention_heads": heads, "num_key_value_heads": kv, "max_position_embeddings": 128,
        "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "tie_word_embeddings": tied, "hidden_act": "silu",
        "torch_dtype": {"F32": "float32", "BF16": "bfloat16", "F16": "float16"}[dtype],
        "bos_token_id": 1, "eos_token_id": 2,
    }
    if arch == "qwen3" or head_dim != hidden // heads:
        cfg["head_dim"] = head_dim
    if arch == "qwen2":
        cfg["use_sliding_window"] = False
    if "rope_scaling" in extra:
        cfg["rope_scaling"] = extra["rope_scaling"]
    return cfg


def make_weights(cfg, arch, dtype, gen):
    """Random weights scaled so activations and logits have unit-ish spread (not HF's 0.02 init,
    which makes every logit nearly equal and greedy decoding a coin toss)."""
    H, I, V = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    d = cfg.get("head_dim", H // cfg["num_attention_heads"])
    q, kv = cfg["num_attention_heads"] * d, cfg["num_key_value_heads"] * d

    def mat(rows, cols, gain=1.0):
        return torch.randn(rows, cols, generator=gen) * (gain / math.sqrt(cols))

    def vec(n, mean, spread):
        return mean + spread * torch.randn(n, generator=gen)

    w = {"model.embed_tokens.weight": torch.randn(V, H, generator=gen)}
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        w[p + "input_layernorm.weight"] = vec(H, 1.0, 0.1)
        w[p + "self_attn.q_proj.weight"] = mat(q, H, 2.0)
        w[p + "self_attn.k_proj.weight"] = mat(kv, H, 2.0)
        w[p + "self_attn.v_proj.weight"] = mat(kv, H)
        if arch == "qwen2":
            w[p + "self_attn.q_proj.bias"] = vec(q, 0.0, 0.2)
            w[p + "self_attn.k_proj.bias"] = vec(kv, 0.0, 0.2)
            w[p + "self_attn.v_proj.bias"] = vec(kv, 0.0, 0.2)
        if arch == "qwen3":
            w[p + "self_attn.q_norm.weight"] = vec(d, 1.0, 0.1)
            w[p + "self_attn.k_norm.weight"] = vec(d, 1.0, 0.1)
        w[p + "self_attn.o_proj.weight"] = mat(H, q)
        w[p + "post_attention_layernorm.weight"] = vec(H, 1.0, 0.1)
        w[p + "mlp.gate_proj.weight"] = mat(I, H)
        w[p + "mlp.up_proj.weight"] = mat(I, H)
        w[p + "mlp.down_proj.weight"] = mat(H, I)
    w["model.norm.weight"] = vec(H, 1.0, 0.1)
    if not cfg["tie_word_embeddings"]:
        w["lm_head.weight"] = mat(V, H, 3.0)
    # Round to the stored dtype: the reference uses exactly what the file holds.
    return {k: v.to(TORCH_DTYPE[dtype]) for k, v in w.items()}


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        raw = (t.view(torch.int16) if t.dtype in (torch.bfloat16, torch.float16) else t).numpy().tobytes()
        dt = {torch.float32: "F32", torch.bfloat16: "BF16", torch.float16: "F16"}[t.dtype]
        header[name] = {"dtype": dt, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the format allows padding the header with spaces
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


# ---- reference forward pass (float64) -------------------------------------------------------------

def rms_norm(x, w, eps):
    var = x.pow(2).mean(-1, keepdim=True)
    return w * (x * torch.rsqrt(var + eps))


def rope_inv_freq(cfg, d):
    inv_freq = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, d, 2, dtype=torch.float64) / d))
    rs = cfg.get("rope_scaling")
    if rs and rs.get("rope_type", rs.get("type")) == "llama3":
        factor, lo, hi = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
        old = rs["original_max_position_embeddings"]
        low_wavelen, high_wavelen = old / lo, old / hi
        wavelen = 2 * math.pi / inv_freq
        scaled = torch.where(wavelen > low_wavelen, inv_freq / factor, inv_freq)
        smooth = (old / wavelen - lo) / (hi - lo)
        smoothed = (1 - smooth) * scaled / factor + smooth * scaled
        medium = ~(wavelen < high_wavelen) & ~(wavelen > low_wavelen)
        inv_freq = torch.where(medium, smoothed, scaled)
    return inv_freq


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def repeat_kv(x, n_rep):
    heads, seq, d = x.shape
    return x[:, None].expand(heads, n_rep, seq, d).reshape(heads * n_rep, seq, d)


def forward(cfg, w, ids):
    """Logits (seq, vocab) for one sequence of token ids."""
    x = final_hidden(cfg, w, ids)
    w = {k: v.to(torch.float64) for k, v in w.items()}
    head = w["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else w["lm_head.weight"]
    return x @ head.T


def final_hidden(cfg, w, ids):
    """The normalised last hidden states (seq, hidden) that lm_head or a reward head reads."""
    w = {k: v.to(torch.float64) for k, v in w.items()}
    H, nh, nkv = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    d = cfg.get("head_dim", H // nh)
    eps = cfg["rms_norm_eps"]
    S = len(ids)
    pos = torch.arange(S, dtype=torch.float64)
    freqs = pos[:, None] * rope_inv_freq(cfg, d)[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos(), emb.sin()
    mask = torch.full((S, S), float("-inf"), dtype=torch.float64).triu(1)
    x = w["model.embed_tokens.weight"][torch.tensor(ids)]
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        h = rms_norm(x, w[p + "input_layernorm.weight"], eps)

        def proj(name):
            y = h @ w[p + f"self_attn.{name}.weight"].T
            b = w.get(p + f"self_attn.{name}.bias")
            return y if b is None else y + b

        q = proj("q_proj").view(S, nh, d)
        k = proj("k_proj").view(S, nkv, d)
        v = proj("v_proj").view(S, nkv, d)
        if p + "self_attn.q_norm.weight" in w:  # Qwen3: RMSNorm over each head before RoPE
            q = rms_norm(q, w[p + "self_attn.q_norm.weight"], eps)
            k = rms_norm(k, w[p + "self_attn.k_norm.weight"], eps)
        q, k, v = q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1)  # (heads, S, d)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k, v = repeat_kv(k, nh // nkv), repeat_kv(v, nh // nkv)
        scores = q @ k.transpose(1, 2) * d ** -0.5 + mask
        att = torch.softmax(scores, dim=-1) @ v  # (heads, S, d)
        x = x + att.transpose(0, 1).reshape(S, nh * d) @ w[p + "self_attn.o_proj.weight"].T
        h = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        gate = torch.nn.functional.silu(h @ w[p + "mlp.gate_proj.weight"].T)
        x = x + (gate * (h @ w[p + "mlp.up_proj.weight"].T)) @ w[p + "mlp.down_proj.weight"].T
    return rms_norm(x, w["model.norm.weight"], eps)


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
    gen = torch.Generator().manual_seed(20261123)
    prompts = [[int(t) for t in torch.randint(3, VOCAB, (n,), generator=gen)] for n in (7, 12, 3)]
    for spec in MODELS:
        name, arch, dtype, tied, heads, kv, hidden, head_dim, inter, extra = spec
        d = os.path.join(outdir, name)
        os.makedirs(d, exist_ok=True)
        cfg = make_config(*spec)
        w = make_weights(cfg, arch, dtype, gen)
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(cfg, f, indent=2)
        with open(os.path.join(d, "generation_config.json"), "w") as f:
            json.dump({"bos_token_id": 1, "eos_token_id": [2, 3], "do_sample": True, "temperature": 0.6,
                       "top_p": 0.95}, f, indent=2)
        shards = extra.get("shards", 1)
        if shards == 1:
            write_safetensors(os.path.join(d, "model.safetensors"), w)
        else:
            names, weight_map = sorted(w), {}
            for s in range(shards):
                fname = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
                part = names[s::shards]
                write_safetensors(os.path.join(d, fname), {k: w[k] for k in part})
                weight_map.update({k: fname for k in part})
            with open(os.path.join(d, "model.safetensors.index.json"), "w") as f:
                json.dump({"metadata": {}, "weight_map": weight_map}, f, indent=2)
        ref = {"model": name, "note": "float64 reference from tools/make_tiny_models.py", "prompts": []}
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
